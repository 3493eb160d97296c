"""The one record type every benchmark loader yields, text or multimodal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from activation_rm.inputs.data import Prompt


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
