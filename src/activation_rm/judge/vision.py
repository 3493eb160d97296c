"""Vision-language judging: the processor-backed query encoder, pixel collation and multimodal rotary positions.

A judge item may carry images (PIL images, paths or URLs). Queries are rendered with the processor's chat template
(each image becomes an ``{"type": "image"}`` entry before the user text), then the processor expands the
placeholders into image tokens and builds the pixel inputs, carried by the :class:`~activation_rm.judge.templates.
EncodedQuery`. Truncation only ever shortens the texts: the image tokens are measured first and taken off the
``max_length`` budget. Batches of such queries are right-padded and get no explicit position ids, so every model
computes its own positions (Qwen2-VL's 3D M-RoPE included) exactly as for the item alone; the hooks of
:mod:`activation_rm.model.heads` act at the last real token, which is always text. Everything else (batch runner, prefix
caches, head selection) is the text path's, in :mod:`activation_rm.forward.batching` and :mod:`activation_rm.fit.selection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from activation_rm.inputs.data import Example
from activation_rm.inputs.images import load_example_images, load_images
from activation_rm.judge.templates import (
    DEMO_INLINE,
    DEMO_TURNS,
    SEQUENCE_KEYS,
    EncodedQuery,
    JudgeItem,
    QueryEncoder,
    inline_turns,
    item_budgets,
)
from activation_rm.model.backbone import Backbone

#: model types whose pixel inputs are batched per item (``(batch, images, ...)``): text-only items run apart.
PER_ITEM_PIXELS = frozenset({"idefics3", "smolvlm"})
_TEXT_KEYS = frozenset({"input_ids", "attention_mask"})
#: families whose shared-prefix path is checked exact against full forward passes in the tests.
PREFIX_FAMILIES = frozenset({"qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "gemma3"})
#: families with 3D multimodal rotary positions (the last token's position comes from the model's rope index).
MROPE_FAMILIES = frozenset({"qwen2_vl", "qwen2_5_vl"})


# --------------------------------------------------------------------------------------------------- encoding
@dataclass
class VisionQueryEncoder(QueryEncoder):
    """:class:`~activation_rm.judge.templates.QueryEncoder` for vision-language backbones: the processor's chat template
    renders the query (with image entries), the processor builds token ids and pixel inputs."""

    processor: Any = None
    allow_network: bool = False
    accepts_images = True

    def __post_init__(self) -> None:
        if self.processor is None:
            raise ValueError("a vision-language encoder needs the backbone's processor")
        if not getattr(self.processor, "chat_template", None):
            raise ValueError("the processor has no chat template; vision-language judging needs one to place images")

    @property
    def has_chat_template(self) -> bool:
        return True

    def _vision_messages(self, turns: Sequence[tuple[str, str | None]], image_counts: Sequence[int],
                         system: str | None = None) -> list[dict]:
        messages: list[dict[str, Any]] = []
        system = self._system(system)
        if system:
            messages.append({"role": "system", "content": [{"type": "text", "text": system}]})
        for (user, assistant), count in zip(turns, image_counts):
            content = [{"type": "image"} for _ in range(count)] + [{"type": "text", "text": user}]
            messages.append({"role": "user", "content": content})
            if assistant is not None:
                messages.append({"role": "assistant", "content": [{"type": "text", "text": assistant}]})
        return messages

    def render_text(self, turns: Sequence[tuple[str, str | None]], image_counts: Sequence[int] | None = None,
                    system: str | None = None) -> str:
        counts = list(image_counts) if image_counts is not None else [0] * len(turns)
        return self.processor.apply_chat_template(self._vision_messages(turns, counts, system), tokenize=False,
                                                  add_generation_prompt=True)

    def _reserved_text(self) -> str:
        """The template's text with an image, and the processor's own token strings (image placeholders and what
        they expand to): none of them may stand in for user text."""
        own = [str(v) for v in vars(self.processor).values() if isinstance(v, str)]
        return "\n".join([self.render_text([("probe", "probe"), ("probe", None)], [1, 1]), *own])

    def _encode(self, turns: Sequence[tuple[str, str | None]], counts: Sequence[int],
                images: Sequence[Any] | None = None) -> EncodedQuery:
        """``turns`` with ``counts`` images each, run through the processor with ``images``, or (None) only
        tokenized with the image placeholders unexpanded; user text kept text either way."""
        process = None if images is None else (lambda text: self.process(text, images))
        return self.encode_turns(turns, process, image_counts=counts)

    def _images(self, item: JudgeItem) -> tuple[Any, ...]:
        return load_images(item.images, allow_network=self.allow_network)

    def load_images(self, examples: Sequence[Example], allow_network: bool = False) -> list[Example]:
        """The examples with their images decoded, every bad image reported at once before any compute."""
        return load_example_images(examples, allow_network or self.allow_network)

    def process(self, text: str, images: Sequence[Any]) -> EncodedQuery:
        """Run the processor on one rendered query; no truncation (image tokens must stay whole)."""
        inputs = self.processor(text=[text], images=[list(images)] if images else None, return_tensors="pt",
                                add_special_tokens=False)
        ids = inputs["input_ids"][0].tolist()
        pixels = {k: v for k, v in inputs.items() if k not in _TEXT_KEYS and isinstance(v, torch.Tensor)}
        return EncodedQuery(ids, pixels=pixels)

    def _fit_item(self, item: JudgeItem, images: Sequence[Any], budget: int,
                  count_images: bool = True) -> tuple[list[str], bool, EncodedQuery | None]:
        """The item's texts shortened to fit ``budget`` tokens (beside its image tokens when ``count_images``),
        and the processed untruncated query when it was built to count them."""
        parts = self._parts(item)
        counts = [len(images)]

        def render(p: list[str]) -> list[int]:
            return self._encode([(self._user(p), None)], counts).ids

        full = None
        text_budget = budget
        if count_images:
            full = self._encode([(self._user(parts), None)], counts, images)
            image_tokens = len(full.ids) - len(render(parts))
            text_budget = budget - image_tokens
            if text_budget < 64:
                raise ValueError(f"the {len(images)} image(s) alone take {image_tokens} tokens, leaving {text_budget} "
                                 f"of max_length={budget} for the texts; raise max_length (images are never cut)")
        fitted, truncated = self.fit_parts(parts, text_budget, render)
        return fitted, truncated, full

    def encode(self, item: JudgeItem) -> EncodedQuery:  # type: ignore[override]
        """Token ids and pixel inputs of one zero-shot judge query."""
        images = self._images(item)
        parts, truncated, full = self._fit_item(item, images, self.template.max_length)
        if not truncated and full is not None:
            return full
        query = self._encode([(self._user(parts), None)], [len(images)], images)
        query.truncated = True
        return query

    def encode_many(self, items: Sequence[JudgeItem]) -> tuple[list[EncodedQuery], int]:  # type: ignore[override]
        encoded = [self.encode(item) for item in items]
        return encoded, sum(e.truncated for e in encoded)

    def encode_with_demos(self, demos: Sequence[tuple[JudgeItem, int]], query: JudgeItem,  # type: ignore[override]
                          per_item_budget: int | Sequence[int] | None = None, style: str = DEMO_TURNS) -> EncodedQuery:
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
        encoded = self._encode(turns, counts, all_images)
        encoded.truncated = truncated
        return encoded

    def with_template(self, template: Any) -> VisionQueryEncoder:
        return VisionQueryEncoder(self.tokenizer, template, processor=self.processor, allow_network=self.allow_network)


# --------------------------------------------------------------------------------------------------- batches
def _pad_to(tensor: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    pad: list[int] = []
    for have, want in zip(reversed(tensor.shape[1:]), reversed(shape)):
        pad += [0, want - have]
    return F.pad(tensor, pad) if any(pad) else tensor


def collate_pixels(queries: Sequence[EncodedQuery], width: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """The queries' pixel inputs merged into one batch of right-padded rows ``width`` tokens wide: token-aligned
    entries padded like ``input_ids``, every other one stacked per image along its first dimension (its other
    dimensions zero-padded to the largest in the batch); floating-point inputs in the model's ``dtype``."""
    inputs: dict[str, torch.Tensor] = {}
    for key in sorted({k for q in queries for k in q.pixels}):
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
        inputs[key] = merged.to(dtype) if merged.is_floating_point() else merged
    return inputs


