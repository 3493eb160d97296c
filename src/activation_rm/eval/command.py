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
from activation_rm.inputs.flags import add_flags, flag_values
from activation_rm.inputs.progress import progress

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


#: the data options of ``eval``: flag, metavar, default (None: none), help
BENCHMARK_OPTIONS = (
    ("--rewardbench", "PATH", None,
     "RewardBench filtered JSONL/Parquet, or 'hub' for allenai/reward-bench (default: none)"),
    ("--preferencehack", "PATH", None, "a file built by build-preferencehack (default: none)"),
    ("--preferencehack-hub", "ID", None,
     "released PreferenceHack: hub id or local file (with --field-map) (default: none)"),
    ("--field-map", "MAP", "",
     "for --preferencehack-hub / --pairs: prompt=..,chosen=..,rejected=.. (default: the fields' own names)"),
    ("--evalbiasbench", "PATH", None,
     "EvalBiasBench biasbench.json; needs --preferencehack, whose few-shot pairs it uses (default: none)"),
    ("--mm-rewardbench", "PATH", None,
     "Multimodal RewardBench all_data.json (images under --image-root) (default: none)"),
    ("--vl-rewardbench", "PATH", None,
     "VL-RewardBench Parquet (images embedded) or JSON/JSONL with image paths (default: none)"),
    ("--image-root", "DIR", None,
     "folder the multimodal benchmarks' image paths are relative to (default: the data file's folder)"),
    ("--pairs", "PATH", None,
     "your own JSONL of {prompt, chosen, rejected}: the first --pool pairs are few-shot (default: none)"),
    ("--criterion", "TEXT", None,
     "criterion text for --pairs (required there) / --preferencehack-hub / the multimodal benchmarks (default: "
     "each benchmark's own)"),
)
#: the pool-size options of ``eval``: flag, default (None: none), help
POOL_OPTIONS = (
    ("--pool", 80, "few-shot pool size for --pairs / hub data, per section for the multimodal benchmarks "
                   "(default: 80)"),
    ("--rb-pool", 130, "RewardBench few-shot pool per section (default: 130, the paper's)"),
    ("--max-per-subset", None, "evaluate at most this many pairs per subset, seeded (default: fast: RewardBench 1, "
                               "PreferenceHack 3, EvalBiasBench 2 per subset; full: all)"),
)


def add_eval_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="fast",
                   help="preset of the judge settings, few-shot pairs and seeds: fast (CPU, the embedded model) or "
                        "full (GPU, the paper's settings); see docs/evaluation.md (default: fast)")
    p.add_argument("--out", "-o", required=True, metavar="DIR",
                   help="output directory (items.jsonl is appended; a rerun resumes; required)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar (default: a bar with pairs/s and ETA on stderr when it is a terminal)")
    data = p.add_argument_group("benchmarks (give at least one)")
    for flag, metavar, default, text in BENCHMARK_OPTIONS:
        data.add_argument(flag, metavar=metavar, help=text, **({} if default is None else {"default": default}))
    for flag, default, text in POOL_OPTIONS:
        data.add_argument(flag, type=int, default=default, metavar="N", help=text)
    run = p.add_argument_group("run")
    run.add_argument("--methods", nargs="+", default=list(BASELINES + ARM_METHODS), metavar="METHOD",
                     help=f"methods to run (default: all of {', '.join(BASELINES + ARM_METHODS)})")
    run.add_argument("--seeds", type=int, nargs="+", metavar="N",
                     help="few-shot draw / head-selection seeds (default: " + _per_protocol("seeds") + ")")
    run.add_argument("--n-fewshot", type=int, metavar="N",
                     help="few-shot pairs per seed (default: " + _per_protocol("n_fewshot") + ")")
    run.add_argument("--chunk", type=int, default=4, metavar="N", help="pairs judged (and written) per step "
                                                                       "(default: 4)")
    run.add_argument("--shard", metavar="NAME",
                     help="write items-NAME.jsonl (run one process per seed into the same --out) (default: "
                          "items.jsonl)")
    run.add_argument("--threads", type=int, metavar="N",
                     help="torch intra-op threads (1 is much faster on a busy shared CPU) (default: torch's choice)")
    run.add_argument("--report-only", action="store_true",
                     help="rebuild summary, Markdown and PNG from items.jsonl, judging nothing (default: off)")
    run.add_argument("--sweep", action="store_true",
                     help="design-choice sweep instead of the method comparison: variants of the pointwise ARM, "
                          "one factor at a time, with paired tests against the base (sweep-items.jsonl, sweep.md; "
                          "default: off)")
    run.add_argument("--variants", nargs="+", metavar="VARIANT",
                     help="sweep variants to run (default: all): a name from eval/sweep.py, or name:key=value,... "
                          "over the protocol's base, where a key is a fit option (a field of JudgeTemplate, "
                          "ContextConfig or SelectionConfig, e.g. init=sav,n_contexts=20), base=NAME, readout, "
                          "heads, n_fewshot, label or group")
    add_flags(p.add_argument_group("judge settings (EvalSettings; default: the --protocol's)"), EvalSettings,
              presets={name: preset["settings"] for name, preset in PROTOCOLS.items()})
    model = p.add_argument_group("backbone")
    model.add_argument("--model", metavar="MODEL",
                       help="Hugging Face id or local path (default: the embedded SmolLM2-135M-Instruct)")
    model.add_argument("--device", default=None, help="auto, cpu, cuda, cuda:0 ... (default: auto)")
    model.add_argument("--dtype", default=None, help="float32, bfloat16 or float16 (default: bfloat16 on a GPU "
                                                     "that supports it, float32 on the CPU)")


