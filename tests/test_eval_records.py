"""activation_rm.eval.records: the one preference-pair record type of every benchmark loader."""

from __future__ import annotations

import dataclasses

import pytest

from activation_rm.eval.records import PairRecord, judge_items
from activation_rm.judge.templates import JudgeItem


def test_key_is_unique_across_subsets_and_records_are_values():
    a = PairRecord("7", "chat", "q", "good", "bad")
    b = PairRecord("7", "math-prm", [{"role": "user", "content": "q"}], "good", "bad", section="Reasoning",
                   images=("x.png",))
    assert (a.key, b.key) == ("chat/7", "math-prm/7")
    assert (a.section, a.images) == (None, ())
    assert a == PairRecord("7", "chat", "q", "good", "bad") and hash(a) == hash(PairRecord("7", "chat", "q", "good",
                                                                                           "bad"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.chosen = "other"  # type: ignore[misc]
    assert dataclasses.replace(a, chosen="other").chosen == "other"


def test_judge_items_list_first_halves_then_second_halves():
    records = [PairRecord("1", "s", "p1", "good1", "bad1"), PairRecord("2", "s", "p2", "good2", "bad2")]
    assert judge_items(records) == [JudgeItem("p1", ("good1",)), JudgeItem("p2", ("good2",)),
                                    JudgeItem("p1", ("bad1",)), JudgeItem("p2", ("bad2",))]
    assert judge_items(records, "pairwise") == [JudgeItem("p1", ("good1", "bad1")), JudgeItem("p2", ("good2", "bad2")),
                                                JudgeItem("p1", ("bad1", "good1")), JudgeItem("p2", ("bad2", "good2"))]
    assert judge_items([]) == []
