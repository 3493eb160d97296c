"""activation_rm.integrations.calls: concurrent reward calls (OpenRLHF's, verl's) scored together while the judge is
busy, with a failing call isolated to itself."""

from __future__ import annotations

import threading
import time

import pytest

from activation_rm.integrations.calls import GroupBatcher


def test_group_batcher_scores_calls_that_wait_together():
    """While the judge runs one batch, the calls that arrive are scored together in the next one."""
    seen = []
    release = threading.Event()

    def score(prompts, responses):
        seen.append(list(responses))
        if len(seen) == 1:
            release.wait(10)
        if "bad" in responses:
            raise ValueError("cannot score 'bad'")
        return {"c": [float(len(r)) for r in responses]}

    batcher = GroupBatcher(score)
    results, errors = {}, {}

    def call(text):
        try:
            results[text] = batcher(["p"], [text])["c"]
        except ValueError as err:
            errors[text] = str(err)

    first = threading.Thread(target=call, args=("a",))
    first.start()
    while not seen:
        time.sleep(0.005)
    others = [threading.Thread(target=call, args=(t,)) for t in ("bb", "bad", "dddd")]
    for thread in others:
        thread.start()
    deadline = time.monotonic() + 10
    while len(batcher._queue) < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == {"a": [1.0], "bb": [2.0], "dddd": [4.0]} and errors == {"bad": "cannot score 'bad'"}
    assert sorted(seen[1]) == ["bad", "bb", "dddd"]  # the three waiting calls went as one batch...
    assert sorted(map(tuple, seen[2:])) == [("bad",), ("bb",), ("dddd",)]  # ...which failed, so each alone



def test_one_call_is_one_batch_and_its_error_is_raised_once():
    calls = []

    def score(prompts, responses):
        calls.append(list(responses))
        if "bad" in responses:
            raise ValueError("cannot score 'bad'")
        return {"c": [float(len(r)) for r in responses], "d": [0.5] * len(responses)}

    batcher = GroupBatcher(score)
    assert batcher(["p", "q"], ["ab", "abc"]) == {"c": [2.0, 3.0], "d": [0.5, 0.5]}
    with pytest.raises(ValueError, match="cannot score 'bad'"):
        batcher(["p", "q"], ["ab", "bad"])
    assert calls == [["ab", "abc"], ["ab", "bad"]] and batcher.batches == 2  # a lone call is not retried


def test_a_batch_is_split_back_per_call_in_order():
    """Jobs queued while the judge is busy run as one batch; each caller gets its own slice of every criterion."""
    seen, release = [], threading.Event()

    def score(prompts, responses):
        seen.append(list(zip(prompts, responses)))
        if len(seen) == 1:
            release.wait(10)
        return {"len": [float(len(r)) for r in responses], "prompt": [float(len(p)) for p in prompts]}

    batcher = GroupBatcher(score)
    results = {}
    threads = [threading.Thread(target=lambda: results.__setitem__("first", batcher(["x"], ["1"])))]
    threads[0].start()
    while not seen:
        time.sleep(0.005)
    for name, prompts, responses in (("two", ["pp", "ppp"], ["22", "333"]), ("one", ["p"], ["4444"])):
        threads.append(threading.Thread(target=lambda n=name, p=prompts, r=responses: results.__setitem__(
            n, batcher(p, r))))
        threads[-1].start()
    deadline = time.monotonic() + 10
    while len(batcher._queue) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == {"first": {"len": [1.0], "prompt": [1.0]},
                       "two": {"len": [2.0, 3.0], "prompt": [2.0, 3.0]},
                       "one": {"len": [4.0], "prompt": [1.0]}}
    assert len(seen) == 2 and sorted(seen[1]) == [("p", "4444"), ("pp", "22"), ("ppp", "333")]
