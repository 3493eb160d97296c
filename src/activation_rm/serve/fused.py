"""Several criteria on the same items in one pass: what the server runs when a request asks for more than one.

Text backbones go through :func:`activation_rm.multi.score_criteria` (each item's queries share their common token
prefix; the rest runs with each reward model's steering as rows of one batch). With the default template the
criterion comes before the prompt, so queries of different criteria share only the chat header, while responses
to one prompt under one criterion share everything up to the response: a reward model alone reuses that prompt's
KV cache (``ActivationRM.share_prompts``) and ``score_criteria`` does not. When prompts repeat (GRPO groups) the
items therefore take :func:`fused_text_shared_prompts`: one prefix cache per (criterion, prompt) group, and all
groups' suffixes as rows of the same batches, each with its own criterion's steering.

``score_criteria`` takes no images and its prefix sharing works on token lists, so vision-language backbones take
:func:`fused_multimodal`: every (item, criterion) query is processed with its images and all of them run through
:func:`activation_rm.vision.last_token_logits_mm` as rows of the same batches, each row with its own reward
model's mask and means. All paths give each reward model's own ``score`` up to float rounding (the tests check it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..batching import DEFAULT_BATCH_SIZE, last_token_logits
from ..data import Prompt
from ..heads import Steering
from ..multi import (
    DEFAULT_MIN_SHARED,
    Job,
    common_prefix_length,
    prompt_keys,
    run_prefix_groups,
    score_criteria,
)
from ..reward_model import ActivationRM
from ..templates import JudgeItem


def _row_steering(rms: Sequence[ActivationRM], rows: list[int]) -> Steering | None:
    """Per-row steering: row ``r`` takes reward model ``rows[r]``'s mask and means (None if nothing is steered)."""
    if not any(rm.steering is not None for rm in rms):
        return None
    masks = torch.stack([rm.mask for rm in rms])
    values = torch.stack([rm.means.float() for rm in rms])
    index = torch.tensor(rows, dtype=torch.long)
    return Steering(masks[index], values[index])


def fused_multimodal(rms: Sequence[ActivationRM], items: Sequence[JudgeItem]) -> list[list[float]]:
    """P(Yes) of every item under every (pointwise, vision-language) reward model: ``out[k][n]``."""
    backbone = rms[0].backbone
    queries: list[Any] = []
    rows: list[int] = []
    for k, rm in enumerate(rms):
        encoded = rm.encode(items)
        queries.extend(encoded)
        rows.extend([k] * len(encoded))
    reads = [list(rm.encoder.verdict_ids) for rm in rms]
    union = sorted({t for r in reads for t in r})
    out = last_token_logits(backbone, queries, read_ids=union, steering=_row_steering(rms, rows),
                               max_batch_tokens=min(rm.max_batch_tokens for rm in rms))
    return _softmax_columns(out.logits.view(len(rms), len(items), -1), union, reads)


def _softmax_columns(logits: torch.Tensor, union: list[int], reads: list[list[int]]) -> list[list[float]]:
    column = {t: c for c, t in enumerate(union)}
    return [torch.softmax(logits[k][:, [column[t] for t in read]].double(), dim=-1)[:, 0].tolist()
            for k, read in enumerate(reads)]


def fused_text_shared_prompts(rms: Sequence[ActivationRM], items: Sequence[JudgeItem], keys: Sequence[Any],
                              min_shared: int = DEFAULT_MIN_SHARED) -> list[list[float]]:
    """P(Yes) of every item under every text reward model, ``out[k][n]``, in one pass: the queries of each
    (criterion, prompt) group of two or more share their common token prefix (encoded once, all groups' prefixes in
    length-bucketed batches), and every suffix and every ungrouped query runs as a row of the same batches with its
    own criterion's steering."""
    backbone = rms[0].backbone
    per_model = [[q.ids for q in rm.encode(items)] for rm in rms]
    reads = [list(rm.encoder.verdict_ids) for rm in rms]
    union = sorted({t for r in reads for t in r})
    members: dict[Any, list[int]] = {}
    for index, key in enumerate(keys):
        members.setdefault(key, []).append(index)
    prefixes: list[list[int]] = []
    jobs: list[Job] = []
    where: list[tuple[int, int]] = []
    plain: list[tuple[int, int]] = []
    for k, seqs in enumerate(per_model):
        for indices in members.values():
            group = [seqs[i] for i in indices]
            shared = min(common_prefix_length(group), min(len(q) for q in group) - 1) if len(indices) > 1 else 0
            if shared < min_shared:
                plain.extend((k, i) for i in indices)
                continue
            prefixes.append(list(group[0][:shared]))
            for i in indices:
                jobs.append(Job(len(prefixes) - 1, tuple(seqs[i][shared:]), k))
                where.append((k, i))
    budget = min(rm.max_batch_tokens for rm in rms)
    logits = torch.empty(len(rms), len(items), len(union))
    if plain:
        out = last_token_logits(backbone, [per_model[k][i] for k, i in plain], read_ids=union,
                                steering=_row_steering(rms, [k for k, _ in plain]), max_batch_tokens=budget)
        for (k, i), row in zip(plain, out.logits):
            logits[k, i] = row
    if jobs:
        read = torch.as_tensor(union, dtype=torch.long)
        rows = run_prefix_groups(backbone, prefixes, jobs, lambda chosen: _row_steering(rms, [jobs[j].steer for j in chosen]),
                           read, budget, DEFAULT_BATCH_SIZE)
        for (k, i), row in zip(where, rows):
            logits[k, i] = row
    return _softmax_columns(logits, union, reads)


def score_fused(rms: dict[str, ActivationRM], prompts: Sequence[Prompt], responses: Sequence[str],
                images: Sequence[Any] | None = None) -> dict[str, list[float]]:
    """Every named pointwise reward model on every (prompt, response[, images]) in one pass."""
    names, models = list(rms), list(rms.values())
    if not prompts:
        return {name: [] for name in names}
    if models[0].backbone.multimodal:
        items = models[0].encoder.attach_images([JudgeItem(p, (r,)) for p, r in zip(prompts, responses)], images)
        return dict(zip(names, fused_multimodal(models, items)))
    if images is not None and any(images):
        raise ValueError(f"images were given but backbone {models[0].backbone.name!r} is text-only")
    items = [JudgeItem(p, (r,)) for p, r in zip(prompts, responses)]
    keys = prompt_keys(items) if all(rm.share_prompts for rm in models) else None
    if keys is not None:  # some prompt repeats: keep each (criterion, prompt) group's shared KV cache
        return dict(zip(names, fused_text_shared_prompts(models, items, keys)))
    return score_criteria(rms, list(prompts), list(responses))