def _per_protocol(key: str) -> str:
    def show(value: Any) -> str:
        return " ".join(map(str, value)) if isinstance(value, list) else str(value)

    values = {name: show(preset[key]) for name, preset in PROTOCOLS.items()}
    if len(set(values.values())) == 1:
        return next(iter(values.values()))
    return ", ".join(f"{name} {value}" for name, value in values.items())


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
        total = len(config.seeds) * sum(len(s.records) for s in specs)
        with progress(total, "eval", unit="pair", quiet=getattr(args, "quiet", False)) as bar:
            def advance(judged: int, skipped: int) -> None:
                bar.skip(skipped)
                bar.update(judged)

            run_eval(backbone, specs, config, out, log=bar.write, progress=advance)
        print(f"evaluation loop took {time.perf_counter() - started:.0f}s", flush=True)
    extra = {"protocol": args.protocol, "settings": settings.to_dict(), "model": args.model or "embedded"}
    lengths = {s.name: {r.key: (len(r.chosen), len(r.rejected)) for r in s.records} for s in specs}
    paths = write_reports(out, scoring, pairs_with, title=f"Results ({args.protocol} protocol)", extra=extra,
                          lengths=lengths)
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


def _settings(args: argparse.Namespace) -> EvalSettings:
    """The protocol's judge settings with the flags given (``--steps``, ``--no-ablations`` ...) replacing theirs."""
    return replace(PROTOCOLS[args.protocol]["settings"], **flag_values(args, EvalSettings))


def _load_backbone(args: argparse.Namespace):
    from activation_rm.inputs.progress import hush_library_bars
    from activation_rm.model.backbone import load_backbone

    hush_library_bars(getattr(args, "quiet", False))

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    kwargs = {k: v for k, v in {"device": args.device, "dtype": args.dtype}.items() if v}
    return load_backbone(args.model, **kwargs)


def cmd_sweep(args: argparse.Namespace) -> int:
    from activation_rm.eval.sweep import BY_NAME, VARIANTS, run_sweep, write_sweep_report
    from activation_rm.eval.variants import parse_variants

    preset = PROTOCOLS[args.protocol]
    settings = _settings(args)
    try:
        variants = parse_variants(args.variants, BY_NAME) if args.variants else list(VARIANTS)
    except ValueError as err:
        raise SystemExit(f"error: --variants: {err}") from None
    if variants[0].name != "base":
        variants = [BY_NAME["base"], *[v for v in variants if v.name != "base"]]
    specs = _specs(args, preset["max_per_subset"])
    out = Path(args.out)
    if not args.report_only:
        backbone = _load_backbone(args)
        started = time.perf_counter()
        with progress(sum(len(s.records) for s in specs), "sweep", unit="pair",
                      quiet=getattr(args, "quiet", False)) as bar:
            def advance(judged: int, skipped: int) -> None:
                bar.skip(skipped)
                bar.update(judged)

            run_sweep(backbone, specs, args.seeds or preset["seeds"], args.n_fewshot or preset["n_fewshot"],
                      settings, variants, out, shard=args.shard, log=bar.write, progress=advance)
        print(f"sweep took {time.perf_counter() - started:.0f}s", flush=True)
    paths = write_sweep_report(out, {s.name: s.scoring for s in specs}, {s.name: s.pairs_with for s in specs},
                               variants, extra={"protocol": args.protocol, "settings": settings.to_dict(),
                                                "model": args.model or "embedded"},
                               base_n=args.n_fewshot or preset["n_fewshot"])
    print(json.dumps({k: str(v) for k, v in paths.items()}))
    return 0


def add_build_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rewardbench", required=True, metavar="PATH",
                   help="RewardBench filtered JSONL/Parquet, the source pairs (required)")
    p.add_argument("--out", "-o", required=True, metavar="OUT", help="output JSONL (required)")
    p.add_argument("--seed", type=int, default=0, metavar="N",
                   help="seed of the source draw and the variants (default: 0)")
    p.add_argument("--per-group", type=int, default=40, metavar="N",
                   help="source pairs per kind: math, code, unsafe, ... (default: 40)")
    p.add_argument("--n-fewshot", type=int, default=80, metavar="N",
                   help="sources whose variants form the few-shot pool (default: 80)")
    p.add_argument("--max-chars", type=int, default=1400, metavar="N",
                   help="longest source pair, prompt + chosen + rejected characters (default: 1400)")


def cmd_build_preferencehack(args: argparse.Namespace) -> int:
    from activation_rm.eval.preferencehack import BuildConfig, build_file

    config = BuildConfig(per_group=args.per_group, n_fewshot=args.n_fewshot, max_chars=args.max_chars, seed=args.seed)
    path = build_file(args.rewardbench, args.out, config)
    print(f"wrote {path}")
    return 0
