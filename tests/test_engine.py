"""activation_rm.scoring.engine: several criteria scored together (score_criteria, ModelSet fused and separate) equal each
reward model alone, and per-item failures become ItemErrors. The HTTP app on top is in test_serve_app.py."""

from __future__ import annotations

import pytest
import torch
from serve_support import DISTINCT, PROMPTS, RESPONSES, VISION_PROMPTS, VISION_RESPONSES, vision_models
from tiny import QA_PROMPTS as TEXT_PROMPTS
from tiny import QA_RESPONSES as TEXT_RESPONSES
from tiny import plant_failure, tiny_backbone
from tiny import random_rm as _rm
from tiny_vision import make_image

from activation_rm.judge.templates import JudgeTemplate
from activation_rm.scoring.engine import (
    CompareRequest,
    ItemError,
    ModelSet,
    ScoreRequest,
    parse_artifact_spec,
    run_requests,
    score_criteria,
    score_requests,
)
from activation_rm.scoring.reward_model import Comparisons

pytest_plugins = ["integrations_support"]  # the setup and models fixtures (the tiny served artifacts)


def test_score_criteria_equals_each_reward_model_alone():
    backbone = tiny_backbone("llama")
    shared_text = JudgeTemplate(criterion="the preference shown in the examples")
    rms = [_rm(backbone, "the answer is correct", 0), _rm(backbone, "the answer is short", 1),
           _rm(backbone, "x", 2, shared_text), _rm(backbone, "y", 3, shared_text)]
    rms.append(rms[0].without_steering())
    scores = score_criteria(rms, TEXT_PROMPTS, TEXT_RESPONSES, min_shared=4)
    assert list(scores) == ["the answer is correct", "the answer is short", "the preference shown in the examples",
                            "the preference shown in the examples (2)", "the answer is correct (2)"]
    for name, rm in zip(scores, rms):
        torch.testing.assert_close(torch.tensor(scores[name]), torch.tensor(rm.score(TEXT_PROMPTS, TEXT_RESPONSES)),
                                   rtol=1e-5, atol=1e-5)
    named = score_criteria({"a": rms[2], "b": rms[3]}, TEXT_PROMPTS, TEXT_RESPONSES)
    assert list(named) == ["a", "b"]


def test_score_criteria_rejects_mixed_backbones_and_pairwise():
    a, b = tiny_backbone("llama"), tiny_backbone("llama")
    with pytest.raises(ValueError, match="different backbone"):
        score_criteria([_rm(a, "c", 0), _rm(b, "d", 1)], TEXT_PROMPTS, TEXT_RESPONSES)
    pairwise = _rm(a, "c", 0, JudgeTemplate(criterion="c", mode="pairwise"))
    with pytest.raises(ValueError, match="pairwise"):
        score_criteria([pairwise], TEXT_PROMPTS, TEXT_RESPONSES)
    assert score_criteria([_rm(a, "c", 0)], [], []) == {"c": []}


def _passes(backbone, run):
    calls = []
    hook = backbone.model.register_forward_hook(lambda *_: calls.append(1))
    try:
        return run(), len(calls)
    finally:
        hook.remove()


@pytest.mark.parametrize("kind", ["distinct-prompts", "repeated-prompts", "images"])
def test_several_criteria_run_fused_and_equal_separate_passes(setup, kind):
    """Several criteria run fused: with distinct prompts (or items with images, on a vision-language backbone) in
    one forward pass over all (item, criterion) rows; with a repeated prompt also keeping each (criterion, prompt)
    group's shared KV cache, in fewer passes than one criterion after the other. The scores equal one pass per
    criterion and each reward model alone."""
    if kind == "images":
        served = vision_models()
        rms = {name: served.models[name] for name in served.pointwise}
        prompts, responses = VISION_PROMPTS, VISION_RESPONSES
        images = [(make_image(40, 60, 1),), (make_image(70, 30, 2), make_image(30, 30, 3)), None,
                  (make_image(30, 30, 3),)]
    else:
        rms, prompts, responses, images = dict(setup.rms), DISTINCT if kind == "distinct-prompts" else PROMPTS, \
            RESPONSES, None
    extra = {"images": images} if images else {}
    backbone = next(iter(rms.values())).backbone
    fused, separate = (ModelSet(rms, fuse_criteria=flag) for flag in (True, False))
    got, fused_passes = _passes(backbone, lambda: fused.score(prompts, responses, **extra))
    want, separate_passes = _passes(backbone, lambda: separate.score(prompts, responses, **extra))
    if kind == "repeated-prompts":  # one plain pass, one for the prefixes, one for the suffixes; each criterion
        assert (fused_passes, separate_passes) == (3, 6)  # alone takes those three
    else:
        assert (fused_passes, separate_passes) == (1, 2)
    assert list(got) == list(rms)
    for name, rm in rms.items():
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(want[name]), rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(rm.score(prompts, responses, **extra)),
                                   rtol=1e-6, atol=1e-7)
        alone = [rm.score([p], [r], **({"images": [images[i]]} if images else {}))[0]  # no sharing at all
                 for i, (p, r) in enumerate(zip(prompts, responses))]
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(alone), rtol=1e-5, atol=1e-6)


