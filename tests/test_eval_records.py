"""activation_rm.eval.records: the one preference-pair record type of every benchmark loader."""

from __future__ import annotations

import dataclasses

import pytest

from activation_rm.eval.records import PairRecord


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
