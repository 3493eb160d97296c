"""Several criteria on the same items in one pass: what the server runs when a request asks for more than one.

Text backbones go through :func:`activation_rm.multi.score_criteria` (each item's queries share their common token
prefix; the rest runs with each reward model's steering as rows of one batch). That function takes no images and
its prefix sharing works on token lists, so vision-language backbones take :func:`fused_multimodal` here instead:
every (item, criterion) query is processed with its images and all of them run through
:func:`activation_rm.vision.last_token_logits_mm` as rows of the same batches, each row with its own reward
model's mask and means. Both give each reward model's own ``score`` up to float rounding (the tests check it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import torch

from ..data import Prompt
from ..heads import Steering
from ..multi import score_criteria
from ..reward_model import ActivationRM
from ..templates import JudgeItem
from ..vision import attach_images, is_multimodal, last_token_logits_mm

logger = logging.getLogger(__name__)


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
        encoded, truncated = rm.encoder.encode_many(items)
        rm.last_truncated = truncated
        if truncated:
            logger.warning("%d of %d inputs exceeded max_length for %r and were truncated", truncated, len(items),
                           rm.criterion)
        queries.extend(encoded)
        rows.extend([k] * len(encoded))
    reads = [list(rm.encoder.verdict_ids) for rm in rms]
    union = sorted({t for r in reads for t in r})
    column = {t: c for c, t in enumerate(union)}
    out = last_token_logits_mm(backbone, queries, read_ids=union, steering=_row_steering(rms, rows),
                               max_batch_tokens=min(rm.max_batch_tokens for rm in rms))
    n = len(items)
    scores = []
    for k, read in enumerate(reads):
        logits = out.logits[k * n:(k + 1) * n][:, [column[t] for t in read]]
        scores.append(torch.softmax(logits.double(), dim=-1)[:, 0].tolist())
    return scores


def score_fused(rms: dict[str, ActivationRM], prompts: Sequence[Prompt], responses: Sequence[str],
                images: Sequence[Any] | None = None) -> dict[str, list[float]]:
    """Every named pointwise reward model on every (prompt, response[, images]) in one pass."""
    names, models = list(rms), list(rms.values())
    if not prompts:
        return {name: [] for name in names}
    if is_multimodal(models[0].encoder):
        items = attach_images([JudgeItem(p, (r,)) for p, r in zip(prompts, responses)], images)
        return dict(zip(names, fused_multimodal(models, items)))
    if images is not None and any(images):
        raise ValueError(f"images were given but backbone {models[0].backbone.name!r} is text-only")
    return score_criteria(rms, list(prompts), list(responses))
