"""activation_rm.serve.batcher: dynamic batching that is fair to small requests: each request's micro-batches
taken in turn, calls filled to max_batch_size, oversized items run alone, cancelled requests dropped; the runner's
results split back per request."""

from __future__ import annotations

import asyncio
import time

import pytest

from activation_rm.serve.batcher import BatchConfig, DynamicBatcher, ItemCost


class ListSplitter:
    """Payloads are lists of (name, tokens) items; a part is a slice and results are the item names."""

    def costs(self, payload):
        return [ItemCost(1, tokens) for _, tokens in payload]

    def part(self, payload, start, stop):
        return payload[start:stop]

    def join(self, payload, results):
        return [name for result in results for name in result]

    def part_error(self, error, start):
        return error


def _batcher(calls, **config):
    def run(parts):
        calls.append([[name for name, _ in part] for part in parts])
        time.sleep(0.02)
        return [[name for name, _ in part] for part in parts]

    return DynamicBatcher(run, BatchConfig(**config), splitter=ListSplitter())


def _items(prefix, n, tokens):
    return [(f"{prefix}{i}", tokens) for i in range(n)]


@pytest.mark.parametrize("enabled", [True, False])
def test_batcher_takes_one_micro_batch_of_each_request_in_turn(enabled):
    """A (6 items of 10 tokens), B (3 of 4) and C (1 of 1) with 10 tokens per call: A fills the first call
    alone, B and C share the second (they had no room in the first), then A and B alternate, since a request left
    out of one call goes first in the next; C is done in the second call, not after A."""
    calls = []
    batcher = _batcher(calls, max_batch_size=8, max_wait_ms=200, micro_batch_tokens=10, enabled=enabled)

    async def go():
        return await asyncio.gather(batcher.submit(_items("a", 6, 10)), batcher.submit(_items("b", 3, 4)),
                                    batcher.submit(_items("c", 1, 1)))

    a, b, c = asyncio.run(go())
    assert (a, b, c) == ([f"a{i}" for i in range(6)], ["b0", "b1", "b2"], ["c0"])
    parts = [part for call in calls for part in call]
    assert parts == [["a0"], ["b0", "b1"], ["c0"], ["a1"], ["b2"], ["a2"], ["a3"], ["a4"], ["a5"]]
    if enabled:
        assert calls[:4] == [[["a0"]], [["b0", "b1"], ["c0"]], [["a1"]], [["b2"]]] and len(calls) == 8
    else:
        assert all(len(call) == 1 for call in calls)
    assert batcher.stats.requests == 3 and batcher.stats.micro_batches == 9
    batcher.close()


def test_batcher_fills_calls_to_max_batch_size_and_goes_on_where_it_stopped():
    calls = []
    batcher = _batcher(calls, max_batch_size=3, max_wait_ms=200, micro_batch_tokens=100)

    async def go():
        return await asyncio.gather(*(batcher.submit(_items(name, 2, 1)) for name in "abc"))

    assert asyncio.run(go()) == [["a0", "a1"], ["b0", "b1"], ["c0", "c1"]]
    assert calls == [[["a0", "a1"], ["b0"]], [["c0", "c1"], ["b1"]]]
    batcher.close()


def test_batcher_runs_an_item_larger_than_a_call_alone():
    """An item worth more slots than max_batch_size (a compare pair with --max-batch-size 1) still runs."""
    calls = []

    def run(parts):
        calls.append(len(parts))
        return ["done"] * len(parts)

    batcher = DynamicBatcher(run, BatchConfig(max_batch_size=1), size=lambda _: 2)

    async def go():
        return await asyncio.wait_for(asyncio.gather(batcher.submit("pair"), batcher.submit("other")), 10)

    assert asyncio.run(go()) == ["done", "done"] and calls == [1, 1]
    batcher.close()


def test_batcher_drops_the_parts_of_a_cancelled_request():
    calls = []
    batcher = _batcher(calls, max_wait_ms=0, micro_batch_tokens=1)

    async def go():
        task = asyncio.ensure_future(batcher.submit(_items("a", 5, 1)))
        while not calls:
            await asyncio.sleep(0.005)
        task.cancel()
        other = await batcher.submit(_items("b", 1, 1))
        await asyncio.sleep(0.1)
        return other

    assert asyncio.run(go()) == ["b0"]
    assert calls == [[["a0"]], [["b0"]]] and batcher.stats.cancelled == 1
    batcher.close()



def test_one_failing_request_fails_alone_and_a_broken_runner_fails_its_call():
    """The runner returns an exception in a request's place: only that request raises it. A runner that raises
    fails every request of that call; the batcher goes on with the next."""
    broken = {"yes": False}

    def run(parts):
        if broken["yes"]:
            raise RuntimeError("runner broke")
        return [ValueError(f"bad {part}") if part == "bad" else part.upper() for part in parts]

    batcher = DynamicBatcher(run, BatchConfig(max_batch_size=8, max_wait_ms=50))

    async def go():
        return await asyncio.gather(batcher.submit("ok"), batcher.submit("bad"), batcher.submit("fine"),
                                    return_exceptions=True)

    ok, bad, fine = asyncio.run(go())
    assert (ok, fine) == ("OK", "FINE") and isinstance(bad, ValueError) and str(bad) == "bad bad"
    broken["yes"] = True

    async def one(payload):
        return await asyncio.wait_for(batcher.submit(payload), 10)

    with pytest.raises(RuntimeError, match="^runner broke$"):
        asyncio.run(one("x"))
    broken["yes"] = False
    assert asyncio.run(one("again")) == "AGAIN"
    assert batcher.stats.requests == 5
    batcher.close()


def test_batch_config_checks_its_fields():
    with pytest.raises(ValueError):
        BatchConfig(max_batch_size=0)
    with pytest.raises(ValueError):
        BatchConfig(max_wait_ms=-1)
    assert BatchConfig().enabled
