"""Command-line flags from configuration dataclasses (activation_rm.inputs.flags): one field declaration gives the
option, its type, choices, help and shown default, and only the options a user gives come back."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from activation_rm.inputs.flags import add_flags, flag_fields, flag_values, option_name, shown_default

MODES = ("fast", "slow")


@dataclass(frozen=True)
class Knobs:
    steps: int = field(default=150, metadata={"help": "steps to take"})
    rate: float = field(default=0.1, metadata={"help": "a rate near 5%"})
    mode: str = field(default="fast", metadata={"help": "how to go", "choices": MODES})
    budget: int | None = field(default=None, metadata={"help": "token budget", "default_text": "max_length"})
    balance: bool = field(default=False, metadata={"help": "balance the classes"})
    zscore: bool = field(default=True, metadata={"help": "standardise"})
    internal: str = "not a flag"  # no help: not on the command line


def parse(argv, **options):
    parser = argparse.ArgumentParser(prog="t")
    add_flags(parser, Knobs, **options)
    return parser, parser.parse_args(argv)


def test_fields_with_help_become_flags_with_type_choices_and_the_real_default_in_the_help():
    parser, args = parse([])
    assert [f.name for f in flag_fields(Knobs)] == ["steps", "rate", "mode", "budget", "balance", "zscore"]
    helps = {a.dest: a.help % {} for a in parser._actions}  # argparse's own %-formatting
    assert helps["steps"] == "steps to take (default: 150)"
    assert helps["rate"] == "a rate near 5% (default: 0.1)"  # a literal % survives argparse
    assert helps["mode"] == "how to go (default: fast)"
    assert helps["budget"] == "token budget (default: max_length)"
    assert helps["balance"] == "balance the classes (default: off)" and helps["zscore"] == "standardise (default: on)"
    assert "internal" not in helps
    assert all(getattr(args, name) is None for name in ("steps", "rate", "mode", "budget", "balance", "zscore"))
    parser.format_help()  # renders


def test_only_the_options_given_come_back_and_build_the_dataclass():
    _, args = parse(["--steps", "7", "--rate", "0.5", "--mode", "slow", "--budget", "300", "--balance",
                     "--no-zscore"])
    values = flag_values(args, Knobs)
    assert values == {"steps": 7, "rate": 0.5, "mode": "slow", "budget": 300, "balance": True, "zscore": False}
    assert Knobs(**values) == Knobs(7, 0.5, "slow", 300, True, False)
    _, args = parse(["--steps", "3"])
    assert flag_values(args, Knobs) == {"steps": 3} and Knobs(**flag_values(args, Knobs)) == Knobs(steps=3)
    assert flag_values({"steps": 4, "rate": None, "other": 1}, Knobs) == {"steps": 4}  # a mapping works too


def test_bad_values_are_argparse_errors(capsys):
    for argv in (["--steps", "x"], ["--mode", "medium"], ["--rate", "fast"]):
        with pytest.raises(SystemExit):
            parse(argv)
    assert "invalid choice: 'medium'" in capsys.readouterr().err


def test_only_exclude_and_presets():
    parser, _ = parse([], only=("steps", "mode"), exclude=("mode",))
    assert [a.dest for a in parser._actions if a.dest != "help"] == ["steps"]
    with pytest.raises(ValueError, match="no flag field"):
        add_flags(argparse.ArgumentParser(), Knobs, only=("internal",))
    presets = {"fast": Knobs(steps=30), "full": Knobs(balance=True)}
    parser, args = parse([], presets=presets)
    helps = {a.dest: a.help for a in parser._actions}
    assert helps["steps"].endswith("(default: fast 30, full 150)") and helps["rate"].endswith("(default: 0.1)")
    assert helps["balance"].endswith("(default: fast off, full on)")
    assert parse(["--no-balance"], presets=presets)[1].balance is False  # --x/--no-x when a preset turns it on


def test_names_and_types():
    assert option_name("held_out_fraction") == "--held-out-fraction"
    assert shown_default(flag_fields(Knobs)[1]) == "0.1"

    @dataclass
    class Odd:
        pair: tuple[int, int] = field(default=(1, 2), metadata={"help": "a pair"})

    with pytest.raises(TypeError, match="no command-line type"):
        add_flags(argparse.ArgumentParser(), Odd)


def test_the_library_configs_declare_their_flags():
    """Every field the command line exposes has help; the choices are the modules' own tuples."""
    from activation_rm.apps.best_of_n import SamplingConfig
    from activation_rm.eval.settings import EvalSettings
    from activation_rm.fit.config import (
        FINAL_RULES,
        INITS,
        INTERVENTIONS,
        LOSSES,
        ContextConfig,
        SelectionConfig,
    )
    from activation_rm.judge.templates import DEMO_STYLES, LAYOUTS, MODES, JudgeTemplate

    names = {cls.__name__: [f.name for f in flag_fields(cls)] for cls in
             (ContextConfig, SelectionConfig, JudgeTemplate, SamplingConfig, EvalSettings)}
    assert names["ContextConfig"] == ["n_contexts", "n_shots", "balance_classes", "demos", "context_tokens",
                                      "queries_per_demo_set", "intervention"]
    assert names["SelectionConfig"] == ["steps", "masks_per_step", "lr", "init_logit", "zscore", "final_samples",
                                        "loss", "final_rule", "held_out_fraction", "init", "init_heads",
                                        "init_top_logit"]
    assert names["JudgeTemplate"] == ["mode", "max_length", "layout"]
    assert names["SamplingConfig"] == ["n", "max_new_tokens", "temperature", "top_p", "seed"]
    assert len(names["EvalSettings"]) == len(EvalSettings.__dataclass_fields__)
    choices = {f.name: f.metadata.get("choices") for cls in (ContextConfig, SelectionConfig, JudgeTemplate)
               for f in flag_fields(cls)}
    assert (choices["demos"], choices["loss"], choices["final_rule"], choices["layout"], choices["mode"],
            choices["init"], choices["intervention"]) == (DEMO_STYLES, LOSSES, FINAL_RULES, LAYOUTS, MODES, INITS,
                                                          INTERVENTIONS)


def test_sampling_config_from_args_keeps_the_defaults_of_options_not_given():
    from activation_rm.apps.best_of_n import SamplingConfig
    from activation_rm.apps.cli import add_sampling_arguments

    parser = argparse.ArgumentParser()
    add_sampling_arguments(parser)
    assert SamplingConfig.from_args(parser.parse_args([])) == SamplingConfig()
    assert SamplingConfig.from_args(parser.parse_args(["--n", "3", "--top-p", "0.5"])) == SamplingConfig(n=3, top_p=0.5)
