"""activation_rm.scoring.engine: several criteria scored together (score_criteria, ModelSet fused and separate) equal each
reward model alone, and per-item failures become ItemErrors. The HTTP app on top is in test_serve_app.py."""

from __future__ import annotations

import pytest
import torch
from serve_support import DISTINCT, PROMPTS, RESPONSES
from test_multi import PROMPTS as TEXT_PROMPTS
from test_multi import RESPONSES as TEXT_RESPONSES
from test_multi import _rm
from tiny import tiny_backbone

from activation_rm.judge.templates import JudgeTemplate
from activation_rm.scoring.engine import ItemError, ModelSet, ScoreRequest, score_criteria, score_requests

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


@pytest.mark.parametrize("prompts", [DISTINCT, PROMPTS], ids=["distinct-prompts", "repeated-prompts"])
def test_several_criteria_run_fused_and_equal_separate_passes(setup, prompts):
    """Several criteria run fused: with distinct prompts in one forward pass over all (item, criterion) rows; with
    a repeated prompt also keeping each (criterion, prompt) group's shared KV cache, in fewer passes than one
    criterion after the other. The scores equal one pass per criterion and each reward model alone."""
    fused, separate = (ModelSet(dict(setup.rms), fuse_criteria=flag) for flag in (True, False))
    got, fused_passes = _passes(setup.backbone, lambda: fused.score(prompts, RESPONSES))
    want, separate_passes = _passes(setup.backbone, lambda: separate.score(prompts, RESPONSES))
    if prompts is DISTINCT:
        assert (fused_passes, separate_passes) == (1, 2)
    else:  # one plain pass, one for the prefixes, one for the suffixes; each criterion alone takes those three
        assert (fused_passes, separate_passes) == (3, 6)
    assert list(got) == ["short", "honest"]
    for name, rm in setup.rms.items():
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(want[name]), rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(rm.score(prompts, RESPONSES)),
                                   rtol=1e-6, atol=1e-7)
        alone = [rm.score([p], [r])[0] for p, r in zip(prompts, RESPONSES)]  # no sharing at all
        torch.testing.assert_close(torch.tensor(got[name]), torch.tensor(alone), rtol=1e-6, atol=1e-7)


def test_single_item_failure_is_an_item_error(models, monkeypatch):
    monkeypatch.setattr(models.models["short"], "score", lambda p, r: 1 / 0)
    [result] = score_requests(models, [ScoreRequest(["q"], ["a"], ("short",))])
    assert isinstance(result, ItemError) and result.item == 0 and "ZeroDivisionError" in result.message