def pixel_groups(backbone: Backbone, queries: Sequence[EncodedQuery]) -> list[list[int]]:
    """Indices that may share a forward pass: all of them, except per-item pixel layouts (Idefics3) where
    text-only items and items with images run apart."""
    if backbone.model.config.model_type not in PER_ITEM_PIXELS:
        return [list(range(len(queries)))]
    with_images = [i for i, q in enumerate(queries) if q.has_images]
    without = [i for i, q in enumerate(queries) if not q.has_images]
    return [g for g in (with_images, without) if g]


def prefix_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Collated inputs of one query without its last token (pixel inputs kept whole)."""
    return {k: (v[:, :-1] if k in SEQUENCE_KEYS | _TEXT_KEYS else v) for k, v in inputs.items()}


def last_token_rope_position(backbone: Backbone, query: EncodedQuery, inputs: dict[str, Any]) -> torch.Tensor | None:
    """The ``(3, 1, 1)`` M-RoPE position of the query's last token from the model's own rope index, for families
    with 3D positions and a query with images; None where the plain 1D position (the prefix length) is right."""
    if backbone.model.config.model_type not in MROPE_FAMILIES or not query.has_images:
        return None
    inner = getattr(backbone.model, "model", backbone.model)
    rope = {k: inputs[k] for k in ("image_grid_thw", "mm_token_type_ids") if k in inputs}
    full, _ = inner.get_rope_index(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], **rope)
    return full[..., -1:].clone()


def shared_prefix_checked(backbone: Backbone) -> bool:
    """Whether this vision-language family's shared-prefix path is checked exact (:data:`PREFIX_FAMILIES`)."""
    return backbone.model.config.model_type in PREFIX_FAMILIES
