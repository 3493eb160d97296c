"""Artifact files: tensors in safetensors, everything else in JSON, both written atomically.

An artifact is a directory holding ``arm.safetensors`` and ``arm.json``. The JSON is written last and records the
SHA-256 of the tensor file and of its own content, so a crash mid-save, a truncated copy or an edit is detected on
load instead of being used. An artifact is data: on load, arm.json is checked against :data:`META_SCHEMA` (types,
values, heads in range) and against the tensors (shapes, the selected heads, finite values), and every problem is
reported in one :class:`ArtifactError` before any backbone loads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save_file

from activation_rm.fit.config import INTERVENTIONS
from activation_rm.inputs.data import InputProblem, format_problems
from activation_rm.judge.templates import LAYOUTS, MODES, POINTWISE, JudgeTemplate

TENSORS_FILE = "arm.safetensors"
META_FILE = "arm.json"
#: the format this library writes: 2 adds ``meta_sha256``, the checksum of arm.json itself
FORMAT_VERSION = 2
#: the formats it reads (1: artifacts written before arm.json carried its own checksum)
READABLE_VERSIONS = (1, 2)
META_CHECKSUM = "meta_sha256"
TENSOR_NAMES = ("means", "mask", "probs")
#: how far a probability in arm.json (rounded to 6 places) may be from the same probability in the tensors
PROB_TOLERANCE = 1e-5


class ArtifactError(InputProblem):
    """An artifact that is missing, corrupt, truncated or of an unknown format."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of arm.json's content without its own checksum field, over a canonical form (sorted keys, no
    spaces), so re-indenting the file keeps it valid while changing any value does not."""
    body = {key: value for key, value in meta.items() if key != META_CHECKSUM}
    return _sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def write_artifact(directory: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Save ``tensors`` and ``meta`` into ``directory`` (created if needed); returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".arm.", suffix=".safetensors.tmp")
    os.close(handle)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp)
        os.replace(tmp, directory / TENSORS_FILE)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    full = {"format_version": FORMAT_VERSION, **meta,
            "tensors_sha256": _sha256((directory / TENSORS_FILE).read_bytes())}
    full = json.loads(json.dumps(full))  # the checksum is of what a reader will parse (tuples become lists)
    full[META_CHECKSUM] = meta_checksum(full)
    atomic_write_text(directory / META_FILE, json.dumps(full, indent=2, sort_keys=False) + "\n")
    return directory


def read_artifact_meta(directory: str | os.PathLike) -> dict[str, Any]:
    """The checked metadata of an artifact directory, so commands can read an artifact's mode before any slow
    work. The tensors are checked too (they are small, and read anyway for their checksum);
    :class:`ArtifactError` says everything that is wrong."""
    return read_artifact(directory)[1]


def read_artifact(directory: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, meta) of an artifact directory, both checked; :class:`ArtifactError` names every problem."""
    directory = Path(directory)
    meta_path, tensor_path = directory / META_FILE, directory / TENSORS_FILE
    if not directory.is_dir():
        raise ArtifactError(f"artifact not found: {directory} is not a directory")
    if not meta_path.is_file() or not tensor_path.is_file():
        missing = [p.name for p in (meta_path, tensor_path) if not p.is_file()]
        raise ArtifactError(f"incomplete artifact {directory}: missing {', '.join(missing)}")
    meta = _read_meta(meta_path)
    data = tensor_path.read_bytes()
    if meta.get("tensors_sha256") != _sha256(data):
        raise ArtifactError(f"corrupt or truncated artifact tensors {tensor_path}: checksum does not match {META_FILE}")
    try:
        tensors = load_tensors(data)
    except (SafetensorError, OSError, ValueError) as err:
        raise ArtifactError(f"corrupt artifact tensors {tensor_path}: {err}") from None
    in_meta, in_tensors = artifact_problems(meta, tensors)
    problems = [f"{meta_path}: {p}" for p in in_meta] + [f"{tensor_path}: {p}" for p in in_tensors]
    if problems:
        raise ArtifactError(format_problems(problems, f"invalid artifact {directory} ({len(problems)} problem"
                                                      f"{'s' if len(problems) > 1 else ''}):"))
    return tensors, meta


