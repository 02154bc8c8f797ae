"""Progress of long commands: a bar on a terminal, log lines anywhere else.

A command whose output goes to a file, a pipe or a CI log would otherwise print nothing for
minutes (rich draws no bar where there is no terminal). `Progress` writes a line whenever
another tenth of the work is done or `every` seconds have passed, with the elapsed time and
an estimate of what is left, and always the last one.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as Bar


class Progress:
    def __init__(self, console: Console, label: str, enabled: bool = True, every: float = 30.0) -> None:
        self.console, self.label, self.enabled, self.every = console, label, enabled, every
        self.bar: Bar | None = None
        self.started = time.monotonic()
        self._said_at, self._said_share = self.started, -1.0

    def __enter__(self) -> Progress:
        if self.enabled and self.console.is_terminal:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            )
            self.bar = Bar(*columns, console=self.console, transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=None)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, done: int, total: int, what: str | None = None) -> None:
        """`done` of `total` (units of work); `what` is happening now."""
        if not self.enabled:
            return
        if self.bar is not None:
            description = f"{self.label}: {what}" if what else self.label
            self.bar.update(self.task, completed=done, total=total, description=description)
            return
        now = time.monotonic()
        share = done / total if total else 0.0
        if done < total and share - self._said_share < 0.1 and now - self._said_at < self.every:
            return
        self._said_at, self._said_share = now, share
        elapsed = now - self.started
        left = f", about {_duration(elapsed * (1 - share) / share)} left" if 0 < share < 1 else ""
        self.console.print(
            f"{self.label}: {done:,} of {total:,} ({share:.0%}){f' - {what}' if what else ''}, "
            f"{_duration(elapsed)} elapsed{left}",
            highlight=False,
            soft_wrap=True,
        )

    def note(self, text: str) -> None:
        """A step of the work, said above the bar or as a line."""
        if self.enabled:
            (self.bar.console if self.bar is not None else self.console).print(
                f"{self.label}: {text}", highlight=False, soft_wrap=True
            )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
