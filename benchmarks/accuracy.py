"""The measurement that decides the library's defaults: bias + control preference pairs, several seeds.

Each task is one surface bias (length, format, positivity) of one pair set: this project's hand-written facts and
arithmetic (``benchmarks/data/bias_pairs.jsonl``, a dev half to tune on and a test half to report), the
PreferenceHack reconstruction built from RewardBench (``--preferencehack``), or a bundled criterion. In a *bias*
pair the wrong response carries the cue; in its *control* pair the correct one does, so a judge that follows the
cue wins one split and loses the other, and only a judge that checks correctness wins both.

Per seed the few-shot set is ``--n-fit`` bias pairs plus ``--n-fit`` control pairs drawn from the task's pool;
every seed and method is scored on the same fixed evaluation pairs. Methods: zero-shot P(Yes) (the same query with
no steering), the few-shot in-context P(Yes) judge, sparse-attention-vector (SAV) head voting, and Activation RM
variants (``--variants``; ``default`` is ``ActivationRM.fit`` with the library's defaults). Variants that share
their mean activations reuse them, and every evaluation query's prefix is encoded once and shared by all methods
that read the same query (only the last token is steered, so this is exact; checked against ``rm.compare``).

    python benchmarks/accuracy.py --half dev --variants default paper ...   # tune
    python benchmarks/accuracy.py --half test                               # report (defaults only)
    python benchmarks/accuracy.py --half test --curve --noise               # few-shot curve, label-noise curve

This script is the protocol's command line: the task sets, the plan and the summary tables. The run itself is the
library's :class:`activation_rm.eval.protocol.ProtocolRun` (few-shot draws, fits, scoring, baselines); variants are
:class:`activation_rm.eval.variants.Variant` (fit options over the library defaults, checked when parsed);
per-(task, seed, method) rows go to ``OUT/rows.jsonl``, an :class:`activation_rm.eval.rows.RowStore`, as they finish
(a rerun skips what is there); the summary is printed and written to ``OUT/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from activation_rm import load_backbone
from activation_rm.apps.bundled import load_bundled
from activation_rm.eval.methods import pair_examples
from activation_rm.eval.protocol import ICL_PAIRS, ProtocolRun, Task, stale_rows
from activation_rm.eval.records import PairRecord
from activation_rm.eval.rows import RowStore
from activation_rm.eval.stats import mean_ci, paired_test
from activation_rm.eval.variants import Variant, parse_variants
from activation_rm.fit.config import ContextConfig, SelectionConfig
from activation_rm.inputs.data import PairwiseExample
from activation_rm.inputs.progress import hush_library_bars
from activation_rm.judge.templates import JudgeItem, JudgeTemplate, QueryEncoder
from activation_rm.model.backbone import Backbone

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from backbones import BACKBONES, resolve_backbone  # noqa: E402  (a sibling script, not a package)

BIAS_PAIRS = HERE / "data" / "bias_pairs.jsonl"
NATURAL_PAIRS = HERE / "data" / "natural_pairs.jsonl"
BIASES = ("length", "format", "positivity")
CRITERION = "A good response answers the question correctly. Judge correctness only, not length, format or tone."
EVAL_SPLIT_SEED = 1234  # which questions are evaluated and which form the few-shot pool (fixed for every run)


# ------------------------------------------------------------------------------------------------ tasks
def own_tasks(half: str, n_eval: int, path: Path = BIAS_PAIRS, prefix: str = "") -> list[Task]:
    """The hand-written sets: per bias, ``n_eval`` questions of the half evaluated (both their pairs), the rest
    form the few-shot pool. The strict set (``bias_pairs.jsonl``) names its tasks by the bias; the natural-response
    set (``natural_pairs.jsonl``, ``prefix="nat-"``) by ``nat-<bias>``."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tasks = []
    for bias in BIASES:
        mine = [r for r in rows if r["bias"] == bias and r["half"] == half]
        questions = sorted({r["question_id"] for r in mine})
        random.Random(f"{EVAL_SPLIT_SEED}/{bias}/{half}").shuffle(questions)
        held = set(questions[:n_eval])
        task = Task(f"{prefix}{bias}", CRITERION, {"bias": [], "control": []}, [])
        for r in sorted(mine, key=lambda r: r["id"]):
            record = PairRecord(r["id"], f"{bias}-{r['split']}", r["prompt"], r["chosen"], r["rejected"], bias)
            task.split_of[record.key] = r["split"]
            (task.evaluate if r["question_id"] in held else task.pool[r["split"]]).append(record)
        tasks.append(task)
    return tasks


