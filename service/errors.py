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


WHY = {
    401: "No API key, or an unknown or revoked one.",
    403: "The key's role does not allow this.",
    404: "No such thing (or not in the key's reach).",
    409: "Not in a state that allows this (not done yet, already finished, still in use).",
    413: "The body or an uploaded file is over its size limit (named).",
    422: "A field is invalid, or the request is over a work limit (each named).",
    429: "A per-key quota, the rate limit or the upload-check limit is reached (named).",
    503: "The database or the data folder cannot be written (the reason is given).",
}


def documented(*codes: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` for these error codes; each body is {"detail": ...}."""
    body = {"application/json": {"schema": {"type": "object", "properties": {"detail": {}}}}}
    return {code: {"description": WHY[code], "content": body} for code in codes}
