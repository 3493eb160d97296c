"""Vision-language judging: images in judge queries, batched steered forwards with pixel inputs.

A judge item may carry images (PIL images, paths or URLs). Queries are rendered with the processor's chat template
(each image becomes an ``{"type": "image"}`` entry before the user text), then the processor expands the
placeholders into image tokens and builds the pixel inputs. Truncation only ever shortens the texts: the image
tokens are measured first and taken off the ``max_length`` budget. Batches are right-padded and get no explicit
position ids, so every model computes its own positions (Qwen2-VL's 3D M-RoPE included) exactly as for the item
alone; the hooks of :mod:`activation_rm.heads` act at the last real token, which is always text.

Head selection only steers the last token, so each training query's prefix (images included) is encoded once
with the pixel inputs and its KV cache reused for every mask, as on the text path; Qwen2-VL's last-token M-RoPE
position is taken from the model's own rope index. Families without a checked prefix path
(:data:`PREFIX_FAMILIES`) evaluate masks with full forward passes instead (one copy of the query per mask).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .activations import ContextAverage, ContextConfig, iter_contexts
from .backbone import Backbone
from .batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCH_TOKENS,
    LastTokenOutput,
    plan_batches,
    returned_cache,
    run_batches,
)
from .data import Example, ExampleError, is_url, parse_images, resolve_image_paths
from .heads import Steering, head_hooks, last_token_positions
from .selection import SelectionConfig, SelectionResult, select_heads_with
from .templates import DEMO_INLINE, DEMO_TURNS, JudgeItem, QueryEncoder, inline_turns, item_budgets

#: processor outputs aligned with the tokens (padded like ``input_ids``); every other pixel input is stacked per
#: image along its first dimension, its other dimensions zero-padded to the largest in the batch.
SEQUENCE_KEYS = frozenset({"token_type_ids", "mm_token_type_ids"})
#: model types whose pixel inputs are batched per item (``(batch, images, ...)``): text-only items run apart.
PER_ITEM_PIXELS = frozenset({"idefics3", "smolvlm"})
_TEXT_KEYS = frozenset({"input_ids", "attention_mask"})
#: families whose shared-prefix path is checked exact against full forward passes in the tests.
PREFIX_FAMILIES = frozenset({"qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "gemma3"})
#: families with 3D multimodal rotary positions (the last token's position comes from the model's rope index).
MROPE_FAMILIES = frozenset({"qwen2_vl", "qwen2_5_vl"})
URL_TIMEOUT_S = 30
#: few-shot contexts encoded and run together when averaging head activations
CONTEXTS_PER_PASS = 16


class ImageError(ValueError):
    """An image that cannot be used; the message names where it was given and its path or URL."""


def load_image(ref: Any, *, allow_network: bool = False, where: str = "") -> Any:
    """An RGB PIL image from a PIL image, a local path or (only with ``allow_network``) an http(s) URL."""
    from PIL import Image, UnidentifiedImageError

    prefix = f"{where}: " if where else ""
    if hasattr(ref, "convert") and hasattr(ref, "size"):
        return ref.convert("RGB") if ref.mode != "RGB" else ref
    if isinstance(ref, Path):
        ref = str(ref)
    if not isinstance(ref, str):
        raise ImageError(f"{prefix}an image must be a PIL image, a path or a URL, got {type(ref).__name__}")
    try:
        if is_url(ref):
            if not allow_network:
                raise ImageError(f"{prefix}image {ref} is a URL; fetching it needs allow_network=True "
                                 "(command line: --allow-network)")
            import urllib.request

            with urllib.request.urlopen(ref, timeout=URL_TIMEOUT_S) as response:  # noqa: S310 (http(s) only)
                source: Any = io.BytesIO(response.read())
        else:
            if not Path(ref).is_file():
                raise ImageError(f"{prefix}image file not found: {ref}")
            source = ref
        with Image.open(source) as image:
            image.load()
            return image.convert("RGB")
    except ImageError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as err:
        raise ImageError(f"{prefix}cannot read image {ref}: {err}") from None


def load_images(refs: Sequence[Any], *, allow_network: bool = False, where: str = "") -> tuple[Any, ...]:
    return tuple(load_image(ref, allow_network=allow_network, where=where) for ref in refs)


def load_example_images(examples: Sequence[Example], allow_network: bool = False) -> list[Example]:
    """Examples with their images decoded, before any compute starts; every bad image of every example is
    reported at once with the file and line it came from."""
    out: list[Example] = []
    problems: list[str] = []
    for index, example in enumerate(examples):
        where = example.source or f"examples[{index}]"
        try:
            out.append(replace(example, images=load_images(example.images, allow_network=allow_network,
                                                           where=where)) if example.images else example)
        except ImageError as err:
            problems.append(str(err))
    if problems:
        raise ExampleError(problems)
    return out


def record_images(path: Path, number: int, record: dict[str, Any], allow_network: bool = False) -> tuple[Any, ...]:
    """The decoded ``images`` of a scoring input line (paths relative to the JSONL file)."""
    where = f"{path}:{number}"
    try:
        refs = resolve_image_paths(parse_images(record), Path(path).parent)
    except ValueError as err:
        raise ImageError(f"{where}: {err}") from None
    return load_images(refs, allow_network=allow_network, where=where)


def has_images(examples: Sequence[Any]) -> bool:
    return any(getattr(e, "images", ()) for e in examples)


# --------------------------------------------------------------------------------------------------- encoding
@dataclass
class MMQuery:
    """One processed judge query: token ids (image tokens expanded) and the processor's pixel inputs."""

    ids: list[int]
    pixels: dict[str, torch.Tensor] = field(default_factory=dict)
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_images(self) -> bool:
        return any(key not in SEQUENCE_KEYS for key in self.pixels)


