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
from activation_rm.eval.settings import EvalSettings
from activation_rm.inputs.data import split_jsonl
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


def append_rows(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_all_rows(out_dir: str | os.PathLike, stem: str = "items") -> list[dict[str, Any]]:
    """Rows of every shard (``items.jsonl``, ``items-<shard>.jsonl``) of a run directory."""
    rows, seen = [], set()
    for path in sorted(Path(out_dir).glob(f"{stem}*.jsonl")):
        for row in read_rows(path):
            key = (row.get("benchmark"), row.get("seed"), row.get("method"), row.get("key"), row.get("group"))
            if key not in seen:  # a shard that recomputed a row another shard has: keep the first
                seen.add(key)
                rows.append(row)
    return rows


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a results JSONL; a torn last line (a crash mid-write) is ignored."""
    rows = []
    if not path.exists():
        return rows
    with open(path, encoding="utf-8") as handle:
        lines = split_jsonl(handle.read())
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if number != len(lines):
                raise ValueError(f"{path}:{number}: corrupt results line (not the last line)") from None
    return rows


def repair_tail(path: Path) -> None:
    """Cut a torn last line (a crash mid-write) so appended rows start on a fresh line."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data[:cut])
    os.replace(tmp, path)


def run_eval(backbone: Backbone, specs: Sequence[BenchmarkSpec], config: RunConfig, out_dir: str | os.PathLike,
             log: Callable[[str], None] = print,
             progress: Callable[[int, int], None] | None = None) -> Path:
    """Evaluate and write ``items.jsonl`` and ``fits.jsonl`` under ``out_dir``; returns the items path.
    ``progress(judged, skipped)`` hears of the evaluation pairs (per seed) as every method has judged them, and of
    those an earlier run had finished."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{config.shard}" if config.shard else ""
    items_path, fits_path = out / f"items{suffix}.jsonl", out / f"fits{suffix}.jsonl"
    repair_tail(items_path)
    repair_tail(fits_path)
    done = {(r["benchmark"], r["seed"], r["method"], r["key"]) for r in read_all_rows(out)}  # every shard's rows
    fitted = {(r["benchmark"], r["seed"], r["group"]) for r in read_all_rows(out, "fits")}
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
                if (spec.name, seed, label) not in fitted:
                    append_rows(fits_path, [{"benchmark": spec.name, "seed": seed, "group": label,
                                         "seconds": seconds, "fewshot": [r.key for r in fewshot], **info}])
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
                            done.add((spec.name, seed, method, record.key))
                    append_rows(items_path, rows)
                if progress is not None:
                    progress(len(chunk), 0)
                log(f"  [{time.strftime('%H:%M:%S')}] {spec.name} seed {seed}: "
                    f"{min(start + config.chunk, len(missing))}/{len(missing)}")
    return items_path


def _verdict_fields(verdict) -> dict[str, Any]:
    data = asdict(verdict)
    data.pop("key")
    extra = data.pop("extra") or {}
    return {**data, **extra}
