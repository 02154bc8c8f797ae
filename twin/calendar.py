"""Weekly shift calendars as breakpoints, and model time <-> clock time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

UNITS_PER_HOUR = {"minute": 60.0, "hour": 1.0, "day": 1.0 / 24.0}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_START = datetime(2026, 1, 5)  # a Monday, 00:00


def parse_clock(text: str) -> float:
    """'HH:MM' -> hours after midnight; '24:00' is allowed as an end time."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"'{text}' is not a clock time HH:MM")
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise ValueError(f"'{text}' is not a clock time between 00:00 and 24:00")
    return h + m / 60.0


def week_offset_hours(start: datetime) -> float:
    """Hours from the Monday 00:00 before `start` to `start`."""
    return start.weekday() * 24.0 + start.hour + start.minute / 60.0 + start.second / 3600.0


@dataclass(frozen=True)
class WeeklyCalendar:
    """Units on duty as a step function of model time, repeating every `week`.

    `breakpoints` are positions in the week (model time units, from Monday 00:00) where
    the level changes, sorted, the first one at 0; `levels[i]` holds from breakpoint i.
    """

    breakpoints: np.ndarray
    levels: np.ndarray
    week: float
    offset: float  # week position of model time 0

    def on_duty(self, t: float) -> int:
        position = (self.offset + t) % self.week
        return int(self.levels[np.searchsorted(self.breakpoints, position, side="right") - 1])

    def changes(self, horizon: float) -> Iterator[tuple[float, int]]:
        """(time, level) at each change in (0, horizon], computed absolutely, not summed."""
        current = self.on_duty(0.0)
        week_index = 0
        while True:
            base = week_index * self.week - self.offset
            for point, level in zip(self.breakpoints.tolist(), self.levels.tolist(), strict=True):
                t = base + point
                if t > horizon:
                    return
                if t > 0 and level != current:
                    current = level
                    yield t, level
            week_index += 1


def build_calendar(
    shifts: Sequence[tuple[Sequence[str], float, float, int]],
    time_unit: str,
    start: datetime,
) -> WeeklyCalendar:
    """Shifts (days, start hour, end hour, units) -> calendar; overlapping shifts add.

    A shift whose end is not after its start runs overnight into the next day.
    """
    per_hour = UNITS_PER_HOUR[time_unit]
    week_hours = 168.0
    delta: dict[float, int] = {0.0: 0}
    for days, begin, end, units in shifts:
        length = end - begin if end > begin else end + 24.0 - begin
        for day in days:
            lo = DAYS.index(day) * 24.0 + begin
            for a, b in _wrap(lo, lo + length, week_hours):
                delta[a] = delta.get(a, 0) + units
                delta[b] = delta.get(b, 0) - units
    points = sorted(p for p in delta if p < week_hours)
    levels = np.cumsum([delta[p] for p in points]).astype(np.int64)
    keep = np.concatenate(([True], levels[1:] != levels[:-1]))  # drop non-changes
    return WeeklyCalendar(
        breakpoints=np.array(points)[keep] * per_hour,
        levels=levels[keep],
        week=week_hours * per_hour,
        offset=week_offset_hours(start) * per_hour,
    )


def _wrap(lo: float, hi: float, week: float) -> list[tuple[float, float]]:
    if hi <= week:
        return [(lo, hi)]
    return [(lo, week), (0.0, hi - week)]
