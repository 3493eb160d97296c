"""What a default fit costs on real-length text, and what a cheaper setting loses.

The few-shot set is ``--pairs`` RewardBench v1 pairs whose two responses both have 150-300 words (seeded draw,
from ``../shared``); the held-out check scores ``--eval`` further pairs of the same kind. Each variant (library
defaults, or ``name:key=value,...`` over them as in ``benchmarks/accuracy.py``) is fitted on the same pairs and
timed by stage (mean activations, head selection; wall and process CPU seconds, with the 1-minute load average
before and after, since this machine is shared), with the averaging contexts' token counts; then its
held-out pair accuracy is measured next to zero-shot P(Yes). Variants run in the order given, one at a time, so
run it on a quiet machine and read the times as this machine's.

    python benchmarks/fit_cost.py --variants default ctx1024:context_tokens=1024 --threads 2 --out results/fit-cost

``--backbone`` takes what ``benchmarks/accuracy.py`` does (an HF id, a directory, a .gguf path or a name from
``benchmarks/backbones.py``); ``--words`` picks the pairs' length (``--words 10 80`` for short pairs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
REWARDBENCH = HERE.parent.parent / "shared" / "data" / "rewardbench" / "filtered.jsonl"
CRITERION = "The response is helpful, correct and honest, and does what the user asked."


def long_pairs(n_fit: int, n_eval: int, seed: int = 0, words: tuple[int, int] = (150, 300)) -> tuple[list, list]:
    """Seeded fit and held-out pairs whose chosen and rejected responses both have ``words`` words."""
    rows = [json.loads(line) for line in REWARDBENCH.read_text(encoding="utf-8").splitlines() if line.strip()]
    fits = [r for r in rows if all(words[0] <= len(r[k].split()) <= words[1] for k in ("chosen", "rejected"))]
    fits.sort(key=lambda r: (r["subset"], str(r["id"])))
    random.Random(seed).shuffle(fits)
    pairs = [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"], "subset": r["subset"]}
             for r in fits]
    if len(pairs) < n_fit + n_eval:
        raise SystemExit(f"only {len(pairs)} RewardBench pairs have {words[0]}-{words[1]}-word responses")
    return pairs[:n_fit], pairs[n_fit:n_fit + n_eval]


def context_lengths(backbone, rm_kwargs: dict, pairs: list, seed: int) -> list[int]:
    """Token counts of the averaging contexts a fit with these settings builds (no model run)."""
    from activation_rm.fit.activations import build_contexts
    from activation_rm.inputs.data import load_examples
    from activation_rm.judge.queries import make_encoder
    from activation_rm.judge.templates import labelled_items
    from activation_rm.scoring.reward_model import fit_configs

    template, contexts, _ = fit_configs(CRITERION, None, None, dict(rm_kwargs))
    encoder = make_encoder(backbone, template, False)
    items = labelled_items(load_examples([{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in pairs]),
                           "pointwise")
    seqs, _ = build_contexts(encoder, items, contexts, seed)
    return [len(s) for s in seqs]


def unchanged_contexts(backbone, variant_fit: dict, seeds: range = range(5), sizes: tuple[int, ...] = (4, 10, 20, 30),
                       base: dict | None = None) -> dict[str, list[int]]:
    """Per task of the accuracy benchmark (both halves of the bias sets, the bundled criteria): how many of the
    averaging contexts built for its few-shot draws (every seed, every curve size the pool allows) differ between
    the library defaults and ``variant_fit``, and how many there are. No model runs: a variant that leaves them all
    the same gives the same means, heads and scores, so the benchmark's accuracy cannot change. ``base`` settings
    apply to both sides (tests use fewer contexts)."""
    from accuracy import bundled_tasks, examples_of, own_tasks, parse_variant, resolved

    from activation_rm.eval.protocol import draw_fewshot
    from activation_rm.fit.activations import build_contexts
    from activation_rm.judge.queries import make_encoder
    from activation_rm.judge.templates import labelled_items

    default = parse_variant("default")
    counts: dict[str, list[int]] = {}
    named = [(f"{half}/{t.name}", t) for half in ("dev", "test") for t in own_tasks(half, 50)]
    for name, task in named + [(t.name, t) for t in bundled_tasks()]:
        for n in sizes:
            if any(n * (2 if split == "all" else 1) > len(pool) for split, pool in task.pool.items()):
                continue
            for seed in seeds:
                examples = examples_of(draw_fewshot(task, n, seed))
                built = []
                for fit in ({**default.fit, **(base or {})}, {**variant_fit, **(base or {})}):
                    contexts, _, template = resolved(type(default)("v", fit), task.criterion)
                    items = labelled_items(examples, template.mode)
                    built.append(build_contexts(make_encoder(backbone, template), items, contexts, seed)[0])
                differ = sum(a != b for a, b in zip(*built))
                total = counts.setdefault(name, [0, 0])
                total[0] += differ
                total[1] += len(built[0])
    return counts


def pair_accuracy(rm, pairs: list) -> float:
    result = rm.compare([p["prompt"] for p in pairs], [p["chosen"] for p in pairs], [p["rejected"] for p in pairs])
    return sum(r.preferred == "a" for r in result) / len(pairs)


def main(argv: list[str] | None = None) -> int:
    from accuracy import parse_variant

    from activation_rm.model.backbone import load_backbone
    from activation_rm.scoring.reward_model import ActivationRM

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["default"])
    parser.add_argument("--pairs", type=int, default=40, help="few-shot pairs fitted on")
    parser.add_argument("--eval", type=int, default=60, help="held-out pairs scored (0: timing only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backbone", "--model", dest="model", default=None,
                        help="HF id, directory, .gguf path or a benchmarks/backbones.py name (default: embedded)")
    parser.add_argument("--words", nargs=2, type=int, default=[150, 300], metavar=("MIN", "MAX"),
                        help="word range of both responses of every pair (default: 150 300)")
    parser.add_argument("--out", type=Path, default=Path("results/fit-cost"))
    parser.add_argument("--unchanged", action="store_true",
                        help="only count, per accuracy-benchmark task, the averaging contexts each variant changes")
    args = parser.parse_args(argv)
    if args.unchanged:
        backbone = load_backbone(args.model)
        report = {spec: unchanged_contexts(backbone, parse_variant(spec).fit) for spec in args.variants}
        for spec, counts in report.items():
            for task, (differ, total) in counts.items():
                print(f"{spec}: {task}: {differ} of {total} averaging contexts differ from the defaults'")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "unchanged.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
        return 0
    from backbones import resolve_backbone

    torch.set_num_threads(args.threads)
    fit_pairs, eval_pairs = long_pairs(args.pairs, args.eval, args.seed, tuple(args.words))
    examples = [{k: p[k] for k in ("prompt", "chosen", "rejected")} for p in fit_pairs]
    loading = time.perf_counter()
    backbone = load_backbone(resolve_backbone(args.model))
    load_seconds = round(time.perf_counter() - loading, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    zero_shot = None
    for spec in args.variants:
        variant = parse_variant(spec)
        lengths = context_lengths(backbone, variant.fit, fit_pairs, args.seed)
        load = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        rm = ActivationRM.fit(backbone, examples, criterion=CRITERION, seed=args.seed, progress=False, **variant.fit)
        seconds = time.perf_counter() - started
        row = {"fit_seconds": round(seconds, 1), "fit_cpu_seconds": round(time.process_time() - cpu, 1),
               "load_average": [round(load, 2), round(os.getloadavg()[0], 2)], "means_seconds": rm.fit_info["means_seconds"],
               "selection_seconds": rm.fit_info["selection_seconds"], "heads": int(rm.mask.sum()),
               "context_tokens_mean": round(statistics.mean(lengths)), "context_tokens_max": max(lengths),
               "truncated_examples": rm.fit_info["truncated_examples"], "settings": variant.fit}
        if args.eval:
            if zero_shot is None:
                zero_shot = pair_accuracy(rm.without_steering(), eval_pairs)
            row["held_out_accuracy"] = round(pair_accuracy(rm, eval_pairs), 4)
            row["zero_shot_accuracy"] = round(zero_shot, 4)
        results[variant.name] = row
        print(f"{variant.name}: {json.dumps(row)}", flush=True)
        tmp = args.out / "fit_cost.json.tmp"
        tmp.write_text(json.dumps({"pairs": args.pairs, "eval": args.eval, "threads": args.threads,
                                   "words": args.words, "backbone": args.model, "load_seconds": load_seconds,
                                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                   "results": results, "argv": sys.argv[1:]}, indent=1), encoding="utf-8")
        tmp.replace(args.out / "fit_cost.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
