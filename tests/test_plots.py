"""activation_rm.apps.plots: the layer x head heat map of a fitted reward model."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("matplotlib", reason="the plots need matplotlib")

from PIL import Image  # noqa: E402

from activation_rm.apps.plots import head_heatmap  # noqa: E402


def test_heatmap_is_written_atomically_with_the_selected_heads_outlined(tmp_path):
    probs = torch.zeros(4, 6)
    probs[1, 2], probs[3, 5] = 1.0, 0.5
    mask = probs > 0.4
    path = head_heatmap(probs, mask, tmp_path / "plots" / "heads.png", title="two heads")
    assert path == tmp_path / "plots" / "heads.png" and path.is_file()
    assert [p.name for p in path.parent.iterdir()] == ["heads.png"]  # no temporary file left
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > image.height > 100
        pixels = image.convert("RGB")
        reds = sum(1 for r, g, b in pixels.getdata() if r > 200 and g < 60 and b < 60)
    empty = head_heatmap(probs, torch.zeros_like(mask), tmp_path / "none.png")
    with Image.open(empty) as image:
        none_red = sum(1 for r, g, b in image.convert("RGB").getdata() if r > 200 and g < 60 and b < 60)
    assert reds > 20 and none_red == 0  # the outlines are the only pure red
