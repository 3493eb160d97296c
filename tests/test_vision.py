"""Vision-language backbones on tiny random Qwen2-VL and LLaVA-OneVision models with generated images."""

from __future__ import annotations

import json
import re

import pytest
import torch
import transformers as tf
from tiny_vision import FAMILIES as FAMILIES_UNDER_TEST
from tiny_vision import make_image, tiny_vision_backbone

from activation_rm.forward.batching import last_token_logits
from activation_rm.inputs.data import ExampleError, load_examples
from activation_rm.judge.queries import make_encoder
from activation_rm.judge.templates import JudgeItem, JudgeTemplate
from activation_rm.judge.vision import MROPE_FAMILIES, PER_ITEM_PIXELS, VisionQueryEncoder
from activation_rm.model.backbone import FAMILIES, BackboneMismatchError, find_output_projections
from activation_rm.model.heads import Steering
from activation_rm.scoring.reward_model import ActivationRM

CRITERION = "The caption mentions only what is in the image."


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models gain nothing from intra-op threads, and on a shared CPU the thread pool's spinning made each
    forward pass ~100x slower; restored after this module."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module", params=FAMILIES_UNDER_TEST)
def backbone(request):
    return tiny_vision_backbone(request.param)


def _encoder(backbone, max_length: int = 2048) -> VisionQueryEncoder:
    encoder = make_encoder(backbone, JudgeTemplate(criterion=CRITERION, max_length=max_length))
    assert isinstance(encoder, VisionQueryEncoder)
    assert isinstance(encoder.with_template(JudgeTemplate(criterion="other")), VisionQueryEncoder)
    return encoder


def _mixed_items() -> list[JudgeItem]:
    """Different image sizes and counts, and a text-only item."""
    return [
        JudgeItem("Describe the image.", ("A red square.",), (make_image(40, 60, 1),)),
        JudgeItem("What is two plus two?", ("Four.",)),
        JudgeItem("Compare the two images.", ("Both are noise.",), (make_image(70, 30, 2), make_image(30, 30, 3))),
        JudgeItem("Describe it.", ("The quick brown fox jumps over the lazy dog. " * 3,), (make_image(90, 90, 4),)),
    ]


# ------------------------------------------------------------------------------------------------ backbones
def _tiny_config_model(model_type: str) -> torch.nn.Module:
    """Random models of every vision-language family in the table, built from small configs."""
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


