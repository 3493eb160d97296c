import pytest
import torch
from tiny import tiny_backbone, tiny_model, tiny_tokenizer

from activation_rm.backbone import (
    FAMILIES,
    Backbone,
    BackboneMismatchError,
    UnsupportedModelError,
    find_output_projections,
    head_geometry,
)

FAMILY_CASES = {"llama": (4, 16), "qwen2": (4, 16), "gemma": (4, 24), "gpt2": (4, 16), "gpt_neox": (4, 16),
                "mistral": (4, 16), "qwen3": (4, 20), "phi3": (4, 16), "gemma2": (4, 24)}


@pytest.mark.parametrize("family", sorted(FAMILY_CASES))
def test_head_geometry_and_projections(family):
    backbone = tiny_backbone(family)
    assert (backbone.num_heads, backbone.head_dim) == FAMILY_CASES[family]
    assert backbone.num_layers == 3
    assert backbone.model.config.model_type in FAMILIES


def test_gemma_head_dim_is_not_hidden_over_heads():
    model = tiny_model("gemma")
    heads, head_dim = head_geometry(model.config)
    assert head_dim == 24 and model.config.hidden_size // heads == 16


def test_gqa_counts_query_heads_not_kv_heads():
    model = tiny_model("qwen2")
    assert model.config.num_key_value_heads == 2
    assert head_geometry(model.config) == (4, 16)


def test_unsupported_architecture_lists_supported():
    with pytest.raises(UnsupportedModelError, match="llama.*qwen2|Supported model types"):
        find_output_projections(torch.nn.Linear(2, 2), "bert")


def test_fingerprint_distinguishes_weights_and_accepts_same_model():
    a = tiny_backbone("llama", seed=0)
    same = Backbone.from_model(tiny_model("llama", seed=0), tiny_tokenizer(), name="another-name")
    other = tiny_backbone("llama", seed=1)
    same.check_compatible(a.fingerprint)  # same weights, different name: fine
    with pytest.raises(BackboneMismatchError, match="tiny-llama-0.*tiny-llama-1"):
        other.check_compatible(a.fingerprint)
    with pytest.raises(BackboneMismatchError, match="model_type"):
        tiny_backbone("qwen2").check_compatible(a.fingerprint)


def test_model_is_frozen():
    backbone = tiny_backbone("llama")
    assert not any(p.requires_grad for p in backbone.model.parameters())
    assert not backbone.model.training
