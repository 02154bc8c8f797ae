"""Domain errors of the service; app.py turns each into its HTTP answer."""

from __future__ import annotations

from collections.abc import Sequence


class Invalid(Exception):
    """Bad input: (field path, reason) pairs -> 422 naming each field."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.problems))


class NotFound(Exception):
    """-> 404"""


class Conflict(Exception):
    """The thing exists but is not in a state that allows this -> 409."""


class TooLarge(Exception):
    """A size limit was exceeded -> 413 naming the limit."""


class Busy(Exception):
    """A rate, quota or concurrency limit was reached -> 429 naming the limit."""
