"""Resumable JSONL jobs: read items line by line, score them in chunks, append results as they are done.

An output line is the input line's own fields, then the result fields, then the tool's bookkeeping under one key,
:data:`BOOKKEEPING_KEY` (``"activation_rm"``): ``{"line": n}``, the input line it answers, plus ``"replaced"`` (the
input's own values of fields the line overwrote, so nothing of the input is lost) and ``"error"`` (why an item has
no result: a score that is not a finite number is never written). The tool reads only that key, so no input field
can disturb a resume.

Beside the output, ``OUT.job.json`` (:func:`job_file`) records what the job is (command, artifact fingerprints,
options, input path) and the size and SHA-256 of the input prefix consumed so far; it is replaced atomically after
every chunk. A rerun appends only to its own job's output: every complete line a result line, the same job, the
consumed prefix of the input unchanged. A last line without its newline (a crash mid-write) is dropped and redone;
anything else is refused with an :class:`OutputError` before any model loads, and the input itself as output too.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activation_rm.inputs.data import EmptyInputError, InputProblem, format_problems, scan_jsonl
from activation_rm.inputs.prompts import check_prompt, field_value, text_field

PAIR_KEYS = (("response_a", "response_b"), ("chosen", "rejected"), ("a", "b"))
#: the output field holding the tool's bookkeeping; everything else on an output line is the input's or a result
BOOKKEEPING_KEY = "activation_rm"
JOB_FORMAT = 1


class InputError(InputProblem):
    """A malformed input line; the message names the file and line."""


class OutputError(InputProblem):
    """An output file a job must not append to (another tool's, another job's, or the input itself)."""


@dataclass
class JobStats:
    done_before: int = 0
    scored: int = 0
    truncated: int = 0
    failed: int = 0

    def failure_note(self) -> str:
        """The commands' summary of failed items ("" when none), pointing at where the reasons are."""
        if not self.failed:
            return ""
        return (f"; {self.failed} item(s) failed: their result fields are null, the reason is in their "
                f"'{BOOKKEEPING_KEY}.error'")


@dataclass(frozen=True)
class Job:
    """What a resumable output answers: the command, its artifacts, and the options that change results. A rerun
    appends to an output only when it describes the same job on the same input."""

    command: str = "jsonl"
    artifacts: tuple[str | os.PathLike, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)

    def describe(self, input_path: str | os.PathLike) -> dict[str, Any]:
        """The job as its record stores it (artifacts by fingerprint, the input by resolved path)."""
        return {"command": self.command,
                "artifacts": [{"path": str(a), "sha256": artifact_fingerprint(a)} for a in self.artifacts],
                "options": json.loads(json.dumps(self.options)), "input": str(Path(input_path).resolve())}


def artifact_fingerprint(directory: str | os.PathLike) -> str | None:
    """SHA-256 of an artifact's metadata file, which records its tensors' SHA-256: it pins the whole artifact.
    None when it cannot be read (the artifact checks say why)."""
    from activation_rm.scoring.artifacts import META_FILE  # imported here: the artifact module loads torch

    try:
        return hashlib.sha256((Path(directory) / META_FILE).read_bytes()).hexdigest()
    except OSError:
        return None


def job_file(output: str | os.PathLike) -> Path:
    """Where the job record of ``output`` lives: beside it, named after it."""
    output = Path(output)
    return output.with_name(output.name + ".job.json")


@dataclass(frozen=True)
class Resume:
    """Where a job continues: after input line ``done_line``, appending at byte ``keep_bytes`` of the output (a torn
    last line beyond it is dropped)."""

    done_line: int = 0
    keep_bytes: int = 0


