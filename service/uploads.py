"""Uploaded files are checked off the request path, in linear time, within caps.

A request only scans an upload once (`scan_csv`: one pass of the `csv` module, refusing a
file over `max_upload_columns` columns or `max_upload_rows` rows before any loader sees
it: pandas' handling of many unnamed columns is quadratic). The loaders' own checks then run
in a child process (`isolated`) under a time limit (`upload_check_seconds`) and a memory
cap, so a hostile file can neither hold the server's interpreter lock nor its memory; at
most `max_upload_checks` such checks run at once (more: 429 naming the limit).
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import resource
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from service.errors import Busy, Invalid

# Children fork from a server process that imported these already, so a check starts in
# milliseconds instead of importing pandas each time.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["pandas", "calibration.loaders", "service.calibrations"])
_MEMORY = 2 * 1024**3  # address-space cap of a check's process (bytes)


def scan_csv(data: bytes, field: str, max_columns: int, max_rows: int) -> list[str]:
    """The header of an uploaded CSV, after one linear pass over every row; Invalid naming
    the field and the limit (`max_upload_columns`, `max_upload_rows`) or the reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1]
        raise Invalid([(field, f"not UTF-8 text (byte {error.start}: {bad!r})")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    rows = 0
    try:
        for row in reader:
            if len(row) > max_columns:
                raise Invalid([(field, f"line {reader.line_num} has {len(row)} columns, over the limit "
                                       f"max_upload_columns = {max_columns} (TWIN_MAX_UPLOAD_COLUMNS)")])
            if header is None:
                header = row
                continue
            rows += 1
            if rows > max_rows:
                raise Invalid([(field, f"more than {max_rows} rows, over the limit "
                                       f"max_upload_rows = {max_rows} (TWIN_MAX_UPLOAD_ROWS)")])
    except csv.Error as error:
        raise Invalid([(field, f"cannot read as CSV: line {reader.line_num}: {error}")]) from None
    if not header or not any(name.strip() for name in header):
        raise Invalid([(field, "no header row")])
    return header


class Checks:
    """At most `limit` isolated checks at once, across the server's request threads."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._slots = threading.BoundedSemaphore(limit)

    def run(self, target: Callable[..., None], *args: Any) -> None:
        """`target(*args)` in a child process; its Invalid comes back as Invalid here."""
        if not self._slots.acquire(blocking=False):
            raise Busy(f"{self.limit} uploads are being checked already: over the limit "
                       f"max_upload_checks = {self.limit} (TWIN_MAX_UPLOAD_CHECKS); try again shortly")
        try:
            isolated(target, args, self.seconds)
        finally:
            self._slots.release()


def isolated(target: Callable[..., None], args: tuple[Any, ...], seconds: float) -> None:
    """Run `target(*args)` in a forked child with a memory cap; kill it after `seconds`."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, target, args), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(seconds):
            raise Invalid([("", f"checking the upload took over {seconds:g} s, the limit "
                                "upload_check_seconds (TWIN_UPLOAD_CHECK_SECONDS)")])
        try:
            kind, value = receiver.recv()
        except EOFError:  # killed (the memory cap) before it could answer
            raise Invalid([("", "checking the upload exceeded its memory cap")]) from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        receiver.close()
    if kind == "invalid":
        raise Invalid(value)
    if kind == "error":
        raise Invalid([("", value)])


def _child(sender: Connection, target: Callable[..., None], args: tuple[Any, ...]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY, _MEMORY))
    try:
        target(*args)
        answer: tuple[str, Any] = ("ok", None)
    except Invalid as error:
        answer = ("invalid", error.problems)
    except MemoryError:
        answer = ("error", "checking the upload exceeded its memory cap")
    except Exception as error:
        answer = ("error", f"cannot read the upload: {type(error).__name__}: {error}")
    sender.send(answer)
    sender.close()
