"""Warm-up check: MSER-5 on the WIP of a traced replication.

WIP goes up by one at each `arrival` and down by one at each `leave` of the trace
`(time, kind, subject, name)`: the replication's flow (twin.replication.trace_flow). The
series is the time-average WIP over equal bins of [0, horizon]; MSER-5 averages it in
batches of 5 and truncates the first d batches where d minimises the MSER statistic over
d <= half the batches.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def wip_series(flow: np.ndarray, horizon: float, bins: int = 500) -> np.ndarray:
    """Time-average WIP in each of `bins` equal intervals of [0, horizon], from a replication's
    flow (twin.replication.trace_flow: rows of time and +1 or -1)."""
    times = np.concatenate([[0.0], flow[:, 0], [horizon]])
    levels = np.concatenate([[0.0], np.cumsum(flow[:, 1])])
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
