"""Images sent to the reward server: where they may come from, and decoding them before they can join a batch.

A request item's ``images`` are strings, each one of:

* a ``data:image/...;base64,...`` URI (always allowed; the body limit bounds its size);
* a local path, only when the server was started with ``--image-root DIR``: relative paths are taken under that
  directory, and a path (after resolving ``..`` and symbolic links) that leaves it is refused, so clients can never
  read other files of the server;
* an ``http(s)`` URL, only with ``--allow-network`` (the server would otherwise fetch whatever a client names).

Every image is decoded here, in the request handler, so a bad image is answered with a 4xx naming the item and the
image and never reaches the model.
"""

from __future__ import annotations

import base64
import binascii
import io
import urllib.error
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activation_rm.inputs.data import is_url
from activation_rm.inputs.images import decode_image, fetch_url

#: default limits: bytes of one encoded image, pixels of one decoded image, images per item
MAX_IMAGE_BYTES = 32 * 1024 * 1024
MAX_IMAGE_PIXELS = 36_000_000
MAX_IMAGES_PER_ITEM = 16
URL_TIMEOUT_S = 30.0


class RequestImageError(ValueError):
    """Image ``index`` of item ``item`` cannot be used; the message says which and why."""

    def __init__(self, item: int, index: int | None, message: str) -> None:
        where = f"images[{item}]" + (f"[{index}]" if index is not None else "")
        super().__init__(f"{where}: {message}")
        self.item, self.index, self.message = item, index, f"{where}: {message}"


@dataclass(frozen=True)
class ImagePolicy:
    """Which image sources the server accepts and how large they may be."""

    root: str | None = None
    allow_network: bool = False
    max_bytes: int = MAX_IMAGE_BYTES
    max_pixels: int = MAX_IMAGE_PIXELS
    max_per_item: int = MAX_IMAGES_PER_ITEM
    timeout_s: float = URL_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.root is not None and not Path(self.root).is_dir():
            raise ValueError(f"--image-root {self.root} is not a directory")
        for key in ("max_bytes", "max_pixels", "max_per_item"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be positive, got {getattr(self, key)}")

    def public(self) -> dict[str, Any]:
        """What ``/info`` shows: ``image_root`` as its folder's name only (clients need not know server paths)."""
        root = Path(self.root).resolve().name if self.root is not None else None
        return {"image_root": root, "allow_network": self.allow_network, "max_image_bytes": self.max_bytes,
                "max_image_pixels": self.max_pixels, "max_images_per_item": self.max_per_item}


def describe(ref: str) -> str:
    """A short, printable form of an image reference for error messages (never a whole base64 payload)."""
    if ref[:5].lower() == "data:":
        head = ref.split(",", 1)[0]
        return f"{head[:60]},... ({len(ref)} characters)"
    return repr(ref if len(ref) <= 120 else ref[:117] + "...")


def _has_scheme(ref: str) -> bool:
    return "://" in ref or ref[:5].lower() in ("data:", "file:")


def _data_uri_bytes(ref: str, policy: ImagePolicy) -> bytes:
    header, comma, payload = ref.partition(",")
    if not comma or not header.lower().startswith("data:image/") or not header.lower().endswith(";base64"):
        raise ValueError("a data URI must look like data:image/png;base64,<data>")
    payload = "".join(payload.split())
    if len(payload) * 3 // 4 > policy.max_bytes:
        raise ValueError(f"image is larger than the limit of {policy.max_bytes} bytes")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"invalid base64 data: {err}") from None


def _url_bytes(ref: str, policy: ImagePolicy) -> bytes:
    if not policy.allow_network:
        raise ValueError("image URLs are refused: the server was started without --allow-network")
    try:
        data = fetch_url(ref, timeout=policy.timeout_s, max_bytes=policy.max_bytes)
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise ValueError(f"cannot fetch it: {err}") from None
    if len(data) > policy.max_bytes:
        raise ValueError(f"image is larger than the limit of {policy.max_bytes} bytes")
    return data


def _file_bytes(ref: str, policy: ImagePolicy) -> bytes:
    if policy.root is None:
        raise ValueError("local image paths are refused: the server was started without --image-root "
                         "(send a data:image/...;base64 URI instead)")
    try:
        root = Path(policy.root).resolve()
        path = (root / ref).resolve()  # an absolute ref replaces root; both are checked the same way
        if not path.is_relative_to(root):
            raise ValueError("the path is outside the server's --image-root")
        if not path.is_file():
            raise ValueError("image file not found under --image-root")
        if path.stat().st_size > policy.max_bytes:
            raise ValueError(f"image is larger than the limit of {policy.max_bytes} bytes")
        return path.read_bytes()
    except (OSError, RuntimeError) as err:  # unreadable, name too long, symbolic link loop ...
        raise ValueError(f"cannot read it: {getattr(err, 'strerror', None) or err}") from None


def _decode(data: bytes, policy: ImagePolicy) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        return decode_image(io.BytesIO(data), max_pixels=policy.max_pixels)
    except ValueError:
        raise
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as err:
        raise ValueError(f"not a readable image: {err}") from None
    except Exception as err:  # a malformed file can make a decoder fail in other ways; still the client's image
        raise ValueError(f"not a readable image: {type(err).__name__}: {err}") from None


def load_image_ref(ref: Any, policy: ImagePolicy) -> Any:
    """One reference to an RGB PIL image under ``policy``; raises ValueError saying why not."""
    if not isinstance(ref, str) or not ref.strip():
        raise ValueError("an image must be a non-empty string (path, data URI or URL)")
    if ref[:5].lower() == "data:":
        data = _data_uri_bytes(ref, policy)
    elif is_url(ref):
        data = _url_bytes(ref, policy)
    elif _has_scheme(ref):
        raise ValueError("unsupported image reference; give a path under --image-root, a data:image/...;base64 URI "
                         "or an http(s) URL (with --allow-network)")
    else:
        data = _file_bytes(ref, policy)
    return _decode(data, policy)


def load_request_images(entries: Sequence[Sequence[str] | None], policy: ImagePolicy) -> list[tuple[Any, ...]]:
    """Decoded images of each item (``None`` or ``[]``: no images); the first bad one raises
    :class:`RequestImageError` naming its item and position."""
    out: list[tuple[Any, ...]] = []
    for item, refs in enumerate(entries):
        refs = list(refs or ())
        if len(refs) > policy.max_per_item:
            raise RequestImageError(item, None, f"{len(refs)} images; the limit is {policy.max_per_item} per item")
        decoded = []
        for index, ref in enumerate(refs):
            try:
                decoded.append(load_image_ref(ref, policy))
            except ValueError as err:
                shown = describe(ref) if isinstance(ref, str) else type(ref).__name__
                raise RequestImageError(item, index, f"image {shown}: {err}") from None
        out.append(tuple(decoded))
    return out
