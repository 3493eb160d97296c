"""The one result-row store of the evaluation harnesses (``eval``, ``eval --sweep``, ``benchmarks/accuracy.py``).

A store is an append-only JSONL file of rows, one per key (the values of a few fields, e.g. ``key`` or
``benchmark, seed, method, key``). Rows are appended a batch at a time, in one write, flushed and fsync'd, so a
crash loses at most the batch in flight; a rerun opens the same store and skips every key already there (resume).

Reading is strict where it can be: a torn *last* line (a crash mid-write) is ignored and cut before the next
append, but a line that does not parse anywhere else, or a line that is not a row of this store (not a JSON object,
or without the key fields), is an error naming the file and line, never a silently lost row. A run split across
processes writes one shard each (``items-<shard>.jsonl``); :meth:`RowStore.of_run` knows the rows of every shard.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from activation_rm.inputs.data import split_jsonl


class RowStoreError(ValueError):
    """A results file this store will not read: a corrupt line that is not the last, or a foreign line."""


def read_rows(path: str | os.PathLike, key: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The rows of a results JSONL (none when it does not exist). A torn last line is ignored; a corrupt line
    elsewhere, a line that is not a JSON object, or one without every ``key`` field raises :class:`RowStoreError`."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as handle:
        lines = split_jsonl(handle.read())
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                continue  # a torn last line (a crash mid-write): redone
            raise RowStoreError(f"{path}:{number}: corrupt results line (not the last line, so not a torn write "
                                "the store can redo); repair or remove it") from None
        if not isinstance(row, dict):
            raise RowStoreError(f"{path}:{number}: not a results row (a JSON {type(row).__name__}, not an object)")
        missing = [field for field in key if field not in row]
        if missing:
            raise RowStoreError(f"{path}:{number}: not a row of this store: no field(s) {missing} (its fields: "
                                f"{sorted(row)[:8]})")
        rows.append(row)
    return rows


def repair_tail(path: str | os.PathLike) -> None:
    """Cut a torn last line (a crash mid-write) so appended rows start on a fresh line."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
    data = path.read_bytes()
    cut = data.rfind(b"\n") + 1
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data[:cut])
    os.replace(tmp, path)


def shard_paths(out_dir: str | os.PathLike, stem: str) -> list[Path]:
    """Every shard of ``stem`` in a run directory (``stem.jsonl``, ``stem-<shard>.jsonl``), in name order."""
    return sorted(Path(out_dir).glob(f"{stem}*.jsonl"))


def read_all_rows(out_dir: str | os.PathLike, stem: str = "items") -> list[dict[str, Any]]:
    """Rows of every shard (``items.jsonl``, ``items-<shard>.jsonl``) of a run directory; a row another shard
    recomputed (same benchmark, seed, method, key and group) is kept once, the first."""
    rows, seen = [], set()
    for path in shard_paths(out_dir, stem):
        for row in read_rows(path):
            key = (row.get("benchmark"), row.get("seed"), row.get("method"), row.get("key"), row.get("group"))
            if key not in seen:
                seen.add(key)
                rows.append(row)
    return rows


class RowStore:
    """Append-only JSONL of result rows keyed by the values of ``key`` fields (one field: the value itself; more: a
    tuple), resumable. ``read`` are the files whose rows count as done (default: ``path`` alone); the first row of
    a key wins. Rows are written only for keys not yet there, so adding is idempotent."""

    def __init__(self, path: str | os.PathLike, key: Sequence[str] = ("key",),
                 read: Sequence[str | os.PathLike] | None = None) -> None:
        if isinstance(key, str) or not key:
            raise TypeError(f"key must be a non-empty sequence of field names, got {key!r}")
        self.path = Path(path)
        self.fields = tuple(key)
        self.by_key: dict[Hashable, dict[str, Any]] = {}
        self.repaired = False  # a torn last line of ``path`` is cut before the first append, not on reading
        for source in [Path(p) for p in (read if read is not None else [self.path])]:
            for row in read_rows(source, self.fields):
                self.by_key.setdefault(self.key_of(row), row)

    @classmethod
    def of_run(cls, out_dir: str | os.PathLike, stem: str, key: Sequence[str], shard: str | None = None) -> RowStore:
        """The store ``out_dir/stem[-shard].jsonl`` of a run split across processes: it writes its own shard and
        counts the rows of every shard as done."""
        out = Path(out_dir)
        path = out / f"{stem}{f'-{shard}' if shard else ''}.jsonl"
        return cls(path, key, read=sorted({*shard_paths(out, stem), path}))

    def key_of(self, row: dict[str, Any]) -> Hashable:
        values = tuple(row[field] for field in self.fields)
        return values[0] if len(values) == 1 else values

    def __contains__(self, key: Hashable) -> bool:
        return key in self.by_key

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.by_key.values())

    @property
    def rows(self) -> list[dict[str, Any]]:
        return list(self.by_key.values())

    def add(self, rows: dict[str, Any] | Iterable[dict[str, Any]]) -> int:
        """Append the rows whose keys are new (one write, fsync'd); returns how many were written."""
        batch = [rows] if isinstance(rows, dict) else list(rows)
        new: list[dict[str, Any]] = []
        for row in batch:
            missing = [field for field in self.fields if field not in row]
            if missing:
                raise RowStoreError(f"{self.path}: a row without the key field(s) {missing}")
            key = self.key_of(row)
            if key not in self.by_key:
                self.by_key[key] = row
                new.append(row)
        if not new:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.repaired:
            repair_tail(self.path)
            self.repaired = True
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in new)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        return len(new)
