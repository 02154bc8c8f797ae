"""The cyclic garbage collector paused while a burst of tuples is built.

A traced replication yields a hundred thousand event tuples; each few hundred allocations
start a collection, and every so often a full one walks the whole heap (Numba, pandas and
plotly put a million objects there), so building a trace took three times as long as
simulating it. Those tuples and the rows built from them hold no reference cycles, so nothing
is lost by collecting once afterwards instead.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside (left as it was if already paused, by another thread too)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
