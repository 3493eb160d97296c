import pytest
import torch
from tiny import tiny_backbone

from activation_rm.scoring import auto
from activation_rm.scoring.reward_model import ActivationRM

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


def test_fit_auto_reports_the_grid_and_shares_the_means(monkeypatch):
    calls = []
    real = auto.mean_head_activations

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(auto, "mean_head_activations", counting)
    backbone = tiny_backbone("llama")
    rm = auto.fit_auto(backbone, EXAMPLES, criterion="correct", seed=2, folds=2, **FAST)
    info = rm.fit_info["auto"]
    assert len(calls) == 1  # one set of means for the whole grid, the folds and the final fit
    assert set(info["cv_accuracy"]) == {name for name, _ in auto.AUTO_GRID}
    assert info["chosen"] in info["cv_accuracy"]
    assert info["cv_accuracy"][info["chosen"]] == max(info["cv_accuracy"].values())
    assert all(len(v) == 2 and all(0 <= x <= 1 for x in v) for v in info["cv_accuracy_per_fold"].values())
    chosen = dict(auto.AUTO_GRID)[info["chosen"]]
    assert all(rm.fit_info["selection"][k] == v for k, v in chosen.items())
    plain = ActivationRM.fit(backbone, EXAMPLES, criterion="correct", seed=2, means=rm.means,
                             **{**FAST, **chosen})
    assert torch.equal(plain.mask, rm.mask)  # the final model is the chosen settings fitted on every example


def test_fit_auto_needs_enough_examples():
    with pytest.raises(ValueError, match="at least 4 examples"):
        auto.fit_auto(tiny_backbone("llama"), EXAMPLES[:3], criterion="correct", folds=2, **FAST)


def test_fit_auto_on_a_vision_language_backbone_with_images():
    """The one forward path serves --auto too: examples with images cross-validate on a VLM."""
    from tiny_vision import make_image, tiny_vision_backbone

    backbone = tiny_vision_backbone("qwen2_vl")
    torch.set_num_threads(1)
    examples = [{"prompt": "Describe the image.", "chosen": f"Noise number {i}.", "rejected": f"A cat, {i} of them.",
                 "images": [make_image(28, 28, i)]} for i in range(4)]
    rm = auto.fit_auto(backbone, examples, criterion="The caption is accurate.", seed=1, folds=2,
                       steps=2, n_contexts=2, n_shots=1, masks_per_step=4, final_samples=2, progress=False)
    info = rm.fit_info["auto"]
    assert set(info["cv_accuracy"]) == {name for name, _ in auto.AUTO_GRID} and info["chosen"] in info["cv_accuracy"]
    assert all(0.0 <= v <= 1.0 for v in info["cv_accuracy"].values())
    with pytest.raises(Exception, match="text-only"):
        auto.fit_auto(tiny_backbone("llama"), examples, criterion="c", folds=2, **FAST)
