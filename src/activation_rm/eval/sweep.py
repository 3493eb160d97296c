"""Design-choice sweep (``activation-rm eval --sweep``): one factor at a time around a base Activation RM, on the
same seeds, few-shot draws and evaluation pairs, so each change is measured against the base with a paired test.

The base is the protocol's pointwise Activation RM. Each variant changes one thing: the steered heads (none, all,
random or sparse-attention-vector heads of the same count, the top K by learned probability), how the averaging
contexts are built (more contexts and shots, no demonstrations, class-balanced means), the REINFORCE budget, the
template wording, pointwise vs pairwise, or the number of few-shot pairs (the few-shot curve, with
sparse-attention-vector head voting fitted on the same pairs next to it).

Cheap by construction: variants that differ only in their heads reuse the base fit; all variants with the same query
text are scored together, each evaluation query's prefix encoded once and only its last token run once per variant
(:func:`~activation_rm.forward.shared_prefix.multi_steering_logits`, exact), so a variant costs a fit, not an evaluation pass.
Variants are :class:`~activation_rm.eval.variants.Variant` (fit options over :func:`sweep_base`, the protocol's
settings) and are fitted by :class:`~activation_rm.eval.variants.VariantFits`; rows go to a
:class:`~activation_rm.eval.rows.RowStore`, appended per chunk, and a rerun resumes, like
:func:`~activation_rm.eval.runner.run_eval`.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from activation_rm.eval.benchmarks import draw_fewshot
from activation_rm.eval.methods import FitContext, ZeroShotGroup, pair_correct, pair_examples
from activation_rm.eval.records import PairRecord, judge_items
from activation_rm.eval.report import format_ci, item_score, per_seed_accuracy, rows_by_benchmark
from activation_rm.eval.rows import RowStore, read_all_rows
from activation_rm.eval.runner import BenchmarkSpec
from activation_rm.eval.settings import EvalSettings
from activation_rm.eval.stats import mean_ci, paired_test, per_item_means
from activation_rm.eval.variants import Variant, VariantFits
from activation_rm.judge.templates import (
    CRITERION_FIRST,
    CRITERION_LAST,
    PAIRWISE,
    POINTWISE,
    JudgeTemplate,
)
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.artifacts import META_FILE
from activation_rm.scoring.reward_model import ActivationRM, verdict_logits

ALT_QUESTION = "Is this a good response according to the criterion? Answer Yes or No."


BASE = Variant("base", label="**base: pointwise ARM (protocol settings)**")
VARIANTS: tuple[Variant, ...] = (
    BASE,
    Variant("heads_all", label="heads: all heads", heads="all", group="heads"),
    Variant("heads_random", label="heads: random, same count", heads="random", group="heads"),
    Variant("heads_sav", label="heads: top SAV-ranked, same count", heads="sav", group="heads"),
    Variant("heads_top8", label="heads: top 8 by learned probability", heads="top:8", group="heads"),
    Variant("heads_top32", label="heads: top 32 by learned probability", heads="top:32", group="heads"),
    Variant("contexts_32x4", {"n_contexts": 32, "n_shots": 4}, label="means: 32 contexts of 4 shots",
            group="means"),
    Variant("contexts_32x0", {"n_contexts": 32, "n_shots": 0}, label="means: 32 contexts, no demonstrations",
            group="means"),
    Variant("balanced_means", {"balance_classes": True}, label="means: class-balanced", group="means"),
    Variant("reinforce_600x32", {"steps": 600, "masks_per_step": 32},
            label="REINFORCE: 600 steps x 32 masks (paper)", group="selection"),
    Variant("criterion_last", {"layout": CRITERION_LAST}, label="template: criterion after the response",
            group="template"),
    Variant("question_alt", {"pointwise_question": ALT_QUESTION}, label=f"template: question \"{ALT_QUESTION}\"",
            group="template"),
    Variant("pairwise", {"mode": PAIRWISE}, label="pairwise ARM (both orders)", group="mode"),
    *(Variant(f"fewshot_{n}", label=f"few-shot pairs: {n}", n_fewshot=n, group="curve") for n in (8, 16, 32, 64)),
)
BY_NAME = {v.name: v for v in VARIANTS}


def sweep_base(settings: EvalSettings) -> dict[str, Any]:
    """The protocol's pointwise Activation RM, the base every sweep variant's fit options go over: the judge
    settings' query length, REINFORCE budget and averaging contexts, the criterion-first layout."""
    return {"max_length": settings.max_length, "layout": CRITERION_FIRST, "steps": settings.steps,
            "masks_per_step": settings.masks_per_step, "n_contexts": settings.n_contexts, "n_shots": settings.n_shots,
            "held_out_fraction": settings.held_out_fraction}


