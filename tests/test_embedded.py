"""End to end on the embedded SmolLM2-135M-Instruct (slow: minutes on 2 CPU cores)."""

import pytest
import torch

from activation_rm import ActivationRM, load_backbone
from activation_rm.apps.bundled import load_bundled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def backbone():
    pytest.importorskip("gguf")
    return load_backbone()


def test_embedded_backbone_geometry(backbone):
    assert (backbone.num_layers, backbone.num_heads, backbone.head_dim) == (30, 9, 64)
    assert backbone.model.config.num_key_value_heads == 3
    assert backbone.dtype == torch.float32 and backbone.fingerprint["file_sha256"]


def test_fit_score_save_load_end_to_end(backbone, tmp_path):
    bundled = load_bundled("short_correct")
    rm = ActivationRM.fit(backbone, bundled.fewshot[:12], criterion=bundled.criterion, steps=12, n_contexts=6,
                          n_shots=2, masks_per_step=8, final_samples=2, seed=0, progress=False)
    assert 0 < int(rm.mask.sum()) < rm.mask.numel()
    pairs = bundled.held_out[:4]
    prompts = [p.prompt for p in pairs]
    chosen = rm.score(prompts, [p.chosen for p in pairs])
    assert all(0.0 < s < 1.0 for s in chosen)
    plain = rm.without_steering().score(prompts, [p.chosen for p in pairs])
    assert plain != chosen
    loaded = ActivationRM.load(rm.save(tmp_path / "arm"))  # reloads the embedded backbone by name
    torch.testing.assert_close(torch.tensor(loaded.score(prompts, [p.chosen for p in pairs])), torch.tensor(chosen),
                               rtol=1e-5, atol=1e-6)