@dataclass
class VisionQueryEncoder(QueryEncoder):
    """:class:`~activation_rm.templates.QueryEncoder` for vision-language backbones: the processor's chat template
    renders the query (with image entries), the processor builds token ids and pixel inputs."""

    processor: Any = None
    allow_network: bool = False
    multimodal = True

    def __post_init__(self) -> None:
        if self.processor is None:
            raise ValueError("a vision-language encoder needs the backbone's processor")
        if not getattr(self.processor, "chat_template", None):
            raise ValueError("the processor has no chat template; vision-language judging needs one to place images")

    @property
    def has_chat_template(self) -> bool:
        return True

    def _vision_messages(self, turns: Sequence[tuple[str, str | None]], image_counts: Sequence[int]) -> list[dict]:
        messages: list[dict[str, Any]] = []
        if self.template.system:
            messages.append({"role": "system", "content": [{"type": "text", "text": self.template.system}]})
        for (user, assistant), count in zip(turns, image_counts):
            content = [{"type": "image"} for _ in range(count)] + [{"type": "text", "text": user}]
            messages.append({"role": "user", "content": content})
            if assistant is not None:
                messages.append({"role": "assistant", "content": [{"type": "text", "text": assistant}]})
        return messages

    def render_text(self, turns: Sequence[tuple[str, str | None]], image_counts: Sequence[int] | None = None) -> str:
        counts = list(image_counts) if image_counts is not None else [0] * len(turns)
        return self.processor.apply_chat_template(self._vision_messages(turns, counts), tokenize=False,
                                                  add_generation_prompt=True)

    def _images(self, item: JudgeItem) -> tuple[Any, ...]:
        return load_images(item.images, allow_network=self.allow_network)

    def process(self, text: str, images: Sequence[Any]) -> MMQuery:
        """Run the processor on one rendered query; no truncation (image tokens must stay whole)."""
        inputs = self.processor(text=[text], images=[list(images)] if images else None, return_tensors="pt",
                                add_special_tokens=False)
        ids = inputs["input_ids"][0].tolist()
        pixels = {k: v for k, v in inputs.items() if k not in _TEXT_KEYS and isinstance(v, torch.Tensor)}
        return MMQuery(ids, pixels)

    def _fit_item(self, item: JudgeItem, images: Sequence[Any], budget: int,
                  count_images: bool = True) -> tuple[list[str], bool, MMQuery | None]:
        """The item's texts shortened to fit ``budget`` tokens (beside its image tokens when ``count_images``),
        and the processed untruncated query when it was built to count them."""
        parts = self._parts(item)
        counts = [len(images)]

        def render(p: list[str]) -> list[int]:
            return self._tokenize(self.render_text([(self._user(p), None)], counts))

        full = None
        text_budget = budget
        if count_images:
            full = self.process(self.render_text([(self._user(parts), None)], counts), images)
            image_tokens = len(full.ids) - len(render(parts))
            text_budget = budget - image_tokens
            if text_budget < 64:
                raise ValueError(f"the {len(images)} image(s) alone take {image_tokens} tokens, leaving {text_budget} "
                                 f"of max_length={budget} for the texts; raise max_length (images are never cut)")
        fitted, truncated = self.fit_parts(parts, text_budget, render)
        return fitted, truncated, full

    def encode(self, item: JudgeItem) -> MMQuery:  # type: ignore[override]
        """Token ids and pixel inputs of one zero-shot judge query."""
        images = self._images(item)
        parts, truncated, full = self._fit_item(item, images, self.template.max_length)
        if not truncated and full is not None:
            return full
        query = self.process(self.render_text([(self._user(parts), None)], [len(images)]), images)
        query.truncated = True
        return query

    def encode_many(self, items: Sequence[JudgeItem]) -> tuple[list[MMQuery], int]:  # type: ignore[override]
        encoded = [self.encode(item) for item in items]
        return encoded, sum(e.truncated for e in encoded)

    def encode_with_demos(self, demos: Sequence[tuple[JudgeItem, int]], query: JudgeItem,  # type: ignore[override]
                          per_item_budget: int | Sequence[int] | None = None, style: str = DEMO_TURNS) -> MMQuery:
        """A few-shot context with images: each demonstration is a user turn with its own images, answered with
        its verdict (or, ``style`` "inline", all in one user message that carries every image). Each item's texts
        are cut to ``per_item_budget`` tokens (one for all, or one per item) beside its image tokens."""
        budgets = item_budgets(per_item_budget or self.template.max_length, len(demos) + 1)
        truncated = False
        turns: list[tuple[str, str | None]] = []
        counts: list[int] = []
        all_images: list[Any] = []
        for (item, verdict), budget in zip([*demos, (query, None)], budgets):
            images = self._images(item)
            parts, cut, _ = self._fit_item(item, images, budget, count_images=False)
            truncated |= cut
            turns.append((self._user(parts), None if verdict is None else self.template.verdicts[verdict]))
            counts.append(len(images))
            all_images.extend(images)
        if style == DEMO_INLINE:
            turns, counts = inline_turns(turns), [sum(counts)]
        encoded = self.process(self.render_text(turns, counts), all_images)
        encoded.truncated = truncated
        return encoded

    def with_template(self, template: Any) -> VisionQueryEncoder:
        return VisionQueryEncoder(self.tokenizer, template, processor=self.processor, allow_network=self.allow_network)


