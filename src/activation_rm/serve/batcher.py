"""Dynamic batching that is fair: concurrent requests share model calls, and no request can hold up the others.

RL clients send one sample per request, so the batcher gathers concurrent requests into one model call: the first
request to reach an idle batcher opens a window of ``max_wait_ms`` for others to join, and requests that queued up
while a call ran join the next call at once. Requests may also be large (hundreds of items, or a few very long
ones), and a call cannot be interrupted, so a call holds at most ``micro_batch_tokens`` estimated tokens and
``max_batch_size`` items, and each request is cut into **micro-batches** of consecutive items that fit (one item at
least: an item is never split). A call takes at most one micro-batch of each request, in this order: requests left
out of the previous call for want of room, then requests that have not run yet, then the others round-robin. So a
1-item request arriving behind a large one runs in the next call, after the micro-batch already running, and a
large request is left out of at most every other call. A request whose caller went away (client disconnected,
timeout) is dropped before its next micro-batch. Every call runs in one background thread (the model is never run
from two threads at once); the runner returns one result or exception per micro-batch, so a bad request fails
alone, and the parts of a request are joined back in order.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Protocol, TypeVar

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class BatchConfig:
    """``enabled=False`` runs one micro-batch per model call (the baseline the load test compares against).
    ``micro_batch_tokens`` is the most estimated tokens in one model call, and so of one request's micro-batch;
    a single item may exceed it and then runs alone (None: no limit but ``max_batch_size``; the server picks one
    for its device)."""

    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    enabled: bool = True
    micro_batch_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {self.max_batch_size}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {self.max_wait_ms}")
        if self.micro_batch_tokens is not None and self.micro_batch_tokens < 1:
            raise ValueError(f"micro_batch_tokens must be at least 1, got {self.micro_batch_tokens}")


@dataclass(frozen=True)
class ItemCost:
    """What one item of a request adds to a model call: batch slots (judge queries) and estimated tokens."""

    slots: int = 1
    tokens: int = 1


class Splitter(Protocol[P, R]):
    """How the batcher cuts a payload into micro-batches and joins their results back."""

    def costs(self, payload: P) -> list[ItemCost]:
        """One cost per item, in order."""

    def part(self, payload: P, start: int, stop: int) -> P:
        """The payload of items ``start:stop``."""

    def join(self, payload: P, results: list[R]) -> R:
        """The whole payload's result from its parts' results, in order."""

    def part_error(self, error: BaseException, start: int) -> BaseException:
        """A part's error as the whole payload's (e.g. an item index shifted by ``start``)."""


class Whole(Generic[P, R]):
    """Never split: a payload is one micro-batch of ``size(payload)`` slots."""

    def __init__(self, size: Callable[[P], int] = lambda _: 1) -> None:
        self.size = size

    def costs(self, payload: P) -> list[ItemCost]:
        return [ItemCost(max(1, self.size(payload)), 1)]

    def part(self, payload: P, start: int, stop: int) -> P:
        return payload

    def join(self, payload: P, results: list[R]) -> R:
        return results[0]

    def part_error(self, error: BaseException, start: int) -> BaseException:
        return error


@dataclass
class BatchStats:
    """What the batcher has done since it started (reported by ``/info``)."""

    batches: int = 0  # model calls
    requests: int = 0  # requests that reached the model
    micro_batches: int = 0  # request parts run (a request cut in k parts counts k)
    items: int = 0  # judge items in them
    largest_batch: int = 0  # most items in one call
    busy_seconds: float = 0.0  # time spent inside model calls
    cancelled: int = 0  # requests dropped before they finished: the caller went away or timed out

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["mean_batch_items"] = round(self.items / self.batches, 3) if self.batches else 0.0
        out["busy_seconds"] = round(self.busy_seconds, 3)
        return out


@dataclass
class _Pending(Generic[P, R]):
    """A submitted request, its micro-batches still to run and the results of those that ran."""

    payload: P
    costs: list[ItemCost]
    future: asyncio.Future
    next_item: int = 0
    results: list[Any] = field(default_factory=list)
    turns: int = 0  # micro-batches taken so far
    left_out: bool = False  # had no room in the last call: goes first in the next

    @property
    def done(self) -> bool:
        return self.future.done()

    @property
    def slots_left(self) -> int:
        return sum(c.slots for c in self.costs[self.next_item:])

    @property
    def tokens_left(self) -> int:
        return sum(c.tokens for c in self.costs[self.next_item:])

    @property
    def priority(self) -> int:
        """Order within a call: left out of the last call (0), not run yet (1), the others (2)."""
        return 0 if self.left_out else 1 if self.turns == 0 else 2

    def take(self, max_slots: int, max_tokens: int | None, first: bool) -> tuple[int, int, int, int] | None:
        """The next micro-batch within the room left in a call: ``(start, stop, slots, tokens)`` of its items, or
        None if not even its next item fits. The ``first`` micro-batch of a call takes one item whatever it costs."""
        start = stop = self.next_item
        slots = tokens = 0
        while stop < len(self.costs):
            cost = self.costs[stop]
            fits = slots + cost.slots <= max_slots and (max_tokens is None or tokens + cost.tokens <= max_tokens)
            if not fits and not (first and stop == start):
                break
            slots, tokens, stop = slots + cost.slots, tokens + cost.tokens, stop + 1
        return (start, stop, slots, tokens) if stop > start else None


@dataclass(frozen=True)
class _Part:
    owner: _Pending
    start: int
    stop: int
    slots: int


class DynamicBatcher(Generic[P, R]):
    """Batch ``payload`` submissions across concurrent callers of :meth:`submit`.

    ``run(payloads)`` is called in a worker thread and returns one result or exception per payload, in order; the
    payloads are micro-batches cut by ``splitter`` (by default a payload is never cut and fills ``size(payload)``
    slots of a call).
    """

    def __init__(self, run: Callable[[list[P]], Sequence[R | BaseException]], config: BatchConfig | None = None,
                 size: Callable[[P], int] = lambda _: 1, splitter: Splitter[P, R] | None = None) -> None:
        self.run = run
        self.config = config or BatchConfig()
        self.splitter: Splitter[P, R] = splitter or Whole(size)
        self.stats = BatchStats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="activation-rm-score")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Pending[P, R]] | None = None
        self._worker: asyncio.Task | None = None
        self._active: deque[_Pending[P, R]] = deque()

    async def submit(self, payload: P) -> R:
        """Queue ``payload`` and wait for its result (an exception from the runner is raised here). Cancelling
        the caller drops the parts of ``payload`` that have not run yet."""
        loop = asyncio.get_running_loop()
        self._ensure_worker(loop)
        pending: _Pending[P, R] = _Pending(payload, self.splitter.costs(payload), loop.create_future())
        assert self._queue is not None
        self._queue.put_nowait(pending)
        try:
            return await pending.future
        except asyncio.CancelledError:
            if not pending.future.done() or pending.future.cancelled():
                pending.future.cancel()
                self.stats.cancelled += 1
            raise

    def _ensure_worker(self, loop: asyncio.AbstractEventLoop) -> None:
        # One worker per event loop; a new loop (tests, restarts) gets a fresh queue and worker.
        if self._loop is not loop or self._worker is None or self._worker.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._active = deque()
            self._worker = loop.create_task(self._work(), name="activation-rm-batcher")

    def _admit_queued(self) -> None:
        assert self._queue is not None
        while not self._queue.empty():
            self._active.append(self._queue.get_nowait())

    async def _wait_for_company(self) -> None:
        """An idle batcher's first request waits up to ``max_wait_ms`` for others to fill the call."""
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.max_wait_ms / 1000
        budget = self.config.micro_batch_tokens
        while (sum(p.slots_left for p in self._active) < self.config.max_batch_size
               and (budget is None or sum(p.tokens_left for p in self._active) < budget)):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                self._active.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                break

    async def _next_batch(self) -> list[_Part]:
        """The next call's micro-batches: at most one per waiting request, by :attr:`_Pending.priority` and then
        round-robin, while they fit the call (with batching off, only the first)."""
        assert self._queue is not None
        while True:
            self._admit_queued()
            self._active = deque(p for p in self._active if not p.done)  # callers that went away are dropped
            if self._active:
                break
            self._active.append(await self._queue.get())
            if self.config.enabled:
                await self._wait_for_company()
        budget = self.config.micro_batch_tokens
        parts: list[_Part] = []
        slots = tokens = 0
        for pending in sorted(self._active, key=lambda p: p.priority):  # stable: round-robin order within a rank
            room = None if budget is None else budget - tokens
            taken = None if parts and not self.config.enabled else pending.take(
                self.config.max_batch_size - slots, room, first=not parts)
            pending.left_out = taken is None
            if taken is None:
                continue
            start, stop, part_slots, part_tokens = taken
            parts.append(_Part(pending, start, stop, part_slots))
            pending.next_item, pending.turns = stop, pending.turns + 1
            slots, tokens = slots + part_slots, tokens + part_tokens
        # the requests served go to the back of the rotation, finished ones leave it
        served = {id(part.owner) for part in parts}
        waiting = [p for p in self._active if id(p) not in served]
        self._active = deque(p for p in waiting + [part.owner for part in parts] if p.next_item < len(p.costs))
        return parts

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            parts = await self._next_batch()
            payloads = [self.splitter.part(p.owner.payload, p.start, p.stop) for p in parts]
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, self.run, payloads)
                if len(results) != len(parts):
                    raise RuntimeError(f"batch runner returned {len(results)} results for {len(parts)} requests")
            except Exception as err:  # the runner itself broke: every request in the call gets the error
                results = [err] * len(parts)
            self._record(parts, time.perf_counter() - started)
            for part, result in zip(parts, results):
                self._deliver(part, result)

    def _deliver(self, part: _Part, result: Any) -> None:
        """Keep a part's result; complete its request after its last part, or fail it on the first error."""
        owner = part.owner
        if owner.done:
            return
        if isinstance(result, BaseException):
            owner.next_item = len(owner.costs)  # its remaining parts are not run
            owner.future.set_exception(self.splitter.part_error(result, part.start))
            return
        owner.results.append(result)
        if part.stop == len(owner.costs):
            try:
                owner.future.set_result(self.splitter.join(owner.payload, owner.results))
            except Exception as err:  # joining is the server's code: a bug there fails this request only
                owner.future.set_exception(err)

    def _record(self, parts: list[_Part], seconds: float) -> None:
        items = sum(p.slots for p in parts)
        self.stats.batches += 1
        self.stats.micro_batches += len(parts)
        self.stats.requests += sum(1 for p in parts if p.owner.turns == 1)
        self.stats.items += items
        self.stats.largest_batch = max(self.stats.largest_batch, items)
        self.stats.busy_seconds += seconds

    def close(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
