"""Resumable JSONL jobs: read items line by line, score them in chunks, append results as they are done.

Each output line carries ``"line"``, the input line number it answers. A rerun reads the output, drops a torn last
line left by a crash, and continues after the last line already written, so nothing is scored twice or lost.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import EmptyInputError, InputProblem, check_prompt, format_problems, scan_jsonl, split_jsonl

PAIR_KEYS = (("response_a", "response_b"), ("chosen", "rejected"), ("a", "b"))


class InputError(InputProblem):
    """A malformed input line; the message names the file and line."""


@dataclass
class JobStats:
    done_before: int = 0
    scored: int = 0
    truncated: int = 0


def completed_lines(out_path: Path) -> int:
    """Input line number of the last complete output record (0 if none); removes a torn final line."""
    if not out_path.exists():
        return 0
    raw = out_path.read_bytes()
    keep = raw if raw.endswith(b"\n") or not raw else raw[: raw.rfind(b"\n") + 1]
    last = 0
    lines = split_jsonl(keep.decode("utf-8"))
    for number, line in enumerate(lines, start=1):
        try:
            last = int(json.loads(line)["line"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            if number == len(lines):  # a torn or garbled final record: redo it
                keep = keep[: keep.rstrip(b"\n").rfind(b"\n") + 1]
                break
            raise InputError(f"{out_path}:{number}: not a result line of this tool; refusing to append to it") from None
    if keep != raw:
        with open(out_path, "wb") as handle:
            handle.write(keep)
    return last


def iter_records(path: Path, start_after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for the non-blank lines after ``start_after``; a bad line is an :class:`InputError`."""
    for number, record, problem in scan_jsonl(path, start_after):
        if problem:
            raise InputError(problem)
        if not isinstance(record, dict):
            raise InputError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def check_input(path: str | os.PathLike, parse: Callable[[Path, int, dict[str, Any]], Any]) -> int:
    """Read and parse every line of ``path`` without scoring anything, so a command can refuse bad input
    before it loads a model; raises :class:`InputError` listing every bad line (capped, with a count of the rest),
    or :class:`EmptyInputError`. Returns the number of lines."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    problems: list[str] = []
    lines = 0
    for number, record, problem in scan_jsonl(path):
        lines += 1
        if problem is None and not isinstance(record, dict):
            problem = f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
        if problem is None:
            try:
                parse(path, number, record)
            except InputError as err:
                problem = str(err)
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(format_problems(problems, f"{len(problems)} bad input line(s) in {path}:"))
    if not lines:
        raise EmptyInputError(path)
    return lines


def check_output(output_path: str | os.PathLike) -> int:
    """Refuse an output path that is a directory or a file this tool did not write (before any slow work);
    returns the input line number already done there, as :func:`completed_lines`."""
    output = Path(output_path)
    if output.is_dir():
        raise FileExistsError(f"output {output} is a directory; give a JSONL file path")
    return completed_lines(output)


def prompt_field(path: Path, number: int, record: dict[str, Any]) -> Any:
    """The line's ``prompt``, checked; a missing or bad one is an :class:`InputError` naming the file and line."""
    if "prompt" not in record:
        raise InputError(f"{path}:{number}: missing field 'prompt'")
    try:
        return check_prompt(record["prompt"])
    except ValueError as err:
        raise InputError(f"{path}:{number}: field 'prompt': {err}") from None


def pointwise_fields(path: Path, number: int, record: dict[str, Any]) -> tuple[Any, str]:
    """(prompt, response) of a scoring input line."""
    prompt = prompt_field(path, number, record)
    if "response" not in record:
        raise InputError(f"{path}:{number}: missing field 'response'")
    response = record["response"]
    if not isinstance(response, str):
        raise InputError(f"{path}:{number}: field 'response' must be a string, got {type(response).__name__}")
    return prompt, response


def pair_fields(path: Path, number: int, record: dict[str, Any]) -> tuple[Any, str, str, tuple[str, str]]:
    """(prompt, response a, response b, the key names used) of a comparison input line."""
    prompt = prompt_field(path, number, record)
    for first, second in PAIR_KEYS:
        if first in record or second in record:
            missing = [key for key in (first, second) if key not in record]
            if missing:
                raise InputError(f"{path}:{number}: missing field {missing[0]!r}")
            wrong = [key for key in (first, second) if not isinstance(record[key], str)]
            if wrong:
                raise InputError(f"{path}:{number}: field {wrong[0]!r} must be a string, got "
                                 f"{type(record[wrong[0]]).__name__}")
            a, b = record[first], record[second]
            return prompt, a, b, (first, second)
    raise InputError(f"{path}:{number}: needs a pair: one of " + ", ".join(f"{a}/{b}" for a, b in PAIR_KEYS))


class LineFields(tuple):
    """A parsed input line that unpacks like the plain tuple of fields and also carries the line's decoded
    ``images`` (paths relative to the JSONL file; URLs only with network access allowed)."""

    images: tuple[Any, ...] = ()


def with_images(parse: Callable[[Path, int, dict[str, Any]], Any],
                allow_network: bool = False) -> Callable[[Path, int, dict[str, Any]], LineFields]:
    """``parse`` that also reads the line's ``images`` list; a missing or unreadable image is an
    :class:`InputError` naming the file, line and image path."""

    def parse_line(path: Path, number: int, record: dict[str, Any]) -> LineFields:
        fields = LineFields(parse(path, number, record))
        if record.get("images"):
            from .images import record_images

            try:
                fields.images = record_images(path, number, record, allow_network)
            except ValueError as err:
                raise InputError(str(err)) from None
        return fields

    return parse_line


def chunk_images(chunk: Sequence[Any]) -> list[tuple[Any, ...]] | None:
    """The images of each parsed line of a chunk, or None when no line has any (text-only scoring)."""
    images = [tuple(getattr(fields, "images", ())) for fields in chunk]
    return images if any(images) else None


def run_jsonl_job(in_path: str | os.PathLike, out_path: str | os.PathLike,
                  parse: Callable[[Path, int, dict[str, Any]], Any],
                  score_chunk: Callable[[Sequence[Any]], list[dict[str, Any]]], chunk_size: int = 64,
                  on_chunk: Callable[[int], None] | None = None) -> JobStats:
    """Stream ``in_path`` through ``score_chunk`` into ``out_path`` (appending, resumable).

    ``parse`` turns a line into the scorer's input (raising :class:`InputError`); ``score_chunk`` returns one
    dict of result fields per input. Results of earlier chunks are on disk before a bad line stops the job.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise FileNotFoundError(f"input file not found: {in_path}")
    stats = JobStats(done_before=completed_lines(out_path))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with open(out_path, "a", encoding="utf-8") as out:
        pending: list[tuple[int, dict[str, Any], Any]] = []

        def flush() -> None:
            if not pending:
                return
            results = score_chunk([parsed for _, _, parsed in pending])
            for (number, record, _), result in zip(pending, results, strict=True):
                out.write(json.dumps({"line": number, **record, **result}, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
            stats.scored += len(pending)
            if on_chunk:
                on_chunk(len(pending))
            pending.clear()

        try:
            for number, record in iter_records(in_path, stats.done_before):
                pending.append((number, record, parse(in_path, number, record)))
                if len(pending) >= chunk_size:
                    flush()
        except InputError:
            flush()
            raise
        flush()
    if not stats.done_before and not stats.scored:
        raise EmptyInputError(in_path)
    return stats