def preferencehack_tasks(path: Path, half: str) -> list[Task]:
    """The PreferenceHack reconstruction: its few-shot role is the pool, its eval pairs are halved by a seeded
    draw per pair (dev / test)."""
    from activation_rm.eval.preferencehack import load_built

    pool, rest = load_built(path)
    tasks = []
    for bias in BIASES:
        task = Task(f"ph-{bias}", CRITERION, {"bias": [], "control": []}, [])
        for record in pool + rest:
            if record.section != bias:
                continue
            split = "control" if record.subset.endswith("-control") else "bias"
            task.split_of[record.key] = split
            if record in pool:
                task.pool[split].append(record)
            elif (random.Random(f"{EVAL_SPLIT_SEED}/{record.key}").random() < 0.5) == (half == "dev"):
                task.evaluate.append(record)
        tasks.append(task)
    return tasks


def bundled_tasks() -> list[Task]:
    """The two bundled criteria (their own few-shot part is the pool; no bias/control split)."""
    tasks = []
    def records(examples: Sequence[PairwiseExample], name: str, role: str) -> list[PairRecord]:
        return [PairRecord(f"{role}{i:03d}", name, e.prompt, e.chosen, e.rejected) for i, e in enumerate(examples)]

    for name in ("short_correct", "honest_not_flattering"):
        bundled = load_bundled(name)
        task = Task(name, bundled.criterion, {"all": records(bundled.fewshot, name, "f")},
                    records(bundled.held_out, name, "h"))
        task.split_of = {r.key: "all" for r in task.evaluate}
        tasks.append(task)
    return tasks


def examples_of(records: Sequence[PairRecord]) -> list[PairwiseExample]:
    """The few-shot pairs as examples (what ``ProtocolRun`` fits on; ``fit_cost.py`` uses it too)."""
    return pair_examples(records)


# ------------------------------------------------------------------------------------------------ variants
#: the paper's whole fit: its selection (SelectionConfig.paper()) and the 0.1 contexts, layout and held-out split
PAPER = {**SelectionConfig.paper().to_dict(), "n_contexts": 32, "n_shots": 4, "demos": "turns", "context_tokens": 2048,
         "balance_classes": False, "layout": "criterion_first", "held_out_fraction": 0.2}

VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("default"),
    # the defaults before 2026-12-06 (60 averaging contexts, one query per draw of demonstrations): the "default"
    # rows in the docs measured before then; the defaults became the `fast` variant's 20 contexts x 4 queries
    Variant("defaults60", {"n_contexts": 60, "queries_per_demo_set": 1}),
    Variant("paper", dict(PAPER)),
    # the independent reimplementation's choices quoted in issue 10 (criterion last in a plain query, inline
    # demonstrations, 60 contexts, 150 x 16 REINFORCE on the two verdict tokens, best of 6 on the training set)
    Variant("reimpl", dict(PAPER, layout="compact", demos="inline", n_contexts=60, steps=150, masks_per_step=16,
                           loss="verdicts", final_rule="loss", final_samples=6, held_out_fraction=0.0)),
]}


def parse_variant(spec: str) -> Variant:
    """A named variant, or ``name:key=value,key=value`` over the defaults (``base=paper`` starts from the paper;
    ``readout=delta`` reads steered minus unsteered log-odds); an unknown option is an error naming it."""
    return parse_variants([spec], VARIANTS)[0]


def resolved(variant: Variant, criterion: str) -> tuple[ContextConfig, SelectionConfig, JudgeTemplate]:
    template, contexts, selection = variant.configs(criterion)
    return contexts, selection, template


