"""Best-of-N with an Activation RM, measured by a check the judge never sees.

For each held-out prompt of a verifiable task set (``benchmarks/data/alignment``) the policy samples ``--n``
completions, seeded exactly as ``activation-rm best-of-n`` seeds them (same seed and line: same samples, so the ARM
pick here is the command's pick). Every sample is scored by the Activation RM and by the zero-shot P(Yes) judge (the
same query with no heads replaced; both in one fused pass, ``activation_rm.scoring.engine.score_criteria``) and checked by
``checks.check``. Per prompt the verifiable metric (0/1) of:

* **ARM pick**: the sample the ARM scores highest;
* **zero-shot pick**: the sample the unsteered judge scores highest;
* **random pick**: a uniformly random sample, as its expectation (the mean metric of the N samples), so it carries
  no extra sampling noise;
* **oracle**: the best any sample achieves (1 if any sample passes).

Intervals: percentile bootstrap over prompts for each mean, and paired bootstrap intervals with exact sign tests
for ARM minus random, ARM minus zero-shot and oracle minus ARM (``activation_rm.eval.stats``).

    python benchmarks/best_of_n.py --criterion short_correct --artifact results/alignment/arms/short_correct \
        --out results/best-of-n/short_correct

Per-prompt rows go to ``OUT/samples.jsonl`` as they finish (a rerun resumes); ``OUT/summary.json``,
``OUT/summary.md`` and ``OUT/best_of_n.png`` are rewritten from all rows at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "alignment"
sys.path.insert(0, str(DATA))
from checks import check  # noqa: E402

from activation_rm.apps.best_of_n import Policy, SamplingConfig, pick, prompt_line, prompt_seed  # noqa: E402
from activation_rm.apps.cli import add_sampling_arguments  # noqa: E402
from activation_rm.eval.stats import mean_ci, paired_test  # noqa: E402
from activation_rm.scoring.streaming import check_input, run_jsonl_job  # noqa: E402

METHODS = ("arm", "zero_shot", "random", "oracle")
LABELS = {"arm": "ARM pick", "zero_shot": "zero-shot P(Yes) pick", "random": "random pick (expected)",
          "oracle": "oracle (best of N)"}
PAIRS = (("arm", "random"), ("arm", "zero_shot"), ("oracle", "arm"))


def held_out_path(criterion: str) -> Path:
    return DATA / f"{criterion}_heldout.jsonl"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def sample_and_judge(rm: Any, policy: Policy, config: SamplingConfig, chunk: Sequence[tuple[int, Any]],
                     records: dict[int, dict]) -> list[dict[str, Any]]:
    """One result row per prompt: its samples, both judges' scores and the check of every sample."""
    from activation_rm.scoring.engine import score_criteria

    started = time.perf_counter()
    samples = [policy.sample(prompt, config, prompt_seed(config.seed, number)) for number, prompt in chunk]
    sampled = time.perf_counter()
    flat_prompts = [prompt for (_, prompt), group in zip(chunk, samples) for _ in group]
    scores = score_criteria({"arm": rm, "zero_shot": rm.without_steering()}, flat_prompts,
                            [s for group in samples for s in group])
    seconds = (sampled - started, time.perf_counter() - sampled)
    rows = []
    for i, ((number, _), group) in enumerate(zip(chunk, samples)):
        span = slice(i * config.n, (i + 1) * config.n)
        rows.append({"samples": group, "arm": scores["arm"][span], "zero_shot": scores["zero_shot"][span],
                     "checks": [check(records[number], s) for s in group],
                     "seconds": {"sample": round(seconds[0] / len(chunk), 2),
                                 "judge": round(seconds[1] / len(chunk), 2)}})
    return rows


