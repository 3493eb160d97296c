"""The bias + control protocol that decides the library's defaults (``benchmarks/accuracy.py`` is its command line).

A :class:`Task` is one surface bias of one pair set: few-shot pools per split and fixed evaluation pairs. In a
*bias* pair the wrong response carries the cue; in its *control* pair the correct one does, so a judge that follows
the cue wins one split and loses the other. :class:`ProtocolRun` runs one (task, seed, few-shot size, label noise):
it draws the few-shot pairs, fits every :class:`~activation_rm.eval.variants.Variant` (sharing equal means and
fits), scores them and the baselines (zero-shot P(Yes), in-context P(Yes), SAV head voting) on the task's
evaluation pairs, and appends one row per method to a :class:`~activation_rm.eval.rows.RowStore` (a rerun skips
what is there). Every evaluation query's prefix is encoded once per task and template and kept
(:class:`~activation_rm.fit.selection.MaskScorer`, the cache head selection uses), so a fitted variant costs one
last token per query; the scores equal ``ActivationRM.compare`` (checked on the first fit).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from activation_rm.eval.methods import (
    FitContext,
    ICLGroup,
    ZeroShotGroup,
    baseline_judge_template,
    pair_examples,
)
from activation_rm.eval.records import PairRecord, judge_items
from activation_rm.eval.rows import RowStore
from activation_rm.eval.settings import EvalSettings
from activation_rm.eval.variants import Variant, VariantFits
from activation_rm.fit.selection import MaskScorer
from activation_rm.judge.templates import JudgeTemplate, QueryEncoder
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.reward_model import ActivationRM, pair_correct

#: the baselines a run can add beside its variants
PROTOCOL_BASELINES = ("zeroshot", "icl", "sav")
#: the protocol's baseline sizes unless a run names others (its rows and the stale-row check read the same ones)
ICL_PAIRS = 4
SAV_HEADS = 20


@dataclass
class Task:
    """A bias with its few-shot pools and fixed evaluation pairs (``split_of``: record key -> bias / control /
    all)."""

    name: str
    criterion: str
    pool: dict[str, list[PairRecord]]  # split -> records the few-shot pairs are drawn from
    evaluate: list[PairRecord]
    split_of: dict[str, str] = field(default_factory=dict)


def draw_fewshot(task: Task, n_per_split: int, seed: int, noise: float = 0.0) -> list[PairRecord]:
    """``n_per_split`` pairs of every split (all of a single-split pool's are one split, drawn ``2 * n``),
    interleaved, with a ``noise`` share of them flipped (chosen and rejected swapped) to test robustness to label
    noise. A pool too small is a ValueError naming the task and split."""
    rng = random.Random(f"fewshot/{task.name}/{seed}")
    drawn = []
    for split in sorted(task.pool):
        n = n_per_split * (2 if split == "all" else 1)
        pool = task.pool[split]
        if n > len(pool):
            raise ValueError(f"{task.name}: {n} few-shot pairs asked from a pool of {len(pool)} ({split})")
        drawn.append(rng.sample(pool, n))
    mixed = [r for group in zip(*drawn) for r in group] if len(drawn) > 1 else drawn[0]
    flips = set(random.Random(f"noise/{task.name}/{seed}").sample(range(len(mixed)), round(noise * len(mixed))))
    return [replace(r, chosen=r.rejected, rejected=r.chosen) if i in flips else r for i, r in enumerate(mixed)]


class EvalScorer:
    """The pointwise queries of some evaluation pairs under one template (chosen responses first, then rejected),
    scored under any steering: each query's prefix is encoded once and kept, a steering runs the last token only."""

    def __init__(self, backbone: Backbone, template: JudgeTemplate, records: Sequence[PairRecord]) -> None:
        self.backbone = backbone
        self.encoder = QueryEncoder(backbone.tokenizer, template)
        self.n = len(records)
        self.queries = [self.encoder.encode(item) for item in judge_items(records)]
        self.read = list(self.encoder.verdict_ids)
        self.scorer = MaskScorer(backbone)
        self.plain = self.log_odds(None, None)

    def log_odds(self, mask: torch.Tensor | None, means: torch.Tensor | None, additive: bool = False) -> torch.Tensor:
        """log P(Yes) - log P(No) of every query (float64), unsteered when ``mask`` is None, the masked heads
        shifted by ``means`` with ``additive`` (else replaced)."""
        if mask is None:
            mask = torch.zeros(self.backbone.num_layers, self.backbone.num_heads, dtype=torch.bool)
            means = torch.zeros(*mask.shape, self.backbone.head_dim)
        out = [self.scorer.logits(query, mask[None], means, self.read, additive)[0, self.read].double().cpu()
               for query in self.queries]
        return torch.stack([logits[0] - logits[1] for logits in out])

    def correct(self, scores: torch.Tensor) -> list[float]:
        chosen, rejected = scores[: self.n], scores[self.n:]
        return [pair_correct(c, r) for c, r in zip(chosen.tolist(), rejected.tolist())]

    def check(self, rm: ActivationRM, records: Sequence[PairRecord], k: int = 3) -> None:
        """The cached-prefix scores of the first ``k`` pairs equal ``rm.compare`` (the library's own scoring)."""
        mine = torch.sigmoid(self.log_odds(rm.mask, rm.means, rm.additive))
        comparisons = rm.compare([r.prompt for r in records[:k]], [r.chosen for r in records[:k]],
                                 [r.rejected for r in records[:k]])
        theirs = torch.tensor([c.score_a for c in comparisons] + [c.score_b for c in comparisons], dtype=torch.float64)
        torch.testing.assert_close(torch.cat([mine[:k], mine[self.n:self.n + k]]), theirs, atol=2e-5, rtol=1e-4)


def fit_settings(variant: Variant, criterion: str) -> dict[str, Any]:
    """Everything a variant's row depends on (template without the criterion, contexts, selection, readout), as
    stored in the row: a resumed run compares it with what it would fit now, so a row fitted under other settings
    (for example library defaults that changed since) is never kept as if it were this run's."""
    template, contexts, selection = variant.configs(criterion)
    settings = {"template": {k: v for k, v in template.to_dict().items() if k != "criterion"},
                "contexts": contexts.to_dict(), "selection": selection.to_dict(),
                "scoring": {"readout": variant.readout}}
    return json.loads(json.dumps(settings, default=str))  # as it reads back from the JSONL


def baseline_settings(baseline: str, criterion: str, icl_pairs: int, sav_heads: int) -> dict[str, Any]:
    """Everything a baseline's row depends on, as stored in the row: the judge template it reads (without the
    criterion) and the baseline's own size (in-context pairs, voting heads), so a resumed run keeps no baseline row
    scored under other defaults either."""
    template = baseline_template(criterion)
    if baseline != "zeroshot":  # SAV and in-context read the plain pointwise template at the same length
        template = baseline_judge_template(criterion, template.max_length)
    own = {"icl": {"icl_pairs": icl_pairs}, "sav": {"sav_heads": sav_heads}}.get(baseline, {})
    settings = {"template": {k: v for k, v in template.to_dict().items() if k != "criterion"}, "baseline": own}
    return json.loads(json.dumps(settings, default=str))


def baseline_template(criterion: str) -> JudgeTemplate:
    """The template the baselines read: the library default's."""
    return Variant("default").configs(criterion)[0]


def unit_prefix(tag: str, task: str, seed: int, n_fit: int, noise: float) -> str:
    """The key prefix of one (task, seed, few-shot size, noise) unit's rows."""
    return f"{tag}|{task}|seed{seed}|n{n_fit}|noise{noise}"


def stale_rows(rows: RowStore, tag: str, units: Iterable[tuple[Task, int, int, float, Sequence[Variant], Sequence[str]]],
               icl_pairs: int = ICL_PAIRS, sav_heads: int = SAV_HEADS) -> list[str]:
    """One message per row a run of ``units`` (task, seed, few-shot size, noise, variants, baselines) would keep
    although it was fitted or scored with other settings than the run would use, or records none (written before
    rows kept them). Checked before any model loads, so a changed default cannot mix two fits under one name in one
    table."""
    problems = []
    for task, seed, n_fit, noise, variants, baselines in units:
        wanted_rows = [(variant.name, fit_settings(variant, task.criterion)) for variant in variants]
        wanted_rows += [(name, baseline_settings(name, task.criterion, icl_pairs, sav_heads)) for name in baselines]
        for method, wanted in wanted_rows:
            key = f"{unit_prefix(tag, task.name, seed, n_fit, noise)}|{method}"
            row = rows.by_key.get(key)
            if row is None:
                continue
            stored = row.get("settings")
            if stored is None:
                problems.append(f"{rows.path}: row {key!r} records no settings (written before rows kept them, "
                                f"perhaps under other library defaults)")
                continue
            changed = [f"{part}.{name}={stored.get(part, {}).get(name)!r} (now {value!r})"
                       for part, fields in wanted.items() for name, value in fields.items()
                       if stored.get(part, {}).get(name) != value]
            if changed:
                problems.append(f"{rows.path}: row {key!r} was fitted with {', '.join(changed)}")
    return problems


class ProtocolRun:
    """Runs (task, seed, few-shot size, noise) units into ``rows``; keeps each task's evaluation prefixes and the
    unsteered passes the SAV baseline shares until :meth:`forget` drops a task."""

    def __init__(self, backbone: Backbone, rows: RowStore, tag: str, icl_pairs: int = ICL_PAIRS,
                 sav_heads: int = SAV_HEADS, log: Callable[[str], None] = print) -> None:
        self.backbone, self.rows, self.tag = backbone, rows, tag
        self.icl_pairs, self.sav_heads, self.log = icl_pairs, sav_heads, log
        self.scorers: dict[tuple[str, JudgeTemplate], EvalScorer] = {}
        self.memo: dict = {}

    def scorer(self, task: Task, template: JudgeTemplate) -> EvalScorer:
        key = (task.name, template)
        if key not in self.scorers:
            self.scorers[key] = EvalScorer(self.backbone, template, task.evaluate)
        return self.scorers[key]

    def forget(self, task: Task) -> None:
        """Drop the task's kept prefixes (KV caches)."""
        for key in [k for k in self.scorers if k[0] == task.name]:
            del self.scorers[key]

    def run(self, task: Task, seed: int, n_fit: int, noise: float, variants: Sequence[Variant],
            baselines: Sequence[str]) -> None:
        """Fit and score what ``rows`` lacks of this unit: one row per variant and baseline."""
        unknown = sorted(set(baselines) - set(PROTOCOL_BASELINES))
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}; choose from {PROTOCOL_BASELINES}")
        prefix = unit_prefix(self.tag, task.name, seed, n_fit, noise)
        wanted = [v for v in variants if f"{prefix}|{v.name}" not in self.rows]
        wanted_baselines = [b for b in baselines if f"{prefix}|{b}" not in self.rows]
        if not wanted and not wanted_baselines:
            return
        fewshot = draw_fewshot(task, n_fit, seed, noise)
        examples = pair_examples(fewshot)
        splits = [task.split_of[r.key] for r in task.evaluate]

        def record(method: str, correct: list[float], extra: dict | None = None) -> None:
            self.rows.add({"key": f"{prefix}|{method}", "tag": self.tag, "task": task.name, "seed": seed,
                           "n_fit": n_fit, "noise": noise, "method": method, "correct": correct, "splits": splits,
                           **(extra or {})})

        started = time.perf_counter()
        fits = VariantFits(self.backbone, task.criterion, lambda variant: examples, seed)  # equal means shared
        for variant in wanted:
            rm, fit_seconds, _ = fits.fit(variant)
            evaluator = self.scorer(task, rm.template)
            if seed == 0 and variant is wanted[0]:
                evaluator.check(rm, task.evaluate)
            odds = evaluator.log_odds(rm.mask, rm.means, rm.additive)
            if variant.readout == "delta":
                odds = odds - evaluator.plain
            record(variant.name, evaluator.correct(odds), {"heads": int(rm.mask.sum()),
                                                           "fit_seconds": round(fit_seconds, 1),
                                                           "fit": variant.fit, "readout": variant.readout,
                                                           "settings": fit_settings(variant, task.criterion)})
        default_template = baseline_template(task.criterion)

        def settings_of(baseline: str) -> dict[str, Any]:
            return {"settings": baseline_settings(baseline, task.criterion, self.icl_pairs, self.sav_heads)}

        if "zeroshot" in wanted_baselines:
            scorer = self.scorer(task, default_template)
            record("zeroshot", scorer.correct(scorer.plain),
                   {"template": default_template.layout, **settings_of("zeroshot")})
        settings = EvalSettings(max_length=default_template.max_length, icl_pairs=self.icl_pairs,
                                sav_heads=self.sav_heads)
        ctx = FitContext(self.backbone, task.criterion, fewshot, seed, settings)
        if "sav" in wanted_baselines:
            group = ZeroShotGroup(with_sav=True, memo=self.memo)
            group.fit(ctx)
            record("sav", [v.correct for v in group.judge(task.evaluate)["sav"]], settings_of("sav"))
        if "icl" in wanted_baselines:
            group = ICLGroup()
            group.fit(ctx)
            record("icl", [v.correct for v in group.judge(task.evaluate)["icl_prob"]],
                   {"icl_pairs": self.icl_pairs, **settings_of("icl")})
        self.log(f"  {task.name} seed {seed} n={n_fit} noise={noise}: {time.perf_counter() - started:.0f} s")