def config_entry(variant: Variant) -> dict[str, Any]:
    """A variant as ``sweep-config.json`` lists it (the fields the sweep's variants have always been written with;
    fit options beyond them under ``fit``)."""
    named = {"mode": "mode", "layout": "layout", "question": "pointwise_question", "n_contexts": "n_contexts",
             "n_shots": "n_shots", "balance_classes": "balance_classes", "steps": "steps",
             "masks_per_step": "masks_per_step"}
    fit = variant.fit
    entry = {"name": variant.name, "label": variant.label, "mode": fit.get("mode", POINTWISE),
             "layout": fit.get("layout", CRITERION_FIRST), "question": fit.get("pointwise_question"),
             "n_fewshot": variant.n_fewshot, "n_contexts": fit.get("n_contexts"), "n_shots": fit.get("n_shots"),
             "balance_classes": fit.get("balance_classes", False), "steps": fit.get("steps"),
             "masks_per_step": fit.get("masks_per_step"), "heads": variant.heads, "group": variant.group}
    rest = {k: v for k, v in fit.items() if k not in named.values()}
    return {**entry, "fit": rest} if rest else entry


def _fit_name(variant: Variant) -> str:
    """The artifact folder of a variant's fit: the first variant name with its fit key."""
    for candidate in VARIANTS:
        if candidate.fit_key() == variant.fit_key():
            return candidate.name
    return variant.name


def derive_mask(base: ActivationRM, heads: str, seed: int, sav_ranking: torch.Tensor | None) -> torch.Tensor:
    """The steered heads of a head variant, from the base fit's mask and learned probabilities."""
    shape, count = base.mask.shape, int(base.mask.sum())
    flat = torch.zeros(shape.numel(), dtype=torch.bool)
    if heads == "reinforce":
        return base.mask.clone()
    if heads == "all":
        return torch.ones(shape, dtype=torch.bool)
    if heads == "random":
        flat[torch.randperm(shape.numel(), generator=torch.Generator().manual_seed(seed + 7))[:count]] = True
    elif heads == "sav":
        if sav_ranking is None:
            raise ValueError("the sav head variant needs a SAV head ranking")
        flat[sav_ranking[:count]] = True
    elif heads.startswith("top:"):
        k = int(heads.split(":", 1)[1])
        flat[torch.argsort(base.probs.flatten(), descending=True, stable=True)[:k]] = True
    else:
        raise ValueError(f"unknown head variant {heads!r}")
    return flat.view(shape)


