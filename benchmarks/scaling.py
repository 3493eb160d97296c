"""Accuracy against backbone size: one figure and one table from the accuracy benchmark's ``summary.json`` files.

Each ``--run LABEL=BILLIONS=FOLDER[,FOLDER...]`` is one backbone's runs of ``benchmarks/accuracy.py`` (their output
folders; a method found in several takes the first folder's result); the
figure plots, per method, the pooled bias + control accuracy of ``--task`` (default the strict set's
"3 biases"; "nat: 3 biases" for the natural-response set) against the backbone's parameter count, with the 95%
interval over the evaluated pairs, and the table gives the same numbers with the bias / control splits and the
seeds each point has. A method missing from a run is left out of that run's point, never filled in.

    python benchmarks/scaling.py --task "3 biases" --out docs/img/scaling-strict.png \\
        --run SmolLM2-135M=0.135=results/accuracy-test \\
        --run Qwen2.5-Coder-0.5B=0.494=results/scale/qwen0.5b-test-strict

``--versus LABEL:METHOD LABEL:METHOD`` compares two (backbone, method) cells on the same evaluated pairs (each
pair's correctness averaged over the seeds that method has, the task's biases concatenated) with the paired test
of the accuracy benchmark: e.g. ``--versus Qwen2.5-Coder-0.5B:default Qwen2.5-Coder-1.5B:zeroshot`` asks whether
a steered 0.5B judge beats the unsteered 1.5B one.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

METHOD_NAMES = {"default": "Activation RM", "zeroshot": "zero-shot P(Yes)", "icl": "in-context P(Yes)",
                "sav": "SAV head voting"}


@dataclass(frozen=True)
class Run:
    label: str
    billions: float
    folders: tuple[Path, ...]

    @classmethod
    def parse(cls, spec: str) -> Run:
        try:
            label, billions, folders = spec.split("=", 2)
            return cls(label, float(billions), tuple(Path(f) for f in folders.split(",") if f))
        except ValueError:
            raise argparse.ArgumentTypeError(f"--run wants LABEL=BILLIONS=FOLDER[,FOLDER...], got {spec!r}") from None


def points(runs: Sequence[Run], task: str, tag: str = "test", n_fit: int = 10) -> dict[str, list[dict]]:
    """method -> one point per run that has it: size, mean, interval, splits, seeds."""
    out: dict[str, list[dict]] = {}
    for run in runs:
        cell: dict[str, dict] = {}
        for folder in run.folders:
            summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["summary"]
            for method, stats in summary.get(f"{tag}|n{n_fit}|noise0.0|{task}", {}).items():
                cell.setdefault(method, stats)
        for method, stats in cell.items():
            splits = stats["splits"]
            bias = sum(v for k, v in splits.items() if k.endswith("bias")) / max(1, sum(k.endswith("bias") for k in splits))
            control = (sum(v for k, v in splits.items() if k.endswith("control"))
                       / max(1, sum(k.endswith("control") for k in splits)))
            out.setdefault(method, []).append({"run": run.label, "billions": run.billions, "mean": stats["mean"],
                                               "ci": stats["ci"], "bias": bias, "control": control,
                                               "seeds": stats["seeds"]})
    return out


BIASES = ("length", "format", "positivity")


def component_tasks(task: str) -> list[str]:
    """The tasks a pooled task averages ("nat: 3 biases" -> nat-length, nat-format, nat-positivity)."""
    if task.endswith("3 biases"):
        prefix = task[:-len("3 biases")].rstrip(": ")
        return [f"{prefix}-{b}" if prefix else b for b in BIASES]
    return [task]


def method_rows(run: Run, method: str, task: str, tag: str = "test", n_fit: int = 10) -> list[dict]:
    """The rows of ``method`` for every part of ``task`` from the first of the run's folders that has them all."""
    for folder in run.folders:
        if not (folder / "rows.jsonl").exists():
            continue
        rows = [json.loads(line) for line in (folder / "rows.jsonl").read_text(encoding="utf-8").splitlines()
                if line.strip()]
        rows = [r for r in rows if r["method"] == method and r["tag"] == tag and r["n_fit"] == n_fit
                and r["noise"] == 0.0 and r["task"] in component_tasks(task)]
        if {r["task"] for r in rows} == set(component_tasks(task)):
            return rows
    raise SystemExit(f"{run.label}: no rows of {method} for every part of {task!r} in {', '.join(map(str, run.folders))}")


def method_seeds(rows: Sequence[dict], task: str) -> set[int]:
    """The seeds at which ``rows`` (one method's, :func:`method_rows`) have every part of ``task``."""
    return set.intersection(*({r["seed"] for r in rows if r["task"] == name} for name in component_tasks(task)))


def pair_correctness(rows: Sequence[dict], task: str, seeds: set[int] | None = None,
                     name: str = "") -> tuple[list[float], int]:
    """Per evaluated pair of ``task`` (its biases concatenated), the correctness in ``rows`` (one method's,
    :func:`method_rows`) averaged over their seeds (only ``seeds`` if given), and the number of seeds."""
    rows = [r for r in rows if seeds is None or r["seed"] in seeds]
    per_task = {}
    for part in component_tasks(task):
        mine = [r["correct"] for r in rows if r["task"] == part]
        if not mine:
            raise SystemExit(f"{name}: no rows for {part!r} at seeds {sorted(seeds or [])}")
        per_task[part] = ([sum(c) / len(mine) for c in zip(*mine)], len(mine))
    values = [v for part in component_tasks(task) for v in per_task[part][0]]
    return values, min(n for _, n in per_task.values())


