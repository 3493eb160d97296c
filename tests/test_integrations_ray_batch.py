"""Ray Data batch scoring with an ``images`` column: the actor's batch function, run in-process on a tiny Qwen2-VL."""

from __future__ import annotations

import pytest

pytest.importorskip("ray", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")
pd = pytest.importorskip("pandas", reason="the [ray] extra is not installed: pip install 'activation-rm[ray]'")

import torch  # noqa: E402
from tiny_vision import make_image, tiny_vision_backbone  # noqa: E402

import activation_rm.scoring.engine as serve_models  # noqa: E402
from activation_rm.integrations.ray_batch import BatchScorer  # noqa: E402
from activation_rm.judge.templates import JudgeTemplate  # noqa: E402
from activation_rm.scoring.engine import ModelSet  # noqa: E402
from activation_rm.scoring.reward_model import ActivationRM  # noqa: E402


def test_batch_scorer_passes_row_images_resolved_against_the_input_folder(tmp_path, monkeypatch):
    backbone = tiny_vision_backbone("qwen2_vl")
    gen = torch.Generator().manual_seed(0)
    mask = torch.rand(backbone.num_layers, backbone.num_heads, generator=gen) < 0.4
    means = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=gen)
    rm = ActivationRM(backbone, JudgeTemplate(criterion="The caption matches the image."), means, mask)
    monkeypatch.setattr(serve_models, "load_model_set", lambda artifacts, **kwargs: ModelSet.single(rm))
    (tmp_path / "img").mkdir()
    make_image(32, 40, seed=1).save(tmp_path / "img" / "a.png")
    make_image(48, 32, seed=2).save(tmp_path / "img" / "b.png")
    batch = pd.DataFrame({"prompt": ["Caption it.", "Caption it.", "Say hi."],
                          "response": ["A red square.", "A blue field.", "Hi."],
                          "images": [["img/a.png"], ["img/b.png", "img/a.png"], None]})
    scorer = BatchScorer(["unused"], {}, None, image_root=str(tmp_path))
    out = scorer(batch)
    direct = rm.score(list(batch["prompt"]), list(batch["response"]),
                      images=[[str(tmp_path / "img" / "a.png")],
                              [str(tmp_path / "img" / "b.png"), str(tmp_path / "img" / "a.png")], None])
    torch.testing.assert_close(torch.tensor(list(out["score"])), torch.tensor(direct), rtol=1e-5, atol=1e-6)
    without = rm.score(list(batch["prompt"]), list(batch["response"]))
    assert list(out["score"])[:2] != without[:2]  # the images reached the judge
    assert list(out["images"])[0] == ["img/a.png"]  # input columns are kept as they were
