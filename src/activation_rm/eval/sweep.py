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
Rows are appended per chunk and a rerun resumes, like :func:`~activation_rm.eval.runner.run_eval`.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from activation_rm.eval.benchmarks import draw_fewshot
from activation_rm.eval.methods import FitContext, ZeroShotGroup, pair_correct, pair_examples
from activation_rm.eval.records import PairRecord
from activation_rm.eval.report import format_ci, item_score, per_seed_accuracy, rows_by_benchmark
from activation_rm.eval.runner import BenchmarkSpec, append_rows, read_all_rows, repair_tail
from activation_rm.eval.settings import EvalSettings
from activation_rm.eval.stats import mean_ci, paired_test, per_item_means
from activation_rm.forward.shared_prefix import multi_steering_logits
from activation_rm.judge.templates import (
    CRITERION_FIRST,
    CRITERION_LAST,
    PAIRWISE,
    POINTWISE,
    JudgeItem,
    JudgeTemplate,
    QueryEncoder,
)
from activation_rm.model.backbone import Backbone
from activation_rm.scoring.artifacts import META_FILE
from activation_rm.scoring.reward_model import ActivationRM

ALT_QUESTION = "Is this a good response according to the criterion? Answer Yes or No."


@dataclass(frozen=True)
class Variant:
    """One design choice. ``None`` fields take the protocol's value; ``heads`` picks the steered heads of the fit:
    ``reinforce`` (the learned mask), ``all``, ``random`` / ``sav`` (that many random / top-SAV heads, as many as
    REINFORCE chose) or ``top:K`` (the K heads with the highest learned inclusion probability)."""

    name: str
    label: str
    mode: str = POINTWISE
    layout: str = CRITERION_FIRST
    question: str | None = None
    n_fewshot: int | None = None
    n_contexts: int | None = None
    n_shots: int | None = None
    balance_classes: bool = False
    steps: int | None = None
    masks_per_step: int | None = None
    heads: str = "reinforce"
    group: str = "design"

    def fit_key(self) -> tuple:
        """What the fit depends on (variants with the same key share one fitted Activation RM)."""
        return (self.mode, self.layout, self.question, self.n_fewshot, self.n_contexts, self.n_shots,
                self.balance_classes, self.steps, self.masks_per_step)


BASE = Variant("base", "**base: pointwise ARM (protocol settings)**")
VARIANTS: tuple[Variant, ...] = (
    BASE,
    Variant("heads_all", "heads: all heads", heads="all", group="heads"),
    Variant("heads_random", "heads: random, same count", heads="random", group="heads"),
    Variant("heads_sav", "heads: top SAV-ranked, same count", heads="sav", group="heads"),
    Variant("heads_top8", "heads: top 8 by learned probability", heads="top:8", group="heads"),
    Variant("heads_top32", "heads: top 32 by learned probability", heads="top:32", group="heads"),
    Variant("contexts_32x4", "means: 32 contexts of 4 shots", n_contexts=32, n_shots=4, group="means"),
    Variant("contexts_32x0", "means: 32 contexts, no demonstrations", n_contexts=32, n_shots=0, group="means"),
    Variant("balanced_means", "means: class-balanced", balance_classes=True, group="means"),
    Variant("reinforce_600x32", "REINFORCE: 600 steps x 32 masks (paper)", steps=600, masks_per_step=32,
            group="selection"),
    Variant("criterion_last", "template: criterion after the response", layout=CRITERION_LAST, group="template"),
    Variant("question_alt", f"template: question \"{ALT_QUESTION}\"", question=ALT_QUESTION, group="template"),
    Variant("pairwise", "pairwise ARM (both orders)", mode=PAIRWISE, group="mode"),
    *(Variant(f"fewshot_{n}", f"few-shot pairs: {n}", n_fewshot=n, group="curve") for n in (8, 16, 32, 64)),
)
BY_NAME = {v.name: v for v in VARIANTS}


