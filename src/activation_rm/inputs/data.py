"""Few-shot examples: parsing and validating JSONL files or lists of dicts.

Pointwise lines are ``{"prompt", "response", "label"}`` (label yes/no, true/false, 1/0); pairwise lines are
``{"prompt", "chosen", "rejected"}``. A prompt is a string or a chat ``messages`` list, and a response a string
(checked by :mod:`activation_rm.inputs.prompts`, as on every other entry point). Every malformed line is
reported with its file and line number, all at once, and nothing is skipped. Either kind may carry ``"images"``:
a list of image paths (relative to the JSONL file) or URLs for vision-language backbones.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from activation_rm.inputs.prompts import Prompt, check_prompt, field_value, text_field

_TRUE = {"yes", "true", "1", "y", "good", "pass"}
_FALSE = {"no", "false", "0", "n", "bad", "fail"}


@dataclass(frozen=True)
class PointwiseExample:
    prompt: Prompt
    response: str
    label: bool
    images: tuple[Any, ...] = ()  # paths, URLs or PIL images shown with the prompt
    source: str = field(default="", compare=False)  # "file:line" where it was read, for error messages


@dataclass(frozen=True)
class PairwiseExample:
    prompt: Prompt
    chosen: str
    rejected: str
    images: tuple[Any, ...] = ()
    source: str = field(default="", compare=False)


Example = PointwiseExample | PairwiseExample


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
MAX_SHOWN = 20  # problems listed in one error message; the rest are counted


def format_problems(problems: Sequence[str], header: str) -> str:
    """``header`` and the first :data:`MAX_SHOWN` problems, one per line, with a count of the rest."""
    more = f"\n... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
    return header + "\n" + "\n".join(problems[:MAX_SHOWN]) + more


class InputProblem(ValueError):
    """Bad user input (a file, a line, a field): commands print the message and exit 2, never a traceback."""


class ExampleError(InputProblem):
    """One or more malformed examples; the message lists every problem with its file and line."""

    def __init__(self, problems: list[str], header: str | None = None) -> None:
        self.problems = problems
        if header is None and len(problems) == 1:
            super().__init__(problems[0])
        else:
            super().__init__(format_problems(problems, header or f"{len(problems)} malformed example(s):"))


class EmptyInputError(InputProblem):
    """An input file with no JSON lines: one message for every command, so an empty file never looks like
    success ("scored 0") or like a malformed example."""

    def __init__(self, path: str | os.PathLike, what: str = "lines") -> None:
        super().__init__(f"{path}: the file has no JSON {what} (it is empty or blank)")


def parse_label(value: Any) -> bool:
    """yes/no, true/false, 1/0 (as strings, bools or numbers) to a bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"label must be yes/no, true/false or 1/0, got {value!r}")


def parse_example(record: Any) -> Example:
    """One dict to an example; raises ValueError naming the bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    prompt = field_value(record, "prompt", check_prompt)
    images = parse_images(record)
    if "chosen" in record or "rejected" in record:
        return PairwiseExample(prompt, text_field(record, "chosen"), text_field(record, "rejected"), images)
    if "response" in record:
        label = field_value(record, "label", parse_label)
        return PointwiseExample(prompt, text_field(record, "response"), label, images)
    if "label" in record:
        raise ValueError("missing field 'response'")
    raise ValueError("expected 'response' and 'label' (pointwise) or 'chosen' and 'rejected' (pairwise)")


def parse_images(record: dict[str, Any]) -> tuple[Any, ...]:
    """The optional ``images`` field: a list of non-empty path or URL strings (PIL images from Python)."""
    value = record.get("images", ())
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"field 'images' must be a list of image paths or URLs, got {type(value).__name__}")
    for i, item in enumerate(value):
        if isinstance(item, str) and not item.strip():
            raise ValueError(f"field 'images'[{i}] is empty")
        if not isinstance(item, str) and not hasattr(item, "convert"):  # PIL images pass
            raise ValueError(f"field 'images'[{i}] must be a path or URL string, got {type(item).__name__}")
    return tuple(value)


def is_url(ref: Any) -> bool:
    return isinstance(ref, str) and ref.split("://", 1)[0].lower() in ("http", "https")


def resolve_image_paths(images: tuple[Any, ...], base_dir: Path) -> tuple[Any, ...]:
    """Relative image paths are relative to the JSONL file's folder; URLs and absolute paths stay as they are."""
    return tuple(str(base_dir / ref) if isinstance(ref, str) and not is_url(ref) and not Path(ref).is_absolute()
                 else ref for ref in images)


