"""Benchmark loaders: every one yields :class:`PairRecord` (``chosen`` is the better response).

RewardBench v1 and EvalBiasBench load from local files (JSONL/Parquet/JSON) or, for RewardBench and PreferenceHack,
from the Hugging Face hub when a hub id is given (``datasets`` is imported lazily; it is not a base dependency).
Any user JSONL of ``{prompt, chosen, rejected}`` pairs is a benchmark too. Bad rows raise :class:`BenchmarkError`
naming the file, line and field.
"""

from __future__ import annotations

import json
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activation_rm.eval.records import PairRecord
from activation_rm.inputs.data import EmptyInputError, InputProblem, check_prompt, format_problems, scan_jsonl

REWARDBENCH_HUB = "allenai/reward-bench"
PREFERENCEHACK_HUB = "DarthVaderSenior/PreferenceHack"

#: RewardBench v1 sections and their subsets (official leaderboard grouping).
REWARDBENCH_SECTIONS: dict[str, tuple[str, ...]] = {
    "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
    "Chat Hard": ("mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst",
                  "llmbar-adver-GPTOut", "llmbar-adver-manual"),
    "Safety": ("refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond",
               "donotanswer"),
    "Reasoning": ("math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"),
}
#: Official example counts per subset; math-prm counts 984 instead of 447 so math weighs as much as code.
REWARDBENCH_WEIGHTS: dict[str, int] = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28, "mt-bench-med": 40,
    "mt-bench-hard": 37, "llmbar-natural": 100, "llmbar-adver-neighbor": 134, "llmbar-adver-GPTInst": 92,
    "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46, "refusals-dangerous": 100, "refusals-offensive": 100,
    "xstest-should-refuse": 154, "xstest-should-respond": 250, "donotanswer": 136, "math-prm": 984,
    "hep-cpp": 164, "hep-go": 164, "hep-java": 164, "hep-js": 164, "hep-python": 164, "hep-rust": 164,
}
SUBSET_SECTION = {subset: section for section, subsets in REWARDBENCH_SECTIONS.items() for subset in subsets}


class BenchmarkError(InputProblem):
    """A benchmark file or row that does not fit the expected schema."""


@dataclass(frozen=True)
class FieldMap:
    """Which source field fills each :class:`PairRecord` field (explicit, because hub schemas drift)."""

    prompt: str = "prompt"
    chosen: str = "chosen"
    rejected: str = "rejected"
    subset: str | None = "subset"
    id: str | None = "id"
    section: str | None = None

    @classmethod
    def parse(cls, text: str) -> FieldMap:
        """``"prompt=question,chosen=good,rejected=bad,subset=bias"`` to a FieldMap."""
        known = set(cls.__dataclass_fields__)
        values: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            if not sep or key.strip() not in known:
                raise BenchmarkError(f"field map entry {part!r} must be one of {sorted(known)} = source field")
            values[key.strip()] = value.strip()
        return cls(**values)


def _read_rows(path: Path) -> Iterable[tuple[int, Any]]:
    """(line or row number, row dict) from JSONL, JSON (a list) or Parquet."""
    if not path.exists():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise BenchmarkError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from err
        yield from enumerate(pq.read_table(path).to_pylist(), start=1)
        return
    if suffix == ".json":
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, list):
            raise BenchmarkError(f"{path}: expected a JSON list of rows")
        yield from enumerate(data, start=1)
        return
    for number, row, problem in scan_jsonl(path):
        yield number, (_Undecodable(problem) if problem else row)


class _Undecodable(str):
    """A JSONL line that could not be decoded, passed on so it is reported with the rows' other problems."""


def record_from_row(row: Any, fields: FieldMap, where: str, default_subset: str, default_id: str) -> PairRecord:
    """One source row to a PairRecord; errors name ``where`` (file:line) and the missing or bad field."""
    if isinstance(row, _Undecodable):
        raise BenchmarkError(str(row))
    if not isinstance(row, Mapping):
        raise BenchmarkError(f"{where}: expected an object, got {type(row).__name__}")
    for name in ("prompt", "chosen", "rejected"):
        source = getattr(fields, name)
        if source not in row:
            raise BenchmarkError(f"{where}: missing field {source!r} (mapped to {name}); fields present: "
                                 f"{sorted(row)}. Pass a field map such as 'prompt=...,chosen=...,rejected=...'")
    try:
        prompt = check_prompt(row[fields.prompt])
    except ValueError as err:
        raise BenchmarkError(f"{where}: field {fields.prompt!r}: {err}") from None
    texts = {}
    for name in ("chosen", "rejected"):
        value = row[getattr(fields, name)]
        if not isinstance(value, str) or not value.strip():
            raise BenchmarkError(f"{where}: field {getattr(fields, name)!r} must be a non-empty string")
        texts[name] = value
    subset = str(row[fields.subset]) if fields.subset and row.get(fields.subset) is not None else default_subset
    ident = str(row[fields.id]) if fields.id and row.get(fields.id) is not None else default_id
    section = str(row[fields.section]) if fields.section and row.get(fields.section) is not None else None
    return PairRecord(id=ident, subset=subset, prompt=prompt, chosen=texts["chosen"], rejected=texts["rejected"],
                      section=section)


def _hub_rows(name: str, split: str) -> Iterable[tuple[int, Any]]:
    try:
        import datasets
    except ImportError as err:
        raise BenchmarkError(f"loading {name!r} from the Hugging Face hub needs `pip install datasets`; "
                             "or pass a local JSONL/Parquet path") from err
    yield from enumerate(datasets.load_dataset(name, split=split), start=1)


