"""Failure isolation: score many parts (requests, callers' jobs, items) in one call, and when that call fails, find
the parts that fail on their own so that only they lose their result.

The one helper under the scoring engine's request runner (:func:`activation_rm.scoring.engine.run_requests`), the
batching of concurrent reward calls (:class:`activation_rm.integrations.calls.GroupBatcher`) and TRL's in-process
reward (:class:`activation_rm.integrations.trl.ActivationRMReward`). It imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

P = TypeVar("P")
R = TypeVar("R")


def run_isolating(run: Callable[[list[P]], Sequence[R]], parts: Sequence[P], *,
                  raise_if_all_fail: bool = False) -> list[R | Exception]:
    """``run(parts)`` (one result per part) in one call; if it raises, ``run([part])`` for each part alone, so a
    part that fails alone gets its exception in its place and the others their results. With a single part there is
    nothing to narrow down: its entry is the exception of the first call. With ``raise_if_all_fail``, when no part
    succeeds the first call's exception is raised instead (a broken scorer, not bad parts)."""
    parts = list(parts)
    try:
        return list(run(parts))
    except Exception as err:
        first = err
    if len(parts) == 1:
        if raise_if_all_fail:
            raise first
        return [first]
    results: list[R | Exception] = []
    for part in parts:
        try:
            results.append(run([part])[0])
        except Exception as err:
            results.append(err)
    if raise_if_all_fail and all(isinstance(r, Exception) for r in results):
        raise first
    return results
