"""Warm-up check: MSER-5 on the WIP of a traced replication.

WIP goes up by one at each `arrival` and down by one at each `leave` of the trace
`(time, kind, subject, name)`. The series is the time-average WIP over equal bins of
[0, horizon]; MSER-5 averages it in batches of 5 and truncates the first d batches where
d minimises the MSER statistic over d <= half the batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

Trace = Sequence[tuple[float, str, int, str]]


def wip_series(trace: Trace, horizon: float, bins: int = 500) -> np.ndarray:
    """Time-average WIP in each of `bins` equal intervals of [0, horizon]."""
    steps = [(t, 1 if kind == "arrival" else -1) for t, kind, _, _ in trace if kind in ("arrival", "leave")]
    times = np.array([0.0] + [t for t, _ in steps] + [horizon])
    levels = np.concatenate([[0.0], np.cumsum([s for _, s in steps], dtype=float)])
    edges = np.linspace(0.0, horizon, bins + 1)
    area = np.concatenate([[0.0], np.cumsum(levels * np.diff(times))])  # integral up to times[i]
    at_edges = np.interp(edges, times, area)
    return np.diff(at_edges) / np.diff(edges)


def mser(series: ArrayLike, batch: int = 5) -> int:
    """MSER-`batch`: the number of leading observations to drop (a multiple of `batch`)."""
    x = np.asarray(series, dtype=float)
    k = x.size // batch
    if k < 2:
        return 0
    means = x[: k * batch].reshape(k, batch).mean(axis=1)
    scores = [float(np.sum((means[d:] - means[d:].mean()) ** 2) / (k - d) ** 2) for d in range(k // 2 + 1)]
    return int(np.argmin(scores)) * batch


def truncation_time(trace: Trace, horizon: float, bins: int = 500) -> float:
    """Simulated time MSER-5 would drop from the start of this replication."""
    return mser(wip_series(trace, horizon, bins)) * horizon / bins