# ------------------------------------------------------------------------------------------------ scoring
def style_matched(backbone: Backbone, half: str, path: Path = BIAS_PAIRS) -> dict[str, dict[str, float]]:
    """Zero-shot pair accuracy when both responses carry the same style (plain correct vs plain wrong, cued
    correct vs cued wrong): how much correctness signal the backbone's P(Yes) has once the cue cannot decide. A
    judge that removed the cue's effect and kept everything else would score about this on the bias splits."""
    from activation_rm.forward.batching import last_token_logits

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    encoder = QueryEncoder(backbone.tokenizer, JudgeTemplate(CRITERION))
    out = {}
    for bias in BIASES:
        pairs = {(r["question_id"], r["split"]): r for r in rows if r["bias"] == bias and r["half"] == half}
        questions = sorted({q for q, _ in pairs})
        items = []
        for q in questions:
            b, c = pairs[(q, "bias")], pairs[(q, "control")]
            items += [JudgeItem(b["prompt"], (b["chosen"],)), JudgeItem(b["prompt"], (c["rejected"],)),
                      JudgeItem(b["prompt"], (c["chosen"],)), JudgeItem(b["prompt"], (b["rejected"],))]
        logits = last_token_logits(backbone, [encoder.encode(i).ids for i in items],
                                   read_ids=list(encoder.verdict_ids)).logits
        odds = (logits[:, 0] - logits[:, 1]).view(-1, 4)
        out[bias] = {"plain_vs_plain": round(100 * float((odds[:, 0] > odds[:, 1]).double().mean()), 1),
                     "cued_vs_cued": round(100 * float((odds[:, 2] > odds[:, 3]).double().mean()), 1),
                     "questions": len(questions)}
    return out


# ------------------------------------------------------------------------------------------------ summary
POOLED = "3 biases"
POOLED_TASKS = {POOLED: BIASES, f"ph: {POOLED}": tuple(f"ph-{b}" for b in BIASES),
                f"nat: {POOLED}": tuple(f"nat-{b}" for b in BIASES)}


def pooled(rows: Sequence[dict]) -> list[dict]:
    """Rows of each set's three bias tasks (this project's, PreferenceHack's) concatenated per (tag, n, noise,
    seed, method), so the pooled "mean" is the mean of the six bias and control splits and the paired test runs
    over all their items."""
    out = []
    for name, tasks in POOLED_TASKS.items():
        parts: dict[tuple, dict[str, dict]] = defaultdict(dict)
        for row in rows:
            if row["task"] in tasks:
                parts[(row["tag"], row["n_fit"], row["noise"], row["seed"], row["method"])][row["task"]] = row
        for (tag, _, _, seed, method), by_task in parts.items():
            if len(by_task) == len(tasks):
                ordered = [by_task[t] for t in tasks]
                out.append({**ordered[0], "key": f"{tag}|{name}|{seed}|{method}", "task": name,
                            "correct": [c for r in ordered for c in r["correct"]],
                            "splits": [f"{r['task']}/{s}" for r in ordered for s in r["splits"]]})
    return out


def summarise(rows: Sequence[dict], reference: str = "zeroshot") -> dict[str, Any]:
    """Per (tag, n, noise, task, method): bias / control / mean accuracy (per-item correctness averaged over
    seeds first), per-seed means, and a paired test against ``reference`` and the other baselines."""
    groups: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for row in [*rows, *pooled(rows)]:
        groups[(row["tag"], row["n_fit"], row["noise"], row["task"])][row["method"]].append(row)
    # zero-shot P(Yes) reads no few-shot examples: runs with extra few-shot settings skip it and are tested
    # against the task's one zero-shot result
    zeroshot = {(tag, task): methods["zeroshot"] for (tag, _, _, task), methods in groups.items()
                if "zeroshot" in methods}
    out: dict[str, Any] = {}
    for (tag, n_fit, noise, task), methods in sorted(groups.items()):
        cell: dict[str, Any] = {}
        seeds = None
        averaged: dict[str, list[float]] = {}
        for method, method_rows in methods.items():
            method_rows = sorted(method_rows, key=lambda r: r["seed"])
            seeds_here = [r["seed"] for r in method_rows]
            seeds = seeds_here if seeds is None else seeds
            matrix = torch.tensor([r["correct"] for r in method_rows], dtype=torch.float64)
            per_item = matrix.mean(0).tolist()
            averaged[method] = per_item
            splits = method_rows[0]["splits"]
            by_split = {s: [c for c, sp in zip(per_item, splits) if sp == s] for s in sorted(set(splits))}
            split_acc = {s: 100 * sum(v) / len(v) for s, v in by_split.items()}
            per_seed = [100 * float(torch.tensor([sum(c for c, sp in zip(row, splits) if sp == s) /
                                                  max(1, splits.count(s)) for s in by_split]).mean())
                        for row in matrix.tolist()]
            cell[method] = {"seeds": seeds_here, "splits": split_acc,
                            "mean": sum(split_acc.values()) / len(split_acc), "per_seed_mean": per_seed,
                            "ci": [100 * x for x in mean_ci(per_item)[1:]],
                            "heads": [r.get("heads") for r in method_rows if r.get("heads") is not None],
                            "fit_seconds": [r.get("fit_seconds") for r in method_rows if r.get("fit_seconds")]}
        if "zeroshot" not in averaged and (tag, task) in zeroshot:
            averaged["zeroshot"] = torch.tensor([r["correct"] for r in zeroshot[(tag, task)]],
                                                dtype=torch.float64).mean(0).tolist()
        for method in cell:
            tests = {}
            for other in ("zeroshot", "icl", "sav"):
                if other != method and other in averaged and len(averaged[other]) == len(averaged[method]):
                    tests[other] = paired_test(averaged[method], averaged[other]).to_dict()
            cell[method]["vs"] = tests
        out[f"{tag}|n{n_fit}|noise{noise}|{task}"] = cell
    return out


