"""activation_rm.eval.variants: the one Variant type of the evaluation harnesses (fit options over a base, checked by
building the fit's configs), its parser, and the fits shared between variants."""

from __future__ import annotations

import pytest
import torch
from tiny import tiny_backbone

from activation_rm.eval.variants import FIT_OPTIONS, Variant, VariantFits, parse_variant, parse_variants
from activation_rm.fit.config import ContextConfig, SelectionConfig
from activation_rm.inputs.data import PairwiseExample
from activation_rm.judge.templates import CRITERION_FIRST, PAIRWISE, JudgeTemplate
from activation_rm.scoring.reward_model import ActivationRM

NAMED = {"default": Variant("default"), "paper": Variant("paper", {"steps": 600, "loss": "vocab", "n_shots": 4})}


def test_a_variant_is_fit_options_over_a_base_checked_by_the_configs():
    assert FIT_OPTIONS >= {"criterion", "mode", "layout", "n_contexts", "balance_classes", "steps", "loss"}
    variant = Variant("v", {"n_contexts": 8, "mode": PAIRWISE, "steps": 5})
    template, contexts, selection = variant.configs("be right", {"layout": CRITERION_FIRST, "steps": 9, "n_shots": 1})
    assert template == JudgeTemplate("be right", PAIRWISE, layout=CRITERION_FIRST)
    assert contexts == ContextConfig(n_contexts=8, n_shots=1) and selection == SelectionConfig(steps=5)
    assert Variant("d").configs("c") == (JudgeTemplate("c"), ContextConfig(), SelectionConfig())
    with pytest.raises(ValueError, match=r"variant 'bad': unknown fit option\(s\) \['stpes', 'colour'\]"):
        Variant("bad", {"stpes": 3, "colour": "red", "steps": 2})
    with pytest.raises(ValueError, match="variant 'neg'.*n_contexts"):
        Variant("neg", {"n_contexts": 0})
    with pytest.raises(ValueError, match="readout must be one of"):
        Variant("r", readout="logit")
    with pytest.raises(ValueError, match="heads must be one of"):
        Variant("h", heads="top:x")
    assert Variant("a", {"steps": 3, "n_shots": 1}).fit_key() == Variant("b", {"n_shots": 1, "steps": 3}).fit_key()
    assert Variant("a").fit_key() != Variant("a", n_fewshot=8).fit_key()


def test_parse_variant_specs():
    assert parse_variant("paper", NAMED) is NAMED["paper"]
    v = parse_variant("mine:base=paper,steps=3,lr=0.5,zscore=false,layout=compact,readout=delta", NAMED)
    assert v.fit == {"steps": 3, "loss": "vocab", "n_shots": 4, "lr": 0.5, "zscore": False, "layout": "compact"}
    assert (v.name, v.readout) == ("mine", "delta")
    curve = parse_variant("few:n_fewshot=8,heads=top:4,group=curve", NAMED)
    assert (curve.n_fewshot, curve.heads, curve.group, curve.fit) == (8, "top:4", "curve", {})
    with pytest.raises(ValueError, match="unknown variant 'nope'"):
        parse_variant("nope", NAMED)
    with pytest.raises(ValueError, match="unknown base 'nope'"):
        parse_variant("x:base=nope", NAMED)
    with pytest.raises(ValueError, match=r"'steps' is not key=value"):
        parse_variant("x:steps", NAMED)
    with pytest.raises(ValueError) as caught:  # every bad spec named at once
        parse_variants(["x:stepz=1", "default", "y:heads=few"], NAMED)
    assert "'stepz'" in str(caught.value) and "heads must be" in str(caught.value)


def _examples(n):
    return [PairwiseExample(f"What is {i} plus {i}?", f"{2 * i}.", f"{2 * i + 1}, the quick brown fox.", source=str(i))
            for i in range(n)]


def test_variant_fits_share_fits_and_means_and_equal_a_plain_fit():
    backbone = tiny_backbone("llama")
    base = {"max_length": 256, "steps": 2, "masks_per_step": 4, "n_contexts": 3, "n_shots": 1}
    draws = []
    loaded = []

    def examples(variant):
        draws.append(variant.n_fewshot)
        return _examples(variant.n_fewshot or 6)

    fits = VariantFits(backbone, "the answer is correct", examples, seed=1, base=base,
                       load=lambda v: loaded.append(v.name))
    rm, seconds, how = fits.fit(Variant("a"))
    assert how == "fitted" and seconds > 0 and loaded == ["a"]
    assert fits.fit(Variant("same", {"steps": 2}))[1:] == (0.0, "shared")  # equal configs: one fit
    other, _, how = fits.fit(Variant("more", {"steps": 3}))  # same template and contexts: the means are shared
    assert how == "fitted" and other.means is rm.means and len(fits.means) == 1
    plain = ActivationRM.fit(backbone, _examples(6), JudgeTemplate("the answer is correct", max_length=256),
                             contexts=ContextConfig(n_contexts=3, n_shots=1),
                             selection=SelectionConfig(steps=3, masks_per_step=4), seed=1, progress=False)
    assert torch.equal(plain.means, other.means) and torch.equal(plain.mask, other.mask)
    assert fits.fit(Variant("few", n_fewshot=4))[2] == "fitted" and draws == [None, None, 4]
    saved = VariantFits(backbone, "c", examples, seed=0, load=lambda v: rm)
    assert saved.fit(Variant("x"))[0] is rm and saved.fit(Variant("x"))[2] == "shared"
