"""State series: the state of a replication sampled at a fixed interval, by both engines.

With `sample_every=d`, an engine records samples k = 0, 1, ..., floor(horizon / d) at
times `k * d` (the last no later than the horizon). Sample k is the state after every
event due before `k * d` and before any event due at or after it (so the sample at 0 is
the initial state). Nothing is scheduled for a sample, so the event order, the event
count and the KPIs are the same with or without them, and both engines give the same
floats. Columns, in this order (`columns(twin)`):

- `wip`: entities in the system;
- `queue.A`: entities waiting at activity A for its resources or materials;
- `stock.M`: stock of material M on hand;
- `backlog`: entities waiting anywhere (the queues summed): work that has arrived at a
  step and cannot start yet.

Memory is `samples x columns` floats per replication, whatever the number of events.
"""

from __future__ import annotations

import math

import numpy as np

from twin.spec import Twin

MAX_SAMPLES = 100_000  # per replication
MOST_INTERVALS = 400  # studies' default: a round interval giving at most this many
MINUTES_PER_UNIT = {"minute": 1.0, "hour": 60.0, "day": 1440.0}
ROUND_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 10080)


def columns(twin: Twin) -> list[str]:
    """Names of the series columns of `twin`, in the engines' order."""
    return [
        "wip",
        *(f"queue.{a.name}" for a in twin.activities),
        *(f"stock.{m.name}" for m in twin.materials),
        "backlog",
    ]


def sample_count(horizon: float, every: float) -> int:
    """Samples at 0, every, 2 every, ... up to the horizon; a clear error if unreasonable."""
    if not (every > 0 and math.isfinite(every)):
        raise ValueError(f"the sampling interval must be a positive number, not {every}")
    n = math.floor(horizon / every) + 1
    if n > MAX_SAMPLES:
        raise ValueError(
            f"sampling every {every:g} over a horizon of {horizon:g} gives {n} samples a replication; "
            f"at most {MAX_SAMPLES} (choose a longer interval)"
        )
    return n


def sample_times(n: int, every: float) -> np.ndarray:
    """The times k * every of samples k = 0..n-1 (the engines' float expression)."""
    return np.array([k * every for k in range(n)], dtype=np.float64)


def default_interval(horizon: float, time_unit: str, most: int = MOST_INTERVALS) -> float:
    """The shortest round interval (1, 2, 5, 10, 15, 30 min, 1, 2, 3, 4, 6, 8, 12 h, 1, 2, 7
    days) with at most `most` intervals over the horizon, in the twin's time unit (what
    studies record unless told otherwise)."""
    for minutes in ROUND_MINUTES:
        every = minutes / MINUTES_PER_UNIT[time_unit]
        if horizon / every <= most:
            return every
    return horizon / most
