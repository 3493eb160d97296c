"""Reading the images of judge items: PIL images, local paths or (when allowed) http(s) URLs.

Kept apart from :mod:`activation_rm.judge.vision` and free of torch, so input checks (``scoring.streaming``) and the
server (``serve.images``, which adds its own source policy and limits) decode images before any model is loaded,
with messages that name the file and line an image came from.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from activation_rm.inputs.data import Example, ExampleError, is_url, parse_images, resolve_image_paths

URL_TIMEOUT_S = 30


class ImageError(ValueError):
    """An image that cannot be used; the message names where it was given and its path or URL."""


def decode_image(source: Any, max_pixels: int | None = None) -> Any:
    """An RGB PIL image from a path or a binary file object (fully read, so the file can be closed). With
    ``max_pixels``, a larger image is a ValueError raised from its header, before its pixels are decoded."""
    from PIL import Image

    with Image.open(source) as image:
        width, height = image.size
        if max_pixels is not None and width * height > max_pixels:
            raise ValueError(f"image has {width}x{height} pixels; the limit is {max_pixels}")
        image.load()
        return image.convert("RGB")


def fetch_url(url: str, timeout: float = URL_TIMEOUT_S, max_bytes: int | None = None) -> bytes:
    """The body of an http(s) URL; with ``max_bytes``, at most ``max_bytes + 1`` bytes are read (so a caller can
    tell a body over the limit)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) only)
        return response.read() if max_bytes is None else response.read(max_bytes + 1)


def load_image(ref: Any, *, allow_network: bool = False, where: str = "") -> Any:
    """An RGB PIL image from a PIL image, a local path or (only with ``allow_network``) an http(s) URL."""
    from PIL import Image, UnidentifiedImageError

    prefix = f"{where}: " if where else ""
    if hasattr(ref, "convert") and hasattr(ref, "size"):
        return ref.convert("RGB") if ref.mode != "RGB" else ref
    if isinstance(ref, Path):
        ref = str(ref)
    if not isinstance(ref, str):
        raise ImageError(f"{prefix}an image must be a PIL image, a path or a URL, got {type(ref).__name__}")
    try:
        if is_url(ref):
            if not allow_network:
                raise ImageError(f"{prefix}image {ref} is a URL; fetching it needs allow_network=True "
                                 "(command line: --allow-network)")
            source: Any = io.BytesIO(fetch_url(ref))
        else:
            if not Path(ref).is_file():
                raise ImageError(f"{prefix}image file not found: {ref}")
            source = ref
        return decode_image(source)
    except ImageError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as err:
        raise ImageError(f"{prefix}cannot read image {ref}: {err}") from None


def load_images(refs: Sequence[Any], *, allow_network: bool = False, where: str = "") -> tuple[Any, ...]:
    return tuple(load_image(ref, allow_network=allow_network, where=where) for ref in refs)


def load_example_images(examples: Sequence[Example], allow_network: bool = False) -> list[Example]:
    """Examples with their images decoded, before any compute starts; every bad image of every example is
    reported at once with the file and line it came from."""
    out: list[Example] = []
    problems: list[str] = []
    for index, example in enumerate(examples):
        where = example.source or f"examples[{index}]"
        try:
            out.append(replace(example, images=load_images(example.images, allow_network=allow_network,
                                                           where=where)) if example.images else example)
        except ImageError as err:
            problems.append(str(err))
    if problems:
        raise ExampleError(problems)
    return out


def record_images(path: Path, number: int, record: dict[str, Any], allow_network: bool = False) -> tuple[Any, ...]:
    """The decoded ``images`` of a scoring input line (paths relative to the JSONL file)."""
    where = f"{path}:{number}"
    try:
        refs = resolve_image_paths(parse_images(record), Path(path).parent)
    except ValueError as err:
        raise ImageError(f"{where}: {err}") from None
    return load_images(refs, allow_network=allow_network, where=where)


def has_images(examples: Sequence[Any]) -> bool:
    return any(getattr(e, "images", ()) for e in examples)


def per_item_images(images: Sequence[Any] | None, n: int) -> list[tuple[Any, ...]] | None:
    """``images[i]`` (one image, a list of them, or None) as a tuple per item; None when no images are given."""
    if images is None:
        return None
    if len(images) != n:
        raise ValueError(f"got {len(images)} image entries for {n} inputs; give one (list) per input")
    out = []
    for entry in images:
        if entry is None:
            out.append(())
        elif isinstance(entry, (list, tuple)):
            out.append(tuple(entry))
        else:
            out.append((entry,))
    return out
