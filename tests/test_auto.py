"""activation_rm.scoring.auto, ``fit --auto``: the head-selection settings chosen by cross-validation on the
examples, on text and vision-language backbones, each fold's accuracy checked against plain scoring."""

import pytest
import torch
from tiny import tiny_backbone
from tiny_vision import make_image, tiny_vision_backbone

from activation_rm.scoring import auto
from activation_rm.scoring.reward_model import ActivationRM, as_examples, pair_correct

EXAMPLES = [{"prompt": f"What is {i} plus {i}?", "chosen": f"{2 * i}.",
             "rejected": f"It is {2 * i + 1}, because addition works that way."} for i in range(8)]
FAST = dict(steps=5, n_contexts=4, n_shots=2, masks_per_step=8, final_samples=3, progress=False)


def test_folds_are_balanced_and_seeded():
    folds = auto.fold_of(9, 3, seed=0)
    assert sorted(folds.count(k) for k in range(3)) == [3, 3, 3]
    assert folds == auto.fold_of(9, 3, seed=0) and folds != auto.fold_of(9, 3, seed=1)


def test_unit_accuracy_counts_pairs_by_summed_margin():
    from activation_rm.fit.selection import VerdictQuery

    queries = [VerdictQuery([1], 0, 1, pair=0), VerdictQuery([2], 1, 0, pair=0), VerdictQuery([3], 0, 1)]
    logits = [torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.0]]), torch.tensor([[0.0, 2.0]])]
    # pair: margins +1.0 (chosen) and -0.5 (rejected's No vs Yes) sum to +0.5 -> right; single: wrong
    assert auto.unit_accuracy(logits, queries, [(0, 1), (2,)]) == 0.5


def _auto_case(kind):
    """(backbone, examples, options) for a text fit and a vision-language fit with images (the one forward path
    serves --auto too)."""
    if kind == "text":
        return tiny_backbone("llama"), EXAMPLES, dict(criterion="correct", seed=2, **FAST)
    backbone = tiny_vision_backbone("qwen2_vl")
    examples = [{"prompt": "Describe the image.", "chosen": f"Noise number {i}.", "rejected": f"A cat, {i} of them.",
                 "images": [make_image(28, 28, i)]} for i in range(4)]
    return backbone, examples, dict(criterion="The caption is accurate.", seed=1, steps=2, n_contexts=2, n_shots=1,
                                    masks_per_step=4, final_samples=2, progress=False)


@pytest.mark.parametrize("kind", ["text", "images"])
def test_fit_auto_cross_validates_the_grid_and_shares_the_means(monkeypatch, kind):
    """One set of means for the whole grid; each (candidate, fold) accuracy is the share of that fold's pairs that
    the candidate's mask, scored the plain way (``ActivationRM.score``), ranks right; the winner has the best mean
    and the final model is the winner's settings fitted on every example."""
    backbone, examples, options = _auto_case(kind)
    calls, masks = [], []
    real_means, real_select = auto.mean_head_activations, auto.select_heads
    monkeypatch.setattr(auto, "mean_head_activations", lambda *a, **k: calls.append(1) or real_means(*a, **k))
    monkeypatch.setattr(auto, "select_heads", lambda *a, **k: masks.append((result := real_select(*a, **k)).mask)
                        or result)
    rm = auto.fit_auto(backbone, examples, folds=2, **options)
    info = rm.fit_info["auto"]
    assert len(calls) == 1  # one set of means for the whole grid, the folds and the final fit
    assert set(info["cv_accuracy"]) == {name for name, _ in auto.AUTO_GRID}
    fold = auto.fold_of(len(examples), 2, options["seed"])
    parsed = rm.encoder.load_images(as_examples(examples))
    for (name, _), per_fold in zip(auto.AUTO_GRID, [masks[2 * k:2 * k + 2] for k in range(len(auto.AUTO_GRID))]):
        expected = []
        for k, mask in enumerate(per_fold):
            judge = ActivationRM(backbone, rm.template, rm.means, mask)
            held = [e for e, f in zip(parsed, fold) if f == k]
            chosen = judge.score([e.prompt for e in held], [e.chosen for e in held], images=[e.images for e in held])
            rejected = judge.score([e.prompt for e in held], [e.rejected for e in held],
                                   images=[e.images for e in held])
            expected.append(sum(pair_correct(c, r) for c, r in zip(chosen, rejected)) / len(held))
        assert info["cv_accuracy_per_fold"][name] == pytest.approx(expected, abs=1e-9)
        assert info["cv_accuracy"][name] == round(sum(expected) / 2, 4)
    assert info["chosen"] == max(info["cv_accuracy"], key=lambda n: sum(info["cv_accuracy_per_fold"][n]))
    chosen = dict(auto.AUTO_GRID)[info["chosen"]]
    assert all(rm.fit_info["selection"][k] == v for k, v in chosen.items())
    plain = ActivationRM.fit(backbone, examples, means=rm.means, **{**options, **chosen})
    assert torch.equal(plain.mask, rm.mask)  # the final model is the chosen settings fitted on every example
    if kind == "images":
        with pytest.raises(Exception, match="text-only"):
            auto.fit_auto(tiny_backbone("llama"), examples, criterion="c", folds=2, **FAST)


def test_fit_auto_needs_enough_examples():
    with pytest.raises(ValueError, match="at least 4 examples"):
        auto.fit_auto(tiny_backbone("llama"), EXAMPLES[:3], criterion="correct", folds=2, **FAST)