class SweepSeed:
    """Every variant of one seed on one benchmark: fitted (or reloaded from ``artifacts``) and ready to score."""

    def __init__(self, backbone: Backbone, spec_criterion: str, pool_fewshot: Callable[[int], list[PairRecord]],
                 seed: int, settings: EvalSettings, n_fewshot: int, variants: Sequence[Variant], artifacts: Path,
                 log: Callable[[str], None], memo: dict) -> None:
        self.backbone, self.seed, self.settings = backbone, seed, settings
        self.criterion = spec_criterion
        self.fitted: dict[str, ActivationRM] = {}
        self.fit_rows: list[dict[str, Any]] = []
        sizes = sorted({v.n_fewshot or n_fewshot for v in variants} | {n_fewshot})
        self.sav: dict[int, ZeroShotGroup] = {}
        for n in sizes:  # SAV ranking / voting and zero-shot P(Yes) on the same few-shot pairs as the ARMs
            group = ZeroShotGroup(with_sav=True, memo=memo)  # unsteered passes shared by every few-shot size
            group.fit(FitContext(backbone, spec_criterion, pool_fewshot(n), seed, settings))
            self.sav[n] = group
        fits = VariantFits(backbone, spec_criterion,
                           lambda v: pair_examples(pool_fewshot(v.n_fewshot or n_fewshot)), seed,
                           sweep_base(settings), load=lambda v: self._load(artifacts / v.name))
        for variant in variants:
            fit_variant = replace(variant, heads="reinforce", name=_fit_name(variant))
            rm, seconds, how = fits.fit(fit_variant)
            if how == "fitted":
                rm.save(artifacts / fit_variant.name)
            if how != "shared":
                seconds = round(seconds, 2)
                self.fit_rows.append({"seed": seed, "variant": fit_variant.name, "seconds": seconds,
                                      "heads": int(rm.mask.sum()), "fit": rm.fit_info})
                log(f"  seed {seed}: fitted {fit_variant.name} ({int(rm.mask.sum())} heads) in {seconds}s")
            if variant.heads != "reinforce":
                ranking = self.sav[n_fewshot].sav_ranking
                mask = derive_mask(rm, variant.heads, seed, ranking)
                rm = rm.with_mask(mask)
            self.fitted[variant.name] = rm

    def _load(self, path: Path) -> ActivationRM | None:
        return ActivationRM.load(path, self.backbone) if (path / META_FILE).exists() else None


def score_variants(backbone: Backbone, seeds: Sequence[SweepSeed], records: Sequence[PairRecord],
                   ) -> dict[tuple[int, str], list[tuple[float, float]]]:
    """(seed, variant) -> per record (score of chosen, score of rejected), by the scoring core
    (:func:`~activation_rm.scoring.reward_model.verdict_logits`). Variants sharing a query template run together: one
    prefix per query, then the last token once per (seed, variant)."""
    by_template: dict[JudgeTemplate, list[tuple[int, str, ActivationRM]]] = defaultdict(list)
    for sweep in seeds:
        for name, rm in sweep.fitted.items():
            by_template[rm.template].append((sweep.seed, name, rm))
    out: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for members in by_template.values():
        mode = members[0][2].mode
        logits = verdict_logits([rm for _, _, rm in members], judge_items(records, mode), names=[f"{name} (seed {seed})"
                                                                            for seed, name, _ in members])
        probs = torch.softmax(logits.double(), dim=-1)[..., 0]  # (2N, K) P(Yes) or P(A)
        n = len(records)
        for k, (seed, name, _) in enumerate(members):
            first, second = probs[:n, k].tolist(), probs[n:, k].tolist()
            if mode == POINTWISE:
                out[(seed, name)] = list(zip(first, second))
            else:  # P(chosen is better), averaged over both orders
                p = [(a + (1 - b)) / 2 for a, b in zip(first, second)]
                out[(seed, name)] = [(x, 1 - x) for x in p]
    return out


