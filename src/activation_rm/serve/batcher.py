"""Dynamic batching: gather concurrent requests into one model call, because RL clients send one sample each.

A single worker coroutine takes the first waiting request, then keeps taking more until the batch holds
``max_batch_size`` items or ``max_wait_ms`` has passed since the batch opened, and runs the whole batch in one
background thread (the model is never run from two threads at once). Requests that queued up while the previous
batch ran are taken at once, without waiting. The runner returns one result or exception per request, so a bad
request fails alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class BatchConfig:
    """``enabled=False`` runs every request on its own (the baseline the load test compares against)."""

    max_batch_size: int = 64
    max_wait_ms: float = 5.0
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {self.max_batch_size}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {self.max_wait_ms}")


@dataclass
class BatchStats:
    """What the batcher has done since it started (reported by ``/info``)."""

    batches: int = 0  # model calls
    requests: int = 0  # requests they served
    items: int = 0  # judge items in them
    largest_batch: int = 0  # most items in one call
    busy_seconds: float = 0.0  # time spent inside model calls

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["mean_batch_items"] = round(self.items / self.batches, 3) if self.batches else 0.0
        out["busy_seconds"] = round(self.busy_seconds, 3)
        return out


@dataclass
class _Pending(Generic[P, R]):
    payload: P
    size: int
    future: asyncio.Future


class DynamicBatcher(Generic[P, R]):
    """Batch ``payload`` submissions across concurrent callers of :meth:`submit`.

    ``run(payloads)`` is called in a worker thread and returns one result or exception per payload, in order.
    ``size(payload)`` is the number of items a payload adds to a batch (a request may carry several).
    """

    def __init__(self, run: Callable[[list[P]], Sequence[R | BaseException]], config: BatchConfig | None = None,
                 size: Callable[[P], int] = lambda _: 1) -> None:
        self.run = run
        self.config = config or BatchConfig()
        self.size = size
        self.stats = BatchStats()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="activation-rm-score")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Pending[P, R]] | None = None
        self._worker: asyncio.Task | None = None
        self._carry: _Pending[P, R] | None = None

    async def submit(self, payload: P) -> R:
        """Queue ``payload`` and wait for its result (an exception from the runner is raised here)."""
        loop = asyncio.get_running_loop()
        self._ensure_worker(loop)
        pending: _Pending[P, R] = _Pending(payload, max(1, self.size(payload)), loop.create_future())
        assert self._queue is not None
        await self._queue.put(pending)
        return await pending.future

    def _ensure_worker(self, loop: asyncio.AbstractEventLoop) -> None:
        # One worker per event loop; a new loop (tests, restarts) gets a fresh queue and worker.
        if self._loop is not loop or self._worker is None or self._worker.done():
            self._loop = loop
            self._queue = asyncio.Queue()
            self._carry = None
            self._worker = loop.create_task(self._work(), name="activation-rm-batcher")

    async def _next_batch(self) -> list[_Pending[P, R]]:
        assert self._queue is not None
        first = self._carry if self._carry is not None else await self._queue.get()
        self._carry = None
        batch, items = [first], first.size
        if not self.config.enabled:
            return batch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.max_wait_ms / 1000
        while items < self.config.max_batch_size:
            try:
                if self._queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    nxt = await asyncio.wait_for(self._queue.get(), remaining)
                else:
                    nxt = self._queue.get_nowait()
            except (asyncio.TimeoutError, asyncio.QueueEmpty):
                break
            if items + nxt.size > self.config.max_batch_size:
                self._carry = nxt  # keeps batches within the limit; it opens the next batch
                break
            batch.append(nxt)
            items += nxt.size
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            live = [p for p in batch if not p.future.done()]  # skip callers that went away
            if not live:
                continue
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, self.run, [p.payload for p in live])
                if len(results) != len(live):
                    raise RuntimeError(f"batch runner returned {len(results)} results for {len(live)} requests")
            except Exception as err:  # the runner itself broke: every request in the batch gets the error
                results = [err] * len(live)
            self._record(live, time.perf_counter() - started)
            for pending, result in zip(live, results):
                if pending.future.done():
                    continue
                if isinstance(result, BaseException):
                    pending.future.set_exception(result)
                else:
                    pending.future.set_result(result)

    def _record(self, batch: list[_Pending[P, R]], seconds: float) -> None:
        items = sum(p.size for p in batch)
        self.stats.batches += 1
        self.stats.requests += len(batch)
        self.stats.items += items
        self.stats.largest_batch = max(self.stats.largest_batch, items)
        self.stats.busy_seconds += seconds

    def close(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