def variant_template(variant: Variant, criterion: str, max_length: int) -> JudgeTemplate:
    template = JudgeTemplate(criterion, variant.mode, max_length=max_length, layout=variant.layout)
    return replace(template, pointwise_question=variant.question) if variant.question else template


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
        fits: dict[tuple, ActivationRM] = {}
        sizes = sorted({v.n_fewshot or n_fewshot for v in variants} | {n_fewshot})
        self.sav: dict[int, ZeroShotGroup] = {}
        for n in sizes:  # SAV ranking / voting and zero-shot P(Yes) on the same few-shot pairs as the ARMs
            group = ZeroShotGroup(with_sav=True, memo=memo)  # unsteered passes shared by every few-shot size
            group.fit(FitContext(backbone, spec_criterion, pool_fewshot(n), seed, settings))
            self.sav[n] = group
        for variant in variants:
            fit_variant = replace(variant, heads="reinforce", name=_fit_name(variant))
            key = fit_variant.fit_key()
            if key not in fits:
                started = time.perf_counter()
                fits[key] = self._fit(fit_variant, pool_fewshot(variant.n_fewshot or n_fewshot), artifacts)
                seconds = round(time.perf_counter() - started, 2)
                self.fit_rows.append({"seed": seed, "variant": fit_variant.name, "seconds": seconds,
                                      "heads": int(fits[key].mask.sum()), "fit": fits[key].fit_info})
                log(f"  seed {seed}: fitted {fit_variant.name} ({int(fits[key].mask.sum())} heads) in {seconds}s")
            rm = fits[key]
            if variant.heads != "reinforce":
                ranking = self.sav[n_fewshot].sav_ranking
                mask = derive_mask(rm, variant.heads, seed, ranking)
                rm = ActivationRM(backbone, rm.template, rm.means, mask, rm.probs, seed=seed, fit_info=rm.fit_info)
            self.fitted[variant.name] = rm

    def _fit(self, variant: Variant, fewshot: list[PairRecord], artifacts: Path) -> ActivationRM:
        s = self.settings
        path = artifacts / variant.name
        if (path / META_FILE).exists():
            return ActivationRM.load(path, self.backbone)
        rm = ActivationRM.fit(
            self.backbone, pair_examples(fewshot), variant_template(variant, self.criterion, s.max_length),
            steps=variant.steps if variant.steps is not None else s.steps, seed=self.seed,
            n_contexts=variant.n_contexts or s.n_contexts,
            n_shots=variant.n_shots if variant.n_shots is not None else s.n_shots,
            balance_classes=variant.balance_classes, masks_per_step=variant.masks_per_step or s.masks_per_step,
            held_out_fraction=s.held_out_fraction, progress=False)
        rm.save(path)
        return rm


def _template_key(template: JudgeTemplate) -> str:
    return json.dumps(template.to_dict(), sort_keys=True)


def score_variants(backbone: Backbone, seeds: Sequence[SweepSeed], records: Sequence[PairRecord],
                   ) -> dict[tuple[int, str], list[tuple[float, float]]]:
    """(seed, variant) -> per record (score of chosen, score of rejected). Variants sharing a query template run
    together: one prefix per query, then the last token once per (seed, variant)."""
    by_template: dict[str, list[tuple[int, str, ActivationRM]]] = defaultdict(list)
    for sweep in seeds:
        for name, rm in sweep.fitted.items():
            by_template[_template_key(rm.template)].append((sweep.seed, name, rm))
    out: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for members in by_template.values():
        template = members[0][2].template
        encoder = QueryEncoder(backbone.tokenizer, template)
        if template.mode == POINTWISE:
            items = [JudgeItem(r.prompt, (r.chosen,)) for r in records] + [JudgeItem(r.prompt, (r.rejected,))
                                                                           for r in records]
        else:
            items = [JudgeItem(r.prompt, (r.chosen, r.rejected)) for r in records] + [
                JudgeItem(r.prompt, (r.rejected, r.chosen)) for r in records]
        seqs, _ = encoder.encode_many(items)
        steerings = [rm.steering for _, _, rm in members]
        logits = multi_steering_logits(backbone, [[s] * len(members) for s in seqs], steerings,
                                       read_ids=[encoder.verdict_ids] * len(members))
        probs = torch.softmax(logits.double(), dim=-1)[..., 0]  # (2N, K) P(Yes) or P(A)
        n = len(records)
        for k, (seed, name, _) in enumerate(members):
            first, second = probs[:n, k].tolist(), probs[n:, k].tolist()
            if template.mode == POINTWISE:
                out[(seed, name)] = list(zip(first, second))
            else:  # P(chosen is better), averaged over both orders
                p = [(a + (1 - b)) / 2 for a, b in zip(first, second)]
                out[(seed, name)] = [(x, 1 - x) for x in p]
    return out


