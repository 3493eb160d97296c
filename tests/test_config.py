"""activation_rm.fit.config: the fit's configuration objects (averaging contexts, head selection): their defaults,
the paper's settings, and one error naming every bad field."""

import dataclasses

import pytest

from activation_rm.fit.config import FINAL_RULES, LOSSES, ContextConfig, SelectionConfig
from activation_rm.inputs.checks import ConfigError


def test_context_config_names_every_bad_field():
    with pytest.raises(ConfigError) as caught:
        ContextConfig(n_contexts=0, n_shots=-1, demos="nope")
    assert [p.field for p in caught.value.problems] == ["n_contexts", "n_shots", "demos"]
    assert "ContextConfig.demos must be one of turns, inline, got 'nope'" in str(caught.value)
    with pytest.raises(ValueError, match="context_tokens must be at least 64"):
        ContextConfig(context_tokens=10)
    with pytest.raises(ValueError, match="queries_per_demo_set must be at least 1"):
        ContextConfig(queries_per_demo_set=0)
    assert ContextConfig(context_tokens=None).context_tokens is None  # None: the template's max_length
    with pytest.raises(ValueError, match="ContextConfig.intervention must be one of replace, shift, got 'add'"):
        ContextConfig(intervention="add")


def test_selection_config_names_every_bad_field_in_one_error():
    from activation_rm.inputs.checks import ConfigError

    with pytest.raises(ConfigError) as caught:
        SelectionConfig(steps=-3, masks_per_step=1, lr=0.0, init_logit=float("nan"), loss="nope", held_out_fraction=1.5,
                        init="best", init_heads=0, init_top_logit=float("inf"))
    assert [p.field for p in caught.value.problems] == ["steps", "masks_per_step", "lr", "init_logit", "loss",
                                                        "held_out_fraction", "init", "init_heads", "init_top_logit"]
    assert str(caught.value).startswith("SelectionConfig.steps must be at least 0, got -3; SelectionConfig.masks_per_step")
    assert isinstance(caught.value, ValueError)  # what it raised before it named fields



def test_unknown_loss_or_final_rule_is_an_error():
    with pytest.raises(ValueError, match="loss"):
        SelectionConfig(loss="hinge")
    with pytest.raises(ValueError, match="final_rule"):
        SelectionConfig(final_rule="vote")
    assert LOSSES == ("vocab", "verdicts", "pair") and FINAL_RULES == ("accuracy", "loss")


def test_paper_settings_and_round_trips():
    paper = SelectionConfig.paper()
    assert (paper.steps, paper.masks_per_step, paper.lr, paper.init_logit) == (600, 32, 0.1, -1.0)
    assert (paper.loss, paper.final_rule, paper.final_samples) == ("vocab", "accuracy", 10)
    assert SelectionConfig.paper(steps=5) == dataclasses.replace(paper, steps=5)
    for config in (SelectionConfig(steps=9, loss="verdicts"), ContextConfig(n_shots=2, demos="turns")):
        data = config.to_dict()
        assert data == dataclasses.asdict(config) and type(config)(**data) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        SelectionConfig().steps = 3  # type: ignore[misc]
