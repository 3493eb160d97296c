"""The example criteria shipped with the package (written for this project; see ``criteria/README.md``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from activation_rm.inputs.data import PairwiseExample, load_examples


@dataclass(frozen=True)
class BundledCriterion:
    name: str
    criterion: str
    fewshot: list[PairwiseExample]
    held_out: list[PairwiseExample]


def _root():
    return resources.files("activation_rm.apps") / "criteria"


def bundled_names() -> list[str]:
    return sorted(json.loads((_root() / "criteria.json").read_text(encoding="utf-8")))


def load_bundled(name: str) -> BundledCriterion:
    """A bundled criterion with its few-shot part (first ``n_fewshot`` pairs) and its held-out part."""
    table = json.loads((_root() / "criteria.json").read_text(encoding="utf-8"))
    if name not in table:
        raise KeyError(f"unknown bundled criterion {name!r}; choose one of {', '.join(sorted(table))}")
    entry = table[name]
    with resources.as_file(_root() / entry["file"]) as path:
        examples = load_examples(path)
    n = int(entry["n_fewshot"])
    return BundledCriterion(name, entry["criterion"], examples[:n], examples[n:])
