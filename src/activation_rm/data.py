"""Few-shot examples: parsing and validating JSONL files or lists of dicts.

Pointwise lines are ``{"prompt", "response", "label"}`` (label yes/no, true/false, 1/0); pairwise lines are
``{"prompt", "chosen", "rejected"}``. A prompt is a string or a chat ``messages`` list. Every malformed line is
reported with its file and line number, all at once, and nothing is skipped. Either kind may carry ``"images"``:
a list of image paths (relative to the JSONL file) or URLs for vision-language backbones.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

Prompt = str | list[dict[str, Any]]

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


class ExampleError(ValueError):
    """One or more malformed examples; the message lists every problem with its file and line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:20]
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} malformed example(s):\n" + "\n".join(shown) + more)


def parse_label(value: Any) -> bool:
    """yes/no, true/false, 1/0 (as strings, bools or numbers) to a bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"label must be yes/no, true/false or 1/0, got {value!r}")


def check_prompt(value: Any) -> Prompt:
    """A prompt is a non-empty string or a list of ``{"role", "content"}`` messages."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("prompt is empty")
        return value
    if isinstance(value, list) and value:
        for i, message in enumerate(value):
            if not isinstance(message, dict) or "role" not in message or "content" not in message:
                raise ValueError(f"prompt message {i} must be an object with 'role' and 'content'")
        return value
    raise ValueError(f"prompt must be a string or a list of messages, got {type(value).__name__}")


def _text(record: dict[str, Any], key: str) -> str:
    if key not in record:
        raise ValueError(f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    return value


def parse_example(record: Any) -> Example:
    """One dict to an example; raises ValueError naming the bad field."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    if "prompt" not in record:
        raise ValueError("missing field 'prompt'")
    try:
        prompt = check_prompt(record["prompt"])
    except ValueError as err:
        raise ValueError(f"field 'prompt': {err}") from None
    images = parse_images(record)
    if "chosen" in record or "rejected" in record:
        return PairwiseExample(prompt, _text(record, "chosen"), _text(record, "rejected"), images)
    if "response" in record:
        if "label" not in record:
            raise ValueError("missing field 'label'")
        try:
            label = parse_label(record["label"])
        except ValueError as err:
            raise ValueError(f"field 'label': {err}") from None
        return PointwiseExample(prompt, _text(record, "response"), label, images)
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


def read_jsonl(path: str | os.PathLike, error: Callable[[str], Exception] | None = None) -> Iterable[tuple[int, Any]]:
    """(line number, decoded object) for each non-blank line; a JSON error is raised as ``error(message)``
    (default :class:`ExampleError`), naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as err:
                message = f"{path}:{number}: invalid JSON ({err.msg} at column {err.colno})"
                raise (error(message) if error else ExampleError([message])) from None


def load_examples(source: str | os.PathLike | Iterable[dict[str, Any]]) -> list[Example]:
    """Examples from a JSONL path or a list of dicts; raises :class:`ExampleError` listing every bad line."""
    if isinstance(source, (str, os.PathLike)):
        where = str(source)
        records = list(read_jsonl(source))
    else:
        where = "examples"
        records = [(i, r) for i, r in enumerate(source)]
    examples: list[Example] = []
    problems: list[str] = []
    base_dir = Path(where).parent if where != "examples" else Path(".")
    for number, record in records:
        label = f"{where}:{number}" if where != "examples" else f"examples[{number}]"
        try:
            example = parse_example(record)
        except ValueError as err:
            problems.append(f"{label}: {err}")
            continue
        if example.images:
            images = resolve_image_paths(example.images, base_dir)
            problems.extend(f"{label}: image file not found: {ref}" for ref in images
                            if isinstance(ref, str) and not is_url(ref) and not Path(ref).is_file())
            example = replace(example, images=images, source=label)
        examples.append(example)
    if problems:
        raise ExampleError(problems)
    if not examples:
        raise ExampleError([f"{where}: no examples"])
    kinds = {type(e) for e in examples}
    if len(kinds) > 1:
        raise ExampleError([f"{where}: mixes pointwise and pairwise examples; use one kind per file"])
    return examples