def decode_line(raw: bytes) -> Any:
    """One JSONL line (bytes, without its newline) to a value; raises ValueError with a message that says what
    is wrong and where in the line (a UTF-8 byte offset, a JSON column counted in characters from 1)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return _raise(f"not valid UTF-8 (byte 0x{raw[err.start]:02x} at offset {err.start})")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        at = "end of line: truncated?" if err.pos >= len(text.rstrip()) else f"column {err.colno}"
        return _raise(f"invalid JSON ({err.msg} at {at})")
    except RecursionError:
        return _raise("invalid JSON (nested too deeply)")
    if _SURROGATE_ESCAPE.search(text):  # "\ud800" alone decodes to a str that cannot be written back as UTF-8
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as err:
            return _raise(f"a lone UTF-16 surrogate escape (\\u{ord(err.object[err.start]):04x}) is not valid Unicode")
    return value


def _raise(message: str) -> Any:
    raise ValueError(message)


def split_jsonl(text: str) -> list[str]:
    """The lines of JSONL text split on newlines only: ``str.splitlines`` also splits on U+2028 and other
    separators, which JSON strings may carry unescaped, and would tear one record into two."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def scan_jsonl(path: str | os.PathLike, start_after: int = 0) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, value, problem) for each non-blank line after ``start_after``: ``problem`` is None, or a
    message naming the file and line (the value is then None), so callers can report every bad line at once."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\r\n")
            if number <= start_after or not raw.strip():
                continue
            try:
                yield number, decode_line(raw), None
            except ValueError as err:
                yield number, None, f"{path}:{number}: {err}"


def read_jsonl(path: str | os.PathLike, error: Callable[[str], Exception] | None = None,
               what: str = "lines") -> list[tuple[int, Any]]:
    """(line number, decoded object) of every non-blank line; every undecodable line is reported in one
    ``error(message)`` (default :class:`ExampleError`) and an empty file as :class:`EmptyInputError`."""
    records, problems = [], []
    for number, value, problem in scan_jsonl(path):
        if problem:
            problems.append(problem)
        else:
            records.append((number, value))
    if problems and error is None:
        raise ExampleError(problems, header=f"{len(problems)} undecodable line(s):")
    if problems:
        raise error(format_problems(problems, f"{len(problems)} undecodable line(s):"))
    if not records:
        raise EmptyInputError(path, what)
    return records


def load_examples(source: str | os.PathLike | Iterable[dict[str, Any]]) -> list[Example]:
    """Examples from a JSONL path or a list of dicts; raises :class:`ExampleError` listing every bad line."""
    if isinstance(source, (str, os.PathLike)):
        where = str(source)
        records, problems = [], []
        for number, value, problem in scan_jsonl(source):
            if problem:
                problems.append((number, problem))
            else:
                records.append((number, value))
        if not records and not problems:
            raise EmptyInputError(where, "examples")
    else:
        where = "examples"
        records = [(i, r) for i, r in enumerate(source)]
        problems = []
    examples: list[Example] = []
    base_dir = Path(where).parent if where != "examples" else Path(".")
    for number, record in records:
        label = f"{where}:{number}" if where != "examples" else f"examples[{number}]"
        try:
            example = parse_example(record)
        except ValueError as err:
            problems.append((number, f"{label}: {err}"))
            continue
        example = replace(example, source=label)
        if example.images:
            images = resolve_image_paths(example.images, base_dir)
            problems.extend((number, f"{label}: image file not found: {ref}") for ref in images
                            if isinstance(ref, str) and not is_url(ref) and not Path(ref).is_file())
            example = replace(example, images=images)
        examples.append(example)
    if problems:
        problems.sort(key=lambda numbered: numbered[0])  # decode and field problems come from two passes
        raise ExampleError([text for _, text in problems], header=f"{len(problems)} malformed example(s):")
    if not examples:
        raise EmptyInputError(where, "examples")
    kinds = {type(e) for e in examples}
    if len(kinds) > 1:
        raise ExampleError([f"{where}: mixes pointwise and pairwise examples; use one kind per file"])
    return examples