def per_prompt(row: dict[str, Any]) -> dict[str, float]:
    """The metric (and word count) of each method's pick for one prompt."""
    metric = [c["metric"] for c in row["checks"]]
    words = [c["words"] for c in row["checks"]]
    arm, zero = pick(row["arm"]), pick(row["zero_shot"])
    best = min((i for i, m in enumerate(metric) if m == max(metric)), key=lambda i: words[i])
    out = {"arm": metric[arm], "zero_shot": metric[zero], "random": float(np.mean(metric)), "oracle": max(metric),
           "arm_words": words[arm], "zero_shot_words": words[zero], "random_words": float(np.mean(words)),
           "oracle_words": words[best]}
    if "correct" in row["checks"][0]:  # short_correct: the correctness part alone, so a gain says where it is from
        correct = [c["correct"] for c in row["checks"]]
        out.update(arm_correct=correct[arm], zero_shot_correct=correct[zero], random_correct=float(np.mean(correct)),
                   oracle_correct=correct[best])
    return out


def summarize(rows: Sequence[dict[str, Any]], criterion: str, n: int, seed: int = 0) -> dict[str, Any]:
    values = [per_prompt(r) for r in rows]
    methods = {m: {"mean": round(mean, 4), "low": round(low, 4), "high": round(high, 4),
                   "mean_words": round(float(np.mean([v[f"{m}_words"] for v in values])), 2)}
               for m in METHODS for mean, low, high in [mean_ci([v[m] for v in values], seed=seed)]}
    paired = {f"{a}-{b}": paired_test([v[a] for v in values], [v[b] for v in values], seed=seed).to_dict()
              for a, b in PAIRS}
    if values and "arm_correct" in values[0]:
        for m in METHODS:
            methods[m]["correct"] = round(float(np.mean([v[f"{m}_correct"] for v in values])), 4)
        paired.update({f"{a}-{b}/correct": paired_test([v[f"{a}_correct"] for v in values],
                                                       [v[f"{b}_correct"] for v in values], seed=seed).to_dict()
                       for a, b in PAIRS[:2]})
    parts = sorted({k for r in rows for c in r["checks"] for k, x in c.items()
                    if k not in ("metric", "words") and isinstance(x, int)})
    share = {k: round(float(np.mean([c[k] for r in rows for c in r["checks"]])), 4) for k in parts}
    return {"criterion": criterion, "prompts": len(rows), "n": n, "methods": methods, "paired": paired,
            "sample_parts": share,
            "seconds": {k: round(sum(r["seconds"][k] for r in rows), 1) for k in ("sample", "judge")}}


def markdown(summary: dict[str, Any]) -> str:
    lines = [f"best-of-{summary['n']} on {summary['prompts']} held-out `{summary['criterion']}` prompts",
             "", "| pick | verifiable metric | 95% CI | mean words | correct (ignoring length) |",
             "| --- | --- | --- | --- | --- |"]
    for m in METHODS:
        r = summary["methods"][m]
        correct = f"{r['correct']:.3f}" if "correct" in r else "-"
        lines.append(f"| {LABELS[m]} | {r['mean']:.3f} | [{r['low']:.3f}, {r['high']:.3f}] | {r['mean_words']:.1f} "
                     f"| {correct} |")
    lines += ["", "| paired difference | mean | 95% paired bootstrap CI | better / worse prompts | sign test p |",
              "| --- | --- | --- | --- | --- |"]
    for key, r in summary["paired"].items():
        key, _, part = key.partition("/")
        a, b = key.split("-")
        part = f", {part} only (ignoring length)" if part else ""
        lines.append(f"| {LABELS[a]} - {LABELS[b]}{part} | {r['diff']:+.3f} | [{r['low']:+.3f}, {r['high']:+.3f}] | "
                     f"{r['wins']} / {r['losses']} | {r['p_value']:.3g} |")
    return "\n".join(lines) + "\n"