def make_encoder(backbone: Backbone, template: Any, allow_network: bool = False) -> QueryEncoder:
    """The query encoder for a backbone: plain text, or through the processor for vision-language models."""
    if backbone.processor is None:
        return QueryEncoder(backbone.tokenizer, template)
    return VisionQueryEncoder(backbone.tokenizer, template, processor=backbone.processor, allow_network=allow_network)


def is_multimodal(encoder: Any) -> bool:
    return bool(getattr(encoder, "multimodal", False))


# --------------------------------------------------------------------------------------------------- forward
def _pad_to(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    pad: list[int] = []
    for have, want in zip(reversed(tensor.shape[1:]), reversed(shape)):
        pad += [0, want - have]
    return F.pad(tensor, pad) if any(pad) else tensor


def collate(queries: Sequence[MMQuery], pad_id: int, dtype: torch.dtype, device: torch.device) -> dict[str, Any]:
    """Right-padded ``input_ids``/``attention_mask`` plus the queries' pixel inputs merged into one batch."""
    width = max(len(q.ids) for q in queries)
    ids = torch.full((len(queries), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(queries), width), dtype=torch.long)
    for row, query in enumerate(queries):
        ids[row, : len(query.ids)] = torch.as_tensor(query.ids, dtype=torch.long)
        mask[row, : len(query.ids)] = 1
    inputs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
    keys = sorted({k for q in queries for k in q.pixels})
    for key in keys:
        if key in SEQUENCE_KEYS:
            merged = torch.zeros((len(queries), width), dtype=torch.long)
            for row, query in enumerate(queries):
                if key in query.pixels:
                    value = query.pixels[key][0]
                    merged[row, : value.shape[0]] = value
        else:
            present = [q.pixels[key] for q in queries if key in q.pixels]
            target = [max(t.shape[d] for t in present) for d in range(1, present[0].dim())]
            merged = torch.cat([_pad_to(t, target) for t in present])
        if merged.is_floating_point():
            merged = merged.to(dtype)
        inputs[key] = merged
    return {k: v.to(device) for k, v in inputs.items()}


def _run_batch(backbone: Backbone, queries: Sequence[MMQuery], read_ids: torch.Tensor | None,
               steering: Steering | None, record: bool) -> LastTokenOutput:
    pad_id = backbone.tokenizer.pad_token_id
    inputs = collate(queries, 0 if pad_id is None else pad_id, backbone.dtype, backbone.input_device)
    positions = last_token_positions(inputs["attention_mask"])
    keep = torch.unique(positions)
    gather = torch.searchsorted(keep, positions)
    with head_hooks(backbone, record=record, steering=steering) as hooks:
        hooks.set_positions(positions)
        out = backbone.model(**inputs, use_cache=False, logits_to_keep=keep)
        logits = out.logits[torch.arange(len(queries), device=out.logits.device), gather.to(out.logits.device)]
        if read_ids is not None:
            logits = logits[:, read_ids.to(logits.device)]
        heads = hooks.recorded_heads() if record else None
    return LastTokenOutput(logits.float().cpu(), heads)


def _groups(backbone: Backbone, queries: Sequence[MMQuery]) -> list[list[int]]:
    """Indices that may share a forward pass: all of them, except per-item pixel layouts (Idefics3) where
    text-only items and items with images run apart."""
    if backbone.model.config.model_type not in PER_ITEM_PIXELS:
        return [list(range(len(queries)))]
    with_images = [i for i, q in enumerate(queries) if q.has_images]
    without = [i for i, q in enumerate(queries) if not q.has_images]
    return [g for g in (with_images, without) if g]


@torch.inference_mode()
def last_token_logits_mm(backbone: Backbone, queries: Sequence[MMQuery], *, read_ids: Sequence[int] | None = None,
                         steering: Steering | None = None, record: bool = False,
                         max_batch_tokens: int = DEFAULT_BATCH_TOKENS, max_batch_size: int = DEFAULT_BATCH_SIZE,
                         progress: Callable[[int], None] | None = None) -> LastTokenOutput:
    """:func:`activation_rm.batching.last_token_logits` for processed multimodal queries, in input order.

    Batches are planned by length (image tokens included) and may mix image sizes, image counts and text-only
    items; a per-sequence steering mask ``(N, layers, heads)`` is split with the batches.
    """
    if not queries:
        width = len(read_ids) if read_ids is not None else backbone.model.config.get_text_config().vocab_size
        return LastTokenOutput(torch.zeros(0, width), None)
    read = torch.as_tensor(list(read_ids), dtype=torch.long) if read_ids is not None else None

    def run(indices: list[int], part_steering: Steering | None) -> LastTokenOutput:
        return _run_batch(backbone, [queries[i] for i in indices], read, part_steering, record)

    batches = [[group[i] for i in local] for group in _groups(backbone, queries)
               for local in plan_batches([len(queries[i]) for i in group], max_batch_tokens, max_batch_size)]
    return run_batches(batches, len(queries), run, steering=steering, record=record, progress=progress)


# --------------------------------------------------------------------------------------------------- fitting
def mean_head_activations_mm(backbone: Backbone, encoder: VisionQueryEncoder, items: Sequence[tuple[JudgeItem, int]],
                             config: ContextConfig, seed: int = 0, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                             progress: Callable[[int], None] | None = None,
                             contexts_per_pass: int = CONTEXTS_PER_PASS) -> torch.Tensor:
    """``(layers, heads, head_dim)`` mean last-token head activation over few-shot contexts with images (the
    same seeded draws of demonstrations as the text path). Contexts are encoded and run ``contexts_per_pass`` at
    a time, so their pixel inputs (tens of MB per large image) never all sit in memory."""
    average = ContextAverage(config.balance_classes)
    pending: list[MMQuery] = []
    verdicts: list[int] = []

    def flush() -> None:
        out = last_token_logits_mm(backbone, pending, read_ids=[0], record=True, max_batch_tokens=max_batch_tokens,
                                   progress=progress)
        assert out.heads is not None
        average.add(out.heads, verdicts)
        pending.clear()
        verdicts.clear()

    for context, verdict in iter_contexts(encoder, items, config, seed):
        pending.append(context)
        verdicts.append(verdict)
        if len(pending) >= contexts_per_pass:
            flush()
    if pending:
        flush()
    return average.mean()


@dataclass
class MMVerdictQuery:
    """A processed multimodal judge query and the token ids of its correct and wrong verdicts."""

    query: MMQuery
    target: int
    other: int
    pair: int | None = None


def mask_logits_mm(backbone: Backbone, query: MMQuery, masks: torch.Tensor, means: torch.Tensor,
                   max_batch_tokens: int = DEFAULT_BATCH_TOKENS) -> torch.Tensor:
    """Full-vocabulary logits of ``query`` under each mask, ``(n_masks, vocab)``: one full forward per mask."""
    out = last_token_logits_mm(backbone, [query] * masks.shape[0], steering=Steering(masks, means),
                               max_batch_tokens=max(max_batch_tokens, len(query) * masks.shape[0]),
                               max_batch_size=masks.shape[0])
    return out.logits


@dataclass
class MMPrefix:
    """The KV cache of a processed query without its last token (images included), ready for that token."""

    cache: object
    length: int
    last_token: int
    position: torch.Tensor | None = None  # (3, 1, 1) M-RoPE position of the last token; None: 1D ``length``


@torch.inference_mode()
def encode_prefix_mm(backbone: Backbone, query: MMQuery) -> MMPrefix:
    """Run the query without its last token once, with its pixel inputs, and keep the KV cache."""
    if len(query) < 2:
        raise ValueError("shared-prefix scoring needs a sequence of at least two tokens")
    inputs = collate([query], 0, backbone.dtype, backbone.input_device)
    prefix = {k: (v[:, :-1] if k in SEQUENCE_KEYS | _TEXT_KEYS else v) for k, v in inputs.items()}
    out = backbone.model(**prefix, use_cache=True, logits_to_keep=1)
    position = None
    if backbone.model.config.model_type in MROPE_FAMILIES and query.has_images:
        inner = getattr(backbone.model, "model", backbone.model)
        rope = {k: inputs[k] for k in ("image_grid_thw", "mm_token_type_ids") if k in inputs}
        full, _ = inner.get_rope_index(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], **rope)
        position = full[..., -1:].clone()
    return MMPrefix(returned_cache(out), len(query) - 1, query.ids[-1], position)


