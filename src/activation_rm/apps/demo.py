"""The main job on the embedded model: fit an ARM on a bundled criterion and compare it with zero-shot P(Yes)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from activation_rm.apps.bundled import bundled_names, load_bundled
from activation_rm.inputs.checks import check_fields, one_of
from activation_rm.inputs.data import PairwiseExample
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.reward_model import ActivationRM, pair_correct


@dataclass
class JudgeAccuracy:
    name: str
    pair_accuracy: float  # share of held-out pairs where chosen scores above rejected
    verdict_accuracy: float  # share of held-out responses judged right at threshold 0.5 (chosen Yes, rejected No)
    mean_chosen: float
    mean_rejected: float
    pair_correct: list[float] = field(default_factory=list)  # per held-out pair: 1 right, 0.5 tie, 0 wrong


def evaluate_pairs(rm: ActivationRM, pairs: Sequence[PairwiseExample], name: str) -> JudgeAccuracy:
    """Accuracy of a pointwise reward model on held-out pairs."""
    prompts = [p.prompt for p in pairs]
    chosen = rm.score(prompts, [p.chosen for p in pairs])
    rejected = rm.score(prompts, [p.rejected for p in pairs])
    n = len(pairs)
    correct = [pair_correct(c, r) for c, r in zip(chosen, rejected)]
    return JudgeAccuracy(
        name=name,
        pair_accuracy=sum(c > r for c, r in zip(chosen, rejected)) / n,
        pair_correct=correct,
        verdict_accuracy=(sum(c > 0.5 for c in chosen) + sum(r < 0.5 for r in rejected)) / (2 * n),
        mean_chosen=sum(chosen) / n,
        mean_rejected=sum(rejected) / n,
    )


@dataclass
class DemoResult:
    criterion_name: str
    criterion: str
    n_fewshot: int
    n_held_out: int
    fit_seconds: float
    num_heads: int
    total_heads: int
    rows: list[JudgeAccuracy]
    rm: ActivationRM

    def table(self) -> str:
        lines = [
            f"criterion: {self.criterion_name} - {self.criterion}",
            f"fitted on {self.n_fewshot} pairs in {self.fit_seconds:.0f} s; {self.num_heads} of {self.total_heads} "
            f"heads steered; evaluated on {self.n_held_out} held-out pairs",
            "",
            f"{'judge':<28} {'pair acc':>9} {'verdict acc':>12} {'mean P(Yes) chosen':>19} {'rejected':>9}",
        ]
        for row in self.rows:
            lines.append(f"{row.name:<28} {row.pair_accuracy:>9.3f} {row.verdict_accuracy:>12.3f} "
                         f"{row.mean_chosen:>19.3f} {row.mean_rejected:>9.3f}")
        if len(self.rows) >= 2 and self.rows[0].pair_correct:
            from activation_rm.eval.stats import paired_test

            test = paired_test(self.rows[0].pair_correct, self.rows[1].pair_correct)
            lines.append(f"\n{self.rows[0].name} minus {self.rows[1].name}, pair accuracy: {100 * test.diff:+.1f} points, "
                         f"95% paired bootstrap CI [{100 * test.low:+.1f}, {100 * test.high:+.1f}]; better on "
                         f"{test.wins} pairs, worse on {test.losses} (sign test p = {test.p_value:.3g})")
        return "\n".join(lines)


def check_criterion_name(name: str) -> None:
    """An unknown bundled criterion is a :class:`ConfigError` that lists the choices (the command line checks it
    before it loads the model)."""
    check_fields("demo", [one_of("criterion", name, bundled_names())])


def run_demo(backbone: Backbone, criterion_name: str = "short_correct", *, seed: int = 0, steps: int | None = None,
             progress: bool = True, **fit_kwargs) -> DemoResult:
    """Fit on the bundled criterion's few-shot pairs; evaluate ARM and zero-shot P(Yes) on its held-out pairs."""
    check_criterion_name(criterion_name)
    bundled = load_bundled(criterion_name)
    started = time.perf_counter()
    rm = ActivationRM.fit(backbone, bundled.fewshot, criterion=bundled.criterion, seed=seed, steps=steps,
                          progress=progress, **fit_kwargs)
    fit_seconds = time.perf_counter() - started
    rows = [
        evaluate_pairs(rm, bundled.held_out, "Activation RM"),
        evaluate_pairs(rm.without_steering(), bundled.held_out, "zero-shot P(Yes)"),
    ]
    return DemoResult(criterion_name, bundled.criterion, len(bundled.fewshot), len(bundled.held_out), fit_seconds,
                      int(rm.mask.sum()), rm.mask.numel(), rows, rm)
