"""Batched forward passes that read (and optionally steer) the last real token only: the one path every query
takes, text or vision-language.

Queries (:class:`~activation_rm.judge.templates.EncodedQuery`, or plain token-id lists) are bucketed by length so padding
stays small. One collate step turns a batch into model inputs: text is padded on the left by default, so the
vocabulary projection runs only at the final position (``logits_to_keep=1``), with explicit position ids so a
padded sequence is computed exactly like the same sequence alone; a vision-language backbone's batch is right
padded with its pixel inputs and no position ids, so the model computes its own (M-RoPE included; see
:mod:`activation_rm.judge.vision`). A CUDA out-of-memory error splits the batch and retries. Prefix caches (one query's
start encoded once, its last token run under many steerings) go through the same collate step.

The prefix-cache API, for the three shapes a run needs: :func:`encode_prefix` + :func:`last_token_logits_from_prefix`
(one query's start kept, its last token run under many head masks: head selection, the protocol's scorer);
:func:`encode_prefixes` + :func:`extend_cache` (a batch of shared starts, many suffixes per start: prompt groups,
criteria, averaging contexts); :func:`extend_sequence` + :func:`crop_cache` and :class:`PrefixRunner` (one sequence
grown and rewound: in-context demonstrations run once, then each query or generated token).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from activation_rm.judge import vision
from activation_rm.judge.templates import EncodedQuery
from activation_rm.model.backbone import Backbone
from activation_rm.model.heads import Steering, head_hooks, last_token_positions

#: what the runner accepts: an encoded query, or a plain list of token ids (a text query without pixels)
Query = EncodedQuery | Sequence[int]

logger = logging.getLogger(__name__)

DEFAULT_BATCH_TOKENS = 8192
DEFAULT_BATCH_SIZE = 32


def plan_batches(lengths: Sequence[int], max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                 max_batch_size: int = DEFAULT_BATCH_SIZE) -> list[list[int]]:
    """Group indices of similar length so that each padded batch holds at most ``max_batch_tokens`` tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        longest = max(lengths[index], max((lengths[i] for i in current), default=0))
        if current and ((len(current) + 1) * longest > max_batch_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int, side: str = "left") -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) with ``pad_id`` on the given side."""
    if side not in ("left", "right"):
        raise ValueError(f"padding side must be 'left' or 'right', got {side!r}")
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, seq in enumerate(seqs):
        if not len(seq):
            raise ValueError("cannot run an empty sequence")
        span = slice(width - len(seq), width) if side == "left" else slice(0, len(seq))
        ids[row, span] = torch.as_tensor(list(seq), dtype=torch.long)
        mask[row, span] = 1
    return ids, mask


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions that count real tokens only, so left padding does not shift the rotary/learned positions."""
    return (attention_mask.cumsum(-1) - 1).clamp(min=0)