@torch.inference_mode()
def logits_from_prefix_mm(backbone: Backbone, prefix: MMPrefix, masks: torch.Tensor, values: torch.Tensor,
                          chunk: int = 64) -> torch.Tensor:
    """Full-vocabulary logits of the prefix's last token under each head mask, ``(n_masks, vocab)``."""
    from .batching import _cache_keyword, _repeat_cache

    model, device = backbone.model, backbone.input_device
    keyword = _cache_keyword(model)
    results = []
    for start in range(0, masks.shape[0], chunk):
        part = masks[start:start + chunk]
        n = part.shape[0]
        cache = _repeat_cache(prefix.cache, n)
        tokens = torch.full((n, 1), prefix.last_token, dtype=torch.long, device=device)
        attention = torch.ones((n, prefix.length + 1), dtype=torch.long, device=device)
        if prefix.position is not None:
            position = prefix.position.to(device).expand(-1, n, -1)
        else:
            position = torch.full((n, 1), prefix.length, dtype=torch.long, device=device)
        with head_hooks(backbone, steering=Steering(part, values)) as hooks:
            hooks.set_positions(torch.zeros(n, dtype=torch.long, device=device))
            step = model(input_ids=tokens, attention_mask=attention, position_ids=position, use_cache=True,
                         logits_to_keep=1, **{keyword: cache})
        results.append(step.logits[:, -1].float().cpu())
    return torch.cat(results)