def load_pairs(source: str | os.PathLike, fields: FieldMap = FieldMap(), *, split: str = "train",
               default_subset: str | None = None) -> list[PairRecord]:
    """Pairs from a local file (JSONL / JSON list / Parquet) or a hub id (``owner/name``, needs ``datasets``)."""
    path = Path(source)
    if path.exists() or path.suffix.lower() in (".jsonl", ".json", ".parquet"):
        rows, label = _read_rows(path), str(path)
    else:
        rows, label = _hub_rows(str(source), split), f"{source}[{split}]"
    subset = default_subset or path.stem
    records, problems = [], []
    for number, row in rows:
        try:
            records.append(record_from_row(row, fields, f"{label}:{number}", subset, str(number)))
        except BenchmarkError as err:
            problems.append(str(err))
    if problems:
        raise BenchmarkError(format_problems(problems, f"{len(problems)} bad row(s) in {label}:"))
    if not records and path.exists():
        raise EmptyInputError(label, "rows")
    if not records:
        raise BenchmarkError(f"{label}: no pairs")
    keys = [r.key for r in records]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise BenchmarkError(f"{label}: duplicate key {duplicate!r} (subset/id must be unique)")
    return records


def load_rewardbench(source: str | os.PathLike = REWARDBENCH_HUB, subsets: Sequence[str] | None = None) -> list[
        PairRecord]:
    """RewardBench v1 ``filtered``: local JSONL/Parquet, or the hub id when online. Sections follow the official
    grouping (unknown subsets are an error, so a changed export cannot be scored with the wrong weights)."""
    records = load_pairs(source, FieldMap(subset="subset", id="id"), split="filtered")
    out = []
    for record in records:
        if record.subset not in SUBSET_SECTION:
            raise BenchmarkError(f"{source}: unknown RewardBench subset {record.subset!r} (id {record.id})")
        if subsets is None or record.subset in subsets:
            out.append(PairRecord(record.id, record.subset, record.prompt, record.chosen, record.rejected,
                                  SUBSET_SECTION[record.subset]))
    return out


def load_evalbiasbench(path: str | os.PathLike) -> list[PairRecord]:
    """EvalBiasBench (OffsetBias): ``{bias type: [{instruction, response1, response2, label}]}``; label 1 means
    response1 is better. Order is not randomised here: the judges present pairs in a seeded random order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"EvalBiasBench file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path}: expected an object mapping bias type to a list of pairs")
    records = []
    for bias, rows in data.items():
        for index, row in enumerate(rows):
            where = f"{path}: [{bias!r}][{index}]"
            for key in ("instruction", "response1", "response2", "label"):
                if key not in row:
                    raise BenchmarkError(f"{where}: missing field {key!r}")
            if row["label"] not in (1, 2):
                raise BenchmarkError(f"{where}: field 'label' must be 1 or 2, got {row['label']!r}")
            better, worse = (row["response1"], row["response2"])[:: 1 if row["label"] == 1 else -1]
            records.append(PairRecord(str(index), bias, row["instruction"], better, worse, "EvalBiasBench"))
    return records


def load_preferencehack(source: str | os.PathLike = PREFERENCEHACK_HUB, fields: FieldMap | None = None,
                        split: str = "train") -> list[PairRecord]:
    """The released PreferenceHack data (hub id or local file) through an explicit field map. Its schema could not
    be checked offline, so the default map is a guess: a row that does not fit fails naming the missing field and
    the fields present, and ``fields`` (CLI ``--field-map``) fixes it."""
    fields = fields or FieldMap(prompt="prompt", chosen="chosen", rejected="rejected", subset="bias", id="id")
    return load_pairs(source, fields, split=split, default_subset="preferencehack")


def group_key(record: PairRecord, by: str) -> str:
    if by == "section":
        return record.section or record.subset
    if by == "subset":
        return record.subset
    if by == "all":
        return "all"
    raise ValueError(f"group by must be section, subset or all, got {by!r}")


def split_pool(records: Sequence[PairRecord], n_pool: int, by: str = "section") -> tuple[list[PairRecord],
                                                                                         list[PairRecord]]:
    """The paper's protocol: the first ``n_pool`` records of each group (file order) form the few-shot pool, the
    rest is evaluated."""
    seen: dict[str, int] = defaultdict(int)
    pool, rest = [], []
    for record in records:
        key = group_key(record, by)
        (pool if seen[key] < n_pool else rest).append(record)
        seen[key] += 1
    return pool, rest


def cap_per_subset(records: Sequence[PairRecord], max_per_subset: int | None, seed: int) -> list[PairRecord]:
    """At most ``max_per_subset`` records of each subset, a seeded sample (file order kept)."""
    if max_per_subset is None:
        return list(records)
    by_subset: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        by_subset[record.subset].append(index)
    keep: set[int] = set()
    for subset, indices in sorted(by_subset.items()):
        rng = random.Random(f"{seed}/{subset}")
        keep.update(indices if len(indices) <= max_per_subset else rng.sample(indices, max_per_subset))
    return [r for i, r in enumerate(records) if i in keep]


def draw_fewshot(pool: Sequence[PairRecord], n: int, seed: int, by: str = "section") -> list[PairRecord]:
    """``n`` few-shot pairs from the pool, spread evenly over its groups (seeded)."""
    if n > len(pool):
        raise ValueError(f"asked for {n} few-shot pairs but the pool has {len(pool)}")
    groups: dict[str, list[PairRecord]] = defaultdict(list)
    for record in pool:
        groups[group_key(record, by)].append(record)
    rng = random.Random(seed)
    for members in groups.values():
        rng.shuffle(members)
    names = sorted(groups)
    drawn: list[PairRecord] = []
    while len(drawn) < n:
        for name in names:
            if groups[name] and len(drawn) < n:
                drawn.append(groups[name].pop())
    rng.shuffle(drawn)
    return drawn
