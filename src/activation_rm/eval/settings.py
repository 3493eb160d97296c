"""Method names and judge settings: importable without torch, so the CLI parser stays light."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

BASELINES = ("zeroshot_prob", "icl_prob", "gen_zeroshot", "gen_fewshot", "vote_fewshot", "sav")
ARM_METHODS = ("arm_pointwise", "arm_pairwise")
ABLATIONS = ("arm_all_heads", "arm_random_heads", "arm_sav_heads")


@dataclass(frozen=True)
class EvalSettings:
    """Everything that shapes the judges (stored in the summary so a result names its settings)."""

    max_length: int = 2048
    icl_pairs: int = 2  # pairs shown to the in-context judge (each as a Yes and a No demonstration)
    gen_pairs: int = 2  # pairs shown to the few-shot generative judge (each in both orders)
    votes: int = 5
    temperature: float = 1.0
    max_new_tokens: int = 4
    sav_heads: int = 20
    steps: int = 600
    masks_per_step: int = 32
    n_contexts: int = 100
    n_shots: int = 4
    held_out_fraction: float = 0.2
    order_seed: int = 0  # pair order for pairwise generative judges (fixed across seeds: same items, same order)
    ablations: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


