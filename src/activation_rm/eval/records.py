"""The one record type every benchmark loader yields, text or multimodal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from activation_rm.inputs.data import Prompt
from activation_rm.judge.templates import POINTWISE, JudgeItem


@dataclass(frozen=True)
class PairRecord:
    """A preference pair: ``chosen`` is the better response. ``images`` are paths or PIL images for multimodal
    prompts; ``section`` groups subsets for weighted scores (RewardBench's Chat, Chat Hard, Safety, Reasoning)."""

    id: str
    subset: str
    prompt: Prompt
    chosen: str
    rejected: str
    section: str | None = None
    images: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        """Unique key across subsets (RewardBench ids are unique only within a subset)."""
        return f"{self.subset}/{self.id}"


def judge_items(records: Sequence[PairRecord], mode: str = POINTWISE) -> list[JudgeItem]:
    """The judge items that score ``records``, text only, first half then second: pointwise, every chosen response
    then every rejected one; pairwise, every pair as (chosen, rejected) then as (rejected, chosen)."""
    if mode == POINTWISE:
        return [JudgeItem(r.prompt, (r.chosen,)) for r in records] + [JudgeItem(r.prompt, (r.rejected,))
                                                                      for r in records]
    return [JudgeItem(r.prompt, (r.chosen, r.rejected)) for r in records] + [JudgeItem(r.prompt, (r.rejected, r.chosen))
                                                                              for r in records]
