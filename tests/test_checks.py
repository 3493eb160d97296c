"""activation_rm.inputs.checks: one ConfigError naming every bad field, worded for Python and for the command line."""

from __future__ import annotations

import math

import pytest

from activation_rm.inputs.checks import (
    ConfigError,
    FieldProblem,
    at_least,
    check_fields,
    finite,
    one_of,
    positive,
)
from activation_rm.inputs.data import InputProblem


def test_rules_pass_or_say_what_is_wrong():
    assert at_least("steps", 3, 0) == ("steps", True, "must be at least 0, got 3")
    assert at_least("steps", -1, 0)[1:] == (False, "must be at least 0, got -1")
    assert [positive("lr", v)[1] for v in (0.1, 0.0, -1.0, math.inf, math.nan)] == [True, False, False, False, False]
    assert positive("lr", 0.0)[2] == "must be a number above 0, got 0.0"
    assert [finite("x", v)[1] for v in (0.0, -5.0, math.inf, math.nan)] == [True, True, False, False]
    assert one_of("loss", "nope", ("pair", "vocab")) == ("loss", False, "must be one of pair, vocab, got 'nope'")
    assert one_of("loss", "pair", ("pair", "vocab"))[1] is True


def test_check_fields_names_every_bad_field_in_order():
    class Settings:
        pass

    check_fields(Settings(), [at_least("a", 1, 0), positive("b", 2.0)])  # all pass: nothing raised
    with pytest.raises(ConfigError) as caught:
        check_fields(Settings(), [at_least("a", -1, 0), positive("b", 2.0), one_of("c", 3, (1, 2))])
    error = caught.value
    assert error.problems == [FieldProblem("Settings", "a", "must be at least 0, got -1"),
                              FieldProblem("Settings", "c", "must be one of 1, 2, got 3")]
    assert str(error) == "Settings.a must be at least 0, got -1; Settings.c must be one of 1, 2, got 3"
    assert isinstance(error, ValueError) and isinstance(error, InputProblem)
    with pytest.raises(ConfigError, match=r"^fit\.n_shots must be at least 0, got -2$"):
        check_fields("fit", [at_least("n_shots", -2, 0)])  # an owner given by name


def test_problems_read_as_options_and_errors_merge():
    problem = FieldProblem("ContextConfig", "n_contexts", "must be at least 1, got 0")
    assert problem.as_option() == "--n-contexts must be at least 1, got 0"
    assert str(problem) == "ContextConfig.n_contexts must be at least 1, got 0"
    other = FieldProblem("SelectionConfig", "steps", "must be at least 0, got -3")
    merged = ConfigError.merged([ConfigError([problem]), ConfigError([other])])
    assert merged.problems == [problem, other]
    assert str(merged) == f"{problem}; {other}"
