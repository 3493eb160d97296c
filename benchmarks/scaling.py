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
    args = parser.parse_args(argv)
    missing = [f"{f / 'summary.json'}" for r in args.runs for f in r.folders if not (f / "summary.json").exists()]
    if missing:
        print("error: no accuracy summary at " + ", ".join(missing), file=sys.stderr)
        return 2
    table = points(args.runs, args.task, args.tag)
    print(markdown(table, args.runs))
    if args.out:
        plot(table, args.task, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
