"""activation_rm.model.backbone: the family table (text and vision-language), head geometry, fingerprints, frozen
weights and the safe loader."""

import json
import re
import shutil
from pathlib import Path

import pytest
import torch
from tiny import tiny_backbone, tiny_model, tiny_tokenizer

from activation_rm.model.backbone import (
    FAMILIES,
    Backbone,
    BackboneMismatchError,
    PickleWeightsError,
    UnsupportedModelError,
    find_output_projections,
    head_geometry,
    load_backbone,
)

FAMILY_CASES = {"llama": (4, 16), "qwen2": (4, 16), "gemma": (4, 24), "gpt2": (4, 16), "gpt_neox": (4, 16),
                "mistral": (4, 16), "qwen3": (4, 20), "phi3": (4, 16), "gemma2": (4, 24)}


def _tiny_vlm_from_config(model_type: str) -> torch.nn.Module:
    """Random models of every vision-language family in the table, built from small configs."""
    import transformers as tf

    text = dict(vocab_size=420, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=512)
    siglip = dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2, image_size=28,
                  patch_size=14)
    if model_type == "qwen2_vl":
        config = tf.Qwen2VLConfig(text_config=dict(text, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
                                  vision_config=dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2))
        return tf.Qwen2VLForConditionalGeneration(config)
    if model_type == "qwen2_5_vl":
        config = tf.Qwen2_5_VLConfig(
            text_config=dict(text, rope_scaling={"type": "mrope", "mrope_section": [2, 3, 3]}),
            vision_config=dict(depth=2, hidden_size=32, out_hidden_size=64, intermediate_size=48, num_heads=2,
                               fullatt_block_indexes=[1]))
        return tf.Qwen2_5_VLForConditionalGeneration(config)
    if model_type == "llava_onevision":
        config = tf.LlavaOnevisionConfig(text_config=dict(text, model_type="qwen2"),
                                         vision_config=dict(siglip, model_type="siglip_vision_model"))
        return tf.LlavaOnevisionForConditionalGeneration(config)
    if model_type == "idefics3":
        return tf.Idefics3ForConditionalGeneration(tf.Idefics3Config(text_config=dict(text, model_type="llama"),
                                                                     vision_config=siglip, scale_factor=1))
    if model_type == "smolvlm":
        return tf.SmolVLMForConditionalGeneration(tf.SmolVLMConfig(text_config=dict(text, model_type="llama"),
                                                                   vision_config=siglip, scale_factor=1))
    if model_type == "gemma3":
        config = tf.Gemma3Config(text_config=dict(text, head_dim=16), vision_config=siglip, mm_tokens_per_image=4)
        return tf.Gemma3ForConditionalGeneration(config)
    raise ValueError(model_type)


