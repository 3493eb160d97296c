"""Batching for reward functions that frameworks call from many threads at once, one sample per call (OpenRLHF's
``reward_func``, verl's reward loop): the calls that wait while the judge is busy are scored together next."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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
            try:
                scores = self._call([p for j in batch for p in j.prompts], [r for j in batch for r in j.responses])
            except Exception as err:
                if len(batch) == 1:
                    batch[0].error = err
                else:
                    for job in batch:
                        self._run_alone(job)
                return
            self._split(batch, scores)
        finally:
            for job in batch:
                job.done = True

    def _run_alone(self, job: _Job) -> None:
        try:
            job.result = self._call(job.prompts, job.responses)
        except Exception as err:
            job.error = err

    def _call(self, prompts: list[Any], responses: list[str]) -> Scores:
        self.batches += 1
        return self.score(prompts, responses)

    @staticmethod
    def _split(batch: list[_Job], scores: Scores) -> None:
        start = 0
        for job in batch:
            end = start + len(job.responses)
            job.result = {name: values[start:end] for name, values in scores.items()}
            start = end
