"""Progress bars of the command line's long jobs (activation_rm.inputs.progress): on stderr, only on a terminal
and never with --quiet; items/s and an ETA; resumed work neither counted as this run's nor in the rate."""

from __future__ import annotations

import io
import sys

import pytest

import activation_rm.inputs.progress as progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Call it in the test body (pytest's capture replaces sys.stderr after the fixtures ran)."""
    def become_one() -> FakeTerminal:
        stream = FakeTerminal()
        monkeypatch.setattr(sys, "stderr", stream)
        monkeypatch.setattr(progress, "REDRAW_S", 0)
        return stream
    return become_one


def test_a_terminal_gets_a_bar_with_rate_and_eta(terminal):
    terminal = terminal()
    assert progress.stderr_is_terminal() and progress.shows_progress() and not progress.shows_progress(quiet=True)
    with progress.progress(10, "score", unit="line", initial=4) as bar:
        assert bar.shown
        for _ in range(6):
            bar.update(1)
    text = terminal.getvalue()
    assert "score:  40%" in text and "4/10 [" in text and "10/10 [" in text and "line/s]" in text
    assert "<00:00" in text  # the ETA
    assert text.endswith("\r")  # cleared when done (leave=False): the summary line starts clean


def test_quiet_and_a_non_terminal_get_nothing(terminal, monkeypatch, capsys):
    terminal = terminal()
    with progress.progress(3, "score", quiet=True) as bar:
        assert not bar.shown
        bar.update(3)
        bar.skip(1)
    assert terminal.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a file or a pipe
    assert not progress.stderr_is_terminal()
    with progress.progress(3, "score") as bar:
        bar.update(3)
        bar.write("a log line")
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == "a log line\n"


def test_skipped_work_leaves_the_total(terminal, capsys):
    terminal = terminal()
    with progress.progress(10, "eval", unit="pair") as bar:
        bar.skip(4)
        bar.update(2)
        bar.write("fitted")
        assert bar.bar.total == 6 and bar.bar.n == 2
    assert "2/6 [" in terminal.getvalue() and capsys.readouterr().out == "fitted\n"


def test_a_closed_stderr_is_not_a_terminal(monkeypatch):
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    assert not progress.stderr_is_terminal()
