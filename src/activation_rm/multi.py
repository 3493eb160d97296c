"""Scoring that shares work between judge queries: many responses to one prompt, many criteria on one input.

The model is causal and steering acts only at the last token, so two queries that start with the same tokens have
the same keys and values there. Both features below encode that common start once (a KV cache) and run only the
rest of each query against it:

* **Shared prompts** (pairwise evaluation, GRPO groups): a judge query is ``header + criterion + prompt +
  response + question``, so all responses to one prompt share everything up to the response. Items are grouped by
  prompt text; the shared part is the longest common *token* prefix of the group's encoded queries (taken from the
  real token ids, so tokenizer merges at the boundary cannot make it inexact).
* **Many criteria** (:func:`score_criteria`): several reward models on one backbone score the same items. Each
  item's queries (one per reward model) share their longest common token prefix; the rest runs once per criterion
  with that criterion's own steering (per-row masks and means in one batch). When the reward models were fitted
  with the same query text (e.g. a criteria set whose criterion wording is shared and whose examples differ), the
  queries are identical and only the last token runs once per criterion. With the default template the criterion
  text comes first, so only the chat header is shared and the cost is close to one pass per criterion.

Every result equals what the plain path (:func:`~activation_rm.batching.last_token_logits` on each full query,
with each reward model's own steering) gives, up to float rounding; ``tests/test_multi.py`` checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import torch

from .backbone import Backbone
from .batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCH_TOKENS,
    LastTokenOutput,
    Query,
    _is_oom,
    _run_splitting,
    as_query,
    encode_prefixes,
    extend_cache,
    last_token_logits,
    plan_batches,
)
from .heads import Steering

logger = logging.getLogger(__name__)

#: A group shares its prefix KV cache only when the common prefix has at least this many tokens (below it the
#: extra cache bookkeeping costs more than it saves).
DEFAULT_MIN_SHARED = 32


def common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """Number of leading tokens all ``seqs`` have in common."""
    if not seqs:
        return 0
    first = seqs[0]
    length = min(len(s) for s in seqs)
    for seq in seqs[1:]:
        i = 0
        while i < length and seq[i] == first[i]:
            i += 1
        length = i
    return length


@dataclass(frozen=True)
class Job:
    """One query to read: suffix tokens after the shared prefix of group ``group``, with steering ``steer``."""

    group: int
    suffix: tuple[int, ...]
    steer: int


SteerRows = Callable[[list[int]], "Steering | None"]


def run_prefix_groups(backbone: Backbone, prefixes: Sequence[Sequence[int]], jobs: Sequence[Job],
                steer_rows: SteerRows, read: torch.Tensor | None, max_batch_tokens: int,
                max_batch_size: int) -> torch.Tensor:
    """Logits of every job, ``(len(jobs), len(read))``: prefixes are encoded in length-bucketed batches, then all
    jobs of those prefixes run their suffixes against the cache, bucketed by length under the token budget (the
    cache rows count: a row costs ``prefix + suffix`` tokens of memory). An out-of-memory error halves the batch."""
    by_group: dict[int, list[int]] = {}
    for index, job in enumerate(jobs):
        by_group.setdefault(job.group, []).append(index)
    width = len(read) if read is not None else backbone.model.config.get_text_config().vocab_size
    logits = torch.empty(len(jobs), width)
    group_ids = sorted(by_group)

    def run_prefix_batch(groups: list[int]) -> None:
        try:
            encoded = encode_prefixes(backbone, [prefixes[g] for g in groups])
        except (torch.OutOfMemoryError, RuntimeError) as err:
            if not _is_oom(err) or len(groups) == 1:
                raise
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            logger.warning("out of memory encoding %d shared prefixes; splitting them in two and retrying", len(groups))
            half = len(groups) // 2
            run_prefix_batch(groups[:half])
            run_prefix_batch(groups[half:])
            return
        row_of = {g: r for r, g in enumerate(groups)}
        members = [i for g in groups for i in by_group[g]]
        cache_width = int(encoded.mask.shape[1])
        lengths = [cache_width + len(jobs[i].suffix) for i in members]
        for chunk in plan_batches(lengths, max_batch_tokens, max_batch_size):
            def run(indices: list[int]) -> LastTokenOutput:
                chosen = [members[i] for i in indices]
                rows = torch.tensor([row_of[jobs[j].group] for j in chosen], dtype=torch.long)
                return extend_cache(backbone, encoded.cache, encoded.mask, encoded.lengths, rows,
                                    [jobs[j].suffix for j in chosen], read_ids=read, steering=steer_rows(chosen))

            offset = 0
            for part in _run_splitting(run, chunk):
                n = part.logits.shape[0]
                for k in range(n):
                    logits[members[chunk[offset + k]]] = part.logits[k]
                offset += n

    prefix_lengths = [len(prefixes[g]) for g in group_ids]
    for batch in plan_batches(prefix_lengths, max_batch_tokens, max_batch_size):
        run_prefix_batch([group_ids[i] for i in batch])
    return logits


def _stacked_steering(steerings: Sequence[Steering | None], backbone: Backbone) -> tuple[torch.Tensor, torch.Tensor]:
    shape = (backbone.num_layers, backbone.num_heads)
    masks = torch.stack([s.mask if s is not None else torch.zeros(shape, dtype=torch.bool) for s in steerings])
    values = torch.stack([s.values.float() if s is not None else torch.zeros(*shape, backbone.head_dim)
                          for s in steerings])
    return masks, values


def shared_prompt_logits(backbone: Backbone, seqs: Sequence[Query], keys: Sequence[Hashable], *,
                         read_ids: Sequence[int] | None = None, steering: Steering | None = None,
                         max_batch_tokens: int = DEFAULT_BATCH_TOKENS, max_batch_size: int = DEFAULT_BATCH_SIZE,
                         min_shared: int = DEFAULT_MIN_SHARED) -> LastTokenOutput:
    """:func:`~activation_rm.batching.last_token_logits` for queries grouped by ``keys`` (e.g. the prompt text):
    each group of two or more encodes its common token prefix once and runs only the rest of each query against
    that KV cache. Same logits as the plain path, in input order; groups sharing fewer than ``min_shared`` tokens
    and single queries take the plain path."""
    if len(keys) != len(seqs):
        raise ValueError(f"{len(seqs)} sequences but {len(keys)} group keys")
    if backbone.multimodal:  # prefix groups are left padded with explicit positions: text backbones only
        return last_token_logits(backbone, seqs, read_ids=read_ids, steering=steering,
                                 max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size)
    seqs = [as_query(q).ids for q in seqs]
    read = torch.as_tensor(list(read_ids), dtype=torch.long) if read_ids is not None else None
    members: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(key, []).append(index)
    prefixes: list[list[int]] = []
    jobs: list[Job] = []
    job_index: list[int] = []
    plain: list[int] = []
    for indices in members.values():
        shared = min(common_prefix_length([seqs[i] for i in indices]), min(len(seqs[i]) for i in indices) - 1)
        if len(indices) < 2 or shared < min_shared:
            plain.extend(indices)
            continue
        group = len(prefixes)
        prefixes.append(list(seqs[indices[0]][:shared]))
        for i in indices:
            jobs.append(Job(group, tuple(seqs[i][shared:]), 0))
            job_index.append(i)
    width = len(read) if read is not None else backbone.model.config.get_text_config().vocab_size
    logits = torch.empty(len(seqs), width)
    if plain:
        rows = steering.rows(plain) if steering is not None and steering.per_sequence else steering
        out = last_token_logits(backbone, [seqs[i] for i in plain], read_ids=read_ids, steering=rows,
                                max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size)
        logits[plain] = out.logits
    if jobs:
        def steer_rows(chosen: list[int]) -> Steering | None:
            if steering is None or not steering.per_sequence:
                return steering
            return steering.rows([job_index[j] for j in chosen])

        logits[job_index] = run_prefix_groups(backbone, prefixes, jobs, steer_rows, read, max_batch_tokens, max_batch_size)
    return LastTokenOutput(logits, None)


def multi_steering_logits(backbone: Backbone, queries: Sequence[Sequence[Query]],
                          steerings: Sequence[Steering | None], *, read_ids: Sequence[Sequence[int]] | None = None,
                          max_batch_tokens: int = DEFAULT_BATCH_TOKENS, max_batch_size: int = DEFAULT_BATCH_SIZE,
                          min_shared: int = DEFAULT_MIN_SHARED) -> torch.Tensor:
    """Read ``K`` steerings on ``N`` items in one pass: ``queries[n][k]`` is item ``n``'s query for steering ``k``
    and ``read_ids[k]`` the tokens read for it. Returns ``(N, K, R)`` logits (all ``read_ids[k]`` have length R).

    Each item's K queries share their longest common token prefix (capped one token short of the shortest), encoded
    once; the rest of each query runs with its own steering in one batch of per-row masks and means. Items whose
    queries share fewer than ``min_shared`` tokens run each query in full (still batched)."""
    n_steer = len(steerings)
    queries = [[as_query(q).ids for q in item] for item in queries]
    if any(len(q) != n_steer for q in queries):
        raise ValueError(f"every item needs one query per steering ({n_steer})")
    reads = [list(r) for r in read_ids] if read_ids is not None else None
    if reads is not None and (len(reads) != n_steer or len({len(r) for r in reads}) != 1):
        raise ValueError("read_ids needs one list per steering, all of the same length")
    masks, values = _stacked_steering(steerings, backbone)
    any_steered = any(s is not None and bool(s.mask.any()) for s in steerings)
    # Read the union of all steerings' tokens, then pick each steering's own columns.
    union = sorted({t for r in reads for t in r}) if reads is not None else None
    column = {t: c for c, t in enumerate(union)} if union is not None else None

    prefixes: list[list[int]] = []
    jobs: list[Job] = []
    where: list[tuple[int, int]] = []
    plain_seqs: list[Sequence[int]] = []
    plain_where: list[tuple[int, int]] = []
    for n, item_queries in enumerate(queries):
        shared = min(common_prefix_length(item_queries), min(len(q) for q in item_queries) - 1)
        if n_steer < 2 or shared < min_shared:  # one steering: nothing to share
            for k, q in enumerate(item_queries):
                plain_seqs.append(q)
                plain_where.append((n, k))
            continue
        group = len(prefixes)
        prefixes.append(list(item_queries[0][:shared]))
        for k, q in enumerate(item_queries):
            jobs.append(Job(group, tuple(q[shared:]), k))
            where.append((n, k))

    width = len(union) if union is not None else backbone.model.config.get_text_config().vocab_size
    flat = torch.empty(len(queries), n_steer, width)

    def steering_for(steer_ids: list[int]) -> Steering | None:
        if not any_steered:
            return None
        index = torch.tensor(steer_ids, dtype=torch.long)
        return Steering(masks[index], values[index])

    if plain_seqs:
        out = last_token_logits(backbone, plain_seqs, read_ids=union, steering=steering_for([k for _, k in plain_where]),
                                max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size)
        for (n, k), row in zip(plain_where, out.logits):
            flat[n, k] = row
    if jobs:
        read = torch.as_tensor(union, dtype=torch.long) if union is not None else None
        out = run_prefix_groups(backbone, prefixes, jobs, lambda chosen: steering_for([jobs[j].steer for j in chosen]),
                          read, max_batch_tokens, max_batch_size)
        for (n, k), row in zip(where, out):
            flat[n, k] = row
    if column is None:
        return flat
    picks = torch.tensor([[column[t] for t in r] for r in reads], dtype=torch.long)  # (K, R)
    return torch.gather(flat, 2, picks.unsqueeze(0).expand(len(queries), -1, -1))


def prompt_keys(items: Sequence) -> list[Hashable] | None:
    """Group keys for :func:`shared_prompt_logits` (the prompt text of each judge item), or None when no prompt
    repeats or an item carries images (those go through the vision path)."""
    from .templates import prompt_text

    if any(getattr(item, "images", ()) for item in items):
        return None
    keys = [prompt_text(item.prompt) for item in items]
    return keys if len(set(keys)) < len(keys) else None


def _criterion_names(rms: Sequence | Mapping) -> tuple[list[str], list]:
    if isinstance(rms, Mapping):
        return [str(k) for k in rms], list(rms.values())
    names: list[str] = []
    for rm in rms:
        name = rm.criterion
        suffix = 2
        while name in names:
            name = f"{rm.criterion} ({suffix})"
            suffix += 1
        names.append(name)
    return names, list(rms)


def score_criteria(rms, prompts: Sequence, responses: Sequence[str], *,
                   max_batch_tokens: int | None = None, min_shared: int = DEFAULT_MIN_SHARED) -> dict[str, list[float]]:
    """Score every (prompt, response) under several pointwise reward models on one backbone in one pass.

    ``rms`` is a list of :class:`~activation_rm.reward_model.ActivationRM` (keyed by criterion text) or a mapping
    name -> reward model. Returns ``{name: [reward per item]}``, each list equal to ``rm.score(prompts,
    responses)`` of that reward model alone (up to float rounding); see the module docstring for what is shared.
    """
    from .templates import POINTWISE, JudgeItem

    names, models = _criterion_names(rms)
    if not models:
        raise ValueError("score_criteria needs at least one reward model")
    if len(prompts) != len(responses):
        raise ValueError(f"inputs differ in length: prompts {len(prompts)}, responses {len(responses)}")
    backbone = models[0].backbone
    for name, rm in zip(names, models):
        if rm.backbone is not backbone:
            raise ValueError(f"reward model {name!r} is on a different backbone object; load all of them with the "
                             "same backbone (ActivationRM.load(path, backbone=...))")
        if rm.mode != POINTWISE:
            raise ValueError(f"reward model {name!r} is pairwise; score_criteria scores pointwise reward models")
    items = [JudgeItem(p, (r,)) for p, r in zip(prompts, responses)]
    if not items:
        return {name: [] for name in names}
    per_model = []
    for rm in models:
        seqs = rm.encode(items)
        per_model.append(seqs)
    queries = [[per_model[k][n] for k in range(len(models))] for n in range(len(items))]
    budget = max_batch_tokens or min(rm.max_batch_tokens for rm in models)
    logits = multi_steering_logits(backbone, queries, [rm.steering for rm in models],
                                   read_ids=[rm.encoder.verdict_ids for rm in models], max_batch_tokens=budget,
                                   min_shared=min_shared)
    probs = torch.softmax(logits.double(), dim=-1)[..., 0]  # (N, K)
    return {name: probs[:, k].tolist() for k, name in enumerate(names)}