def _read_meta(meta_path: Path) -> dict[str, Any]:
    """arm.json parsed, of a known format version, and unchanged since it was written (format 2)."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"corrupt artifact metadata {meta_path}: {err}") from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{meta_path}: not an artifact metadata object")
    version = meta.get("format_version")
    if _json_type(version) != "integer" or version not in READABLE_VERSIONS:
        raise ArtifactError(f"{meta_path}: unknown artifact format version {version!r}")
    if version >= 2 and meta.get(META_CHECKSUM) != meta_checksum(meta):
        raise ArtifactError(f"{meta_path}: the file was changed after it was written ({META_CHECKSUM} "
                            f"{'is missing' if META_CHECKSUM not in meta else 'does not match its content'}); "
                            "refit or restore the artifact rather than editing it")
    return meta


# ------------------------------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Field:
    """One arm.json field: the JSON types it may have, whether it must be there (when its parent object is), and
    a check of a well-typed value that returns what is wrong with it, or None."""

    types: tuple[str, ...]
    required: bool = True
    check: Callable[[Any], str | None] | None = None


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (a bool is not an integer here, unlike in Python)."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object",
             type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _has_type(value: Any, types: tuple[str, ...]) -> bool:
    kind = _json_type(value)
    return kind in types or (kind == "integer" and "number" in types)


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], str | None]:
    return lambda value: None if value in choices else f"must be one of {list(choices)}, got {value!r}"


def _at_least(low: int) -> Callable[[Any], str | None]:
    return lambda value: None if value >= low else f"must be at least {low}, got {value}"


def _non_empty(value: str) -> str | None:
    return None if value.strip() else "must not be empty"


def _finite(value: float) -> str | None:
    return None if math.isfinite(value) else f"must be a finite number, got {value}"


def _hex_digest(value: str) -> str | None:
    return None if re.fullmatch(r"[0-9a-f]{64}", value) else f"must be a SHA-256 hex digest, got {value[:70]!r}"


def _pair_of(kind: str, low: int | None = None) -> Callable[[list[Any]], str | None]:
    """Two values of JSON type ``kind`` (each at least ``low``): verdict words and their token ids."""
    def check(values: list[Any]) -> str | None:
        if len(values) != 2 or not all(_has_type(v, (kind,)) for v in values):
            return f"must be a list of two {kind}s, got {values!r:.80}"
        if low is not None and min(values) < low:
            return f"must be at least {low}, got {values}"
        return None
    return check


def _finite_values(values: dict[str, Any]) -> str | None:
    bad = [key for key, v in values.items() if not _has_type(v, ("number",)) or not math.isfinite(v)]
    return f"values must be finite numbers; not for {bad}" if bad else None


STRING, INTEGER, NUMBER, OBJECT, ARRAY = ("string",), ("integer",), ("number",), ("object",), ("array",)
HASH = Field(STRING, check=_hex_digest)

#: arm.json, field by dotted path. A nested field is checked when its parent object is there.
META_SCHEMA: dict[str, Field] = {
    "format_version": Field(INTEGER, check=_one_of(READABLE_VERSIONS)),
    "library": Field(STRING, required=False),
    "library_version": Field(STRING, required=False),
    "mode": Field(STRING, check=_one_of(MODES)),
    "intervention": Field(STRING, required=False, check=_one_of(INTERVENTIONS)),
    "criterion": Field(STRING, check=_non_empty),
    "template": Field(OBJECT),
    "template.criterion": Field(STRING, check=_non_empty),
    "template.mode": Field(STRING, required=False, check=_one_of(MODES)),
    "template.system": Field(("string", "null"), required=False),
    "template.max_length": Field(INTEGER, required=False, check=_at_least(64)),
    "template.pointwise_question": Field(STRING, required=False),
    "template.pairwise_question": Field(STRING, required=False),
    "template.pointwise_verdicts": Field(ARRAY, required=False, check=_pair_of("string")),
    "template.pairwise_verdicts": Field(ARRAY, required=False, check=_pair_of("string")),
    "template.layout": Field(STRING, required=False, check=_one_of(LAYOUTS)),
    "verdict_tokens": Field(OBJECT),
    "verdict_tokens.words": Field(ARRAY, check=_pair_of("string")),
    "verdict_tokens.ids": Field(ARRAY, check=_pair_of("integer", low=0)),
    "selected_heads": Field(ARRAY),
    "num_selected_heads": Field(INTEGER, check=_at_least(0)),
    "shape": Field(OBJECT),
    "shape.layers": Field(INTEGER, check=_at_least(1)),
    "shape.heads": Field(INTEGER, check=_at_least(1)),
    "shape.head_dim": Field(INTEGER, check=_at_least(1)),
    "seed": Field(INTEGER),
    "fit": Field(OBJECT),
    "fit.contexts": Field(OBJECT, required=False),
    "fit.selection": Field(OBJECT, required=False),
    "fit.auto": Field(OBJECT, required=False),
    "fit.auto.chosen": Field(STRING),
    "fit.auto.folds": Field(INTEGER),
    "fit.auto.seconds": Field(NUMBER, check=_finite),
    "fit.auto.cv_accuracy": Field(OBJECT, check=_finite_values),
    "backbone": Field(OBJECT),
    "backbone.name": Field(STRING, check=_non_empty),
    "backbone.model_type": Field(STRING),
    "backbone.config_sha256": HASH,
    "backbone.tokenizer_sha256": HASH,
    "backbone.weights_sha256": HASH,
    "backbone.file_sha256": Field(STRING, required=False, check=_hex_digest),
    "backbone.processor_sha256": Field(STRING, required=False, check=_hex_digest),
    "tensors_sha256": HASH,
    META_CHECKSUM: Field(STRING, required=False, check=_hex_digest),  # required from format 2: see _read_meta
}


def _schema_problems(meta: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """(problems, the fields that passed :data:`META_SCHEMA` by dotted path)."""
    problems: list[str] = []
    valid: dict[str, Any] = {"": meta}
    for path, spec in META_SCHEMA.items():
        parent, _, key = path.rpartition(".")
        if parent not in valid:  # missing or invalid parent: reported once, for the parent
            continue
        if key not in valid[parent]:
            if spec.required:
                problems.append(f"{path}: missing")
            continue
        value = valid[parent][key]
        if not _has_type(value, spec.types):
            problems.append(f"{path}: must be {' or '.join(spec.types)}, got {_json_type(value)} {value!r:.60}")
        elif spec.check is not None and (wrong := spec.check(value)):
            problems.append(f"{path}: {wrong}")
        else:
            valid[path] = value
    return problems, valid


def _template_problems(valid: dict[str, Any]) -> list[str]:
    """The template against the fields that restate it (mode, criterion, verdict words)."""
    if "template" not in valid:
        return []
    defaults = JudgeTemplate.__dataclass_fields__
    mode = valid.get("template.mode", POINTWISE)
    problems = []
    if "mode" in valid and valid["mode"] != mode:
        problems.append(f"mode: {valid['mode']!r} contradicts template.mode {mode!r}")
    if "criterion" in valid and "template.criterion" in valid and valid["criterion"] != valid["template.criterion"]:
        problems.append("criterion: differs from template.criterion")
    verdicts = f"{mode}_verdicts"
    words = list(valid.get(f"template.{verdicts}", defaults[verdicts].default))
    if "verdict_tokens.words" in valid and valid["verdict_tokens.words"] != words:
        problems.append(f"verdict_tokens.words: {valid['verdict_tokens.words']} contradicts the template's "
                        f"{mode} verdicts {words}")
    return problems


def _heads_problems(valid: dict[str, Any]) -> list[str]:
    """Every selected head a [layer, head, probability] inside ``shape``, listed once, as many as counted."""
    if "selected_heads" not in valid:
        return []
    heads = valid["selected_heads"]
    layers, per_layer = valid.get("shape.layers"), valid.get("shape.heads")
    problems, seen = [], set()
    for i, entry in enumerate(heads):
        where = f"selected_heads[{i}]"
        if (_json_type(entry) != "array" or len(entry) != 3 or not _has_type(entry[0], INTEGER)
                or not _has_type(entry[1], INTEGER) or not _has_type(entry[2], NUMBER)):
            problems.append(f"{where}: must be [layer, head, probability], got {entry!r:.60}")
            continue
        layer, head, prob = entry
        if layers is not None and not 0 <= layer < layers:
            problems.append(f"{where}: layer {layer} is out of range (shape.layers is {layers})")
        if per_layer is not None and not 0 <= head < per_layer:
            problems.append(f"{where}: head {head} is out of range (shape.heads is {per_layer})")
        if not (math.isfinite(prob) and 0 <= prob <= 1):
            problems.append(f"{where}: probability must be in [0, 1], got {prob}")
        if (layer, head) in seen:
            problems.append(f"{where}: head ({layer}, {head}) is listed twice")
        seen.add((layer, head))
    if "num_selected_heads" in valid and valid["num_selected_heads"] != len(heads):
        problems.append(f"num_selected_heads: {valid['num_selected_heads']} but selected_heads lists {len(heads)}")
    return problems


def artifact_problems(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    """Everything wrong with an artifact's parsed arm.json (schema, self-consistency) and with its tensors (alone
    and against arm.json), as (arm.json problems, tensor problems), field by field."""
    problems, valid = _schema_problems(meta)
    heads = _heads_problems(valid)
    listed = valid.get("selected_heads") if not heads else None
    return problems + _template_problems(valid) + heads, _tensor_problems(tensors, valid, listed)


def _tensor_problems(tensors: dict[str, torch.Tensor], valid: dict[str, Any], listed: list[Any] | None) -> list[str]:
    """Names, dtypes, shapes equal to arm.json's ``shape``, finite means, probabilities in [0, 1], and a 0/1 mask
    that selects exactly the ``listed`` heads (when arm.json's list is valid)."""
    problems = [f"{name}: missing" for name in TENSOR_NAMES if name not in tensors]
    dims = tuple(valid.get(f"shape.{key}") for key in ("layers", "heads", "head_dim"))
    expected = dims if None not in dims else None
    for name in TENSOR_NAMES:
        tensor = tensors.get(name)
        want = expected if name == "means" or expected is None else expected[:2]
        if tensor is None:
            continue
        if want is not None and tuple(tensor.shape) != want:
            problems.append(f"{name}: shape {tuple(tensor.shape)} differs from arm.json's shape {want}")
        elif name == "mask":
            if tensor.dtype not in (torch.uint8, torch.bool) or not bool(((tensor == 0) | (tensor == 1)).all()):
                problems.append(f"mask: must hold only 0 and 1, got {tensor.dtype} {tensor.unique().tolist()[:5]}")
        elif not tensor.is_floating_point():
            problems.append(f"{name}: must be floating point, got {tensor.dtype}")
        elif not bool(torch.isfinite(tensor).all()):
            problems.append(f"{name}: {int((~torch.isfinite(tensor)).sum())} non-finite values (NaN or inf)")
        elif name == "probs" and not bool(((tensor >= 0) & (tensor <= 1)).all()):
            problems.append("probs: values must be in [0, 1]")
    if not problems and expected is not None and listed is not None:
        problems += _mask_problems(tensors["mask"].bool(), tensors["probs"], listed)
    return problems


def _mask_problems(mask: torch.Tensor, probs: torch.Tensor, listed: list[Any]) -> list[str]:
    """The mask against arm.json's selected heads: the same heads, with the same probabilities."""
    in_mask = {tuple(lh) for lh in mask.nonzero().tolist()}
    in_json = {(layer, head): prob for layer, head, prob in listed}
    problems = []
    if in_mask != set(in_json):
        differ = sorted(in_mask ^ set(in_json))
        problems.append(f"mask: selects {len(in_mask)} heads but arm.json's selected_heads lists {len(in_json)}; "
                        f"they differ at (layer, head) {differ[:5]}{' ...' if len(differ) > 5 else ''}")
    far = sorted(lh for lh, p in in_json.items() if lh in in_mask and abs(float(probs[lh]) - p) > PROB_TOLERANCE)
    if far:
        problems.append(f"probs: differ from arm.json's selected_heads at (layer, head) {far[:5]}")
    return problems