def test_single_item_failure_is_an_item_error(models, monkeypatch):
    """Nothing to narrow down: the item's own error, from one pass."""
    monkeypatch.setattr(models.models["short"], "score", lambda p, r: 1 / 0)
    [result] = score_requests(models, [ScoreRequest(["q"], ["a"], ("short",))])
    assert isinstance(result, ItemError) and result.item == 0 and "ZeroDivisionError" in result.message


def test_model_set_rules(setup):
    from dataclasses import replace

    from activation_rm import ActivationRM

    assert parse_artifact_spec("short=/a/b").name == "short"
    assert parse_artifact_spec("/a/some_dir/").name == "some_dir"
    with pytest.raises(ValueError, match="unique"):
        ModelSet.from_artifacts([setup.paths["short"], f"short={setup.paths['honest']}"], backbone=setup.backbone)
    short = setup.rms["short"]
    pairwise = ActivationRM(setup.backbone, replace(short.template, mode="pairwise"), short.means, short.mask)
    only_pairwise = ModelSet({"p": pairwise})  # served on /compare only
    with pytest.raises(ValueError, match="pairwise"):
        only_pairwise.score(["q"], ["a"])
    with pytest.raises(ValueError, match="differ in length"):
        ModelSet(dict(setup.rms)).score(["q", "r"], ["a"])


def test_compare_gives_each_criterion_the_reward_models_own_comparisons(models, setup):
    a, b = RESPONSES[:2], RESPONSES[2:]
    result = models.compare(PROMPTS[:2], a, b)
    assert list(result) == ["short", "honest"]
    for name, rm in setup.rms.items():
        assert isinstance(result[name], Comparisons)
        direct = rm.compare(PROMPTS[:2], a, b)
        assert result[name].preferred == direct.preferred
        torch.testing.assert_close(result[name].score_a, direct.score_a, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(result[name].score_b, rm.score(PROMPTS[:2], b), rtol=1e-6, atol=1e-7)


def test_run_requests_isolates_the_failing_item_of_the_failing_request(models, setup, monkeypatch):
    plant_failure(monkeypatch, models.models["short"])
    requests = [ScoreRequest(["q"] * 3, ["fine", "BOOM", "ok"], ("short",)),
                ScoreRequest(["What is two plus two?"], ["Four."], ("short", "honest")),
                CompareRequest(["q"], ["a"], ["BOOM"], ("short",)),
                CompareRequest(["q"], ["a"], ["b"], ("honest",))]
    bad, good, bad_pair, good_pair = run_requests(models, requests)
    assert isinstance(bad, ItemError) and bad.item == 1 and bad.message == "ValueError: cannot judge this"
    assert isinstance(bad_pair, ItemError) and bad_pair.item == 0
    for name in ("short", "honest"):
        torch.testing.assert_close(good[name], setup.rms[name].score(["What is two plus two?"], ["Four."]),
                                   rtol=1e-6, atol=1e-7)
    direct = setup.rms["honest"].compare(["q"], ["a"], ["b"])
    assert good_pair["honest"].preferred == direct.preferred
    torch.testing.assert_close(good_pair["honest"].score_a + good_pair["honest"].score_b,
                               direct.score_a + direct.score_b, rtol=1e-6, atol=1e-7)
    calls = []
    real = models.score
    monkeypatch.setattr(models, "score", lambda *a, **k: calls.append(len(a[0])) or real(*a, **k))
    [alone] = run_requests(models, requests[:1])  # one request: its items are tried one by one, never again whole
    assert isinstance(alone, ItemError) and alone.item == 1 and calls == [3, 1, 1]