def plot(summaries: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(summaries), figsize=(4.2 * len(summaries), 3.4), squeeze=False)
    for ax, summary in zip(axes[0], summaries):
        rows = [summary["methods"][m] for m in METHODS]
        means = [r["mean"] for r in rows]
        errors = [[r["mean"] - r["low"] for r in rows], [r["high"] - r["mean"] for r in rows]]
        ax.bar(range(len(METHODS)), means, yerr=errors, capsize=4, color=["C0", "C1", "C7", "C2"])
        ax.set_xticks(range(len(METHODS)), ["ARM", "zero-shot", "random", "oracle"])
        ax.set_ylim(0, 1)
        ax.set_ylabel("verifiable metric")
        ax.set_title(f"{summary['criterion']}: best of {summary['n']}, {summary['prompts']} prompts", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> dict[str, Any]:
    prompts = Path(args.prompts) if args.prompts else held_out_path(args.criterion)
    check_input(prompts, prompt_line)  # bad lines fail before any model loads
    records = {}
    for number, line in enumerate(prompts.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            records[number] = json.loads(line)
    if args.limit:
        limited = Path(args.out) / "prompts.jsonl"
        write_atomic(limited, "".join(json.dumps(records[k]) + "\n" for k in sorted(records)[:args.limit]))
        records = {i: records[k] for i, k in enumerate(sorted(records)[:args.limit], 1)}
        prompts = limited
    from activation_rm.model.backbone import load_backbone
    from activation_rm.scoring.reward_model import ActivationRM

    started = time.perf_counter()
    backbone = load_backbone(args.model, device=args.device) if args.model else None
    rm = ActivationRM.load(args.artifact, backbone=backbone, device=args.device)
    policy = Policy.from_backbone(rm.backbone) if not args.policy else Policy.load(args.policy, device=args.device)
    config = SamplingConfig.from_args(args)
    out = Path(args.out)
    rows_path = out / "samples.jsonl"
    run_jsonl_job(prompts, rows_path, prompt_line, lambda chunk: sample_and_judge(rm, policy, config, chunk, records),
                  chunk_size=args.chunk_size, on_chunk=lambda k: print(f"  {k} prompt(s) done", file=sys.stderr)
                  if args.verbose else None)
    rows = [json.loads(line) for line in rows_path.read_text(encoding="utf-8").splitlines()]
    summary = summarize(rows, args.criterion, config.n)
    summary["settings"] = {**asdict(config), "artifact": str(args.artifact),
                           "policy": args.policy or "artifact backbone"}
    summary["this_run_seconds"] = round(time.perf_counter() - started, 1)
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out / "summary.md", markdown(summary))
    plot([summary], out / "best_of_n.png")
    return summary


def resummarize(args: argparse.Namespace) -> dict[str, Any]:
    """Rebuild the summary, table and plot from ``OUT/samples.jsonl`` (no model loads); the earlier summary's
    settings and timing are kept."""
    out = Path(args.out)
    earlier = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    summary = summarize(rows, args.criterion, earlier["n"])
    summary["settings"], summary["this_run_seconds"] = earlier["settings"], earlier["this_run_seconds"]
    write_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    write_atomic(out / "summary.md", markdown(summary))
    plot([summary], out / "best_of_n.png")
    return summary


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--criterion", required=True, choices=("short_correct", "no_markdown"))
    parser.add_argument("--artifact", help="pointwise ARM artifact for this criterion (needed unless --resummarize)")
    parser.add_argument("--out", required=True, help="output directory (samples.jsonl resumes)")
    parser.add_argument("--prompts", help="held-out prompts JSONL (default: the criterion's held-out file)")
    parser.add_argument("--limit", type=int, help="only the first N prompts")
    parser.add_argument("--model", help="judge backbone (default: the artifact's)")
    parser.add_argument("--policy", help="policy model (default: the judge's backbone)")
    parser.add_argument("--device", default="auto")
    add_sampling_arguments(parser)
    parser.add_argument("--chunk-size", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--resummarize", action="store_true",
                        help="only rebuild the summary and plot from OUT/samples.jsonl (no model loads)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if not args.resummarize and not args.artifact:
        raise SystemExit("error: --artifact is required (unless --resummarize)")
    summary = resummarize(args) if args.resummarize else run(args)
    print(markdown(summary))
    print(f"(this run: {summary['this_run_seconds']} s; all rows: sampling {summary['seconds']['sample']} s, "
          f"judging {summary['seconds']['judge']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
