"""activation_rm.scoring.reward_model: fit, score, compare, save and load an Activation RM, on text and
vision-language backbones; scores against a hand-written steered forward pass."""

import json

import pytest
import torch
from tiny import hand_scores, tiny_backbone
from tiny_vision import CAPTION_CRITERION, make_image, tiny_vision_backbone, write_caption_examples

from activation_rm import ActivationRM, BackboneMismatchError, ExampleError, JudgeTemplate
from activation_rm.scoring.artifacts import META_FILE, TENSORS_FILE, ArtifactError
from activation_rm.scoring.reward_model import Comparison, Comparisons, pair_correct, preference

EXAMPLES = [{"prompt": f"What is {i} plus {i}?", "chosen": f"{2 * i}.",
             "rejected": f"It is {2 * i + 1}, because addition works that way."} for i in range(8)]
FAST = dict(steps=6, n_contexts=6, n_shots=2, masks_per_step=8, final_samples=3, progress=False)


@pytest.fixture(scope="module")
def fitted():
    return ActivationRM.fit(tiny_backbone("llama"), EXAMPLES, criterion="correct and short", seed=3, **FAST)


def test_fit_is_deterministic(fitted):
    again = ActivationRM.fit(tiny_backbone("llama"), EXAMPLES, criterion="correct and short", seed=3, **FAST)
    assert torch.equal(fitted.mask, again.mask)
    torch.testing.assert_close(fitted.means, again.means, rtol=0, atol=0)
    prompts, responses = ["What is 2 plus 2?"] * 2, ["4.", "5, clearly."]
    assert fitted.score(prompts, responses) == again.score(prompts, responses)


def test_scores_are_probabilities_and_independent_of_batching(fitted):
    prompts = [e["prompt"] for e in EXAMPLES]
    responses = [e["chosen"] if i % 2 else e["rejected"] for i, e in enumerate(EXAMPLES)]
    together = fitted.score(prompts, responses)
    alone = [fitted.score([p], [r])[0] for p, r in zip(prompts, responses)]
    torch.testing.assert_close(torch.tensor(together), torch.tensor(hand_scores(fitted, prompts, responses),
                                                                    dtype=torch.float32), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.tensor(together), torch.tensor(alone), rtol=1e-4, atol=1e-5)
    fitted.max_batch_tokens = 64
    try:
        small = fitted.score(prompts, responses)
    finally:
        fitted.max_batch_tokens = 8192
    torch.testing.assert_close(torch.tensor(small), torch.tensor(together), rtol=1e-4, atol=1e-5)


def test_without_steering_is_the_plain_judge(fitted):
    assert fitted.mask.any()
    plain = fitted.without_steering()
    assert plain.steering is None and not plain.mask.any()
    assert plain.score(["q"], ["r"]) != fitted.score(["q"], ["r"])


def test_compare_pointwise_uses_the_higher_reward(fitted):
    prompts, a, b = ["What is 3 plus 3?", "What is 1 plus 1?"], ["6.", "2."], ["7, definitely.", "2."]
    result = fitted.compare(prompts, a, b)
    assert isinstance(result, Comparisons) and all(isinstance(c, Comparison) for c in result)
    scores = fitted.score(prompts + prompts, a + b)
    assert [(c.score_a, c.score_b) for c in result] == list(zip(scores[:2], scores[2:]))
    assert result.preferred == ["a" if scores[0] > scores[2] else "b", "tie"]  # the same response ties


def test_one_rule_for_preference_and_pair_correctness():
    assert [preference(a, b) for a, b in ((0.7, 0.2), (0.2, 0.7), (0.5, 0.5), (float("nan"), 0.5))] == \
        ["a", "b", "tie", "tie"]
    assert [pair_correct(c, r) for c, r in ((0.7, 0.2), (0.2, 0.7), (0.5, 0.5), (float("nan"), 0.5))] == \
        [1.0, 0.0, 0.5, 0.0]  # a NaN is no verdict: wrong, not a tie
    assert Comparison.of(0.25, 0.75) == Comparison("b", 0.25, 0.75)