def versus(runs: Sequence[Run], a: str, b: str, task: str, tag: str = "test", same_seeds: bool = False) -> str:
    """One line: the paired difference of two LABEL:METHOD cells on the same pairs; with ``same_seeds`` both
    averaged over only the seeds both have (a variant against the defaults while the variant's seeds are still
    running)."""
    from activation_rm.eval.stats import paired_test

    by_label = {r.label: r for r in runs}
    cell_rows = []
    for spec in (a, b):
        label, _, method = spec.rpartition(":")
        if label not in by_label:
            raise SystemExit(f"--versus {spec}: no --run labelled {label!r}")
        cell_rows.append((spec, method_rows(by_label[label], method, task, tag)))  # each rows.jsonl read once
    seeds = None
    if same_seeds:
        seeds = set.intersection(*(method_seeds(rows, task) for _, rows in cell_rows))
        if not seeds:
            raise SystemExit(f"--versus {a} {b}: no seed in common on {task!r}")
    cells = [(spec, *pair_correctness(rows, task, seeds, spec)) for spec, rows in cell_rows]
    (name_a, values_a, seeds_a), (name_b, values_b, seeds_b) = cells
    if len(values_a) != len(values_b):
        raise SystemExit(f"--versus: {name_a} has {len(values_a)} pairs, {name_b} {len(values_b)}")
    test = paired_test(values_a, values_b)
    mean_a, mean_b = 100 * sum(values_a) / len(values_a), 100 * sum(values_b) / len(values_b)
    which = f"seed{'s' * (len(seeds) > 1)} {', '.join(map(str, sorted(seeds)))} of each: " if seeds else ""
    return (f"{which}{name_a} ({seeds_a} seed{'s' * (seeds_a > 1)}) {mean_a:.1f}% vs {name_b} ({seeds_b} seed"
            f"{'s' * (seeds_b > 1)}) {mean_b:.1f}% on the same {len(values_a)} pairs of {task}: "
            f"{100 * test.diff:+.1f} points, 95% CI [{100 * test.low:+.1f}, {100 * test.high:+.1f}], "
            f"sign test p = {test.p_value:.2g}")


def markdown(table: dict[str, list[dict]], runs: Sequence[Run]) -> str:
    header = "| method | " + " | ".join(f"{r.label} ({r.billions:g}B)" for r in runs) + " |"
    lines = [header, "|---" * (len(runs) + 1) + "|"]
    for method, pts in sorted(table.items(), key=lambda kv: kv[0] != "default"):
        by_run = {p["run"]: p for p in pts}
        cells = []
        for run in runs:
            p = by_run.get(run.label)
            cells.append("" if p is None else f"**{p['mean']:.1f}** [{p['ci'][0]:.0f}, {p['ci'][1]:.0f}] "
                         f"({p['bias']:.0f} / {p['control']:.0f}; {len(p['seeds'])} seed{'s' * (len(p['seeds']) > 1)})")
        lines.append(f"| {METHOD_NAMES.get(method, method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(table: dict[str, list[dict]], task: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for method, pts in sorted(table.items()):
        pts = sorted(pts, key=lambda p: p["billions"])
        xs = [p["billions"] for p in pts]
        ys = [p["mean"] for p in pts]
        errors = [[p["mean"] - p["ci"][0] for p in pts], [p["ci"][1] - p["mean"] for p in pts]]
        axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=METHOD_NAMES.get(method, method))
    axes.axhline(50, color="grey", linewidth=0.8, linestyle=":")
    axes.set_xscale("log")
    axes.set_xlabel("backbone parameters (billions)")
    axes.set_ylabel("pair accuracy, bias + control (%)")
    axes.set_title(f"{task}: test half, mean over seeds, 95% CI")
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", dest="runs", action="append", type=Run.parse, required=True)
    parser.add_argument("--task", default="3 biases")
    parser.add_argument("--tag", default="test")
    parser.add_argument("--out", type=Path, help="PNG to write")
    parser.add_argument("--versus", nargs=2, metavar=("LABEL:METHOD", "LABEL:METHOD"),
                        help="paired test of two (backbone, method) cells on the same pairs")
    parser.add_argument("--same-seeds", action="store_true",
                        help="--versus over only the seeds both cells have")
    args = parser.parse_args(argv)
    missing = [f"{f / 'summary.json'}" for r in args.runs for f in r.folders if not (f / "summary.json").exists()]
    if missing:
        print("error: no accuracy summary at " + ", ".join(missing), file=sys.stderr)
        return 2
    table = points(args.runs, args.task, args.tag)
    print(markdown(table, args.runs))
    if args.out:
        plot(table, args.task, args.out)
    if args.versus:
        print(versus(args.runs, *args.versus, args.task, args.tag, same_seeds=args.same_seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