def bias_and_control(task: str, splits: dict[str, float]) -> tuple[float, float]:
    """The bias and control accuracies of a cell (the pooled task averages its three tasks' splits)."""
    if task in POOLED_TASKS:
        n = len(POOLED_TASKS[task])
        return (sum(v for k, v in splits.items() if k.endswith("/bias")) / n,
                sum(v for k, v in splits.items() if k.endswith("/control")) / n)
    return splits.get("bias", splits.get("all", float("nan"))), splits.get("control", float("nan"))


def curve_markdown(rows: Sequence[dict], n_fit: int) -> str:
    """Compact few-shot and label-noise curves, one table per (half, task, curve): each point's mean accuracy
    (bias / control) over the seeds that every point of that curve has for the Activation RM, so the columns
    compare the same draws. Zero-shot P(Yes) reads no few-shot examples, so its one value stands at every point."""
    by_task: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in [*rows, *pooled(rows)]:
        by_task[(row["tag"], row["task"])].append(row)
    lines = []
    for (tag, task), task_rows in sorted(by_task.items()):
        for title, axis, fixed, value in (("few-shot pairs per split", "n_fit", "noise", 0.0),
                                          ("% of the few-shot labels flipped", "noise", "n_fit", n_fit)):
            on_curve = [r for r in task_rows if r[fixed] == value]
            points = sorted({r[axis] for r in on_curve})
            seed_sets = [{r["seed"] for r in on_curve if r[axis] == x and r["method"] == "default"} for x in points]
            seeds = sorted(set.intersection(*seed_sets)) if seed_sets else []
            if len(points) < 2 or not seeds:
                continue
            kept = [r for r in on_curve if r["seed"] in seeds]
            cells = {x: summarise([r for r in kept if r[axis] == x]) for x in points}
            methods = sorted({m for c in cells.values() for cell in c.values() for m in cell})
            header = [f"{100 * x:.0f}%" if axis == "noise" else str(x) for x in points]
            lines += [f"\n#### {tag} half, {task}: {title} (seeds {', '.join(map(str, seeds))})\n",
                      "| method | " + " | ".join(header) + " |", "|---" * (len(points) + 1) + "|"]
            def at(x: float, method: str, cells: dict = cells) -> dict | None:
                return next(iter(cells[x].values()), {}).get(method)

            zeroshot = next((s for x in points if (s := at(x, "zeroshot")) is not None), None)
            for method in methods:
                shown = []
                for x in points:
                    stats = at(x, method) or (zeroshot if method == "zeroshot" else None)
                    if stats is None:
                        shown.append("")
                        continue
                    bias, control = bias_and_control(task, stats["splits"])
                    shown.append(f"{stats['mean']:.1f} ({bias:.0f} / {control:.0f})")
                lines.append(f"| {method} | " + " | ".join(shown) + " |")
    return "\n".join(lines) + "\n"