def test_comparisons_are_a_list_of_comparison_with_columns():
    result = Comparisons.from_scores([0.9, 0.1, 0.4], [0.2, 0.3, 0.4])
    assert result == [Comparison("a", 0.9, 0.2), Comparison("b", 0.1, 0.3), Comparison("tie", 0.4, 0.4)]
    assert result.to_dict() == {"preferred": ["a", "b", "tie"], "score_a": [0.9, 0.1, 0.4],
                                "score_b": [0.2, 0.3, 0.4]}
    (first,) = result[:1]
    assert first == result[0] == Comparison("a", 0.9, 0.2)
    joined = result[2:] + result[:1]
    assert isinstance(joined, Comparisons) and isinstance(result[1:], Comparisons)
    assert joined.preferred == ["tie", "a"] and joined.score_b == [0.4, 0.2]
    assert Comparisons().to_dict() == {"preferred": [], "score_a": [], "score_b": []}


def _caption_pairs(tmp_path):
    """Pairwise image examples: five images with a faithful and an invented caption each (``pairs.jsonl``)."""
    (tmp_path / "img").mkdir(exist_ok=True)
    lines = []
    for i in range(5):
        make_image(40, 40 + 8 * i, seed=i).save(tmp_path / "img" / f"{i}.png")
        lines.append({"prompt": "Caption the image.", "chosen": "Coloured noise.", "rejected": "A cat on a sofa.",
                      "images": [f"img/{i}.png"]})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(path)


@pytest.mark.parametrize("kind", ["text", "vision"])
def test_pairwise_mode_scores_pairs_in_both_orders(kind, tmp_path):
    """A pairwise reward model averages both presentation orders: swapping A and B swaps the scores, which sum to
    one, and the preference follows them. On a vision-language backbone, with images given as PIL images and
    paths."""
    if kind == "text":
        rm = ActivationRM.fit(tiny_backbone("qwen2"), EXAMPLES, criterion="correct", mode="pairwise", seed=0, **FAST)
        prompts, a, b, images = ["q", "What is 2 plus 2?"], ["x", "4."], ["y", "5, surely."], None
    else:
        rm = ActivationRM.fit(tiny_vision_backbone("llava_onevision"), _caption_pairs(tmp_path), mode="pairwise",
                              **FIT_WITH_IMAGES)
        prompts, a, b = ["Caption the image."] * 2, ["Coloured noise.", "A cat."], ["A cat.", "Coloured noise."]
        images = [make_image(40, 40, 1), str(tmp_path / "img" / "3.png")]
    extra = {"images": images} if images else {}
    ab = rm.compare(prompts, a, b, **extra)
    ba = rm.compare(prompts, b, a, **extra)
    for x, y in zip(ab, ba):
        assert x.score_a == pytest.approx(y.score_b) and x.score_a + x.score_b == pytest.approx(1.0)
        assert x.preferred == preference(x.score_a, x.score_b) and y.preferred == preference(y.score_a, y.score_b)
    one_order = rm.compare(prompts, a, b, both_orders=False, **extra)
    other_order = rm.compare(prompts, b, a, both_orders=False, **extra)
    for both, first, second in zip(ab, one_order, other_order):  # the mean of P(A) shown first and shown second
        assert both.score_a == pytest.approx((first.score_a + second.score_b) / 2)
    with pytest.raises(ValueError, match="pairwise"):
        rm.score(["q"], ["x"])


def test_pointwise_examples_fit(tmp_path):
    rows = [{"prompt": "2+2?", "response": "4", "label": "yes"}, {"prompt": "2+2?", "response": "5", "label": "no"}] * 3
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    rm = ActivationRM.fit(tiny_backbone("gemma"), path, criterion="correct", **FAST)
    assert rm.fit_info["n_examples"] == 6 and rm.mask.any()
    got = rm.score(["2+2?", "2+2?"], ["4", "5"])
    torch.testing.assert_close(torch.tensor(got), torch.tensor(hand_scores(rm, ["2+2?"] * 2, ["4", "5"])),
                               rtol=1e-4, atol=1e-5)


def test_input_length_mismatch_is_an_error(fitted):
    with pytest.raises(ValueError, match="differ in length"):
        fitted.score(["a", "b"], ["x"])


