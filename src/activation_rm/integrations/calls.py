"""Batching for reward functions that frameworks call from many threads at once, one sample per call (OpenRLHF's
``reward_func``, verl's reward loop): the calls that wait while the judge is busy are scored together next."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from activation_rm.scoring.isolation import run_isolating

Scores = dict[str, list[float]]


@dataclass
class _Job:
    prompts: list[Any]
    responses: list[str]
    done: bool = False
    result: Scores | None = None
    error: BaseException | None = None


class GroupBatcher:
    """Scores concurrent callers' items together: the caller that gets the judge scores every job queued by then,
    its own included, and callers whose job was in that batch just take their result."""

    def __init__(self, score: Callable[[list[Any], list[str]], Scores]) -> None:
        self.score = score
        self.batches = 0
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()
        self._judge_lock = threading.Lock()  # the judge's model is never run from two threads at once

    def __call__(self, prompts: Sequence[Any], responses: Sequence[str]) -> Scores:
        job = _Job(list(prompts), list(responses))
        with self._queue_lock:
            self._queue.append(job)
        with self._judge_lock:
            if not job.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run(batch)
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def _run(self, batch: list[_Job]) -> None:
        """One model call for the batch; if it fails, each job alone, so a bad job fails only itself."""
        try:
            for job, result in zip(batch, run_isolating(self._call_jobs, batch)):
                if isinstance(result, Exception):
                    job.error = result
                else:
                    job.result = result
        finally:
            for job in batch:
                job.done = True

    def _call_jobs(self, jobs: list[_Job]) -> list[Scores]:
        """One model call for ``jobs``, its scores split back per job."""
        self.batches += 1
        scores = self.score([p for j in jobs for p in j.prompts], [r for j in jobs for r in j.responses])
        out, start = [], 0
        for job in jobs:
            end = start + len(job.responses)
            out.append({name: values[start:end] for name, values in scores.items()})
            start = end
        return out
