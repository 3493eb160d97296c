"""Field checks shared by the configuration dataclasses and the command line.

Each configuration object checks all of its fields when it is built and raises one :class:`ConfigError` that names
every bad field, so a Python user sees ``SelectionConfig.steps must be at least 0, got -3`` and the command line,
which builds the same objects before it loads any model, can say ``--steps must be at least 0, got -3``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from activation_rm.inputs.data import InputProblem


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: ``owner`` (the class or function), ``field`` (its name, also the option's) and what is wrong,
    worded to follow the name (``must be at least 1, got 0``)."""

    owner: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.owner}.{self.field} {self.message}"

    def as_option(self) -> str:
        """The problem as the command line names it: ``--n-contexts must be at least 1, got 0``."""
        return f"--{self.field.replace('_', '-')} {self.message}"


class ConfigError(InputProblem):
    """One or more bad configuration fields; ``problems`` lists each (a ValueError, as before it named fields)."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @classmethod
    def merged(cls, errors: Iterable[ConfigError]) -> ConfigError:
        return cls([problem for error in errors for problem in error.problems])


#: (field, passes, message): one rule of :func:`check_fields`
Rule = tuple[str, bool, str]


def check_fields(owner: object, rules: Iterable[Rule]) -> None:
    """Raise one :class:`ConfigError` naming every field whose rule fails (``owner``: the object or its name)."""
    name = owner if isinstance(owner, str) else type(owner).__name__
    problems = [FieldProblem(name, field, message) for field, passes, message in rules if not passes]
    if problems:
        raise ConfigError(problems)


def at_least(field: str, value: float, low: float) -> Rule:
    return field, value >= low, f"must be at least {low}, got {value}"


def positive(field: str, value: float) -> Rule:
    return field, math.isfinite(value) and value > 0, f"must be a number above 0, got {value}"


def finite(field: str, value: float) -> Rule:
    return field, math.isfinite(value), f"must be a finite number, got {value}"


def one_of(field: str, value: object, choices: Sequence[object]) -> Rule:
    return field, value in choices, f"must be one of {', '.join(map(str, choices))}, got {value!r}"
