"""Method names and judge settings: importable without torch, so the CLI parser stays light."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

BASELINES = ("zeroshot_prob", "icl_prob", "gen_zeroshot", "gen_fewshot", "vote_fewshot", "sav")
ARM_METHODS = ("arm_pointwise", "arm_pairwise")
ABLATIONS = ("arm_all_heads", "arm_random_heads", "arm_sav_heads")


@dataclass(frozen=True)
class EvalSettings:
    """Everything that shapes the judges (stored in the summary so a result names its settings)."""

    max_length: int = field(default=2048, metadata={"help": "token limit per judge query"})
    icl_pairs: int = field(default=2, metadata={
        "help": "pairs shown to the in-context judge icl_prob (each as a Yes and a No demonstration)"})
    gen_pairs: int = field(default=2, metadata={
        "help": "pairs shown to the few-shot generative judges gen_fewshot / vote_fewshot (each in both orders)"})
    votes: int = field(default=5, metadata={"help": "sampled verdicts per pair of the voting judges"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature of the voting judges"})
    max_new_tokens: int = field(default=4, metadata={"help": "tokens the generative judges may generate"})
    sav_heads: int = field(default=20, metadata={"help": "heads that vote in the sparse-attention-vector baseline"})
    steps: int = field(default=600, metadata={"help": "REINFORCE steps of the Activation RMs' head selection"})
    masks_per_step: int = field(default=32, metadata={"help": "head masks sampled per REINFORCE step"})
    n_contexts: int = field(default=100, metadata={"help": "few-shot contexts averaged for the mean activations"})
    n_shots: int = field(default=4, metadata={"help": "demonstrations per averaging context"})
    held_out_fraction: float = field(default=0.2, metadata={
        "help": "share of the few-shot pairs held out to pick the final head mask"})
    order_seed: int = field(default=0, metadata={
        "help": "seed of the pair order of the pairwise generative judges (fixed across seeds: same items, same "
                "order)"})
    ablations: bool = field(default=False, metadata={
        "help": "also score the head-selection ablations (all heads, random heads, SAV heads; reuses the fitted "
                "ARMs)"})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


