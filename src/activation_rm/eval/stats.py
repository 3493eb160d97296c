"""Statistics on per-item correctness: bootstrap intervals, a paired test, and RewardBench's official scoring.

Per-item correctness is 1, 0.5 (tie) or 0, averaged over seeds first, so items (not seeds) are the resampling unit:
the intervals say how much the score could move on another draw of items from the same subsets. Intervals are
percentile bootstraps, stratified by subset where the statistic weighs subsets (RewardBench sections).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from activation_rm.eval.benchmarks import REWARDBENCH_SECTIONS, REWARDBENCH_WEIGHTS, SUBSET_SECTION


def bootstrap_ci(n: int, statistic: Callable[[np.ndarray], float], *, strata: Sequence[str] | None = None,
                 n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``statistic(indices)`` over resamples of ``range(n)`` (within strata when given)."""
    if n == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(np.asarray(strata) == s)
                                                    for s in dict.fromkeys(strata)]
    values = np.empty(n_boot)
    for b in range(n_boot):
        values[b] = statistic(np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups]))
    alpha = (1 - level) / 2
    return float(np.quantile(values, alpha)), float(np.quantile(values, 1 - alpha))


def mean_ci(values: Sequence[float], seed: int = 0, n_boot: int = 2000) -> tuple[float, float, float]:
    """(mean, low, high)."""
    x = np.asarray(values, dtype=float)
    if not len(x):
        return (float("nan"),) * 3
    low, high = bootstrap_ci(len(x), lambda idx: float(x[idx].mean()), n_boot=n_boot, seed=seed)
    return float(x.mean()), low, high


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial test of wins vs losses at p = 1/2 (McNemar's exact test on discordant items)."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class PairedResult:
    """Method A minus method B on the same items."""

    n: int
    diff: float
    low: float
    high: float
    wins: int
    losses: int
    p_value: float

    def to_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) and k != "p_value" else v) for k, v in asdict(self).items()}


def paired_test(a: Sequence[float], b: Sequence[float], seed: int = 0, n_boot: int = 2000) -> PairedResult:
    """Paired bootstrap interval of mean(a - b) and an exact sign test on items where they differ."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in size: {x.shape} vs {y.shape}")
    d = x - y
    if not len(d):
        return PairedResult(0, float("nan"), float("nan"), float("nan"), 0, 0, 1.0)
    low, high = bootstrap_ci(len(d), lambda idx: float(d[idx].mean()), n_boot=n_boot, seed=seed)
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    return PairedResult(len(d), float(d.mean()), low, high, wins, losses, sign_test(wins, losses))


def rewardbench_scores(correct: Sequence[float], subsets: Sequence[str]) -> dict[str, float]:
    """Official RewardBench v1 scoring: subset accuracy; section = official-count-weighted mean of its subsets
    (math-prm weighted 984); overall = plain mean of the sections. Sections and subsets with no item are left out
    (a partial run says which it covers)."""
    per_subset: dict[str, list[float]] = defaultdict(list)
    for value, subset in zip(correct, subsets):
        per_subset[subset].append(float(value))
    scores: dict[str, float] = {}
    sections = []
    for section, members in REWARDBENCH_SECTIONS.items():
        present = [s for s in members if per_subset.get(s)]
        if not present:
            continue
        weights = np.array([REWARDBENCH_WEIGHTS[s] for s in present], dtype=float)
        accs = np.array([np.mean(per_subset[s]) for s in present])
        scores[section] = float((weights * accs).sum() / weights.sum())
        sections.append(scores[section])
    if sections:
        scores["Overall"] = float(np.mean(sections))
    return scores


def rewardbench_ci(correct: Sequence[float], subsets: Sequence[str], seed: int = 0,
                   n_boot: int = 1000) -> dict[str, tuple[float, float, float]]:
    """(score, low, high) of every RewardBench section and the overall score. Items are resampled within sections
    (not subsets: with one or two items per subset, as in a capped run, a within-subset resample cannot move and
    would give a zero-width interval); each resample is scored with the official weights of the subsets it holds."""
    x = np.asarray(correct, dtype=float)
    s = np.asarray(subsets)
    point = rewardbench_scores(x, s)
    if not point:
        return {}
    samples: dict[str, list[float]] = defaultdict(list)
    rng = np.random.default_rng(seed)
    sections = np.asarray([SUBSET_SECTION.get(name, name) for name in s.tolist()])
    groups = [np.flatnonzero(sections == name) for name in dict.fromkeys(sections.tolist())]
    for _ in range(n_boot):
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        for key, value in rewardbench_scores(x[idx], s[idx]).items():
            samples[key].append(value)
    return {k: (v, float(np.quantile(samples[k], 0.025)), float(np.quantile(samples[k], 0.975)))
            for k, v in point.items()}


def section_of(subset: str) -> str | None:
    return SUBSET_SECTION.get(subset)


def per_item_means(rows: Sequence[Mapping]) -> dict[str, dict[str, float]]:
    """method -> item key -> correctness averaged over the seeds present."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        sums[row["method"]][row["key"]].append(float(row["correct"]))
    return {m: {k: float(np.mean(v)) for k, v in items.items()} for m, items in sums.items()}