def test_truncation_is_counted_and_warned(fitted):
    fitted_template = fitted.template
    from dataclasses import replace

    fitted.template = replace(fitted_template, max_length=128)
    fitted.encoder = fitted.encoder.with_template(fitted.template)
    try:
        with pytest.warns(UserWarning, match="1 of 2 inputs exceeded max_length=128"):
            fitted.score(["q", "q"], ["short", "word " * 300])
        assert fitted.last_truncated == 1
    finally:
        fitted.template = fitted_template
        fitted.encoder = fitted.encoder.with_template(fitted_template)


def test_save_load_round_trip(fitted, tmp_path):
    path = fitted.save(tmp_path / "arm")
    meta = json.loads((path / META_FILE).read_text())
    assert meta["criterion"] == "correct and short" and meta["mode"] == "pointwise"
    assert meta["backbone"]["name"] == "tiny-llama-0" and meta["verdict_tokens"]["words"] == ["Yes", "No"]
    assert len(meta["selected_heads"]) == int(fitted.mask.sum()) and meta["seed"] == 3
    loaded = ActivationRM.load(path, backbone=fitted.backbone)
    assert loaded.score(["q", "z"], ["r", "w"]) == fitted.score(["q", "z"], ["r", "w"])
    assert torch.equal(loaded.mask, fitted.mask) and loaded.template == fitted.template
    assert not list(path.glob(".*tmp"))


@pytest.mark.parametrize("kind", ["weights", "processor"])
def test_load_refuses_another_backbone_and_names_what_differs(fitted, tmp_path, kind):
    """Other weights (both backbones named), or on a vision-language backbone the same weights behind another
    image processor."""
    if kind == "weights":
        path, other, reason = fitted.save(tmp_path / "arm"), tiny_backbone("llama", seed=5), "tiny-llama-0.*tiny-llama-5"
    else:
        from activation_rm.model.backbone import processor_sha256

        backbone = tiny_vision_backbone("qwen2_vl")
        path = ActivationRM.fit(backbone, write_caption_examples(tmp_path), **FIT_WITH_IMAGES).save(tmp_path / "arm")
        other, reason = tiny_vision_backbone("qwen2_vl"), "processor"
        other.processor.image_processor.max_pixels = 28 * 28 * 4
        other.processor.image_processor.size = {"shortest_edge": 28 * 28 * 2, "longest_edge": 28 * 28 * 4}
        other.fingerprint["processor_sha256"] = processor_sha256(other.processor)
        assert other.fingerprint["processor_sha256"] != backbone.fingerprint["processor_sha256"]
    with pytest.raises(BackboneMismatchError, match=reason):
        ActivationRM.load(path, backbone=other)


def test_corrupt_and_truncated_artifacts_are_clear_errors(fitted, tmp_path):
    path = fitted.save(tmp_path / "arm")
    data = (path / TENSORS_FILE).read_bytes()
    (path / TENSORS_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="truncated"):
        ActivationRM.load(path, backbone=fitted.backbone)
    path = fitted.save(tmp_path / "arm2")
    (path / META_FILE).write_text("{not json")
    with pytest.raises(ArtifactError, match="corrupt artifact metadata"):
        ActivationRM.load(path, backbone=fitted.backbone)
    (path / META_FILE).unlink()
    with pytest.raises(ArtifactError, match="missing arm.json"):
        ActivationRM.load(path, backbone=fitted.backbone)
    with pytest.raises(ArtifactError, match="not a directory"):
        ActivationRM.load(tmp_path / "nowhere", backbone=fitted.backbone)


def test_shift_intervention_fits_scores_by_hand_and_round_trips(fitted, tmp_path):
    shifted = ActivationRM.fit(tiny_backbone("llama"), EXAMPLES, criterion="correct and short", seed=3,
                               intervention="shift", **FAST)
    assert shifted.intervention == "shift" and shifted.additive and shifted.steering.additive is True
    assert shifted.fit_info["contexts"]["intervention"] == "shift"
    assert not torch.allclose(shifted.means, fitted.means)  # the zero-shot mean is subtracted
    prompts = [e["prompt"] for e in EXAMPLES]
    responses = [e["chosen"] if i % 2 else e["rejected"] for i, e in enumerate(EXAMPLES)]
    scores = shifted.score(prompts, responses)
    torch.testing.assert_close(torch.tensor(scores), torch.tensor(hand_scores(shifted, prompts, responses),
                                                                  dtype=torch.float32), rtol=1e-4, atol=1e-5)
    as_replacement = ActivationRM(shifted.backbone, shifted.template, shifted.means, shifted.mask)
    assert as_replacement.score(prompts, responses) != scores
    path = shifted.save(tmp_path / "shift")
    assert json.loads((path / META_FILE).read_text())["intervention"] == "shift"
    loaded = ActivationRM.load(path, backbone=shifted.backbone)
    assert loaded.intervention == "shift" and loaded.score(prompts, responses) == scores
    assert loaded.with_mask(loaded.mask).intervention == "shift"
    with pytest.raises(ValueError, match="intervention must be one of"):
        ActivationRM(shifted.backbone, shifted.template, shifted.means, shifted.mask, intervention="add")