def _answered_line(raw: bytes) -> int | None:
    """The input line a result line answers, or None when ``raw`` is not a result line of this tool."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    book = value.get(BOOKKEEPING_KEY) if isinstance(value, dict) else None
    line = book.get("line") if isinstance(book, dict) else None
    return line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None


def _is_torn_result(tail: bytes) -> bool:
    """A last line without its newline is a torn result line when it starts like one and is not a complete
    line of something else."""
    if not tail.startswith(b"{"):
        return False
    try:
        json.loads(tail)
    except (ValueError, RecursionError):
        return True
    return _answered_line(tail) is not None


def _read_output(output: Path) -> Resume:
    """Where the results in ``output`` end; a complete line that is not a result line is an :class:`OutputError`."""
    done = keep = 0
    with open(output, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n") and _is_torn_result(raw):
                break
            line = _answered_line(raw) if raw.endswith(b"\n") else None
            if line is None or line <= done:
                raise OutputError(f"{output}:{number}: not a result line of this tool (activation-rm); refusing "
                                  "to append to a file it did not write: give a new output file")
            done, keep = line, keep + len(raw)
    return Resume(done, keep)


def _read_job_record(output: Path) -> dict[str, Any]:
    path = job_file(output)
    if not path.is_file():
        raise OutputError(f"{output} has no job record {path.name} beside it (an earlier version's output, or the "
                          "record was removed), so a rerun cannot tell whether it is the same job: give a new output "
                          "file")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        done = record["done"]
        if record["activation_rm_job"] != JOB_FORMAT or not isinstance(record["job"], dict) or not (
                isinstance(done["bytes"], int) and isinstance(done["sha256"], str)):
            raise ValueError("unknown format")
    except (ValueError, KeyError, TypeError) as err:
        raise OutputError(f"{path}: not a job record of activation-rm ({err}): give a new output file") from None
    return record


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of what differs between two job descriptions (artifacts by fingerprint, not path)."""
    differ = ["command"] if old.get("command") != new["command"] else []
    fingerprints = [a.get("sha256") for a in old.get("artifacts", []) if isinstance(a, dict)]
    if fingerprints != [a["sha256"] for a in new["artifacts"]]:
        differ.append("artifact")
    if old.get("input") != new["input"]:
        differ.append("input")
    before = old.get("options") if isinstance(old.get("options"), dict) else {}
    return differ + sorted(k for k in before.keys() | new["options"].keys() if before.get(k) != new["options"].get(k))


def _prefix_matches(path: Path, size: int, sha256: str) -> bool:
    """Whether the first ``size`` bytes of ``path`` exist and hash to ``sha256``."""
    digest, left = hashlib.sha256(), size
    with open(path, "rb") as handle:
        while left > 0:
            block = handle.read(min(left, 1 << 20))
            if not block:
                return False
            digest.update(block)
            left -= len(block)
    return digest.hexdigest() == sha256


def check_output(output_path: str | os.PathLike, input_path: str | os.PathLike, job: Job | None = None) -> Resume:
    """Refuse, before any slow work, an output this job must not append to: a directory, the input itself, a file
    with a complete line that is not a result line, one without a job record, another job's, or one whose input
    changed under its consumed prefix. Returns where the job continues (nothing is modified here). The job is not
    compared while one of its artifacts is unreadable: that artifact's own check reports it."""
    output, source = Path(output_path), Path(input_path)
    if output.is_dir():
        raise FileExistsError(f"output {output} is a directory; give a JSONL file path")
    if not output.exists():
        return Resume()
    if source.exists() and os.path.samefile(source, output):
        raise OutputError(f"output {output} is the input file itself; give another output file")
    if output.stat().st_size == 0:
        return Resume()
    resume = _read_output(output)
    record = _read_job_record(output)
    described = (job or Job()).describe(source)
    if any(artifact["sha256"] is None for artifact in described["artifacts"]):
        return resume
    differ = _differences(record["job"], described)
    if differ:
        raise OutputError(f"{output} was written by another job, with other settings ({', '.join(differ)} differ): "
                          f"give a new output file, or rerun the same job to resume it ({job_file(output).name} "
                          "describes that job)")
    done = record["done"]
    if not _prefix_matches(source, done["bytes"], done["sha256"]):
        raise OutputError(f"{source} changed since {output} was written from it (its first {done['bytes']} bytes "
                          "differ): give a new output file")
    return resume


