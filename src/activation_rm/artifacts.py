"""Artifact files: tensors in safetensors, everything else in JSON, both written atomically.

An artifact is a directory holding ``arm.safetensors`` and ``arm.json``. The JSON is written last and records the
SHA-256 of the tensor file, so a crash mid-save or a truncated copy is detected on load instead of being used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .data import InputProblem

TENSORS_FILE = "arm.safetensors"
META_FILE = "arm.json"
FORMAT_VERSION = 1


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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
    full = {"format_version": FORMAT_VERSION, **meta, "tensors_sha256": _sha256(directory / TENSORS_FILE)}
    atomic_write_text(directory / META_FILE, json.dumps(full, indent=2, sort_keys=False) + "\n")
    return directory


def read_artifact_meta(directory: str | os.PathLike) -> dict[str, Any]:
    """The checked metadata of an artifact directory (format, checksum of its tensors) without loading the
    tensors, so commands can read an artifact's mode before any slow work; :class:`ArtifactError` says what is wrong."""
    directory = Path(directory)
    meta_path, tensor_path = directory / META_FILE, directory / TENSORS_FILE
    if not directory.is_dir():
        raise ArtifactError(f"artifact not found: {directory} is not a directory")
    if not meta_path.is_file() or not tensor_path.is_file():
        missing = [p.name for p in (meta_path, tensor_path) if not p.is_file()]
        raise ArtifactError(f"incomplete artifact {directory}: missing {', '.join(missing)}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(f"corrupt artifact metadata {meta_path}: {err}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{meta_path}: unknown artifact format version {meta.get('format_version')!r}"
                            if isinstance(meta, dict) else f"{meta_path}: not an artifact metadata object")
    if meta.get("tensors_sha256") != _sha256(tensor_path):
        raise ArtifactError(f"corrupt or truncated artifact tensors {tensor_path}: checksum does not match {META_FILE}")
    for key in ("template", "backbone", "mode"):
        if key not in meta:
            raise ArtifactError(f"artifact {directory} lacks metadata field {key!r}")
    return meta


def read_artifact(directory: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, meta) of an artifact directory; :class:`ArtifactError` names what is wrong."""
    meta = read_artifact_meta(directory)
    tensor_path = Path(directory) / TENSORS_FILE
    try:
        tensors = load_file(str(tensor_path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ArtifactError(f"corrupt artifact tensors {tensor_path}: {err}") from None
    return tensors, meta
