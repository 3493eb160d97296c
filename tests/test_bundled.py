"""activation_rm.apps.bundled: the example criteria shipped with the package."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from activation_rm.apps.bundled import bundled_names, load_bundled
from activation_rm.inputs.data import PairwiseExample, load_examples


def test_bundled_names_are_the_table():
    table = json.loads((resources.files("activation_rm.apps") / "criteria" / "criteria.json").read_text())
    assert bundled_names() == sorted(table) == ["honest_not_flattering", "short_correct"]


@pytest.mark.parametrize("name", ["honest_not_flattering", "short_correct"])
def test_a_bundled_criterion_splits_its_file_into_few_shot_and_held_out(name):
    table = json.loads((resources.files("activation_rm.apps") / "criteria" / "criteria.json").read_text())
    entry = table[name]
    with resources.as_file(resources.files("activation_rm.apps") / "criteria" / entry["file"]) as path:
        every = load_examples(path)
    bundled = load_bundled(name)
    assert bundled.name == name and bundled.criterion == entry["criterion"] and bundled.criterion.strip()
    assert len(bundled.fewshot) == int(entry["n_fewshot"]) > 0 and bundled.held_out
    assert bundled.fewshot + bundled.held_out == every  # in file order, nothing dropped
    assert all(isinstance(e, PairwiseExample) and e.chosen != e.rejected for e in every)


def test_an_unknown_name_lists_the_bundled_ones():
    with pytest.raises(KeyError, match="unknown bundled criterion 'nope'; choose one of honest_not_flattering, "
                                       "short_correct"):
        load_bundled("nope")