def completed_lines(output_path: str | os.PathLike) -> int:
    """The input line answered by the last complete result line of an output (0 for none); reads only, and a
    complete line that is not a result line is an :class:`OutputError`."""
    output = Path(output_path)
    if not output.is_file() or output.stat().st_size == 0:
        return 0
    return _read_output(output).done_line


class InputPrefix:
    """Size and SHA-256 of an input's first lines, advanced as a job consumes them (read once, on its own handle)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = self.bytes = 0
        self._digest = hashlib.sha256()
        self._handle: Any = None

    def advance(self, through_line: int) -> None:
        if self._handle is None:
            self._handle = open(self.path, "rb")
        while self.lines < through_line:
            raw = self._handle.readline()
            if not raw:
                break
            self.lines, self.bytes = self.lines + 1, self.bytes + len(raw)
            self._digest.update(raw)

    def record(self) -> dict[str, Any]:
        return {"line": self.lines, "bytes": self.bytes, "sha256": self._digest.hexdigest()}

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


class OutputAppender:
    """Appends result lines to a job's output (fsynced per chunk) and replaces its job record after each chunk.
    Nothing is touched before the first write: a torn last line is dropped then, after the record is in place."""

    def __init__(self, output: Path, source: Path, job: Job, resume: Resume) -> None:
        self.output, self.resume = output, resume
        self.identity = job.describe(source)
        self.prefix = InputPrefix(source)
        self.prefix.advance(resume.done_line)
        self._handle: Any = None

    def write(self, lines: Sequence[tuple[int, str]]) -> None:
        """Append ``(input line number, output line)`` pairs, then record the input consumed through the last."""
        if not lines:
            return
        if self._handle is None:
            self._open()
        self._handle.write("".join(text for _, text in lines).encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.prefix.advance(lines[-1][0])
        self._write_record()

    def _open(self) -> None:
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self._write_record()  # first: every result line on disk has its job record
        if self.output.exists() and self.output.stat().st_size > self.resume.keep_bytes:
            os.truncate(self.output, self.resume.keep_bytes)
        self._handle = open(self.output, "ab")

    def _write_record(self) -> None:
        from activation_rm.scoring.artifacts import atomic_write_text

        record = {"activation_rm_job": JOB_FORMAT, "job": self.identity, "done": self.prefix.record()}
        atomic_write_text(job_file(self.output), json.dumps(record, indent=1, ensure_ascii=False) + "\n")

    def close(self) -> None:
        self.prefix.close()
        if self._handle is not None:
            self._handle.close()


def _non_finite(value: Any) -> tuple[str, float] | None:
    """(field path, value) of the first NaN or infinite number inside ``value``, or None (iterative: any depth)."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where, item
        if isinstance(item, dict):
            stack.extend((f"{where}.{key}" if where else str(key), child) for key, child in reversed(item.items()))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{i}]", child) for i, child in reversed(list(enumerate(item))))
    return None


