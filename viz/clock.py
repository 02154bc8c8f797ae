"""Calendar time for the over-time charts: simulated time t is `start + t` time units.

A twin's `start` is the calendar time of t = 0 and every number is in its `time_unit`,
so a chart can put dates on its time axis (plotly date axes; bar lengths in
milliseconds) and still say when the simulation starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from twin.spec import Twin

MS_PER_UNIT = {"minute": 60_000.0, "hour": 3_600_000.0, "day": 86_400_000.0}


@dataclass(frozen=True)
class Clock:
    start: datetime
    time_unit: str

    @classmethod
    def of(cls, twin: Twin) -> Clock:
        return cls(twin.start, twin.time_unit)

    def dates(self, t: ArrayLike) -> pd.DatetimeIndex:
        """Simulated times -> calendar timestamps."""
        ms = np.asarray(t, dtype=float) * MS_PER_UNIT[self.time_unit]
        return pd.Timestamp(self.start) + pd.to_timedelta(np.round(ms), unit="ms")

    def date(self, t: float) -> pd.Timestamp:
        return self.dates([t])[0]

    def epoch_ms(self, t: ArrayLike) -> np.ndarray:
        """Simulated times -> milliseconds since 1970 (what a plotly date axis reads; numeric
        arrays travel base64-encoded, far smaller than date strings)."""
        origin = (pd.Timestamp(self.start) - pd.Timestamp(0)) / pd.Timedelta(milliseconds=1)
        return origin + np.round(self.ms(t))

    def ms(self, duration: ArrayLike) -> np.ndarray:
        """Simulated durations -> milliseconds (bar lengths on a date axis)."""
        return np.asarray(duration, dtype=float) * MS_PER_UNIT[self.time_unit]

    @property
    def label(self) -> str:
        """An axis title: 'date (simulation starts Mon 5 Jan 2026 00:00)'."""
        start = pd.Timestamp(self.start)
        return f"date (simulation starts {start:%a} {start.day} {start:%b %Y %H:%M})"