def run_sweep(backbone: Backbone, specs: Sequence[BenchmarkSpec], seeds: Sequence[int], n_fewshot: int,
              settings: EvalSettings, variants: Sequence[Variant], out_dir: str | Path, *, chunk: int = 8,
              shard: str | None = None, order_seed: int = 0, log: Callable[[str], None] = print) -> Path:
    """Fit every variant for every seed, then score them chunk by chunk, appending one row per (seed, variant,
    pair) to ``sweep-items[-SHARD].jsonl`` (and ``zeroshot_prob`` / ``sav`` / ``sav_nK`` rows next to them)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{shard}" if shard else ""
    items_path, fits_path = out / f"sweep-items{suffix}.jsonl", out / f"sweep-fits{suffix}.jsonl"
    repair_tail(items_path)
    repair_tail(fits_path)
    done = {(r["benchmark"], r["seed"], r["method"], r["key"]) for r in read_all_rows(out, "sweep-items")}
    fitted = {(r["benchmark"], r["seed"], r["variant"]) for r in read_all_rows(out, "sweep-fits")}
    (out / f"sweep-config{suffix}.json").write_text(json.dumps({
        "seeds": list(seeds), "n_fewshot": n_fewshot, "settings": settings.to_dict(),
        "variants": [asdict(v) for v in variants],
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
            continue
        sweeps = []
        for seed in todo_seeds:
            log(f"[{time.strftime('%H:%M:%S')}] {spec.name} seed {seed}: fitting {len(variants)} variants")
            def fewshot(n: int, s: int = seed, src: BenchmarkSpec = source) -> list[PairRecord]:
                return draw_fewshot(src.pool, n, s, src.pool_group_by)

            sweep = SweepSeed(backbone, spec.criterion, fewshot, seed, settings, n_fewshot, variants,
                              out / "artifacts" / source.name / f"seed{seed}", log, memo)
            append_rows(fits_path, [{"benchmark": spec.name, **row} for row in sweep.fit_rows
                                if (spec.name, seed, row["variant"]) not in fitted])
            sweeps.append(sweep)
        for start in range(0, len(records), chunk):
            part = [r for r in records[start:start + chunk]
                    if any((spec.name, s.seed, m, r.key) not in done for s in sweeps for m in names)]
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
            append_rows(items_path, rows)
            log(f"  [{time.strftime('%H:%M:%S')}] {spec.name}: {min(start + chunk, len(records))}/{len(records)} "
                f"({(time.perf_counter() - started) / len(part):.2f}s per pair)")
    return items_path


def _rows(benchmark: str, seed: int, method: str, records: Sequence[PairRecord],
          pairs: Sequence[tuple[float, float]], done: set) -> list[dict[str, Any]]:
    rows = []
    for record, (chosen, rejected) in zip(records, pairs):
        if (benchmark, seed, method, record.key) in done:
            continue
        done.add((benchmark, seed, method, record.key))
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
