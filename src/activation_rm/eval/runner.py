"""The resumable evaluation loop: per seed and benchmark, fit every method group on the same few-shot pairs, then
judge the evaluation pairs chunk by chunk, appending one JSON line per (seed, method, pair) as it goes.

A crash loses at most the chunk in flight; a rerun with the same output directory skips every row already written
(and reloads fitted Activation RMs from ``artifacts/``). Chunks run every method before moving on, so a partial run
still compares all methods on the same items. Works for any iterable of :class:`PairRecord`, text or multimodal.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from activation_rm.eval.benchmarks import draw_fewshot
from activation_rm.eval.methods import FitContext, MethodGroup, build_groups
from activation_rm.eval.records import PairRecord
from activation_rm.eval.rows import RowStore, read_all_rows, read_rows  # noqa: F401 (the run's readers, here too)
from activation_rm.eval.settings import EvalSettings
from activation_rm.model.backbone import Backbone

logger = logging.getLogger(__name__)


@dataclass
class BenchmarkSpec:
    """One benchmark: its few-shot pool, the pairs to evaluate, the criterion text and how to score it."""

    name: str
    pool: list[PairRecord]
    records: list[PairRecord]
    criterion: str
    scoring: str = "mean"  # "rewardbench" (official sections) or "mean" (per subset and overall)
    pool_group_by: str = "section"
    pairs_with: dict[str, str] = field(default_factory=dict)  # subset -> its control subset (PreferenceHack)
    fit_on: str | None = None  # reuse the few-shot pairs of another benchmark (transfer)


@dataclass
class RunConfig:
    methods: Sequence[str]
    seeds: Sequence[int] = (0, 1, 2)
    n_fewshot: int = 16
    chunk: int = 4
    settings: EvalSettings = field(default_factory=EvalSettings)
    order_seed: int = 0  # evaluation order: a partial run covers a seeded random subset of every benchmark
    shard: str | None = None  # write items-<shard>.jsonl so several processes (e.g. one per seed) share a run


def run_eval(backbone: Backbone, specs: Sequence[BenchmarkSpec], config: RunConfig, out_dir: str | os.PathLike,
             log: Callable[[str], None] = print,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """Evaluate and write ``items.jsonl`` and ``fits.jsonl`` under ``out_dir``; returns the items path.
    ``progress(judged, skipped)`` hears of the evaluation pairs (per seed) as every method has judged them, and of
    those an earlier run had finished."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{config.shard}" if config.shard else ""
    done = RowStore.of_run(out, "items", ("benchmark", "seed", "method", "key"), config.shard)  # every shard's rows
    fitted = RowStore.of_run(out, "fits", ("benchmark", "seed", "group"), config.shard)
    by_name = {spec.name: spec for spec in specs}
    (out / f"config{suffix}.json").write_text(json.dumps({
        "methods": list(config.methods), "seeds": list(config.seeds), "n_fewshot": config.n_fewshot,
        "settings": config.settings.to_dict(), "benchmarks": {s.name: {"pool": len(s.pool), "eval": len(s.records),
                                                                       "criterion": s.criterion} for s in specs}},
        indent=2), encoding="utf-8")
    for seed in config.seeds:
        for spec in specs:
            source = by_name[spec.fit_on] if spec.fit_on else spec
            fewshot = draw_fewshot(source.pool, config.n_fewshot, seed, source.pool_group_by)
            records = list(spec.records)
            random.Random(config.order_seed).shuffle(records)
            groups: list[MethodGroup] = build_groups(config.methods, config.settings.ablations)
            missing = [r for r in records if any((spec.name, seed, m, r.key) not in done
                                                 for g in groups for m in g.names)]
            if progress is not None:
                progress(0, len(records) - len(missing))
            if not missing:
                continue
            log(f"[{time.strftime('%H:%M:%S')}] seed {seed} {spec.name}: {len(missing)} pairs to judge")
            artifacts = out / "artifacts" / source.name / f"seed{seed}"
            for group in groups:
                started = time.perf_counter()
                info = group.fit(FitContext(backbone, spec.criterion, fewshot, seed, config.settings, artifacts))
                seconds = round(time.perf_counter() - started, 2)
                label = type(group).__name__ + "/" + (group.names[0] if group.names else "ranking")
                fitted.add({"benchmark": spec.name, "seed": seed, "group": label, "seconds": seconds,
                            "fewshot": [r.key for r in fewshot], **info})
                log(f"  fitted {group.names} in {seconds}s")
            for start in range(0, len(missing), config.chunk):
                chunk = missing[start:start + config.chunk]
                for group in groups:
                    todo = [r for r in chunk if any((spec.name, seed, m, r.key) not in done for m in group.names)]
                    if not todo:
                        continue
                    group.only = {m for m in group.names if any((spec.name, seed, m, r.key) not in done for r in todo)}
                    started = time.perf_counter()
                    verdicts = group.judge(todo)
                    per_pair = (time.perf_counter() - started) / len(todo)
                    rows = []
                    for method, results in verdicts.items():
                        for record, verdict in zip(todo, results):
                            if (spec.name, seed, method, record.key) in done:
                                continue
                            rows.append({"benchmark": spec.name, "seed": seed, "method": method, "key": record.key,
                                         "subset": record.subset, "section": record.section,
                                         "seconds": round(per_pair, 3), **_verdict_fields(verdict)})
                    done.add(rows)
                if progress is not None:
                    progress(len(chunk), 0)
                log(f"  [{time.strftime('%H:%M:%S')}] {spec.name} seed {seed}: "
                    f"{min(start + config.chunk, len(missing))}/{len(missing)}")
    return done.path


def _verdict_fields(verdict) -> dict[str, Any]:
    data = asdict(verdict)
    data.pop("key")
    extra = data.pop("extra") or {}
    return {**data, **extra}