@pytest.mark.parametrize("model_type", ["qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "smolvlm", "gemma3"])
def test_family_table_hooks_language_model_layers_only(model_type):
    model = _tiny_config_model(model_type)
    assert model.config.model_type == model_type
    projections = find_output_projections(model, model_type)
    names = {id(module): name for name, module in model.named_modules()}
    hooked = [names[id(p)] for p in projections]
    assert len(hooked) == model.config.get_text_config().num_hidden_layers == 3
    assert all(re.search(r"(language_model|text_model)\.layers\.\d+\.self_attn\.o_proj$", n) for n in hooked), hooked
    vision_attention = [n for n in names.values() if re.search(r"(visual|vision)", n) and n.endswith("proj")]
    assert vision_attention, "the vision tower has projections of its own that must stay unhooked"
    assert not set(hooked) & set(vision_attention)
    assert model_type in FAMILIES


# ------------------------------------------------------------------------------------------------ hooks
def test_noop_hooks_leave_logits_identical(backbone):
    queries, _ = _encoder(backbone).encode_many(_mixed_items())
    plain = last_token_logits(backbone, queries)
    recorded = last_token_logits(backbone, queries, record=True)
    zeros = torch.zeros(backbone.num_layers, backbone.num_heads, dtype=torch.bool)
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim)
    unsteered = last_token_logits(backbone, queries, steering=Steering(zeros, values))
    assert torch.equal(plain.logits, recorded.logits)
    assert torch.equal(plain.logits, unsteered.logits)
    # and the model's own forward on the processor output, with no hooks installed, agrees at the last token
    query = queries[2]
    inputs = {"input_ids": torch.tensor([query.ids]), "attention_mask": torch.ones(1, len(query), dtype=torch.long),
              **query.pixels}
    with torch.no_grad():
        own = backbone.model(**inputs).logits[0, -1]
    single = last_token_logits(backbone, [query])
    torch.testing.assert_close(single.logits[0], own, rtol=1e-5, atol=1e-5)


def test_recorded_heads_equal_a_manual_split_of_the_projection_input(backbone):
    items = _mixed_items()[:3]
    if backbone.model.config.model_type in PER_ITEM_PIXELS:  # text-only items run in a pass of their own there
        items = [item for item in items if item.images]
    queries, _ = _encoder(backbone).encode_many(items)
    queries.sort(key=len)  # batches are planned by length: keep the batch rows in input order
    captured: dict[int, torch.Tensor] = {}
    handles = [proj.register_forward_pre_hook(lambda m, args, layer=layer: captured.__setitem__(layer, args[0]))
               for layer, proj in enumerate(backbone.out_projs)]
    try:
        out = last_token_logits(backbone, queries, record=True)
    finally:
        for handle in handles:
            handle.remove()
    lengths = torch.tensor([len(q) for q in queries])
    for layer in range(backbone.num_layers):
        hidden = captured[layer]  # right-padded batch, last real token at length - 1
        assert hidden.shape[0] == len(queries)  # one forward pass for the mixed batch
        manual = hidden[torch.arange(len(queries)), lengths - 1].view(len(queries), backbone.num_heads,
                                                                      backbone.head_dim)
        assert torch.equal(out.heads[:, layer], manual)


def test_mixed_batches_equal_one_by_one_with_and_without_steering(backbone):
    encoder = _encoder(backbone)
    queries, _ = encoder.encode_many(_mixed_items())
    assert len({len(q) for q in queries}) == len(queries)
    assert [q.has_images for q in queries] == [True, False, True, True]
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    results = []
    for steering in (None, Steering(mask, values)):
        batched = last_token_logits(backbone, queries, read_ids=encoder.verdict_ids, steering=steering,
                                       record=True)
        results.append(batched.logits)
        for i, query in enumerate(queries):
            alone = last_token_logits(backbone, [query], read_ids=encoder.verdict_ids, steering=steering,
                                         record=True)
            torch.testing.assert_close(batched.logits[i], alone.logits[0], rtol=1e-5, atol=1e-5)
            torch.testing.assert_close(batched.heads[i], alone.heads[0], rtol=1e-5, atol=1e-5)
    assert not torch.allclose(results[0], results[1])  # the replacement reaches the logits


def test_per_sequence_masks_equal_separate_runs(backbone):
    encoder = _encoder(backbone)
    query = encoder.encode(_mixed_items()[0])
    generator = torch.Generator().manual_seed(1)
    masks = torch.rand(3, backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    together = last_token_logits(backbone, [query] * 3, steering=Steering(masks, values)).logits
    per_row_values = values + torch.randn(3, *values.shape, generator=generator)
    rows = last_token_logits(backbone, [query] * 3, steering=Steering(masks, per_row_values),
                                max_batch_size=2).logits  # split into two passes: the rows' values follow them
    for i in range(3):
        alone = last_token_logits(backbone, [query], steering=Steering(masks[i], values)).logits
        torch.testing.assert_close(together[i], alone[0], rtol=1e-5, atol=1e-5)
        alone = last_token_logits(backbone, [query], steering=Steering(masks[i], per_row_values[i])).logits
        torch.testing.assert_close(rows[i], alone[0], rtol=1e-5, atol=1e-5)


def test_shared_prefix_path_equals_full_forward_passes(backbone):
    """The REINFORCE path: the prefix (images included) encoded once, the last token run per mask, with the
    M-RoPE position of that token from the model's rope index on Qwen2-VL."""
    from activation_rm.fit.selection import MaskScorer
    from activation_rm.forward.batching import encode_prefix, last_token_logits_from_prefix

    full_passes = MaskScorer(backbone, shared_prefix=False)
    encoder = _encoder(backbone)
    generator = torch.Generator().manual_seed(2)
    masks = torch.rand(5, backbone.num_layers, backbone.num_heads, generator=generator) < 0.5
    values = torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim, generator=generator)
    compressed = []
    for item in _mixed_items():
        query = encoder.encode(item)
        prefix = encode_prefix(backbone, query)
        assert (prefix.position is not None) == (backbone.model.config.model_type in MROPE_FAMILIES and query.has_images)
        if prefix.position is not None:
            compressed.append(int(prefix.position.max()) < prefix.length)
        cached = last_token_logits_from_prefix(backbone, prefix, masks, values, chunk=2)
        full = full_passes.logits(query, masks, values)
        torch.testing.assert_close(cached, full, rtol=1e-5, atol=1e-5)  # a 1D position is off by ~2e-4
    if backbone.model.config.model_type in MROPE_FAMILIES:  # a 2D image grid takes fewer positions than tokens
        assert any(compressed)


def test_head_selection_with_shared_prefixes_matches_full_passes(backbone):
    from activation_rm.fit.selection import MaskScorer, SelectionConfig, select_heads
    from activation_rm.judge.queries import VerdictQuery

    encoder = _encoder(backbone)
    ids = encoder.verdict_ids
    queries = [VerdictQuery(encoder.encode(item), ids[i % 2], ids[1 - i % 2])
               for i, item in enumerate(_mixed_items())]
    train, held = queries[:3], queries[3:]
    # large values so that the masks' losses differ by far more than float noise, which z-scoring would amplify
    means = 30 * torch.randn(backbone.num_layers, backbone.num_heads, backbone.head_dim,
                             generator=torch.Generator().manual_seed(3))
    config = SelectionConfig(steps=4, masks_per_step=6, final_samples=3)
    cached = select_heads(backbone, train, held, means, config, seed=5, scorer=MaskScorer(backbone, shared_prefix=True))
    full = select_heads(backbone, train, held, means, config, seed=5, scorer=MaskScorer(backbone, shared_prefix=False))
    assert cached.loss_history == pytest.approx(full.loss_history, abs=1e-5)  # the same losses at every step
    # Adam scales each head's gradient to ~lr, so float noise in the centred advantages of an unsampled head
    # (theoretically 0) moves it slightly differently on the two paths: compare probabilities loosely.
    torch.testing.assert_close(cached.probs, full.probs, rtol=0, atol=1e-2)
    assert torch.equal(cached.mask, full.mask)
    assert cached.candidate_scores == pytest.approx(full.candidate_scores, abs=1e-5)


def test_mean_activations_streamed_in_passes_equal_all_at_once(backbone, monkeypatch):
    import activation_rm.fit.activations as activations
    from activation_rm.fit.activations import ContextConfig, encode_contexts, mean_head_activations

    encoder = _encoder(backbone, max_length=1024)
    items = [(item, i % 2) for i, item in enumerate(_mixed_items())]
    config = ContextConfig(n_contexts=5, n_shots=2)
    calls = []
    record = activations.record_heads
    monkeypatch.setattr(activations, "CONTEXTS_PER_PASS", 2)
    monkeypatch.setattr(activations, "record_heads", lambda b, seqs, *a, **k: calls.append(len(seqs)) or record(
        b, seqs, *a, **k))
    streamed = mean_head_activations(backbone, encoder, items, config, seed=4)
    assert len(calls) >= 2 and max(calls) <= 3  # contexts with images ran a few at a time
    contexts, _ = encode_contexts(encoder, items, config, seed=4)
    assert sum(q.has_images for q in contexts) >= 4  # demonstrations bring their images into the context
    every = last_token_logits(backbone, contexts, record=True).heads
    torch.testing.assert_close(streamed, every.mean(0), rtol=1e-5, atol=1e-6)


def test_text_only_item_on_a_vlm_matches_the_text_path(backbone):
    """Without images the processor path (right padded, the model's own positions) gives the same logits as the
    plain text path (left padded, explicit positions) on the same model."""
    import dataclasses

    encoder = _encoder(backbone)
    item = JudgeItem("What is two plus two?", ("Four.",))
    query = encoder.encode(item)
    assert not query.has_images
    text_only = dataclasses.replace(backbone, processor=None)
    assert backbone.multimodal and not text_only.multimodal
    mm = last_token_logits(backbone, [query], read_ids=encoder.verdict_ids).logits
    text = last_token_logits(text_only, [query.ids], read_ids=encoder.verdict_ids).logits
    torch.testing.assert_close(mm, text, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------------ truncation
def _image_tokens(backbone, ids: list[int]) -> int:
    config = backbone.model.config
    image_id = getattr(config, "image_token_id", None) or getattr(config, "image_token_index", None)
    return sum(1 for i in ids if i == image_id)


def test_truncation_cuts_texts_never_image_tokens(backbone):
    item = JudgeItem("Describe the picture in detail.", ("the quick brown fox jumps over the lazy dog " * 80,),
                     (make_image(60, 60, 5),))
    full = _encoder(backbone).encode(item)
    assert not full.truncated
    short = _encoder(backbone, max_length=len(full) - 150).encode(item)
    assert short.truncated and len(short) <= len(full) - 150
    assert _image_tokens(backbone, short.ids) == _image_tokens(backbone, full.ids) > 0
    assert torch.equal(short.pixels["pixel_values"], full.pixels["pixel_values"])
    assert short.ids[-4:] == full.ids[-4:]  # still ends with the question and the generation prompt


def test_images_larger_than_max_length_are_an_error():
    backbone = tiny_vision_backbone("qwen2_vl")
    images = tuple(make_image(56, 84, s) for s in range(6))  # 6 images x 6 tokens + texts
    with pytest.raises(ValueError, match="image"):
        _encoder(backbone, max_length=64).encode(JudgeItem("Describe.", ("Noise.",), images))


def _write_examples(tmp_path, n: int = 6) -> str:
    """A pointwise image JSONL with images in a sub-folder, named relative to the file."""
    (tmp_path / "img").mkdir(exist_ok=True)
    lines = []
    for i in range(n):
        make_image(30 + 10 * (i % 3), 40, seed=i).save(tmp_path / "img" / f"{i}.png")
        good = i % 2 == 0
        caption = "A square of coloured noise." if good else "A dog playing in the snow with two children."
        lines.append({"prompt": "Write a caption for the image.", "response": caption, "label": good,
                      "images": [f"img/{i}.png"]})
    path = tmp_path / "captions.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


def test_examples_with_missing_images_name_file_and_line(tmp_path):
    path = _write_examples(tmp_path, 3)
    lines = open(path).read().splitlines()
    lines[1] = lines[1].replace("img/1.png", "img/nowhere.png")
    open(path, "w").write("\n".join(lines) + "\n")
    with pytest.raises(ExampleError, match=r"captions\.jsonl:2: image file not found: .*nowhere\.png"):
        load_examples(path)
    examples = load_examples(_write_examples(tmp_path, 3))
    assert examples[0].images == (str(tmp_path / "img" / "0.png"),)


def test_fit_with_a_corrupt_image_names_the_line_and_path(tmp_path):
    path = _write_examples(tmp_path, 4)
    (tmp_path / "img" / "2.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ExampleError, match=r"captions\.jsonl:3: cannot read image .*2\.png"):
        ActivationRM.fit(tiny_vision_backbone("qwen2_vl"), path, criterion=CRITERION, steps=1, progress=False)


def test_text_backbone_refuses_images(tmp_path, capsys):
    from tiny import tiny_backbone

    from activation_rm.apps.cli import main
    from activation_rm.model.backbone import UnsupportedModelError

    backbone = tiny_backbone("llama")
    with pytest.raises(UnsupportedModelError, match="text-only"):
        ActivationRM.fit(backbone, _write_examples(tmp_path, 4), criterion=CRITERION, steps=1, progress=False)
    rm = ActivationRM.fit(backbone, [{"prompt": "q", "response": "a", "label": i % 2} for i in range(4)],
                          criterion=CRITERION, steps=1, n_contexts=2, n_shots=1, masks_per_step=2, final_samples=1,
                          progress=False, max_length=256)
    with pytest.raises(UnsupportedModelError, match="text-only"):
        rm.score(["q"], ["a"], images=[make_image(8, 8)])
    # the command line reports it as an error, not a traceback
    backbone.model.save_pretrained(tmp_path / "tiny-llama")
    backbone.tokenizer.save_pretrained(tmp_path / "tiny-llama")
    assert main(["fit", _write_examples(tmp_path, 4), "--model", str(tmp_path / "tiny-llama"), "--criterion", "c",
                 "--out", str(tmp_path / "a"), "--steps", "1", "--n-shots", "1", "--quiet", "--device", "cpu"]) == 2
    assert "is text-only" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ end to end
FIT = dict(criterion=CRITERION, steps=3, n_contexts=4, n_shots=1, masks_per_step=4, final_samples=2,
           progress=False, max_length=512, held_out_fraction=0.2)


@pytest.mark.parametrize("family", FAMILIES_UNDER_TEST)
def test_fit_score_save_load_with_images(tmp_path, family):
    backbone = tiny_vision_backbone(family)
    path = _write_examples(tmp_path)
    rm = ActivationRM.fit(backbone, path, seed=3, **FIT)
    again = ActivationRM.fit(backbone, path, seed=3, **FIT)
    assert torch.equal(rm.mask, again.mask) and torch.equal(rm.means, again.means)  # seeded
    assert rm.means.shape == (backbone.num_layers, backbone.num_heads, backbone.head_dim)
    assert rm.fit_info["n_held_out_examples"] == 1 and len(rm.fit_info["candidate_scores"]) == 2

    prompts = ["Write a caption for the image."] * 3
    captions = ["A square of coloured noise.", "A dog in the snow.", "Noise."]
    images = [make_image(50, 50, 7), [make_image(30, 60, 8), make_image(40, 40, 9)], None]
    scores = rm.score(prompts, captions, images=images)
    assert len(scores) == 3 and all(0.0 < s < 1.0 for s in scores)
    one_by_one = [rm.score([p], [c], images=[im])[0] for p, c, im in zip(prompts, captions, images)]
    assert scores == pytest.approx(one_by_one, abs=1e-6)
    # the image matters: the same caption with another image scores differently
    assert rm.score(prompts[:1], captions[:1], images=[make_image(50, 50, 99)])[0] != pytest.approx(scores[0],
                                                                                                  abs=1e-9)
    rm.save(tmp_path / "artifact")
    loaded = ActivationRM.load(tmp_path / "artifact", backbone=backbone)
    assert loaded.score(prompts, captions, images=images) == pytest.approx(scores, abs=1e-9)
    comparison = loaded.compare(prompts[:2], captions[:2], captions[1:3], images=images[:2])
    assert [c.score_a for c in comparison] == pytest.approx(scores[:2], abs=1e-6)


def test_artifact_refuses_a_backbone_with_another_processor(tmp_path):
    backbone = tiny_vision_backbone("qwen2_vl")
    rm = ActivationRM.fit(backbone, _write_examples(tmp_path), **FIT)
    rm.save(tmp_path / "artifact")
    other = tiny_vision_backbone("qwen2_vl")
    other.processor.image_processor.max_pixels = 28 * 28 * 4
    other.processor.image_processor.size = {"shortest_edge": 28 * 28 * 2, "longest_edge": 28 * 28 * 4}
    from activation_rm.model.backbone import processor_sha256

    other.fingerprint["processor_sha256"] = processor_sha256(other.processor)
    assert other.fingerprint["processor_sha256"] != backbone.fingerprint["processor_sha256"]
    with pytest.raises(BackboneMismatchError, match="processor"):
        ActivationRM.load(tmp_path / "artifact", backbone=other)


def test_pairwise_fit_and_compare_with_images(tmp_path):
    backbone = tiny_vision_backbone("llava_onevision")
    (tmp_path / "img").mkdir()
    lines = []
    for i in range(5):
        make_image(40, 40 + 8 * i, seed=i).save(tmp_path / "img" / f"{i}.png")
        lines.append({"prompt": "Caption the image.", "chosen": "Coloured noise.", "rejected": "A cat on a sofa.",
                      "images": [f"img/{i}.png"]})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    rm = ActivationRM.fit(backbone, str(path), mode="pairwise", **FIT)
    result = rm.compare(["Caption the image."] * 2, ["Coloured noise.", "A cat."], ["A cat.", "Coloured noise."],
                        images=[make_image(40, 40, 1), str(tmp_path / "img" / "3.png")])
    assert len(result) == 2
    for r in result:
        assert r.score_a + r.score_b == pytest.approx(1.0) and r.preferred in ("a", "b", "tie")


# ------------------------------------------------------------------------------------------------ command line
def test_cli_fit_score_compare_with_image_jsonl(tmp_path, capsys):
    from activation_rm.apps.cli import main

    family_dir = tmp_path / "tiny-qwen2-vl"
    backbone = tiny_vision_backbone("qwen2_vl")
    backbone.model.save_pretrained(family_dir)
    backbone.processor.save_pretrained(family_dir)  # no video processor: loading falls back to images only
    examples = _write_examples(tmp_path)
    artifact = tmp_path / "artifact"
    assert main(["fit", examples, "--model", str(family_dir), "--criterion", CRITERION, "--out", str(artifact),
                 "--steps", "3", "--n-contexts", "4", "--n-shots", "1", "--masks-per-step", "4",
                 "--max-length", "512", "--quiet", "--device", "cpu"]) == 0

    lines = [{"prompt": "Caption the image.", "response": "Coloured noise.", "images": ["img/0.png"]},
             {"prompt": "What is two plus two?", "response": "Four."},
             {"prompt": "Caption both.", "response": "Two noisy squares.", "images": ["img/1.png", "img/2.png"]}]
    inputs = tmp_path / "to_score.jsonl"
    inputs.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "scores.jsonl"
    assert main(["score", str(artifact), str(inputs), "-o", str(out), "--chunk-size", "2"]) == 0
    scored = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["activation_rm"]["line"] for r in scored] == [1, 2, 3] and all(0 < r["score"] < 1 for r in scored)
    rm = ActivationRM.load(artifact)
    assert rm.backbone.processor is not None
    expected = rm.score([line["prompt"] for line in lines], [line["response"] for line in lines],
                        images=[[tmp_path / p for p in line.get("images", [])] for line in lines])
    assert [r["score"] for r in scored] == pytest.approx(expected, abs=1e-6)

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"prompt": "Caption.", "chosen": "Noise.", "rejected": "A cat.",
                                 "images": ["img/3.png"]}) + "\n")
    assert main(["compare", str(artifact), str(pairs), "-o", str(tmp_path / "cmp.jsonl")]) == 0
    compared = json.loads((tmp_path / "cmp.jsonl").read_text())
    assert compared["preferred"] in ("a", "b", "tie") and compared["images"] == ["img/3.png"]

    (tmp_path / "img" / "4.png").write_bytes(b"corrupt")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(lines[1]) + "\n" + json.dumps({**lines[0], "images": ["img/4.png"]}) + "\n")
    capsys.readouterr()
    assert main(["score", str(artifact), str(broken), "-o", str(tmp_path / "broken_out.jsonl")]) == 2
    assert re.search(r"broken\.jsonl:2: cannot read image .*4\.png", capsys.readouterr().err)
    url = tmp_path / "url.jsonl"
    url.write_text(json.dumps({**lines[0], "images": ["https://example.com/a.png"]}) + "\n")
    assert main(["score", str(artifact), str(url), "-o", str(tmp_path / "url_out.jsonl")]) == 2
    assert "--allow-network" in capsys.readouterr().err