class MaskScorer:
    """Logits of one query under many masks: shared-prefix KV cache where the family's path is checked
    (:data:`PREFIX_FAMILIES`), each prefix encoded on first use and kept; full forward passes otherwise."""

    def __init__(self, backbone: Backbone, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                 shared_prefix: bool | None = None) -> None:
        self.backbone = backbone
        self.max_batch_tokens = max_batch_tokens
        family = backbone.model.config.model_type
        self.shared_prefix = family in PREFIX_FAMILIES if shared_prefix is None else shared_prefix
        self._prefixes: dict[int, MMPrefix] = {}

    def logits(self, query: MMQuery, masks: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
        if not self.shared_prefix:
            return mask_logits_mm(self.backbone, query, masks, means, self.max_batch_tokens)
        prefix = self._prefixes.get(id(query))
        if prefix is None:
            prefix = self._prefixes[id(query)] = encode_prefix_mm(self.backbone, query)
        return logits_from_prefix_mm(self.backbone, prefix, masks, means)


def select_heads_mm(backbone: Backbone, train: Sequence[MMVerdictQuery], held_out: Sequence[MMVerdictQuery],
                    means: torch.Tensor, config: SelectionConfig, seed: int = 0,
                    progress: bool = False, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                    shared_prefix: bool | None = None) -> SelectionResult:
    """:func:`activation_rm.selection.select_heads_with` for multimodal queries (same REINFORCE, same seeded
    draws, same losses), with the masks of each step scored through :class:`MaskScorer`."""
    scorer = MaskScorer(backbone, max_batch_tokens, shared_prefix)
    return select_heads_with(lambda q, m: scorer.logits(q.query, m, means), train, held_out,
                             (backbone.num_layers, backbone.num_heads), config, seed, progress)


def attach_images(items: Sequence[JudgeItem], images: Sequence[Any] | None) -> list[JudgeItem]:
    """Judge items with per-item images: ``images[i]`` is one image, a list of images, or None."""
    if images is None:
        return list(items)
    if len(images) != len(items):
        raise ValueError(f"got {len(images)} image entries for {len(items)} inputs; give one (list) per input")
    out = []
    for item, entry in zip(items, images):
        if entry is None:
            refs: tuple[Any, ...] = ()
        elif isinstance(entry, (list, tuple)):
            refs = tuple(entry)
        else:
            refs = (entry,)
        out.append(replace(item, images=refs))
    return out
