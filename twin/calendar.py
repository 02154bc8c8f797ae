"""Weekly shift calendars as breakpoints, and model time <-> clock time."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

MINUTES_PER_UNIT = {"minute": 1, "hour": 60, "day": 1440}
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


def site_zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (ValueError naming it when this machine knows none such)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}' (an IANA name: Europe/Amsterdam, UTC)") from None


def model_time(when: datetime, start: datetime, time_unit: str) -> float:
    """A calendar date as model time: time units since `start` (naive dates: local clock time)."""
    return (when - start).total_seconds() / 60 / MINUTES_PER_UNIT[time_unit]


def week_offset_hours(start: datetime) -> float:
    """Hours from the Monday 00:00 before `start` to `start`."""
    return week_offset_minutes(start) / 60


def week_offset_minutes(start: datetime) -> float:
    """Minutes from the Monday 00:00 before `start` to `start`."""
    return start.weekday() * 1440 + start.hour * 60 + start.minute + start.second / 60


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
    # Whole minutes of the week, so clock times map exactly onto minute time units.
    per_unit = MINUTES_PER_UNIT[time_unit]
    week = 7 * 1440
    delta: dict[int, int] = {0: 0}
    for days, begin, end, units in shifts:
        lo, hi = round(begin * 60), round(end * 60)
        length = hi - lo if hi > lo else hi + 1440 - lo
        for day in days:
            first = DAYS.index(day) * 1440 + lo
            for a, b in _wrap(first, first + length, week):
                delta[a] = delta.get(a, 0) + units
                delta[b] = delta.get(b, 0) - units
    points = sorted(p for p in delta if p < week)
    levels = np.cumsum([delta[p] for p in points]).astype(np.int64)
    keep = np.concatenate(([True], levels[1:] != levels[:-1]))  # drop non-changes
    return WeeklyCalendar(
        breakpoints=np.array(points, dtype=np.int64)[keep] / per_unit,
        levels=levels[keep],
        week=week / per_unit,
        offset=week_offset_minutes(start) / per_unit,
    )


def _wrap(lo: int, hi: int, week: int) -> list[tuple[int, int]]:
    if hi <= week:
        return [(lo, hi)]
    return [(lo, week), (0, hi - week)]


HOURS_PER_WEEK = 168


def weekly_times(entries: Sequence[tuple[Sequence[str], float]], time_unit: str, start: datetime,
                 horizon: float) -> list[float]:
    """(days, hour) entries repeating weekly -> their model times in (0, horizon], sorted; computed
    absolutely in whole minutes of the week (as shift calendars), not summed."""
    per_unit = MINUTES_PER_UNIT[time_unit]
    offset = week_offset_minutes(start)
    points = sorted({DAYS.index(day) * 1440 + round(hour * 60) for days, hour in entries for day in days})
    out: list[float] = []
    week = 0
    while True:
        for point in points:
            t = (week * 7 * 1440 + point - offset) / per_unit
            if t > horizon:
                return out
            if t > 0:
                out.append(t)
        week += 1


@dataclass(frozen=True)
class RateProfile:
    """A weekly arrival-rate profile in model time: 168 hourly slots from Monday 00:00.

    `rates[i]` is arrivals per time unit during hour i of the week, `slot` one hour in time
    units, `offset` the week position of model time 0 (time units from Monday 00:00).
    `next_arrival` is the reference for the fast engine's `_kernel.entities._profile_next`: the
    kernel repeats its float operations one for one.
    """

    rates: tuple[float, ...]
    slot: float
    offset: float

    def next_arrival(self, now: float, mass: float, limit: float) -> float:
        """The time when the integrated rate from `now` reaches `mass` (an Exp(1) draw):
        inversion of the cumulative rate of a non-homogeneous Poisson process. Zero-rate
        hours are skipped; a mass used up exactly at the end of an hour ends there, not at
        the next positive hour (working time of an empirical duration may do that); past
        `limit` (the horizon) the search stops and returns a time at or after `limit`
        (such an arrival never happens)."""
        rates, slot, offset = self.rates, self.slot, self.offset
        k = math.floor((offset + now) / slot)
        t = now
        while True:
            end = (k + 1) * slot - offset
            if end > t:
                rate = rates[k % HOURS_PER_WEEK]
                if rate > 0.0:
                    step = rate * (end - t)
                    if mass <= step:
                        return t + mass / rate
                    mass -= step
                t = end
                if t >= limit:
                    return t
            k += 1

    def mass(self, begin: float, end: float) -> float:
        """The integrated rate over [begin, end] (model time, either side of 0): expected
        arrivals, or working time where the profile is a step's working hours."""
        rates, slot, offset = self.rates, self.slot, self.offset
        total, t = 0.0, begin
        k = math.floor((offset + begin) / slot)
        while t < end:
            edge = min((k + 1) * slot - offset, end)
            if edge > t:
                total += rates[k % HOURS_PER_WEEK] * (edge - t)
                t = edge
            k += 1
        return total


def build_rate_profile(per_hour: Sequence[float], time_unit: str, start: datetime) -> RateProfile:
    """168 arrivals-per-hour values (Monday 00:00 first, clock time) -> RateProfile."""
    slot = 60 / MINUTES_PER_UNIT[time_unit]
    return _weekly(tuple(float(r) / slot for r in per_hour), time_unit, start)


def build_working_time(shares: Sequence[float], time_unit: str, start: datetime) -> RateProfile:
    """168 working shares of each clock hour -> a profile of working time per time unit (the
    same number: an hour's share holds for each of its time units)."""
    return _weekly(tuple(float(s) for s in shares), time_unit, start)


def _weekly(rates: tuple[float, ...], time_unit: str, start: datetime) -> RateProfile:
    """Per-time-unit rates by hour of the week, placed in model time by `start`."""
    per_unit = MINUTES_PER_UNIT[time_unit]
    return RateProfile(rates=rates, slot=60 / per_unit, offset=week_offset_minutes(start) / per_unit)


def hours_of_week(days: Sequence[str], begin: float, end: float) -> list[int]:
    """Hour-of-week slots (0 = Monday 00:00-01:00) covered by whole hours [begin, end) on
    `days`; an end at or before the begin runs overnight into the next day."""
    length = end - begin if end > begin else end + 24 - begin
    first = [DAYS.index(day) * 24 + int(begin) for day in days]
    return [(f + i) % HOURS_PER_WEEK for f in first for i in range(int(length))]