def test_fit_options_are_config_fields_and_unknown_ones_are_named():
    from activation_rm.fit.activations import ContextConfig
    from activation_rm.fit.selection import SelectionConfig
    from activation_rm.scoring.reward_model import fit_configs

    template, contexts, selection = fit_configs(None, None, SelectionConfig(steps=9), {
        "criterion": "c", "n_shots": 1, "layout": "compact", "held_out_fraction": None})
    assert (contexts.n_shots, selection.steps, template.criterion, template.layout) == (1, 9, "c", "compact")
    assert contexts.n_contexts == ContextConfig().n_contexts  # untouched fields keep the library default
    template, _, _ = fit_configs("just the criterion", None, None, {"mode": "pairwise"})
    assert (template.criterion, template.mode) == ("just the criterion", "pairwise")
    with pytest.raises(TypeError, match="n_shot"):
        fit_configs("c", None, None, {"n_shot": 2})
    # a field given in an object and as a keyword is refused, never silently overridden (a lost CLI option)
    with pytest.raises(TypeError, match=r"selection= and its field\(s\) \['steps'\]"):
        fit_configs("c", None, SelectionConfig(steps=9), {"steps": 3})
    with pytest.raises(TypeError, match="template= and its field"):
        fit_configs(JudgeTemplate("c", mode="pairwise"), None, None, {"mode": "pointwise"})
    with pytest.raises(TypeError, match="needs the judge template"):
        fit_configs(None, ContextConfig(), None, {})


def test_fit_keeps_a_given_templates_mode_and_length():
    template = JudgeTemplate("correct and short", mode="pairwise", max_length=300, layout="criterion_last")
    rm = ActivationRM.fit(tiny_backbone("llama"), EXAMPLES, template, seed=3, **FAST)
    assert rm.template == template


def test_fit_with_given_means_skips_them_and_gives_the_same_model(fitted):
    again = ActivationRM.fit(tiny_backbone("llama"), EXAMPLES, criterion="correct and short", seed=3,
                             means=fitted.means.clone(), **FAST)
    assert torch.equal(again.mask, fitted.mask)
    assert again.fit_info["contexts"] == fitted.fit_info["contexts"]
    assert again.fit_info["means_seconds"] < fitted.fit_info["means_seconds"]


# ------------------------------------------------------------------------------- vision-language backbones
FIT_WITH_IMAGES = dict(criterion=CAPTION_CRITERION, steps=3, n_contexts=4, n_shots=1, masks_per_step=4,
                       final_samples=2, progress=False, max_length=512, held_out_fraction=0.2)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen2_5_vl", "llava_onevision", "idefics3", "gemma3"])
def test_fit_score_save_load_with_images(tmp_path, family):
    backbone = tiny_vision_backbone(family)
    path = write_caption_examples(tmp_path)
    rm = ActivationRM.fit(backbone, path, seed=3, **FIT_WITH_IMAGES)
    again = ActivationRM.fit(backbone, path, seed=3, **FIT_WITH_IMAGES)
    assert torch.equal(rm.mask, again.mask) and torch.equal(rm.means, again.means)  # seeded
    assert rm.means.shape == (backbone.num_layers, backbone.num_heads, backbone.head_dim)
    assert rm.fit_info["n_held_out_examples"] == 1 and len(rm.fit_info["candidate_scores"]) == 2

    prompts = ["Write a caption for the image."] * 3
    captions = ["A square of coloured noise.", "A dog in the snow.", "Noise."]
    images = [make_image(50, 50, 7), [make_image(30, 60, 8), make_image(40, 40, 9)], None]
    scores = rm.score(prompts, captions, images=images)
    assert scores == pytest.approx(hand_scores(rm, prompts, captions, images), abs=1e-5)  # the steered pass by hand
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


