"""Statistics collectors that ignore everything before the warm-up ends.

A `Level` is time-weighted (queue length, WIP, stock); a `Tally` is per observation
(waits, cycle times). Both are plain accumulators the engines update in place.
"""

from __future__ import annotations

import math


class Level:
    """Time integral of a piecewise-constant value over [warmup, now]."""

    __slots__ = ("area", "last", "value", "warmup")

    def __init__(self, warmup: float, value: float = 0.0) -> None:
        self.warmup = warmup
        self.value = value
        self.last = 0.0
        self.area = 0.0

    def add(self, now: float, delta: float) -> None:
        self.set(now, self.value + delta)

    def set(self, now: float, value: float) -> None:
        since = self.last if self.last > self.warmup else self.warmup
        if now > since:
            self.area += self.value * (now - since)
        self.last = now
        self.value = value

    def mean(self, horizon: float) -> float:
        """Time average over [warmup, horizon]; closes the last interval."""
        self.set(horizon, self.value)
        return self.area / (horizon - self.warmup)


class Tally:
    """Count and sum of observations made at or after the warm-up."""

    __slots__ = ("count", "total", "warmup")

    def __init__(self, warmup: float) -> None:
        self.warmup = warmup
        self.count = 0
        self.total = 0.0

    def observe(self, now: float, value: float) -> None:
        if now >= self.warmup:
            self.count += 1
            self.total += value

    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan
