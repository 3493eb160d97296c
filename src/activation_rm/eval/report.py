"""Summaries of a results JSONL: a summary JSON, Markdown tables and a PNG chart, all with 95% intervals.

Scores use the per-item correctness averaged over the seeds present; intervals are item bootstraps; paired tests
compare each Activation RM with each other method on the items both have (see :mod:`.stats`).
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from activation_rm.eval.settings import ABLATIONS, ARM_METHODS, BASELINES
from activation_rm.eval.stats import mean_ci, paired_test, per_item_means, rewardbench_ci

LABELS = {
    "zeroshot_prob": "Zero-shot token probability", "icl_prob": "Few-shot in-context judge (P(Yes))",
    "gen_zeroshot": "Generative judge, zero-shot", "gen_fewshot": "Generative judge, few-shot",
    "vote_fewshot": "Voting (majority of sampled few-shot verdicts)", "sav": "SAV head voting",
    "arm_pointwise": "**Activation RM, pointwise**", "arm_pairwise": "**Activation RM, pairwise**",
    "arm_all_heads": "ARM means, all heads", "arm_random_heads": "ARM means, random heads (same count)",
    "arm_sav_heads": "ARM means, SAV-ranked heads (same count)",
}
ORDER = [*BASELINES, *ARM_METHODS, *ABLATIONS]


def format_ci(cell: Sequence[float] | None) -> str:
    """``[score, low, high]`` as "61.2 [53, 69]" (percent); "–" when missing."""
    if not cell or any(np.isnan(v) for v in cell):
        return "–"
    score, low, high = cell
    return f"{100 * score:.1f} [{100 * low:.0f}, {100 * high:.0f}]"


def length_preference(rows: Sequence[dict[str, Any]], lengths: dict[str, tuple[int, int]]) -> float | None:
    """Share of decided verdicts (no tie, parsed) that went to the longer response: a length-bias diagnostic."""
    picks = [(r["correct"] == 1.0) == (lengths[r["key"]][0] > lengths[r["key"]][1]) for r in rows
             if r["key"] in lengths and r["correct"] in (0.0, 1.0) and r.get("parsed", True)
             and lengths[r["key"]][0] != lengths[r["key"]][1]]
    return round(float(np.mean(picks)), 4) if picks else None


def rows_by_benchmark(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by_bench: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_bench[row["benchmark"]].append(row)
    return by_bench


def per_seed_accuracy(method_rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Mean correctness of one method's rows per seed."""
    per_seed: dict[int, list[float]] = defaultdict(list)
    for r in method_rows:
        per_seed[r["seed"]].append(float(r["correct"]))
    return {str(s): round(float(np.mean(v)), 4) for s, v in sorted(per_seed.items())}


def item_score(values: Sequence[float], subsets: Sequence[str], rewardbench: bool, seed: int = 0) -> dict[str, Any]:
    """``{"score": [score, low, high]}`` over per-item correctness; RewardBench adds its official ``sections``
    (the score is then the section-weighted overall)."""
    if rewardbench:
        sections = {k: [round(x, 4) for x in v] for k, v in rewardbench_ci(values, subsets, seed=seed).items()}
        return {"sections": sections, "score": sections.get("Overall")}
    return {"score": [round(x, 4) for x in mean_ci(values, seed=seed)]}


def summarize(rows: Sequence[dict[str, Any]], scoring: dict[str, str], pairs_with: dict[str, dict[str, str]],
              seed: int = 0, lengths: dict[str, dict[str, tuple[int, int]]] | None = None) -> dict[str, Any]:
    """Summary per benchmark: every method's score with interval (sections / subsets too), per-seed scores,
    parse failures, and paired tests of each Activation RM against every other method."""
    summary: dict[str, Any] = {}
    for bench, bench_rows in rows_by_benchmark(rows).items():
        means = per_item_means(bench_rows)
        subset_of = {r["key"]: r["subset"] for r in bench_rows}
        methods = sorted(means, key=lambda m: ORDER.index(m) if m in ORDER else len(ORDER))
        entry: dict[str, Any] = {"methods": {}, "paired": {}}
        for method in methods:
            keys = sorted(means[method])
            values = [means[method][k] for k in keys]
            subsets = [subset_of[k] for k in keys]
            method_rows = [r for r in bench_rows if r["method"] == method]
            info: dict[str, Any] = {
                "n_items": len(keys), "n_rows": len(method_rows),
                "parse_failures": sum(1 for r in method_rows if not r.get("parsed", True)),
                "seconds_per_pair": round(float(np.mean([r.get("seconds", 0) for r in method_rows])), 3),
                "per_seed": per_seed_accuracy(method_rows),
            }
            if lengths and bench in lengths:
                info["prefers_longer"] = length_preference(method_rows, lengths[bench])
            info.update(item_score(values, subsets, scoring.get(bench) == "rewardbench", seed))
            grouped: dict[str, list[float]] = defaultdict(list)
            for value, subset in zip(values, subsets):
                grouped[subset].append(value)
            info["subsets"] = {s: [round(x, 4) for x in mean_ci(v, seed=seed)] + [len(v)]
                               for s, v in sorted(grouped.items())}
            entry["methods"][method] = info
        for arm in [m for m in ARM_METHODS if m in means]:
            entry["paired"][arm] = {}
            for other in methods:
                if other == arm:
                    continue
                common = sorted(set(means[arm]) & set(means[other]))
                result = paired_test([means[arm][k] for k in common], [means[other][k] for k in common], seed=seed)
                entry["paired"][arm][other] = result.to_dict()
        ablated = {(r["seed"], r["key"]) for r in bench_rows if r["method"] in ABLATIONS}
        if ablated:  # like for like: every head-selection variant on the same seeds and items as the ablations
            entry["ablation"] = {"n_items": len({k for _, k in ablated}),
                                 "seeds": sorted({str(seed_) for seed_, _ in ablated}), "methods": {}}
            for method in ("arm_pointwise", *ABLATIONS, "sav", "zeroshot_prob"):
                values = [float(r["correct"]) for r in bench_rows
                          if r["method"] == method and (r["seed"], r["key"]) in ablated]
                if values:
                    entry["ablation"]["methods"][method] = [round(x, 4) for x in mean_ci(values, seed=seed)]
        if pairs_with.get(bench):
            entry["bias_vs_control"] = pairs_with[bench]
        if lengths and bench in lengths:
            keys = set(subset_of)
            entry["chosen_is_longer"] = round(float(np.mean([lengths[bench][k][0] > lengths[bench][k][1]
                                                             for k in keys if k in lengths[bench]])), 4)
        summary[bench] = entry
    return summary