def markdown(summary: dict[str, Any]) -> str:
    """One table per (tag, n, noise): per task and method, bias / control / mean and the paired differences."""
    blocks: dict[str, list[str]] = defaultdict(list)
    for key, cell in summary.items():
        tag, n_fit, noise, task = key.split("|")
        for method, stats in sorted(cell.items(), key=lambda kv: -kv[1]["mean"]):
            bias, control = bias_and_control(task, stats["splits"])
            def diff(other: str, vs: dict = stats["vs"]) -> str:
                if other not in vs:
                    return ""
                t = vs[other]
                return f"{100 * t['diff']:+.1f} [{100 * t['low']:+.0f}, {100 * t['high']:+.0f}] (p={t['p_value']:.2g})"

            seeds = " / ".join(f"{x:.0f}" for x in stats["per_seed_mean"])
            heads = f"{sum(stats['heads']) / len(stats['heads']):.0f}" if stats["heads"] else ""
            blocks[f"{tag} half, {n_fit[1:]} few-shot pairs per split, {100 * float(noise[5:]):.0f}% of their "
                   "labels flipped"].append(
                f"| {task} | {method} | {bias:.1f} | {control:.1f} | **{stats['mean']:.1f}** | {seeds} | "
                f"{diff('zeroshot')} | {diff('icl')} | {diff('sav')} | {heads} |")
    lines = []
    for title, rows in blocks.items():
        lines += [f"\n#### {title}\n", "| task | method | bias split | control split | mean | per-seed means | "
                  "Δ vs zero-shot [95% CI] (sign p) | Δ vs in-context | Δ vs SAV | heads |",
                  "|---|---|---|---|---|---|---|---|---|---|", *rows]
    return "\n".join(lines) + "\n"


