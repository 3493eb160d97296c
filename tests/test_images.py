"""activation_rm.inputs.images: reading an image from a path (or URL, only when allowed), with errors that name it."""

from __future__ import annotations

import pytest
from tiny_vision import make_image

from activation_rm.inputs.images import ImageError, load_image


def test_load_image_errors_name_the_path(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(ImageError, match=r"data.jsonl:3: cannot read image .*bad\.png"):
        load_image(str(bad), where="data.jsonl:3")
    with pytest.raises(ImageError, match=r"image file not found: .*missing\.png"):
        load_image(str(tmp_path / "missing.png"))
    with pytest.raises(ImageError, match="allow_network"):
        load_image("https://example.com/cat.png")
    make_image(8, 8).convert("L").save(tmp_path / "gray.png")
    assert load_image(str(tmp_path / "gray.png")).mode == "RGB"
