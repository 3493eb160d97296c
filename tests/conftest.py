import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny random Llama and the tiny tokenizer saved as a model directory (what a user's ``--model`` is)."""
    from tiny import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def artifact(model_dir, tmp_path_factory):
    """A pointwise artifact fitted by ``activation-rm fit`` on ``model_dir`` (fast settings)."""
    from tiny import fit_artifact

    return fit_artifact(model_dir, tmp_path_factory.mktemp("fit") / "arm")


@pytest.fixture(scope="module")
def llama_backbone():
    """A tiny random Llama with the tiny tokenizer (one per test module)."""
    from tiny import tiny_backbone

    return tiny_backbone("llama")


@pytest.fixture(scope="module", params=["qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "gemma3"])
def vision_backbone(request):
    """Each tiny random vision-language backbone of ``tiny_vision.FAMILIES`` in turn (one per test module)."""
    from tiny_vision import FAMILIES, tiny_vision_backbone

    assert request.param in FAMILIES
    return tiny_vision_backbone(request.param)


@pytest.fixture(scope="session")
def shared_data() -> str:
    if not os.path.isdir(SHARED):
        pytest.skip(f"shared benchmark data not found at {SHARED}")
    return SHARED


@pytest.fixture(autouse=True)
def _threads_for_model_size(request):
    """Tiny random models run fastest on one intra-op thread (thread start-up dominates, and a busy machine makes
    extra threads wait); the slow real-model tests get every core."""
    before = torch.get_num_threads()
    torch.set_num_threads(max(os.cpu_count() or 1, 1) if request.node.get_closest_marker("slow") else 1)
    yield
    torch.set_num_threads(before)