def cache_keyword(model: torch.nn.Module) -> str:
    """The keyword ``model.forward`` takes a KV cache by ("cache" in newer transformers, else "past_key_values")."""
    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def returned_cache(output):
    """The KV cache of a forward output, whichever attribute name this transformers version uses."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else getattr(output, "past_key_values", None)


@dataclass
class LastTokenOutput:
    logits: torch.Tensor  # (N, len(read_ids)) or (N, vocab), float32 on the CPU
    heads: torch.Tensor | None = None  # (N, layers, heads, head_dim) float32 on the CPU when recorded


def _is_oom(err: BaseException) -> bool:
    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err).lower()


def as_query(query: Query) -> EncodedQuery:
    return query if isinstance(query, EncodedQuery) else EncodedQuery(list(query))


def _pad_id(backbone: Backbone) -> int:
    pad_id = backbone.tokenizer.pad_token_id
    return 0 if pad_id is None else pad_id


def collate(backbone: Backbone, queries: Sequence[EncodedQuery], padding_side: str = "left") -> dict[str, Any]:
    """Model inputs of a batch, on the model's device. Text: padded on ``padding_side`` with explicit position
    ids. Vision-language backbones: right padded with the pixel inputs and no position ids (the model's own)."""
    side = "right" if backbone.multimodal else padding_side
    ids, mask = pad_batch([q.ids for q in queries], _pad_id(backbone), side)
    if backbone.multimodal:
        inputs = {"input_ids": ids, "attention_mask": mask,
                  **vision.collate_pixels(queries, ids.shape[1], backbone.dtype)}
        return {k: v.to(backbone.input_device) for k, v in inputs.items()}
    ids, mask = ids.to(backbone.input_device), mask.to(backbone.input_device)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": position_ids_from_mask(mask)}


def collate_prefix(backbone: Backbone, query: EncodedQuery) -> tuple[dict[str, Any], torch.Tensor | None]:
    """Model inputs of ``query`` without its last token, and that token's position when the model's own rope index
    gives it (M-RoPE; None: the plain position, the prefix length)."""
    if not backbone.multimodal:
        return {"input_ids": torch.as_tensor([query.ids[:-1]], dtype=torch.long, device=backbone.input_device)}, None
    inputs = collate(backbone, [query])
    return vision.prefix_inputs(inputs), vision.last_token_rope_position(backbone, query, inputs)


def _run_batch(backbone: Backbone, queries: Sequence[EncodedQuery], read_ids: torch.Tensor | None,
               steering: Steering | None, record: bool, padding_side: str) -> LastTokenOutput:
    inputs = collate(backbone, queries, padding_side)
    positions = last_token_positions(inputs["attention_mask"])
    if "position_ids" in inputs and padding_side == "left":  # every last token sits in the final column
        keep: int | torch.Tensor = 1
        gather = torch.zeros_like(positions)
    else:
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


def run_splitting(run: Callable[[list[int]], LastTokenOutput], indices: list[int]) -> list[LastTokenOutput]:
    try:
        return [run(indices)]
    except (torch.OutOfMemoryError, RuntimeError) as err:
        if not _is_oom(err) or len(indices) == 1:
            raise
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        half = len(indices) // 2
        logger.warning("out of memory on a batch of %d sequences; splitting it in two and retrying", len(indices))
        return run_splitting(run, indices[:half]) + run_splitting(run, indices[half:])


@torch.inference_mode()
def last_token_logits(backbone: Backbone, queries: Sequence[Query], *, read_ids: Sequence[int] | None = None,
                      steering: Steering | None = None, record: bool = False, padding_side: str = "left",
                      max_batch_tokens: int = DEFAULT_BATCH_TOKENS, max_batch_size: int = DEFAULT_BATCH_SIZE,
                      progress: Callable[[int], None] | None = None) -> LastTokenOutput:
    """Logits at each query's last token (restricted to ``read_ids`` when given), in input order.

    ``steering`` replaces heads at that token; a per-sequence mask (``(N, layers, heads)``) or per-sequence values
    (``(N, layers, heads, head_dim)``) are split with the batches. ``record`` also returns every head's activation
    there. Batches may mix image sizes, image counts and text-only items (per-item pixel layouts run those apart).
    """
    if not queries:
        width = len(read_ids) if read_ids is not None else backbone.model.config.get_text_config().vocab_size
        return LastTokenOutput(torch.zeros(0, width), None)
    encoded = [as_query(q) for q in queries]
    read = torch.as_tensor(list(read_ids), dtype=torch.long) if read_ids is not None else None

    def run(indices: list[int], part_steering: Steering | None) -> LastTokenOutput:
        return _run_batch(backbone, [encoded[i] for i in indices], read, part_steering, record, padding_side)

    batches = [[group[i] for i in local] for group in vision.pixel_groups(backbone, encoded)
               for local in plan_batches([len(encoded[i]) for i in group], max_batch_tokens, max_batch_size)]
    return run_batches(batches, len(encoded), run, steering=steering, record=record, progress=progress)


def run_batches(batches: Sequence[list[int]], count: int,
                run: Callable[[list[int], Steering | None], LastTokenOutput], *, steering: Steering | None = None,
                record: bool = False, progress: Callable[[int], None] | None = None) -> LastTokenOutput:
    """Run each batch of indices (halving it on out-of-memory; per-sequence steering follows its rows) and put the
    rows back in input order."""
    logits: list[torch.Tensor | None] = [None] * count
    heads: list[torch.Tensor | None] = [None] * count
    for batch in batches:
        def run_part(indices: list[int]) -> LastTokenOutput:
            part_steering = steering.rows(indices) if steering is not None and steering.per_sequence else steering
            return run(indices, part_steering)

        offset = 0
        for part in run_splitting(run_part, batch):
            for row in range(part.logits.shape[0]):
                index = batch[offset + row]
                logits[index] = part.logits[row]
                if part.heads is not None:
                    heads[index] = part.heads[row]
            offset += part.logits.shape[0]
        if progress is not None:
            progress(len(batch))
    return LastTokenOutput(torch.stack(logits), torch.stack(heads) if record else None)


@dataclass
class EncodedPrefix:
    """The KV cache of a query without its last token (images included), ready to be extended by that token many
    times; ``position`` is that token's M-RoPE position where the model's rope index gives it (None: ``length``)."""

    cache: object
    length: int
    last_token: int
    position: torch.Tensor | None = None


@torch.inference_mode()
def encode_prefix(backbone: Backbone, query: Query) -> EncodedPrefix:
    """Run the query without its last token once (with its pixel inputs) and keep the KV cache."""
    query = as_query(query)
    if len(query) < 2:
        raise ValueError("shared-prefix scoring needs a sequence of at least two tokens")
    inputs, position = collate_prefix(backbone, query)
    out = backbone.model(**inputs, use_cache=True, logits_to_keep=1)
    return EncodedPrefix(returned_cache(out), len(query) - 1, int(query.ids[-1]), position)


class VocabularyRows(torch.nn.Module):
    """An output projection onto some vocabulary rows only: what a loss that reads two verdict tokens needs (on a
    0.5B backbone the full projection is about a quarter of a one-token pass)."""

    def __init__(self, head: torch.nn.Linear, ids: torch.Tensor) -> None:
        super().__init__()
        ids = ids.to(head.weight.device)
        self.weight = torch.nn.Parameter(head.weight.detach().index_select(0, ids), requires_grad=False)
        self.bias = None if head.bias is None else torch.nn.Parameter(head.bias.detach().index_select(0, ids),
                                                                      requires_grad=False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden, self.weight, self.bias)


@contextmanager
def vocabulary_rows(model: torch.nn.Module, ids: torch.Tensor | None) -> Iterator[bool]:
    """Inside, ``model``'s logits are those of ``ids`` only (its own post-processing, e.g. soft-capping, still
    applies); yields False, changing nothing, when ``ids`` is None or the output projection is not a plain
    linear layer (the caller then indexes the full logits)."""
    head = model.get_output_embeddings() if ids is not None else None
    if not isinstance(head, torch.nn.Linear):
        yield False
        return
    model.set_output_embeddings(VocabularyRows(head, ids))
    try:
        yield True
    finally:
        model.set_output_embeddings(head)


@torch.inference_mode()
def last_token_logits_from_prefix(backbone: Backbone, prefix: EncodedPrefix, masks: torch.Tensor,
                                  values: torch.Tensor, chunk: int = 64, on_device: bool = False,
                                  read_ids: torch.Tensor | None = None, additive: bool = False) -> torch.Tensor:
    """Logits of the prefix's last token under each head mask, ``(n_masks, vocab)`` float32 (``(n_masks,
    len(read_ids))`` with ``read_ids``: only those rows of the output projection run), on the CPU (or left on the
    model's device with ``on_device``, so a loss over the vocabulary needs no copy). The masked heads are replaced
    by ``values``, or shifted by them with ``additive`` (:class:`~activation_rm.model.heads.Steering`)."""
    model, device = backbone.model, backbone.input_device
    results = []
    for start in range(0, masks.shape[0], chunk):
        part = masks[start:start + chunk]
        n = part.shape[0]
        tokens = torch.full((n, 1), prefix.last_token, dtype=torch.long, device=device)
        attention = torch.ones((n, prefix.length + 1), dtype=torch.long, device=device)
        if prefix.position is not None:
            position = prefix.position.to(device).expand(-1, n, -1)
        else:
            position = torch.full((n, 1), prefix.length, dtype=torch.long, device=device)
        with head_hooks(backbone, steering=Steering(part, values, additive)) as hooks, vocabulary_rows(model, read_ids) as only:
            hooks.set_positions(torch.zeros(n, dtype=torch.long, device=device))
            step = model(input_ids=tokens, attention_mask=attention, position_ids=position, use_cache=True,
                         logits_to_keep=1, **{cache_keyword(model): _repeat_cache(prefix.cache, n)})
        logits = step.logits[:, -1].float()
        if read_ids is not None and not only:
            logits = logits[:, read_ids.to(logits.device)]
        results.append(logits if on_device else logits.cpu())
    return torch.cat(results)


def shared_prefix_supported(backbone: Backbone) -> bool:
    """Whether masks may be scored against a prefix cache: always for text, for vision-language families whose
    prefix path is checked exact (:data:`activation_rm.judge.vision.PREFIX_FAMILIES`)."""
    return not backbone.multimodal or vision.shared_prefix_checked(backbone)


def last_token_logits_shared_prefix(backbone: Backbone, seq: Sequence[int], masks: torch.Tensor,
                                    values: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Full-vocabulary logits at the last token of one sequence under many head masks, ``(n_masks, vocab)``.

    Only the last position is steered, and attention is causal, so everything before it is the same for every
    mask: encode ``seq[:-1]`` once, then run the last token for all masks against copies of that KV cache. This is
    exact (a test checks it against full passes) and costs one prefix plus one token per mask.
    """
    return last_token_logits_from_prefix(backbone, encode_prefix(backbone, seq), masks, values, chunk)


def _plain_layers(cache) -> bool:
    """Whether every layer of ``cache`` grows by concatenation (never in place), so rows may be shared views."""
    from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

    layers = getattr(cache, "layers", None)
    return bool(layers) and all(type(layer) in (DynamicLayer, DynamicSlidingWindowLayer) and
                                getattr(layer, "is_initialized", False) for layer in layers)


def select_cache_rows(cache, rows: torch.Tensor):
    """A KV cache whose row ``i`` is row ``rows[i]`` of ``cache``; ``cache`` itself stays untouched.

    Dynamic caches only ever concatenate, so a batch-1 cache is broadcast with ``expand`` (no copy until the next
    token's keys are appended) and a batched one is gathered once; other cache types are deep-copied."""
    import copy

    if _plain_layers(cache):
        clone = copy.copy(cache)
        clone.layers = []
        for layer in cache.layers:
            new = copy.copy(layer)
            if layer.keys.shape[0] == 1:
                shape = (rows.numel(), *layer.keys.shape[1:])
                new.keys, new.values = layer.keys.expand(shape), layer.values.expand(shape)
            else:
                index = rows.to(layer.keys.device)
                new.keys, new.values = layer.keys.index_select(0, index), layer.values.index_select(0, index)
            clone.layers.append(new)
        return clone
    clone = copy.deepcopy(cache)
    clone.batch_select_indices(rows.to(backbone_device_of(cache)))
    return clone


def backbone_device_of(cache) -> torch.device:
    layers = getattr(cache, "layers", None) or []
    for layer in layers:
        keys = getattr(layer, "keys", None)
        if isinstance(keys, torch.Tensor):
            return keys.device
    return torch.device("cpu")


def _repeat_cache(cache, n: int):
    """A batch-``n`` copy of a batch-1 KV cache (the original stays untouched for the next chunk)."""
    return select_cache_rows(cache, torch.zeros(n, dtype=torch.long))


@dataclass
class EncodedPrefixes:
    """KV cache of a left-padded batch of prefixes: ``mask`` is their attention mask, ``lengths`` their real
    lengths (the position id the next token gets)."""

    cache: object
    mask: torch.Tensor
    lengths: torch.Tensor


@torch.inference_mode()
def encode_prefixes(backbone: Backbone, prefixes: Sequence[Sequence[int]]) -> EncodedPrefixes:
    """Run a batch of prefixes once (left padded, explicit positions: each row is computed as if alone) and keep
    the KV cache, to be extended later by one or more suffixes per row."""
    if any(len(p) == 0 for p in prefixes):
        raise ValueError("cannot encode an empty prefix")
    ids, mask = pad_batch(prefixes, _pad_id(backbone), "left")
    device = backbone.input_device
    ids, mask = ids.to(device), mask.to(device)
    out = backbone.model(input_ids=ids, attention_mask=mask, position_ids=position_ids_from_mask(mask),
                         use_cache=True, logits_to_keep=1)
    return EncodedPrefixes(returned_cache(out), mask, mask.sum(-1))


@torch.inference_mode()
def extend_cache(backbone: Backbone, cache, cache_mask: torch.Tensor, cache_lengths: torch.Tensor,
                 rows: torch.Tensor, suffixes: Sequence[Sequence[int]], *, read_ids: torch.Tensor | None = None,
                 steering: Steering | None = None, record: bool = False) -> LastTokenOutput:
    """Logits at the last token of ``prefix[rows[i]] + suffixes[i]`` for each ``i``, reusing the prefixes' KV cache.

    Suffixes are right padded after the (left-padded) prefixes; each token gets the position it would have in the
    unpadded concatenation and attends only to real tokens, so every row equals a full pass over its own
    sequence (the model is causal). ``steering`` acts at each row's last suffix token; ``record`` also returns
    every head's activation there.
    """
    if any(len(s) == 0 for s in suffixes):
        raise ValueError("every suffix needs at least one token")
    device = backbone.input_device
    n = len(suffixes)
    ids, suffix_mask = pad_batch(suffixes, _pad_id(backbone), "right")
    ids, suffix_mask = ids.to(device), suffix_mask.to(device)
    rows_on = rows.to(cache_mask.device)
    attention = torch.cat([cache_mask.index_select(0, rows_on).to(device), suffix_mask], dim=1)
    positions = cache_lengths.index_select(0, rows_on).to(device).unsqueeze(1) + torch.arange(
        ids.shape[1], device=device).unsqueeze(0)
    last = suffix_mask.sum(-1) - 1
    width = ids.shape[1]
    keep: int | torch.Tensor = 1
    gather = torch.zeros(n, dtype=torch.long, device=device)
    if width > 1:
        keep = torch.unique(last)
        gather = torch.searchsorted(keep, last)
    model = backbone.model
    with head_hooks(backbone, record=record, steering=steering) as hooks:
        hooks.set_positions(last)
        out = model(input_ids=ids, attention_mask=attention, position_ids=positions, use_cache=True,
                    logits_to_keep=keep, **{cache_keyword(model): select_cache_rows(cache, rows)})
        heads = hooks.recorded_heads() if record else None
    logits = out.logits[torch.arange(n, device=out.logits.device), gather.to(out.logits.device)]
    if read_ids is not None:
        logits = logits[:, read_ids.to(logits.device)]
    return LastTokenOutput(logits.float().cpu(), heads)


@torch.inference_mode()
def extend_sequence(backbone: Backbone, ids: Sequence[int], cache=None, past: int = 0):
    """Run ``ids`` after ``past`` cached tokens of one text sequence; returns (full-vocabulary logits at the last
    token, the grown cache)."""
    device = backbone.input_device
    tokens = torch.as_tensor([list(ids)], dtype=torch.long, device=device)
    positions = torch.arange(past, past + len(ids), device=device).unsqueeze(0)
    attention = torch.ones((1, past + len(ids)), dtype=torch.long, device=device)
    kwargs = {cache_keyword(backbone.model): cache} if cache is not None else {}
    out = backbone.model(input_ids=tokens, attention_mask=attention, position_ids=positions, use_cache=True,
                         logits_to_keep=1, **kwargs)
    return out.logits[0, -1].float().cpu(), returned_cache(out)


def crop_cache(cache, length: int) -> None:
    """Drop cached tokens beyond ``length`` (a negative count works on old and new ``Cache.crop``)."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)


class PrefixRunner:
    """Runs many single sequences that share a known token prefix, encoding the prefix once and rewinding the cache
    to it before each sequence."""

    def __init__(self, backbone: Backbone, prefix: Sequence[int]) -> None:
        self.backbone = backbone
        self.prefix = list(prefix)
        self._cache = None
        self.reused = 0
        self.full = 0

    def run(self, ids: Sequence[int]):
        """(last-token logits, cache holding ``ids``). Falls back to a full pass (counted in ``full``) when ``ids``
        does not start with the prefix."""
        n = len(self.prefix)
        if n >= 2 and len(ids) > n and list(ids[:n]) == self.prefix:
            if self._cache is None:
                _, self._cache = extend_sequence(self.backbone, self.prefix)
            else:
                crop_cache(self._cache, n)
            logits, cache = extend_sequence(self.backbone, ids[n:], self._cache, n)
            self.reused += 1
            return logits, cache
        self.full += 1
        return extend_sequence(self.backbone, ids)