def print_summary(summary: dict[str, Any]) -> str:
    lines = []
    for key, cell in summary.items():
        lines.append(f"\n## {key}")
        lines.append(f"{'method':<34} {'bias':>6} {'control':>8} {'mean':>6}  {'per-seed means':<30} "
                     f"{'vs zero-shot (p)':>18} {'vs icl (p)':>16} heads")
        for method, stats in sorted(cell.items(), key=lambda kv: -kv[1]["mean"]):
            bias, control = bias_and_control(key.split("|")[-1], stats["splits"])
            per_seed = " ".join(f"{x:.0f}" for x in stats["per_seed_mean"])
            vs = stats["vs"]
            zs = f"{100 * vs['zeroshot']['diff']:+.1f} ({vs['zeroshot']['p_value']:.2g})" if "zeroshot" in vs else ""
            icl = f"{100 * vs['icl']['diff']:+.1f} ({vs['icl']['p_value']:.2g})" if "icl" in vs else ""
            heads = (f"{sum(stats['heads']) / len(stats['heads']):.0f}" if stats["heads"] else "")
            lines.append(f"{method:<34} {bias:6.1f} {control:8.1f} {stats['mean']:6.1f}  {per_seed:<30} "
                         f"{zs:>18} {icl:>16} {heads}")
    text = "\n".join(lines)
    print(text)
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=("dev", "test"), default="dev")
    parser.add_argument("--sets", nargs="+", default=["own"], choices=("own", "natural", "preferencehack", "bundled"),
                        help="own: the strict set (bias_pairs.jsonl); natural: independently written responses "
                        "(natural_pairs.jsonl); preferencehack; bundled")
    parser.add_argument("--preferencehack", type=Path, help="built PreferenceHack JSONL (activation-rm "
                        "build-preferencehack); built into OUT from ../shared RewardBench when missing")
    parser.add_argument("--biases", nargs="+", default=list(BIASES), choices=BIASES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--n-fit", type=int, default=10, help="few-shot pairs per split (bias and control)")
    parser.add_argument("--n-eval", type=int, default=50, help="evaluated questions per bias (strict set)")
    parser.add_argument("--n-eval-natural", type=int, default=40,
                        help="evaluated questions per bias (natural-response set)")
    parser.add_argument("--variants", nargs="*", default=["default"],
                        help="named variants or name:key=value,... over the library defaults (none: baselines only)")
    parser.add_argument("--baselines", nargs="*", default=["zeroshot", "icl", "sav"])
    parser.add_argument("--icl-pairs", type=int, default=ICL_PAIRS)
    parser.add_argument("--curve", action="store_true", help="also n-fit = 4, 10, 20, 30 per split (defaults)")
    parser.add_argument("--noise", action="store_true", help="also 10/20/30%% of few-shot labels flipped")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--backbone", "--model", dest="model", default=None,
                        help="HF id, local dir, .gguf path, or an offline name of benchmarks/backbones.py "
                        f"({', '.join(BACKBONES)}); default: the embedded SmolLM2-135M-Instruct")
    parser.add_argument("--out", type=Path, default=Path("results/accuracy"))
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--style-matched", action="store_true",
                        help="only measure zero-shot accuracy on style-matched pairs of the half (the signal ceiling)")
    parser.add_argument("--merge", nargs="*", type=Path, default=[],
                        help="also summarise the rows.jsonl of these output folders (runs split by process)")
    args = parser.parse_args(argv)
    hush_library_bars()  # logs of a background run: no loader bars unless stderr is a terminal
    args.model = resolve_backbone(args.model)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = RowStore(args.out / "rows.jsonl")
    if args.style_matched:
        result = style_matched(load_backbone(args.model), args.half)
        print(json.dumps(result, indent=1))
        (args.out / f"style-matched-{args.half}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
        return 0
    if not args.report_only:
        try:
            variants = parse_variants(args.variants, VARIANTS)
        except ValueError as err:
            parser.error(str(err))
        tasks: list[Task] = []
        if "own" in args.sets:
            tasks += [t for t in own_tasks(args.half, args.n_eval) if t.name in args.biases]
        if "natural" in args.sets:
            tasks += [t for t in own_tasks(args.half, args.n_eval_natural, NATURAL_PAIRS, "nat-")
                      if t.name[4:] in args.biases]
        if "preferencehack" in args.sets:
            path = args.preferencehack or args.out / "preferencehack.jsonl"
            if not path.exists():
                from activation_rm.eval.preferencehack import build_file

                build_file(HERE.parent.parent / "shared" / "data" / "rewardbench" / "filtered.jsonl", path)
            tasks += [t for t in preferencehack_tasks(path, args.half) if t.name[3:] in args.biases]
        if "bundled" in args.sets:
            tasks += bundled_tasks()
        plan = [(n, 0.0) for n in ([4, 10, 20, 30] if args.curve else [args.n_fit])]
        plan += [(args.n_fit, x) for x in ((0.1, 0.2, 0.3) if args.noise else ())]
        units = {task.name: [] for task in tasks}  # task -> (seed, n_fit, noise, variants, baselines)
        for task in tasks:
            for n_fit, noise in plan:
                extra = (n_fit, noise) != (args.n_fit, 0.0)
                for seed in args.seeds:
                    units[task.name].append((seed, n_fit, noise,
                                             [v for v in variants if not extra or v.name == "default"],
                                             args.baselines if not extra or noise == 0 else ["icl", "sav"]))
        stale = stale_rows(rows, args.half, [(task, *unit) for task in tasks for unit in units[task.name]],
                           icl_pairs=args.icl_pairs)
        if stale:  # before the model loads: a resumed folder must not mix fits of other settings under one name
            parser.error(f"{len(stale)} row(s) already in {args.out / 'rows.jsonl'} were fitted with other "
                         "settings than this run would use; write to a new --out (or name the old settings as a "
                         "variant, e.g. defaults60):\n  " + "\n  ".join(stale))
        backbone = load_backbone(args.model)
        run = ProtocolRun(backbone, rows, args.half, icl_pairs=args.icl_pairs,
                          log=lambda message: print(message, flush=True))
        started = time.perf_counter()
        for task in tasks:
            print(f"{task.name}: {len(task.evaluate)} evaluated pairs, pools "
                  f"{ {k: len(v) for k, v in task.pool.items()} }", flush=True)
            for seed, n_fit, noise, unit_variants, baselines in units[task.name]:
                run.run(task, seed, n_fit, noise, unit_variants, baselines)
            run.forget(task)  # the task's KV caches are no longer needed
        print(f"total {time.perf_counter() - started:.0f} s", flush=True)
    merged = dict(rows.by_key)
    for folder in args.merge:
        merged.update(RowStore(folder / "rows.jsonl").by_key)
    summary = summarise(list(merged.values()))
    text = print_summary(summary)
    tmp = args.out / "summary.json.tmp"
    tmp.write_text(json.dumps({"summary": summary, "argv": sys.argv[1:]}, indent=1), encoding="utf-8")
    os.replace(tmp, args.out / "summary.json")
    (args.out / "summary.txt").write_text(text + "\n", encoding="utf-8")
    (args.out / "summary.md").write_text(markdown(summary) + curve_markdown(list(merged.values()), args.n_fit),
                                         encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