def markdown(summary: dict[str, Any], title: str = "Results") -> str:
    """Main table (every method, every benchmark column, with intervals), PreferenceHack bias vs control, paired
    tests, parse failures and the ablation table."""
    lines = [f"### {title}", "",
             "Accuracy in % (ties count 0.5) with 95% bootstrap intervals over items; per-item correctness is "
             "averaged over seeds first.", ""]
    columns: list[tuple[str, str, str]] = []  # (benchmark, kind, key)
    for bench, entry in summary.items():
        any_method = next(iter(entry["methods"].values()))
        if "sections" in any_method:
            for section in any_method["sections"]:
                columns.append((bench, "section", section))
        elif entry.get("bias_vs_control"):
            for bias, control in entry["bias_vs_control"].items():
                columns.append((bench, "subset", bias))
                columns.append((bench, "subset", control))
            columns.append((bench, "score", "all"))
        else:
            columns.append((bench, "score", "all"))
    methods = [m for m in ORDER if any(m in e["methods"] for e in summary.values())]
    header = ["Method"] + [f"{b} {k}" if k != "all" else b for b, _, k in columns]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in [m for m in methods if m not in ABLATIONS]:
        cells = [LABELS.get(method, method)]
        for bench, kind, key in columns:
            info = summary[bench]["methods"].get(method)
            if info is None:
                cells.append("–")
            elif kind == "section":
                cells.append(format_ci(info["sections"].get(key)))
            elif kind == "subset":
                cells.append(format_ci(info["subsets"].get(key, [])[:3]))
            else:
                cells.append(format_ci(info["score"]))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    counts = ", ".join(f"{b}: {max(i['n_items'] for i in e['methods'].values())} pairs, seeds "
                       f"{sorted({s for i in e['methods'].values() for s in i['per_seed']})}"
                       for b, e in summary.items())
    lines += [f"Items evaluated: {counts}.", ""]
    lines += ["#### Paired tests: Activation RM minus each method (same items)", "",
              "| Benchmark | Activation RM | vs | Δ accuracy [95% CI] | items ARM better / worse | sign-test p |",
              "|---|---|---|---|---|---|"]
    for bench, entry in summary.items():
        for arm, tests in entry["paired"].items():
            for other, t in tests.items():
                if other in ARM_METHODS or other in ABLATIONS:
                    continue
                lines.append(f"| {bench} | {arm} | {other} | {100 * t['diff']:+.1f} [{100 * t['low']:+.0f}, "
                             f"{100 * t['high']:+.0f}] | {t['wins']} / {t['losses']} | {t['p_value']:.3g} |")
    lines.append("")
    failures = [(b, m, i["parse_failures"], i["n_rows"]) for b, e in summary.items()
                for m, i in e["methods"].items() if m.startswith(("gen_", "vote_"))]
    if failures:
        lines += ["Generative parse failures (counted wrong, never defaulted): " +
                  "; ".join(f"{b} {m}: {f}/{n}" for b, m, f, n in failures) + ".", ""]
    if any("chosen_is_longer" in e for e in summary.values()):
        benches = [b for b, e in summary.items() if "chosen_is_longer" in e]
        lines += ["#### Length diagnostic: share of decided verdicts that went to the longer response", "",
                  "| Method | " + " | ".join(benches) + " |", "|---|" + "---|" * len(benches),
                  "| *(share of pairs where the better response is the longer)* | " +
                  " | ".join(f"{100 * summary[b]['chosen_is_longer']:.0f}%" for b in benches) + " |"]
        for method in [m for m in methods if m not in ABLATIONS]:
            cells = []
            for b in benches:
                value = summary[b]["methods"].get(method, {}).get("prefers_longer")
                cells.append("–" if value is None else f"{100 * value:.0f}%")
            lines.append(f"| {LABELS.get(method, method).strip('*')} | " + " | ".join(cells) + " |")
        lines.append("")
    ablated = {b: e["ablation"] for b, e in summary.items() if e.get("ablation")}
    if ablated:
        lines += ["#### Ablation: head selection with the same mean activations (same seeds and items)", "",
                  "| Head selection | " + " | ".join(f"{b} (seed {', '.join(a['seeds'])}, {a['n_items']} pairs)"
                                                   for b, a in ablated.items()) + " |",
                  "|---|" + "---|" * len(ablated)]
        for method in ("arm_pointwise", *ABLATIONS, "sav", "zeroshot_prob"):
            cells = [format_ci(a["methods"].get(method)) for a in ablated.values()]
            lines.append(f"| {LABELS.get(method, method).strip('*')} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(summary: dict[str, Any], path: str | os.PathLike) -> Path:
    """One panel per benchmark: every method's score with its 95% interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = list(summary)
    fig, axes = plt.subplots(1, len(benches), figsize=(4.5 * len(benches), 4.5), sharey=True, squeeze=False)
    methods = [m for m in ORDER if any(m in e["methods"] for e in summary.values())]
    for ax, bench in zip(axes[0], benches):
        for y, method in enumerate(methods):
            info = summary[bench]["methods"].get(method)
            if not info or not info["score"]:
                continue
            score, low, high = info["score"]
            color = "tab:red" if method in ARM_METHODS else ("tab:gray" if method in ABLATIONS else "tab:blue")
            ax.errorbar(100 * score, y, xerr=[[100 * (score - low)], [100 * (high - score)]], fmt="o", color=color,
                        capsize=3)
        ax.axvline(50, color="black", lw=0.5, ls="--")
        ax.set_title(bench)
        ax.set_xlabel("accuracy % (95% CI)")
        ax.set_xlim(0, 100)
    axes[0][0].set_yticks(range(len(methods)))
    axes[0][0].set_yticklabels([LABELS.get(m, m).strip("*") for m in methods], fontsize=8)
    axes[0][0].invert_yaxis()
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_reports(out_dir: str | os.PathLike, scoring: dict[str, str], pairs_with: dict[str, dict[str, str]],
                  title: str = "Results", extra: dict[str, Any] | None = None,
                  lengths: dict[str, dict[str, tuple[int, int]]] | None = None) -> dict[str, Path]:
    """summary.json, results.md and results.png from ``out_dir/items.jsonl``."""
    from activation_rm.eval.runner import read_all_rows

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = summarize(read_all_rows(out), scoring, pairs_with, lengths=lengths)
    payload = {"benchmarks": summary, **(extra or {})}
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    os.replace(tmp, out / "summary.json")
    (out / "results.md").write_text(markdown(summary, title), encoding="utf-8")
    paths = {"summary": out / "summary.json", "markdown": out / "results.md"}
    if summary:
        paths["chart"] = chart(summary, out / "results.png")
    return paths
