"""Scoring that shares work between judge queries: many responses to one prompt, many criteria on one input.

The model is causal and steering acts only at the last token, so two queries that start with the same tokens have
the same keys and values there. Both features below encode that common start once (a KV cache) and run only the
rest of each query against it:

* **Shared prompts** (pairwise evaluation, GRPO groups): all responses to one prompt share everything up to the
  response. Items are grouped by prompt text; the shared part is the longest common *token* prefix of the group's
  encoded queries (taken from the real token ids, so tokenizer merges at the boundary cannot make it inexact).
* **Many criteria** (:func:`multi_steering_logits`, behind :func:`activation_rm.scoring.engine.score_criteria`): several
  reward models on one backbone score the same items. Each item's queries (one per reward model) share their
  longest common token prefix (with the default compact template, everything up to the criterion); the rest runs
  once per criterion with that criterion's own steering (per-row masks and means in one batch). When the reward
  models were fitted with the same query text, the queries are identical and only the last token runs once per
  criterion.

Both go through one planner, :func:`grouped_logits`. Every result equals what the plain path
(:func:`~activation_rm.forward.batching.last_token_logits` on each full query, with each reward model's own steering)
gives, up to float rounding; ``tests/test_shared_prefix.py`` checks it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch

from activation_rm.forward.batching import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_BATCH_TOKENS,
    LastTokenOutput,
    Query,
    as_query,
    encode_prefixes,
    extend_cache,
    last_token_logits,
    plan_batches,
    run_splitting,
)
from activation_rm.model.backbone import Backbone
from activation_rm.model.heads import Steering

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


def cacheable_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """The common start a KV cache can hold for ``seqs``: :func:`common_prefix_length`, capped one token short of
    the shortest so every sequence keeps its last token (the one that is read, and steered) to run."""
    return min(common_prefix_length(seqs), min(len(s) for s in seqs) - 1)


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
    cache rows count: a row costs ``prefix + suffix`` tokens of memory). An out-of-memory error halves the batch
    (of suffixes first, then of prefixes)."""
    by_group: dict[int, list[int]] = {}
    for index, job in enumerate(jobs):
        by_group.setdefault(job.group, []).append(index)
    width = len(read) if read is not None else backbone.model.config.get_text_config().vocab_size
    logits = torch.empty(len(jobs), width)
    group_ids = sorted(by_group)

    def run_prefix_batch(groups: list[int]) -> None:
        encoded = encode_prefixes(backbone, [prefixes[g] for g in groups])
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
            for part in run_splitting(run, chunk):
                n = part.logits.shape[0]
                for k in range(n):
                    logits[members[chunk[offset + k]]] = part.logits[k]
                offset += n

    prefix_lengths = [len(prefixes[g]) for g in group_ids]
    for batch in plan_batches(prefix_lengths, max_batch_tokens, max_batch_size):
        run_splitting(run_prefix_batch, [group_ids[i] for i in batch])
    return logits


def stacked_steering(steerings: Sequence[Steering | None], backbone: Backbone) -> SteerRows:
    """Per-row steering from several steerings: ``rows(ids)`` steers row ``r`` with ``steerings[ids[r]]`` (masks,
    means and replace/shift flags stacked once; an unsteered one is an empty mask), or None when none of them steers
    anything."""
    if not any(s is not None and bool(s.mask.any()) for s in steerings):
        return lambda ids: None
    shape = (backbone.num_layers, backbone.num_heads)
    masks = torch.stack([s.mask if s is not None else torch.zeros(shape, dtype=torch.bool) for s in steerings])
    values = torch.stack([s.values.float() if s is not None else torch.zeros(*shape, backbone.head_dim)
                          for s in steerings])
    flags = [bool(s.additive) if s is not None else False for s in steerings]
    additive = torch.tensor(flags) if any(flags) else None

    def rows(ids: list[int]) -> Steering:
        index = torch.tensor(ids, dtype=torch.long)
        return Steering(masks[index], values[index], False if additive is None else additive[index])

    return rows


