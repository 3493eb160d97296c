import json

import pytest
import torch
from tiny import tiny_backbone

from activation_rm import ActivationRM, BackboneMismatchError, JudgeTemplate
from activation_rm.scoring.artifacts import META_FILE, TENSORS_FILE, ArtifactError

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
    assert all(0.0 <= s <= 1.0 for s in together)
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
    (result,) = fitted.compare(["What is 3 plus 3?"], ["6."], ["7, definitely."])
    assert result.preferred == ("a" if result.score_a > result.score_b else "b")
    assert [result.score_a, result.score_b] == fitted.score(["What is 3 plus 3?"] * 2, ["6.", "7, definitely."])


def test_pairwise_mode_scores_pairs_in_both_orders():
    rm = ActivationRM.fit(tiny_backbone("qwen2"), EXAMPLES, criterion="correct", mode="pairwise", seed=0, **FAST)
    (ab,) = rm.compare(["q"], ["x"], ["y"])
    (ba,) = rm.compare(["q"], ["y"], ["x"])
    assert ab.score_a == pytest.approx(ba.score_b) and ab.score_a + ab.score_b == pytest.approx(1.0)
    with pytest.raises(ValueError, match="pairwise"):
        rm.score(["q"], ["x"])


def test_pointwise_examples_fit(tmp_path):
    rows = [{"prompt": "2+2?", "response": "4", "label": "yes"}, {"prompt": "2+2?", "response": "5", "label": "no"}] * 3
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    rm = ActivationRM.fit(tiny_backbone("gemma"), path, criterion="correct", **FAST)
    assert len(rm.score(["2+2?"], ["4"])) == 1


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


def test_load_with_other_backbone_names_both(fitted, tmp_path):
    path = fitted.save(tmp_path / "arm")
    with pytest.raises(BackboneMismatchError, match="tiny-llama-0.*tiny-llama-5"):
        ActivationRM.load(path, backbone=tiny_backbone("llama", seed=5))


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
