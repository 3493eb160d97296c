"""`activation-rm eval` and `activation-rm build-preferencehack`: argument parsing and the protocol presets.

Protocols:

- **fast** (CPU, the embedded 135M model): queries truncated to 384 tokens, 12 few-shot pairs per seed, a short
  REINFORCE (30 steps x 12 masks; the paper uses 600 x 32) on means from 8 averaging contexts of 1 shot (longer
  contexts do not fit 384 tokens for pairwise queries), 3 seeds, a few pairs per subset (RewardBench 1,
  PreferenceHack 3, EvalBiasBench 2). Sized for a 2-core CPU shared with
  other jobs (one process per seed, ``--threads 1``). It is far from the paper's settings: read its numbers as a
  small-sample comparison with wide intervals, not as the method's ceiling.
- **full** (GPU): the paper's settings: 2048-token queries, 600 REINFORCE steps x 32 masks, 100 contexts of 4
  shots, every evaluation pair, 3 seeds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from activation_rm.eval.settings import ARM_METHODS, BASELINES, EvalSettings

RB_CRITERION = ("The response is helpful, honest and harmless: it follows the user's instructions, is correct, and "
                "refuses only requests that are genuinely harmful.")
PH_CRITERION = "The response is correct, safe and genuinely helpful, whatever its length, formatting or tone."
MM_CRITERION = "The response is correct and helpful for the image and the question, and mentions only what is shown."

PROTOCOLS: dict[str, dict[str, Any]] = {
    "fast": {"settings": EvalSettings(max_length=384, steps=30, masks_per_step=12, n_contexts=8, n_shots=1,
                                      votes=5, max_new_tokens=3, ablations=False),
             "n_fewshot": 12, "max_per_subset": {"rewardbench": 1, "preferencehack": 3, "evalbiasbench": 2},
             "seeds": [0, 1, 2]},
    "full": {"settings": EvalSettings(ablations=True), "n_fewshot": 64, "max_per_subset": {}, "seeds": [0, 1, 2]},
}


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="fast", help="preset (see docs/evaluation.md)")
    p.add_argument("--out", "-o", required=True, help="output directory (items.jsonl is appended; reruns resume)")
    p.add_argument("--rewardbench", help="RewardBench filtered JSONL/Parquet, or 'hub' for allenai/reward-bench")
    p.add_argument("--preferencehack", help="a file built by build-preferencehack")
    p.add_argument("--preferencehack-hub", help="released PreferenceHack: hub id or local file (with --field-map)")
    p.add_argument("--field-map", default="", help="for --preferencehack-hub / --pairs: prompt=..,chosen=..,rejected=..")
    p.add_argument("--evalbiasbench", help="EvalBiasBench biasbench.json")
    p.add_argument("--mm-rewardbench", help="Multimodal RewardBench all_data.json (images under --image-root)")
    p.add_argument("--vl-rewardbench", help="VL-RewardBench Parquet (images embedded) or JSON/JSONL with image paths")
    p.add_argument("--image-root", help="folder the multimodal benchmarks' image paths are relative to")
    p.add_argument("--pairs", help="your own JSONL of {prompt, chosen, rejected}: the first --pool pairs are few-shot")
    p.add_argument("--criterion", help="criterion text for --pairs / --preferencehack-hub / the multimodal benchmarks")
    p.add_argument("--pool", type=int, default=80, help="few-shot pool size for --pairs / hub data, per section for the multimodal benchmarks (default 80)")
    p.add_argument("--rb-pool", type=int, default=130, help="RewardBench few-shot pool per section (paper: 130)")
    p.add_argument("--max-per-subset", type=int, help="evaluate at most this many pairs per subset (seeded)")
    p.add_argument("--methods", nargs="+", default=list(BASELINES + ARM_METHODS), help="methods to run")
    p.add_argument("--seeds", type=int, nargs="+", help="few-shot draw / head-selection seeds")
    p.add_argument("--n-fewshot", type=int, help="few-shot pairs per seed")
    p.add_argument("--steps", type=int, help="REINFORCE steps (overrides the protocol)")
    p.add_argument("--masks-per-step", type=int)
    p.add_argument("--n-contexts", type=int)
    p.add_argument("--max-length", type=int)
    p.add_argument("--no-ablations", action="store_true", help="skip the head-selection ablations")
    p.add_argument("--ablations", action="store_true", help="score the head-selection ablations (reuses fitted ARMs)")
    p.add_argument("--chunk", type=int, default=4, help="pairs judged (and written) per step")
    p.add_argument("--shard", help="write items-<SHARD>.jsonl (run one process per seed into the same --out)")
    p.add_argument("--threads", type=int, help="torch intra-op threads (1 is much faster on a busy shared CPU)")
    p.add_argument("--report-only", action="store_true", help="rebuild summary, Markdown and PNG from items.jsonl")
    p.add_argument("--sweep", action="store_true",
                   help="design-choice sweep instead of the method comparison: variants of the pointwise ARM, one "
                        "factor at a time, with paired tests against the base (sweep-items.jsonl, sweep.md)")
    p.add_argument("--variants", nargs="+", help="sweep variants to run (default: all; see eval/sweep.py)")
    p.add_argument("--model", help="Hugging Face id or local path (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--device", default=None)
    p.add_argument("--dtype", default=None)


def _specs(args: argparse.Namespace, cap: dict[str, int]):
    from activation_rm.eval.benchmarks import (
        FieldMap,
        cap_per_subset,
        load_evalbiasbench,
        load_pairs,
        load_preferencehack,
        load_rewardbench,
        split_pool,
    )
    from activation_rm.eval.preferencehack import BIASES, load_built
    from activation_rm.eval.runner import BenchmarkSpec

    def limit(records, name):
        n = args.max_per_subset if args.max_per_subset is not None else cap.get(name)
        return cap_per_subset(records, n, seed=0)

    specs = []
    if args.preferencehack:
        pool, rest = load_built(args.preferencehack)
        specs.append(BenchmarkSpec("PreferenceHack", pool, limit(rest, "preferencehack"), PH_CRITERION,
                                   pool_group_by="subset", pairs_with={b: f"{b}-control" for b in BIASES}))
    if args.preferencehack_hub:
        fields = FieldMap.parse(args.field_map) if args.field_map else None
        records = load_preferencehack(args.preferencehack_hub, fields)
        pool, rest = split_pool(records, args.pool, by="subset")
        specs.append(BenchmarkSpec("PreferenceHack (released)", pool, limit(rest, "preferencehack"),
                                   args.criterion or PH_CRITERION, pool_group_by="subset"))
    if args.evalbiasbench:
        records = load_evalbiasbench(args.evalbiasbench)
        fit_on = "PreferenceHack" if args.preferencehack else None
        if fit_on is None:
            raise SystemExit("error: EvalBiasBench has no few-shot split of its own; pass --preferencehack too "
                             "(its few-shot pairs are used, a transfer setting)")
        specs.append(BenchmarkSpec("EvalBiasBench", [], limit(records, "evalbiasbench"), PH_CRITERION,
                                   fit_on=fit_on))
    if args.rewardbench:
        source = "allenai/reward-bench" if args.rewardbench == "hub" else args.rewardbench
        pool, rest = split_pool(load_rewardbench(source), args.rb_pool, by="section")
        specs.append(BenchmarkSpec("RewardBench", pool, limit(rest, "rewardbench"), RB_CRITERION, "rewardbench"))
    if args.mm_rewardbench or args.vl_rewardbench:
        from activation_rm.eval.multimodal import load_multimodal_rewardbench, load_vl_rewardbench

        for name, path, load in (("Multimodal RewardBench", args.mm_rewardbench, load_multimodal_rewardbench),
                                 ("VL-RewardBench", args.vl_rewardbench, load_vl_rewardbench)):
            if path:
                pool, rest = split_pool(load(path, args.image_root), args.pool, by="section")
                specs.append(BenchmarkSpec(name, pool, limit(rest, "multimodal"), args.criterion or MM_CRITERION,
                                           pool_group_by="section"))
    if args.pairs:
        if not args.criterion:
            raise SystemExit("error: --pairs needs --criterion")
        fields = FieldMap.parse(args.field_map) if args.field_map else FieldMap()
        pool, rest = split_pool(load_pairs(args.pairs, fields), args.pool, by="all")
        specs.append(BenchmarkSpec(Path(args.pairs).stem, pool, limit(rest, "pairs"), args.criterion,
                                   pool_group_by="all"))
    if not specs:
        raise SystemExit("error: give at least one of --rewardbench, --preferencehack, --evalbiasbench, "
                         "--mm-rewardbench, --vl-rewardbench, --pairs")
    return specs


def cmd_eval(args: argparse.Namespace) -> int:
    if args.sweep:
        return cmd_sweep(args)
    from activation_rm.eval.report import write_reports
    from activation_rm.eval.runner import RunConfig, run_eval

    preset = PROTOCOLS[args.protocol]
    settings = _settings(args)
    specs = _specs(args, preset["max_per_subset"])
    scoring = {s.name: s.scoring for s in specs}
    pairs_with = {s.name: s.pairs_with for s in specs}
    out = Path(args.out)
    if not args.report_only:
        backbone = _load_backbone(args)
        config = RunConfig(methods=args.methods, seeds=args.seeds or preset["seeds"],
                           n_fewshot=args.n_fewshot or preset["n_fewshot"], chunk=args.chunk, settings=settings,
                           shard=args.shard)
        started = time.perf_counter()
        run_eval(backbone, specs, config, out, log=lambda m: print(m, flush=True))
        print(f"evaluation loop took {time.perf_counter() - started:.0f}s", flush=True)
    extra = {"protocol": args.protocol, "settings": settings.to_dict(), "model": args.model or "embedded"}
    lengths = {s.name: {r.key: (len(r.chosen), len(r.rejected)) for r in s.records} for s in specs}
    paths = write_reports(out, scoring, pairs_with, title=f"Results ({args.protocol} protocol)", extra=extra,
                          lengths=lengths)
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


def _settings(args: argparse.Namespace) -> EvalSettings:
    settings: EvalSettings = PROTOCOLS[args.protocol]["settings"]
    overrides = {k: v for k, v in {"steps": args.steps, "masks_per_step": args.masks_per_step,
                                   "n_contexts": args.n_contexts, "max_length": args.max_length}.items()
                 if v is not None}
    return replace(settings, **overrides, ablations=(settings.ablations or args.ablations) and not args.no_ablations)


def _load_backbone(args: argparse.Namespace):
    from activation_rm.model.backbone import load_backbone

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    kwargs = {k: v for k, v in {"device": args.device, "dtype": args.dtype}.items() if v}
    return load_backbone(args.model, **kwargs)


def cmd_sweep(args: argparse.Namespace) -> int:
    from activation_rm.eval.sweep import BY_NAME, VARIANTS, run_sweep, write_sweep_report

    preset = PROTOCOLS[args.protocol]
    settings = _settings(args)
    unknown = sorted(set(args.variants or ()) - set(BY_NAME))
    if unknown:
        raise SystemExit(f"error: unknown sweep variant(s) {unknown}; choose from {sorted(BY_NAME)}")
    variants = [BY_NAME[name] for name in args.variants] if args.variants else list(VARIANTS)
    if variants[0].name != "base":
        variants = [BY_NAME["base"], *[v for v in variants if v.name != "base"]]
    specs = _specs(args, preset["max_per_subset"])
    out = Path(args.out)
    if not args.report_only:
        started = time.perf_counter()
        run_sweep(_load_backbone(args), specs, args.seeds or preset["seeds"], args.n_fewshot or preset["n_fewshot"],
                  settings, variants, out, shard=args.shard, log=lambda m: print(m, flush=True))
        print(f"sweep took {time.perf_counter() - started:.0f}s", flush=True)
    paths = write_sweep_report(out, {s.name: s.scoring for s in specs}, {s.name: s.pairs_with for s in specs},
                               variants, extra={"protocol": args.protocol, "settings": settings.to_dict(),
                                                "model": args.model or "embedded"},
                               base_n=args.n_fewshot or preset["n_fewshot"])
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rewardbench", required=True, help="RewardBench filtered JSONL/Parquet (source pairs)")
    p.add_argument("--out", "-o", required=True, help="output JSONL")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-group", type=int, default=40, help="source pairs per kind (math, code, unsafe, ...)")
    p.add_argument("--n-fewshot", type=int, default=80, help="sources whose variants form the few-shot pool")
    p.add_argument("--max-chars", type=int, default=1400, help="longest source pair (prompt+chosen+rejected)")


def cmd_build_preferencehack(args: argparse.Namespace) -> int:
    from activation_rm.eval.preferencehack import BuildConfig, build_file

    config = BuildConfig(per_group=args.per_group, n_fewshot=args.n_fewshot, max_chars=args.max_chars, seed=args.seed)
    path = build_file(args.rewardbench, args.out, config)
    print(f"wrote {path}")
    return 0