def grouped_logits(backbone: Backbone, seqs: Sequence[Query], keys: Sequence[Hashable], steer_rows: SteerRows, *,
                   read_ids: Sequence[int] | None = None, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                   max_batch_size: int = DEFAULT_BATCH_SIZE, min_shared: int = DEFAULT_MIN_SHARED) -> torch.Tensor:
    """Logits at the last token of each query, ``(len(seqs), width)`` in input order, where queries with the same
    ``key`` share their longest common token prefix (capped one token short of the shortest), encoded once, and
    only the rest of each runs against that KV cache; ``steer_rows(indices)`` is the steering of those queries.
    Groups of one, groups sharing fewer than ``min_shared`` tokens, and every query on a vision-language backbone
    (whose batches the model positions itself) take the plain path, in the same batches."""
    if len(keys) != len(seqs):
        raise ValueError(f"{len(seqs)} sequences but {len(keys)} group keys")
    read = torch.as_tensor(list(read_ids), dtype=torch.long) if read_ids is not None else None
    width = len(read) if read is not None else backbone.model.config.get_text_config().vocab_size
    logits = torch.empty(len(seqs), width)
    if backbone.multimodal:  # prefix groups are left padded with explicit positions: text backbones only
        if seqs:
            logits[:] = last_token_logits(backbone, seqs, read_ids=read_ids, steering=steer_rows(list(range(len(seqs)))),
                                          max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size).logits
        return logits
    ids = [as_query(q).ids for q in seqs]
    members: dict[Hashable, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(key, []).append(index)
    prefixes: list[list[int]] = []
    jobs: list[Job] = []
    job_index: list[int] = []
    plain: list[int] = []
    for indices in members.values():
        shared = cacheable_prefix_length([ids[i] for i in indices])
        if len(indices) < 2 or shared < min_shared:
            plain.extend(indices)
            continue
        prefixes.append(list(ids[indices[0]][:shared]))
        for i in indices:
            jobs.append(Job(len(prefixes) - 1, tuple(ids[i][shared:]), i))
            job_index.append(i)
    if plain:
        logits[plain] = last_token_logits(backbone, [ids[i] for i in plain], read_ids=read_ids,
                                          steering=steer_rows(plain), max_batch_tokens=max_batch_tokens,
                                          max_batch_size=max_batch_size).logits
    if jobs:
        logits[job_index] = run_prefix_groups(backbone, prefixes, jobs, lambda chosen: steer_rows(
            [jobs[j].steer for j in chosen]), read, max_batch_tokens, max_batch_size)
    return logits


def shared_prompt_logits(backbone: Backbone, seqs: Sequence[Query], keys: Sequence[Hashable], *,
                         read_ids: Sequence[int] | None = None, steering: Steering | None = None,
                         max_batch_tokens: int = DEFAULT_BATCH_TOKENS, max_batch_size: int = DEFAULT_BATCH_SIZE,
                         min_shared: int = DEFAULT_MIN_SHARED) -> LastTokenOutput:
    """:func:`~activation_rm.forward.batching.last_token_logits` for queries grouped by ``keys`` (e.g. the prompt text):
    each group of two or more encodes its common token prefix once and runs only the rest of each query against
    that KV cache (:func:`grouped_logits`). Same logits as the plain path, in input order."""
    def steer_rows(rows: list[int]) -> Steering | None:
        return steering.rows(rows) if steering is not None and steering.per_sequence else steering

    return LastTokenOutput(grouped_logits(backbone, seqs, keys, steer_rows, read_ids=read_ids,
                                          max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size,
                                          min_shared=min_shared), None)


def multi_steering_logits(backbone: Backbone, queries: Sequence[Sequence[Query]],
                          steerings: Sequence[Steering | None], *, read_ids: Sequence[Sequence[int]] | None = None,
                          keys: Sequence[Hashable] | None = None, max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
                          max_batch_size: int = DEFAULT_BATCH_SIZE,
                          min_shared: int = DEFAULT_MIN_SHARED) -> torch.Tensor:
    """Read ``K`` steerings on ``N`` items in one pass: ``queries[n][k]`` is item ``n``'s query for steering ``k``
    and ``read_ids[k]`` the tokens read for it. Returns ``(N, K, R)`` logits (all ``read_ids[k]`` have length R).

    By default each item's K queries share their longest common token prefix (encoded once); with ``keys`` (one
    per item, e.g. its prompt) the queries of one steering whose items share a key share it instead (many
    responses to one prompt). The rest of each query runs with its own steering as rows of the same batches."""
    n_steer = len(steerings)
    if any(len(q) != n_steer for q in queries):
        raise ValueError(f"every item needs one query per steering ({n_steer})")
    reads = [list(r) for r in read_ids] if read_ids is not None else None
    if reads is not None and (len(reads) != n_steer or len({len(r) for r in reads}) != 1):
        raise ValueError("read_ids needs one list per steering, all of the same length")
    # Read the union of all steerings' tokens, then pick each steering's own columns.
    union = sorted({t for r in reads for t in r}) if reads is not None else None
    if keys is None:  # rows item by item; one steering alone shares nothing
        order = [(n, k) for n in range(len(queries)) for k in range(n_steer)]
        row_keys: list[Hashable] = [n if n_steer > 1 else (n, k) for n, k in order]
    else:  # rows steering by steering, so that a steering's groups run in prompt order
        order = [(n, k) for k in range(n_steer) for n in range(len(queries))]
        row_keys = [(k, keys[n]) for n, k in order]
    steer = stacked_steering(steerings, backbone)
    flat = grouped_logits(backbone, [queries[n][k] for n, k in order], row_keys,
                          lambda rows: steer([order[r][1] for r in rows]), read_ids=union,
                          max_batch_tokens=max_batch_tokens, max_batch_size=max_batch_size, min_shared=min_shared)
    out = torch.empty(len(queries), n_steer, flat.shape[1])
    for (n, k), row in zip(order, flat):
        out[n, k] = row
    if union is None:
        return out
    column = {t: c for c, t in enumerate(union)}
    picks = torch.tensor([[column[t] for t in r] for r in reads], dtype=torch.long)  # (K, R)
    return torch.gather(out, 2, picks.unsqueeze(0).expand(len(queries), -1, -1))


def prompt_keys(items: Sequence) -> list[Hashable] | None:
    """Group keys for :func:`shared_prompt_logits` (the prompt text of each judge item), or None when no prompt
    repeats or an item carries images (a prompt's images make its tokens alike but its inputs not)."""
    from activation_rm.judge.templates import prompt_text

    if any(getattr(item, "images", ()) for item in items):
        return None
    keys = [prompt_text(item.prompt) for item in items]
    return keys if len(set(keys)) < len(keys) else None