def output_record(number: int, record: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """One output line: the input's fields, the result's, and the bookkeeping. A result holding a number that is
    not finite fails the item (its result fields null, the reason in ``error``); input values of fields the line
    overwrites are kept under ``replaced``."""
    book: dict[str, Any] = {"line": number}
    bad = _non_finite(result)
    if bad:
        result = dict.fromkeys(result)
        book["error"] = f"no result: {bad[0]} is {json.dumps(bad[1])}, not a finite number"
    replaced = {key: value for key, value in record.items() if key in result or key == BOOKKEEPING_KEY}
    if replaced:
        book["replaced"] = replaced
    return {**record, **result, BOOKKEEPING_KEY: book}


def _record_problem(path: Path, number: int, record: Any) -> str | None:
    """Why a decoded input line cannot be a job's item (not an object, or a NaN/Infinity the output could not
    carry as JSON), or None."""
    if not isinstance(record, dict):
        return f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
    bad = _non_finite(record)
    if bad:
        return f"{path}:{number}: field {bad[0]!r} is {json.dumps(bad[1])}, which is not valid JSON"
    return None


def last_line_number(path: str | os.PathLike) -> int:
    """Number of the last non-blank line of ``path`` (0 if none), read as bytes without decoding JSON."""
    last = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                last = number
    return last


def answered_through(out_path: str | os.PathLike) -> int:
    """The input line number the results in ``out_path`` reach (0 when there are none); read only."""
    output = Path(out_path)
    if not output.is_file() or output.stat().st_size == 0:
        return 0
    return _read_output(output).done_line


def output_complete(in_path: str | os.PathLike, out_path: str | os.PathLike) -> bool:
    """Whether ``out_path`` already answers every line of ``in_path``, so a finished job's rerun can say so
    without loading a model (an input that grew, or a torn last output line, is not complete). Call it after
    :func:`check_output` has accepted the output for this job."""
    done = answered_through(out_path)
    return done > 0 and done >= last_line_number(in_path)


def iter_records(path: Path, start_after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for the non-blank lines after ``start_after``; a bad line is an :class:`InputError`."""
    for number, record, problem in scan_jsonl(path, start_after):
        problem = problem or _record_problem(path, number, record)
        if problem:
            raise InputError(problem)
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
        problem = problem or _record_problem(path, number, record)
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


def _checked(path: Path, number: int, read: Callable[..., Any], *args: Any) -> Any:
    """``read(*args)``, its ValueError an :class:`InputError` naming the file and line."""
    try:
        return read(*args)
    except ValueError as err:
        raise InputError(f"{path}:{number}: {err}") from None


def prompt_field(path: Path, number: int, record: dict[str, Any]) -> Any:
    """The line's ``prompt``, checked; a missing or bad one is an :class:`InputError` naming the file and line."""
    return _checked(path, number, field_value, record, "prompt", check_prompt)


def pointwise_fields(path: Path, number: int, record: dict[str, Any]) -> tuple[Any, str]:
    """(prompt, response) of a scoring input line."""
    return prompt_field(path, number, record), _checked(path, number, text_field, record, "response")


def pair_fields(path: Path, number: int, record: dict[str, Any]) -> tuple[Any, str, str, tuple[str, str]]:
    """(prompt, response a, response b, the key names used) of a comparison input line; a missing key of the pair
    is named before a wrong one."""
    prompt = prompt_field(path, number, record)
    for pair in PAIR_KEYS:
        if any(key in record for key in pair):
            missing = [key for key in pair if key not in record]
            if missing:
                raise InputError(f"{path}:{number}: missing field {missing[0]!r}")
            a, b = (_checked(path, number, text_field, record, key) for key in pair)
            return prompt, a, b, pair
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
            from activation_rm.inputs.images import record_images

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
                  on_chunk: Callable[[int], None] | None = None, job: Job | None = None) -> JobStats:
    """Stream ``in_path`` through ``score_chunk`` into ``out_path`` (appending, resumable; see the module notes).

    ``parse`` turns a line into the scorer's input (raising :class:`InputError`); ``score_chunk`` returns one
    dict of result fields per input. ``job`` says what the output answers (a rerun of another job is refused).
    Results of earlier chunks are on disk before a bad line stops the job.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise FileNotFoundError(f"input file not found: {in_path}")
    job = job or Job()
    resume = check_output(out_path, in_path, job)
    stats = JobStats(done_before=resume.done_line)
    appender = OutputAppender(out_path, in_path, job, resume)
    pending: list[tuple[int, dict[str, Any], Any]] = []

    def flush() -> None:
        if not pending:
            return
        results = score_chunk([parsed for _, _, parsed in pending])
        lines = []
        for (number, record, _), result in zip(pending, results, strict=True):
            line = output_record(number, record, result)
            stats.failed += "error" in line[BOOKKEEPING_KEY]
            lines.append((number, json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n"))
        appender.write(lines)
        stats.scored += len(pending)
        if on_chunk:
            on_chunk(len(pending))
        pending.clear()

    try:
        try:
            for number, record in iter_records(in_path, stats.done_before):
                pending.append((number, record, parse(in_path, number, record)))
                if len(pending) >= chunk_size:
                    flush()
        except InputError:
            flush()
            raise
        flush()
    finally:
        appender.close()
    if not stats.done_before and not stats.scored:
        raise EmptyInputError(in_path)
    return stats
