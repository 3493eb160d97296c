"""Failure isolation (scoring/isolation.py): one call for every part, then each part alone only when that fails."""

from __future__ import annotations

import pytest

from activation_rm.scoring.isolation import run_isolating


class Scorer:
    """Doubles each part; a part in ``bad`` makes any call that includes it fail. Records the calls."""

    def __init__(self, bad=(), broken: bool = False) -> None:
        self.bad, self.broken, self.calls = set(bad), broken, []

    def __call__(self, parts):
        self.calls.append(list(parts))
        if self.broken:
            raise RuntimeError(f"broken on {len(parts)} parts")
        failing = [p for p in parts if p in self.bad]
        if failing:
            raise ValueError(f"bad part {failing[0]}")
        return [2 * p for p in parts]


def test_one_call_when_nothing_fails():
    scorer = Scorer()
    assert run_isolating(scorer, [1, 2, 3]) == [2, 4, 6]
    assert scorer.calls == [[1, 2, 3]]


def test_a_failing_part_fails_alone_and_the_others_keep_their_results():
    scorer = Scorer(bad={2, 4})
    results = run_isolating(scorer, [1, 2, 3, 4])
    assert [r if not isinstance(r, Exception) else str(r) for r in results] == [2, "bad part 2", 6, "bad part 4"]
    assert scorer.calls == [[1, 2, 3, 4], [1], [2], [3], [4]]
    assert run_isolating(scorer, [1, 2, 3, 4], raise_if_all_fail=True)[2] == 6  # some parts succeed: no raise


def test_a_single_part_is_not_run_twice():
    scorer = Scorer(bad={5})
    [result] = run_isolating(scorer, [5])
    assert isinstance(result, ValueError) and str(result) == "bad part 5"
    assert scorer.calls == [[5]]


@pytest.mark.parametrize("parts", [[7], [7, 8, 9]])
def test_raise_if_all_fail_raises_the_error_of_the_call_with_every_part(parts):
    scorer = Scorer(broken=True)
    with pytest.raises(RuntimeError, match=f"broken on {len(parts)} parts"):
        run_isolating(scorer, parts, raise_if_all_fail=True)
    assert len(scorer.calls) == (1 if len(parts) == 1 else 1 + len(parts))
    results = run_isolating(Scorer(broken=True), parts)  # without it every part gets its own error
    assert [str(r) for r in results] == ([f"broken on {len(parts)} parts"] if len(parts) == 1
                                         else ["broken on 1 parts"] * len(parts))


def test_base_exceptions_are_not_caught():
    def interrupted(parts):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_isolating(interrupted, [1, 2])
