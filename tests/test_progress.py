"""Progress off a terminal: log lines at each tenth of the work and at the end, with an estimate."""

from __future__ import annotations

import io

from rich.console import Console

from twin.progress import Progress


def test_log_lines_when_there_is_no_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with Progress(console, "calibrate", every=3600) as progress:
        progress.note("fitting a twin")
        for done in range(0, 101):
            progress.update(done, 100, "candidates scored")
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "calibrate: fitting a twin"
    counted = [line for line in lines[1:] if " of 100 " in line]
    assert len(counted) == 11  # 0%, 10%, ..., 100%
    assert "about" in counted[5] and "left" in counted[5]
    assert counted[-1].startswith("calibrate: 100 of 100 (100%)")


def test_a_bar_on_a_terminal_and_nothing_when_disabled() -> None:
    buffer = io.StringIO()
    with Progress(Console(file=buffer, force_terminal=True, width=100), "study") as progress:
        progress.update(5, 10)
        assert progress.bar is not None
    quiet = io.StringIO()
    with Progress(Console(file=quiet, force_terminal=False), "study", enabled=False) as progress:
        progress.update(10, 10)
        progress.note("x")
    assert quiet.getvalue() == ""