def run_sweep(backbone: Backbone, specs: Sequence[BenchmarkSpec], seeds: Sequence[int], n_fewshot: int,
              settings: EvalSettings, variants: Sequence[Variant], out_dir: str | Path, *, chunk: int = 8,
              shard: str | None = None, order_seed: int = 0, log: Callable[[str], None] = print,
              progress: Callable[[int, int], None] | None = None) -> Path:
    """Fit every variant for every seed, then score them chunk by chunk, appending one row per (seed, variant,
    pair) to ``sweep-items[-SHARD].jsonl`` (and ``zeroshot_prob`` / ``sav`` / ``sav_nK`` rows next to them).
    ``progress(judged, skipped)`` hears of the evaluation pairs as every seed and method has judged them, and of
    those an earlier run finished."""
    def advance(judged: int, skipped: int) -> None:
        if progress is not None:
            progress(judged, skipped)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{shard}" if shard else ""
    done = RowStore.of_run(out, "sweep-items", ("benchmark", "seed", "method", "key"), shard)
    fitted = RowStore.of_run(out, "sweep-fits", ("benchmark", "seed", "variant"), shard)
    (out / f"sweep-config{suffix}.json").write_text(json.dumps({
        "seeds": list(seeds), "n_fewshot": n_fewshot, "settings": settings.to_dict(),
        "variants": [config_entry(v) for v in variants],
        "benchmarks": {s.name: {"pool": len(s.pool), "eval": len(s.records)} for s in specs}}, indent=1),
        encoding="utf-8")
    by_name = {spec.name: spec for spec in specs}
    curve_sizes = {v.n_fewshot for v in variants if v.group == "curve"}
    memo: dict = {}
    for spec in specs:
        source = by_name[spec.fit_on] if spec.fit_on else spec
        records = list(spec.records)
        random.Random(order_seed).shuffle(records)
        names = [v.name for v in variants] + ["zeroshot_prob", "sav"] + [f"sav_n{n}" for n in sorted(curve_sizes)]
        todo_seeds = [seed for seed in seeds
                      if any((spec.name, seed, m, r.key) not in done for m in names for r in records)]
        if not todo_seeds:
            advance(0, len(records))
            continue
        sweeps = []
        for seed in todo_seeds:
            log(f"[{time.strftime('%H:%M:%S')}] {spec.name} seed {seed}: fitting {len(variants)} variants")
            def fewshot(n: int, s: int = seed, src: BenchmarkSpec = source) -> list[PairRecord]:
                return draw_fewshot(src.pool, n, s, src.pool_group_by)

            sweep = SweepSeed(backbone, spec.criterion, fewshot, seed, settings, n_fewshot, variants,
                              out / "artifacts" / source.name / f"seed{seed}", log, memo)
            fitted.add([{"benchmark": spec.name, **row} for row in sweep.fit_rows])
            sweeps.append(sweep)
        for start in range(0, len(records), chunk):
            part = [r for r in records[start:start + chunk]
                    if any((spec.name, s.seed, m, r.key) not in done for s in sweeps for m in names)]
            advance(0, len(records[start:start + chunk]) - len(part))
            if not part:
                continue
            started = time.perf_counter()
            scores = score_variants(backbone, sweeps, part)
            rows = []
            for (seed, name), pairs in scores.items():
                rows += _rows(spec.name, seed, name, part, pairs, done)
            for sweep in sweeps:
                for n, group in sweep.sav.items():
                    verdicts = group.judge(part)
                    emit = [("zeroshot_prob", "zeroshot_prob"), ("sav", "sav")] if n == n_fewshot else []
                    emit += [("sav", f"sav_n{n}")] if n in curve_sizes else []
                    for method, name in emit:
                        pairs = [(v.score_chosen, v.score_rejected) for v in verdicts[method]]
                        rows += _rows(spec.name, sweep.seed, name, part, pairs, done)
            done.add(rows)
            advance(len(part), 0)
            log(f"  [{time.strftime('%H:%M:%S')}] {spec.name}: {min(start + chunk, len(records))}/{len(records)} "
                f"({(time.perf_counter() - started) / len(part):.2f}s per pair)")
    return done.path


def _rows(benchmark: str, seed: int, method: str, records: Sequence[PairRecord],
          pairs: Sequence[tuple[float, float]], done: RowStore) -> list[dict[str, Any]]:
    rows = []
    for record, (chosen, rejected) in zip(records, pairs):
        if (benchmark, seed, method, record.key) in done:
            continue
        rows.append({"benchmark": benchmark, "seed": seed, "method": method, "key": record.key,
                     "subset": record.subset, "section": record.section,
                     "correct": pair_correct(chosen, rejected), "score_chosen": chosen, "score_rejected": rejected})
    return rows