VISION_MODEL_TYPES = ["qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "smolvlm", "gemma3"]


@pytest.mark.parametrize("family", [*sorted(FAMILY_CASES), *VISION_MODEL_TYPES])
def test_head_geometry_and_projections(family):
    """Every family in the table: one hooked output projection per language-model layer, with the heads' width
    as input; on vision-language models none of the vision tower's projections."""
    if family in FAMILY_CASES:
        backbone = tiny_backbone(family)
        model, model_type = backbone.model, backbone.model.config.model_type
        assert (backbone.num_heads, backbone.head_dim) == FAMILY_CASES[family]
        assert backbone.num_layers == 3
    else:
        model, model_type = _tiny_vlm_from_config(family), family
        assert model.config.model_type == model_type
    assert model_type in FAMILIES
    projections = find_output_projections(model, model_type)
    names = {id(module): name for name, module in model.named_modules()}
    hooked = [names[id(p)] for p in projections]
    assert len(hooked) == len(set(hooked)) == model.config.get_text_config().num_hidden_layers == 3
    assert [int(re.search(r"\.(\d+)\.", n).group(1)) for n in hooked] == [0, 1, 2]  # in layer order
    heads, head_dim = head_geometry(model.config.get_text_config())
    assert all(heads * head_dim in tuple(p.weight.shape) for p in projections)
    vision_attention = [n for n in names.values() if re.search(r"(visual|vision)", n) and n.endswith("proj")]
    if family in VISION_MODEL_TYPES:
        assert all(re.search(r"(language_model|text_model)\.layers\.\d+\.self_attn\.o_proj$", n)
                   for n in hooked), hooked
        assert vision_attention, "the vision tower has projections of its own that must stay unhooked"
    assert not set(hooked) & set(vision_attention)


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


def _pickle_only(model_dir, out, extra=()):
    """A copy of ``model_dir`` whose weights are a pickle (``pytorch_model.bin``), plus ``extra`` empty files."""
    from safetensors.torch import load_file

    out = Path(shutil.copytree(model_dir, out))
    torch.save(load_file(str(out / "model.safetensors")), out / "pytorch_model.bin")
    (out / "model.safetensors").unlink()
    for name in extra:
        (out / name).write_bytes(b"")
    return out


@pytest.fixture
def no_unpickling(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"torch.load reached: {args[:1]}")
    monkeypatch.setattr(torch, "load", refuse)


@pytest.mark.parametrize("extra", [(), ("adapter.safetensors",)], ids=["bin-only", "bin-and-other-safetensors"])
def test_a_directory_with_only_pickle_weights_is_refused_unread(model_dir, tmp_path, no_unpickling, extra):
    pickled = _pickle_only(model_dir, tmp_path / "pickled", extra)
    with pytest.raises(PickleWeightsError, match=f"{pickled} has only pickle weights \\(pytorch_model.bin\\)"):
        load_backbone(str(pickled), device="cpu")


def test_models_load_from_safetensors_and_without_remote_code(model_dir, monkeypatch):
    """Hub ids cannot be looked at before loading: transformers itself is told to refuse pickles."""
    from transformers import AutoModelForCausalLM

    seen = {}

    def record(source, **kwargs):
        seen.update(kwargs)
        raise RuntimeError("stop here")
    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", record)
    with pytest.raises(RuntimeError, match="stop here"):
        load_backbone(str(model_dir), device="cpu")
    assert seen["use_safetensors"] is True and seen["trust_remote_code"] is False


def _fingerprint_as(artifact, out, name, fingerprint=None):
    """A copy of ``artifact`` whose arm.json names backbone ``name`` (with ``fingerprint``'s hashes if given),
    checksums recomputed: a well-formed artifact."""
    from safetensors.torch import load_file

    from activation_rm.scoring.artifacts import META_CHECKSUM, META_FILE, TENSORS_FILE, write_artifact

    meta = json.loads((artifact / META_FILE).read_text())
    for key in ("format_version", "tensors_sha256", META_CHECKSUM):
        meta.pop(key, None)
    meta["backbone"] = {**meta["backbone"], **(fingerprint or {}), "name": str(name)}
    return write_artifact(out, load_file(str(artifact / TENSORS_FILE)), meta)


def test_an_artifact_cannot_make_the_loader_unpickle(artifact, model_dir, tmp_path, no_unpickling, capsys):
    from activation_rm.apps.cli import main
    from activation_rm.scoring.reward_model import ActivationRM

    pickled = _pickle_only(model_dir, tmp_path / "pickled")
    path = _fingerprint_as(artifact, tmp_path / "arm", pickled)
    with pytest.raises(PickleWeightsError, match="only pickle weights"):
        ActivationRM.load(path)
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "What is 2 plus 2?", "response": "4."}\n')
    assert main(["score", str(path), str(source), "-o", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "has only pickle weights (pytorch_model.bin)" in err and "Traceback" not in err


def test_an_artifact_does_not_run_its_backbone_directorys_code(artifact, model_dir, tmp_path):
    """A backbone directory with its own code (``auto_map``) loads with the library's class; the code runs only
    when the user passes trust_remote_code=True."""
    from activation_rm.scoring.reward_model import ActivationRM

    coded = Path(shutil.copytree(model_dir, tmp_path / "coded"))
    marker = tmp_path / "code-ran"
    config = json.loads((coded / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "custom.Config", "AutoModelForCausalLM": "custom.Model"}
    (coded / "config.json").write_text(json.dumps(config))
    (coded / "custom.py").write_text(f"open({str(marker)!r}, 'w').close()\n"
                                     "from transformers import LlamaConfig as Config, LlamaForCausalLM as Model\n")
    direct = load_backbone(str(coded), device="cpu")  # auto_map changes the config hash: the artifact records it
    assert not marker.exists()
    rm = ActivationRM.load(_fingerprint_as(artifact, tmp_path / "arm", coded, direct.fingerprint), device="cpu")
    assert type(rm.backbone.model).__name__ == "LlamaForCausalLM" and not marker.exists()


def test_load_options_are_checked_without_loading(tmp_path, monkeypatch):
    import huggingface_hub

    from activation_rm.model.backbone import check_load_options, model_problem

    assert check_load_options(None, "cpu", "bfloat16") == []  # the embedded model, installed with the tests
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{}")
    (tmp_path / "not-a-model").mkdir()
    (tmp_path / "weights.bin").write_text("x")
    assert model_problem(tmp_path / "model") is None
    assert model_problem(tmp_path / "not-a-model") == f"{tmp_path / 'not-a-model'}: not a model directory (no config.json)"
    assert model_problem(tmp_path / "weights.bin").endswith("is a file; give a model directory, a .gguf file or a "
                                                            "Hugging Face id")
    assert model_problem(tmp_path / "gone") == f"{tmp_path / 'gone'}: model directory not found"
    assert model_problem(str(tmp_path / "m.gguf")) == f"{tmp_path / 'm.gguf'}: GGUF file not found"
    assert model_problem("./relative/gone") == "./relative/gone: model directory not found"
    assert model_problem("some-owner/some-model") is None  # a Hugging Face id: fetched at load time
    monkeypatch.setattr(huggingface_hub, "is_offline_mode", lambda: True)
    assert model_problem("some-owner/some-model") == ("some-owner/some-model: no such local directory, and not in the "
                                                      "Hugging Face cache (offline mode is on)")
    problems = check_load_options(tmp_path / "gone", "tpu", "float8")
    assert [(p.field, p.as_option().split(":")[0]) for p in problems] == [
        ("model", f"--model {tmp_path / 'gone'}"), ("device", "--device tpu"), ("dtype", "--dtype float8")]
    cuda = check_load_options(tmp_path / "model", "cuda:99")[0].message
    assert cuda in ("cuda:99: CUDA is not available on this machine",
                    f"cuda:99: this machine has {torch.cuda.device_count()} CUDA device(s)")


def test_the_gguf_dequantisation_bar_is_off_when_transformers_bars_are():
    from transformers import modeling_gguf_pytorch_utils as gguf
    from transformers.utils import logging as transformers_logging

    from activation_rm.model.backbone import _gguf_bar_follows_transformers

    original = gguf.tqdm
    was_enabled = transformers_logging.is_progress_bar_enabled()
    try:
        transformers_logging.disable_progress_bar()
        with _gguf_bar_follows_transformers():
            assert gguf.tqdm(range(3)).disable  # what transformers' GGUF loader calls
        assert gguf.tqdm is original
        transformers_logging.enable_progress_bar()
        with _gguf_bar_follows_transformers():
            assert gguf.tqdm is original
    finally:
        (transformers_logging.enable_progress_bar if was_enabled else transformers_logging.disable_progress_bar)()