def test_fit_with_a_corrupt_image_names_the_line_and_path(tmp_path):
    path = write_caption_examples(tmp_path, 4)
    (tmp_path / "img" / "2.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(ExampleError, match=r"captions\.jsonl:3: cannot read image .*2\.png"):
        ActivationRM.fit(tiny_vision_backbone("qwen2_vl"), path, criterion=CAPTION_CRITERION, steps=1, progress=False)


def test_text_backbone_refuses_images(tmp_path, capsys):
    from activation_rm.apps.cli import main
    from activation_rm.model.backbone import UnsupportedModelError

    backbone = tiny_backbone("llama")
    with pytest.raises(UnsupportedModelError, match="text-only"):
        ActivationRM.fit(backbone, write_caption_examples(tmp_path, 4), criterion=CAPTION_CRITERION, steps=1,
                         progress=False)
    rm = ActivationRM.fit(backbone, [{"prompt": "q", "response": "a", "label": i % 2} for i in range(4)],
                          criterion=CAPTION_CRITERION, steps=1, n_contexts=2, n_shots=1, masks_per_step=2,
                          final_samples=1, progress=False, max_length=256)
    with pytest.raises(UnsupportedModelError, match="text-only"):
        rm.score(["q"], ["a"], images=[make_image(8, 8)])
    # the command line reports it as an error, not a traceback
    backbone.model.save_pretrained(tmp_path / "tiny-llama")
    backbone.tokenizer.save_pretrained(tmp_path / "tiny-llama")
    assert main(["fit", write_caption_examples(tmp_path, 4), "--model", str(tmp_path / "tiny-llama"), "--criterion",
                 "c", "--out", str(tmp_path / "a"), "--steps", "1", "--n-shots", "1", "--quiet", "--device",
                 "cpu"]) == 2
    err = capsys.readouterr().err
    assert "is text-only" in err and "Traceback" not in err


def test_verdict_logits_equal_a_plain_pass_per_model_pointwise_and_pairwise_and_refuse_mixed_modes():
    from tiny import QA_PROMPTS, QA_RESPONSES, random_rm, tiny_backbone

    from activation_rm.forward.batching import last_token_logits
    from activation_rm.judge.templates import JudgeItem, JudgeTemplate
    from activation_rm.scoring.reward_model import verdict_logits

    backbone = tiny_backbone("llama")
    prompts = [*QA_PROMPTS, QA_PROMPTS[0], QA_PROMPTS[0]]  # a repeated prompt takes the shared-prompt path
    responses = [*QA_RESPONSES, QA_RESPONSES[1], QA_RESPONSES[2]]
    for mode, items in (("pointwise", [JudgeItem(p, (r,)) for p, r in zip(prompts, responses)]),
                        ("pairwise", [JudgeItem(p, (a, b)) for p, a, b in zip(prompts, responses, responses[::-1])])):
        models = [random_rm(backbone, c, seed, JudgeTemplate(criterion=c, mode=mode))
                  for seed, c in enumerate(("the better answer", "the kinder answer"))]
        models.append(models[0].without_steering())
        models.append(ActivationRM(backbone, models[1].template, models[1].means * 0.2, models[1].mask,
                                   intervention="shift"))  # a shift among replacements: per-row flags
        logits = verdict_logits(models, items)
        assert logits.shape == (len(items), 4, 2)
        for k, rm in enumerate(models):
            plain = last_token_logits(backbone, rm.encode(items), read_ids=rm.encoder.verdict_ids,
                                      steering=rm.steering).logits
            torch.testing.assert_close(logits[:, k], plain, rtol=1e-4, atol=1e-4)
    pointwise = random_rm(backbone, "c", 0)
    with pytest.raises(ValueError, match="score pointwise and pairwise reward models apart"):
        verdict_logits([pointwise, models[0]], [])
    assert verdict_logits(models, []).shape == (0, 4, 2)