# ------------------------------------------------------------------------------------------------------ report
def summarize_sweep(rows: Sequence[dict[str, Any]], scoring: dict[str, str],
                    pairs_with: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Per benchmark and method: score with interval (over items, seeds averaged first), per-seed scores, the
    bias and control halves of PreferenceHack, and a paired test against the base on the same items."""
    summary: dict[str, Any] = {}
    for bench, bench_rows in rows_by_benchmark(rows).items():
        means = per_item_means(bench_rows)
        subset_of = {r["key"]: r["subset"] for r in bench_rows}
        controls = set(pairs_with.get(bench, {}).values())
        entry: dict[str, Any] = {}
        for method, items in means.items():
            keys = sorted(items)
            values = [items[k] for k in keys]
            subsets = [subset_of[k] for k in keys]
            info: dict[str, Any] = {
                **item_score(values, subsets, scoring.get(bench) == "rewardbench"), "n_items": len(keys),
                "per_seed": per_seed_accuracy([r for r in bench_rows if r["method"] == method])}
            if controls:
                for half, keep in (("bias", False), ("control", True)):
                    part = [v for v, s in zip(values, subsets) if (s in controls) == keep]
                    info[half] = [round(x, 4) for x in mean_ci(part)] if part else None
            if method != BASE.name and BASE.name in means:
                common = sorted(set(items) & set(means[BASE.name]))
                info["vs_base"] = paired_test([items[k] for k in common],
                                              [means[BASE.name][k] for k in common]).to_dict()
            entry[method] = info
        summary[bench] = entry
    return summary


def _delta(info: dict[str, Any]) -> str:
    test = info.get("vs_base")
    if not test:
        return ""
    return f"{100 * test['diff']:+.1f} (p={test['p_value']:.2g})"


def sweep_markdown(summary: dict[str, Any], variants: Sequence[Variant] = VARIANTS, base_n: int | None = None) -> str:
    """The ablation table: each variant's accuracy per benchmark with its interval and its paired difference from
    the base (sign-test p), then the few-shot curve."""
    benches = list(summary)
    labels = {v.name: v.label for v in variants} | {"zeroshot_prob": "zero-shot P(Yes) (no steering)",
                                                    "sav": "SAV head voting"}
    order = [v.name for v in variants if v.group != "curve"] + ["zeroshot_prob", "sav"]
    lines = ["| Variant | " + " | ".join(f"{b} | Δ vs base (p)" for b in benches) + " |",
             "|---|" + "---|---|" * len(benches)]
    for name in order:
        if not any(name in summary[b] for b in benches):
            continue
        cells = []
        for b in benches:
            info = summary[b].get(name)
            cells += [format_ci(info["score"]), _delta(info)] if info else ["–", ""]
        lines.append(f"| {labels.get(name, name)} | " + " | ".join(cells) + " |")
    halves = [b for b in benches if any("bias" in info for info in summary[b].values())]
    for b in halves:
        lines += ["", f"**{b}: bias splits vs their controls** (a style-following judge wins one and loses the other)",
                  "", "| Variant | bias splits | control splits | all |", "|---|---|---|---|"]
        for name in order:
            info = summary[b].get(name)
            if info:
                cells = [format_ci(info.get("bias")), format_ci(info.get("control")), format_ci(info["score"])]
                lines.append(f"| {labels.get(name, name)} | " + " | ".join(cells) + " |")
    curve = [(v.n_fewshot, v.name, f"sav_n{v.n_fewshot}") for v in variants
             if v.group == "curve" and any(v.name in summary[b] for b in benches)]
    if curve:
        if base_n is not None:
            curve = sorted([*curve, (base_n, BASE.name, "sav")])
        lines += ["", "**Few-shot curve**: pointwise ARM and SAV head voting fitted on the same n pairs per seed "
                  "(zero-shot P(Yes) needs no pairs: " + ", ".join(
                      f"{b} {format_ci(summary[b]['zeroshot_prob']['score'])}" for b in benches
                      if "zeroshot_prob" in summary[b]) + ")", "",
                  "| n pairs | " + " | ".join(f"{b} ARM | {b} SAV" for b in benches) + " |",
                  "|---|" + "---|---|" * len(benches)]
        for n, arm_name, sav_name in curve:
            cells = []
            for b in benches:
                arm, sav = summary[b].get(arm_name), summary[b].get(sav_name)
                cells += [format_ci(arm["score"]) if arm else "–", format_ci(sav["score"]) if sav else "–"]
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def sweep_chart(summary: dict[str, Any], path: str | Path, variants: Sequence[Variant] = VARIANTS,
                base_n: int | None = None) -> Path:
    """Top row: each variant's paired difference from the base with its 95% interval, per benchmark. Bottom row:
    the few-shot curve (ARM and SAV head voting, zero-shot as a line)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(summary)
    labels = {v.name: v.label.strip("*") for v in variants} | {"zeroshot_prob": "zero-shot P(Yes)",
                                                               "sav": "SAV head voting"}
    names = [v.name for v in variants if v.group != "curve" and v.name != BASE.name] + ["zeroshot_prob", "sav"]
    names = [n for n in names if any(n in summary[b] for b in benches)]
    fig, axes = plt.subplots(2, len(benches), figsize=(3 + 4.5 * len(benches), 9), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 2]})
    for col, bench in enumerate(benches):
        ax = axes[0][col]
        for y, name in enumerate(names):
            test = summary[bench].get(name, {}).get("vs_base")
            if test and not np.isnan(test["diff"]):
                diff, low, high = (100 * test[k] for k in ("diff", "low", "high"))
                ax.errorbar(diff, y, xerr=[[diff - low], [high - diff]], fmt="o", capsize=3,
                            color="tab:red" if test["p_value"] < 0.05 else "tab:blue")
        ax.axvline(0, color="black", lw=0.5, ls="--")
        ax.set_title(f"{bench}: variant minus base")
        ax.set_xlabel("accuracy difference, points (95% CI)")
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels([labels.get(n, n) for n in names] if col == 0 else [], fontsize=7)
        ax.invert_yaxis()
        curve = sorted([(v.n_fewshot, v.name, f"sav_n{v.n_fewshot}") for v in variants if v.group == "curve"]
                       + ([(base_n, BASE.name, "sav")] if base_n else []))
        ax = axes[1][col]
        for offset, (index, label, color) in enumerate(((1, "ARM (pointwise)", "tab:red"),
                                                        (2, "SAV head voting", "tab:green"))):
            points = [(n, summary[bench][entry[index]]["score"]) for entry in curve
                      for n in [entry[0]] if entry[index] in summary[bench]]
            if points:
                xs = [n * (1 + 0.03 * offset) for n, _ in points]
                ys = [100 * sc[0] for _, sc in points]
                err = [[100 * (sc[0] - sc[1]) for _, sc in points], [100 * (sc[2] - sc[0]) for _, sc in points]]
                ax.errorbar(xs, ys, yerr=err, fmt="-o", capsize=3, color=color, label=label)
        if "zeroshot_prob" in summary[bench]:
            ax.axhline(100 * summary[bench]["zeroshot_prob"]["score"][0], color="tab:gray", ls="--",
                       label="zero-shot P(Yes)")
        ax.set_xscale("log", base=2)
        ax.set_xticks([n for n, _, _ in curve], [str(n) for n, _, _ in curve])
        ax.set_xlabel("few-shot pairs")
        ax.set_ylabel("accuracy % (95% CI)")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path


def write_sweep_report(out_dir: str | Path, scoring: dict[str, str], pairs_with: dict[str, dict[str, str]],
                       variants: Sequence[Variant] = VARIANTS, extra: dict[str, Any] | None = None,
                       base_n: int | None = None) -> dict[str, Path]:
    """sweep-summary.json, sweep.md and sweep.png from every ``sweep-items*.jsonl`` of ``out_dir``."""
    out = Path(out_dir)
    summary = summarize_sweep(read_all_rows(out, "sweep-items"), scoring, pairs_with)
    tmp = out / "sweep-summary.json.tmp"
    tmp.write_text(json.dumps({"benchmarks": summary, **(extra or {})}, indent=1), encoding="utf-8")
    tmp.replace(out / "sweep-summary.json")
    (out / "sweep.md").write_text(sweep_markdown(summary, variants, base_n), encoding="utf-8")
    paths = {"summary": out / "sweep-summary.json", "markdown": out / "sweep.md"}
    if summary:
        paths["chart"] = sweep_chart(summary, out / "sweep.png", variants, base_n)
    return paths
