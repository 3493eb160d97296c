"""Progress bars of the long command-line jobs (score, compare, score-criteria, best-of-n, eval): tqdm on stderr
with items/s and an ETA, shown only to a person watching (stderr is a terminal) and never with ``--quiet``, so logs,
pipes and tests stay clean. Torch-free; tqdm is imported only when a bar is shown."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: seconds between two redraws of a bar (tqdm's mininterval)
REDRAW_S = 0.1


def stderr_is_terminal() -> bool:
    """Whether stderr (as it is now: tests and redirections replace it) is an interactive terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def shows_progress(quiet: bool = False) -> bool:
    """Whether a job shows a bar: not with ``--quiet``, and only when stderr is a terminal."""
    return not quiet and stderr_is_terminal()


def hush_library_bars(quiet: bool = False) -> None:
    """Turn off the bars of transformers (weights loading) and huggingface_hub (downloads) when a job shows none
    of its own (``quiet``, or stderr is not a terminal). Never turns them on, so their own environment switches
    (``HF_HUB_DISABLE_PROGRESS_BARS``) still hold."""
    if shows_progress(quiet):
        return
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency
        pass
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except ImportError:  # pragma: no cover
        pass


class Progress:
    """A job's bar, or a stand-in that does nothing when no bar is shown (so callers need no checks)."""

    def __init__(self, bar: Any = None) -> None:
        self.bar = bar

    @property
    def shown(self) -> bool:
        return self.bar is not None

    def update(self, n: int) -> None:
        """``n`` more items done (the ``on_chunk`` of run_jsonl_job)."""
        if self.bar is not None:
            self.bar.update(n)

    def skip(self, n: int) -> None:
        """``n`` items an earlier run already did (found mid-job): they leave the total, so the rate and the ETA
        count only this run's work."""
        if self.bar is not None and n:
            self.bar.total = max(self.bar.n, (self.bar.total or 0) - n)
            self.bar.refresh()

    def write(self, message: str) -> None:
        """A log line on stdout that does not tear the bar (printed as is when no bar is shown)."""
        if self.bar is None:
            print(message, flush=True)
        else:
            from tqdm import tqdm

            tqdm.write(message, file=sys.stdout)
            sys.stdout.flush()


@contextmanager
def progress(total: int | None, desc: str, unit: str = "line", quiet: bool = False,
             initial: int = 0) -> Iterator[Progress]:
    """A bar over ``total`` items, ``initial`` of them done before (by an earlier run that a resume skips; they do
    not count towards the rate). Nothing is shown with ``quiet`` or when stderr is not a terminal. The bar is
    cleared when the block ends, so a job's summary line follows on a clean line."""
    if not shows_progress(quiet):
        yield Progress()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
               leave=False, smoothing=0.1, mininterval=REDRAW_S, miniters=1)
    try:
        yield Progress(bar)
    finally:
        bar.close()
