"""Weekly shift calendars: clock parsing, breakpoints, on-duty levels and level changes."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pytest

from twin.calendar import DAYS, DEFAULT_START, WeeklyCalendar, build_calendar, parse_clock, week_offset_hours
from twin.loader import loads_twin

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def calendar(*shifts: tuple[list[str], str, str, int], unit: str = "hour",
             start: datetime = DEFAULT_START) -> WeeklyCalendar:
    return build_calendar([(days, parse_clock(a), parse_clock(b), n) for days, a, b, n in shifts],
                          unit, start)


def as_lists(cal: WeeklyCalendar) -> tuple[list[float], list[int]]:
    return cal.breakpoints.tolist(), cal.levels.tolist()


# ---------------------------------------------------------------------------
# parse_clock
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "hours"), [
    ("00:00", 0.0), ("08:00", 8.0), ("08:30", 8.5), ("8:30", 8.5), ("23:45", 23.75),
    ("24:00", 24.0),
])
def test_parse_clock(text: str, hours: float) -> None:
    assert parse_clock(text) == hours


@pytest.mark.parametrize("text", [
    "25:00", "24:01", "08:60", "8am", "0800", "08:0", "08:000", "", ":30", "-1:00",
    "08:00:00", " 08:00", "08:00 ", "8.5", "noon",
])
def test_parse_clock_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a clock time"):
        parse_clock(text)


def test_default_start_is_a_monday_midnight() -> None:
    assert DEFAULT_START.weekday() == 0
    assert week_offset_hours(DEFAULT_START) == 0.0
    assert week_offset_hours(datetime(2026, 1, 7, 6, 30)) == 2 * 24 + 6.5
    assert week_offset_hours(datetime(2026, 1, 11, 23, 59, 30)) == pytest.approx(6 * 24 + 23 + 59.5 / 60)


# ---------------------------------------------------------------------------
# build_calendar
# ---------------------------------------------------------------------------

def test_day_shift() -> None:
    cal = calendar((["mon"], "08:00", "16:00", 3))
    assert as_lists(cal) == ([0.0, 8.0, 16.0], [0, 3, 0])
    assert cal.week == 168.0
    assert cal.offset == 0.0


def test_weekday_shifts() -> None:
    cal = calendar((WEEKDAYS, "08:00", "16:00", 2))
    points, levels = as_lists(cal)
    assert points == [0.0] + [p for d in range(5) for p in (24.0 * d + 8, 24.0 * d + 16)]
    assert levels == [0] + [2, 0] * 5


def test_overnight_shift_wraps_to_next_day() -> None:
    cal = calendar((["mon"], "22:00", "06:00", 2))
    assert as_lists(cal) == ([0.0, 22.0, 30.0], [0, 2, 0])


def test_shift_ending_at_midnight() -> None:
    cal = calendar((["fri"], "16:00", "24:00", 1))
    assert as_lists(cal) == ([0.0, 4 * 24 + 16.0, 5 * 24.0], [0, 1, 0])


def test_start_equal_to_end_is_a_full_day() -> None:
    cal = calendar((["tue"], "08:00", "08:00", 1))
    assert as_lists(cal) == ([0.0, 32.0, 56.0], [0, 1, 0])


def test_sunday_night_wraps_to_monday() -> None:
    cal = calendar((["sun"], "22:00", "06:00", 2))
    assert as_lists(cal) == ([0.0, 6.0, 166.0], [2, 0, 2])
    assert cal.on_duty(0.0) == 2
    assert cal.on_duty(5.99) == 2
    assert cal.on_duty(6.0) == 0
    assert cal.on_duty(165.99) == 0
    assert cal.on_duty(166.0) == 2
    assert cal.on_duty(168.0 + 3) == 2


def test_overlapping_shifts_add() -> None:
    cal = calendar((["mon"], "08:00", "16:00", 2), (["mon"], "12:00", "20:00", 1))
    assert as_lists(cal) == ([0.0, 8.0, 12.0, 16.0, 20.0], [0, 2, 3, 1, 0])


def test_back_to_back_shifts_leave_no_breakpoint() -> None:
    cal = calendar((["mon"], "06:00", "14:00", 2), (["mon"], "14:00", "22:00", 2))
    assert as_lists(cal) == ([0.0, 6.0, 22.0], [0, 2, 0])


def test_round_the_clock_has_one_level() -> None:
    cal = calendar((list(DAYS), "00:00", "24:00", 4))
    assert as_lists(cal) == ([0.0], [4])
    assert list(cal.changes(1000.0)) == []
    assert cal.on_duty(123.4) == 4


def test_overnight_every_day_covers_the_week_join() -> None:
    cal = calendar((list(DAYS), "20:00", "04:00", 1))
    points, levels = as_lists(cal)
    assert points[:2] == [0.0, 4.0] and levels[:2] == [1, 0]
    assert points[-1] == 6 * 24 + 20.0 and levels[-1] == 1
    assert len(points) == 1 + 2 * 7  # 0 (in Sunday's night), then 7 ends and 7 starts


@pytest.mark.parametrize(("unit", "scale"), [("minute", 60.0), ("hour", 1.0), ("day", 1 / 24)])
def test_time_units_scale(unit: str, scale: float) -> None:
    cal = calendar((["tue"], "06:00", "18:00", 1), unit=unit,
                   start=datetime(2026, 1, 5, 12))  # Monday noon
    assert cal.week == pytest.approx(168 * scale, rel=1e-15)
    assert cal.breakpoints.tolist() == pytest.approx([0.0, 30 * scale, 42 * scale], rel=1e-15)
    assert cal.offset == pytest.approx(12 * scale, rel=1e-15)
    assert cal.on_duty(17.9 * scale) == 0
    assert cal.on_duty(18.1 * scale) == 1
    assert cal.on_duty(29.9 * scale) == 1
    assert cal.on_duty(30.1 * scale) == 0


def test_start_not_on_a_monday_shifts_the_offset() -> None:
    start = datetime(2026, 1, 7, 6, 30)  # Wednesday 06:30
    cal = calendar((WEEKDAYS, "08:00", "16:00", 3), start=start)
    assert cal.offset == 2 * 24 + 6.5
    assert cal.on_duty(0.0) == 0
    assert cal.on_duty(1.49) == 0
    assert cal.on_duty(1.5) == 3  # Wednesday 08:00
    assert cal.on_duty(9.5) == 0  # Wednesday 16:00
    changes = list(cal.changes(24 * 7.0))
    assert changes[:4] == [(1.5, 3), (9.5, 0), (25.5, 3), (33.5, 0)]
    # Friday's shift, then nothing until Monday 08:00 (5 days after Wednesday 06:30 + 1.5)
    assert changes[4:7] == [(49.5, 3), (57.5, 0), (24 * 5 + 1.5, 3)]


def test_start_inside_a_shift_is_on_duty_at_zero() -> None:
    cal = calendar((["mon"], "08:00", "16:00", 2), start=datetime(2026, 1, 5, 8))
    assert cal.on_duty(0.0) == 2
    assert next(iter(cal.changes(100.0))) == (8.0, 0)


def test_start_in_a_later_week_is_the_same_calendar() -> None:
    a = calendar((WEEKDAYS, "09:00", "17:00", 1), start=datetime(2026, 1, 8, 10))
    b = calendar((WEEKDAYS, "09:00", "17:00", 1), start=datetime(2030, 5, 2, 10))  # a Thursday
    assert a.offset == b.offset
    assert list(a.changes(500.0)) == list(b.changes(500.0))


# ---------------------------------------------------------------------------
# changes(horizon)
# ---------------------------------------------------------------------------

def test_changes_are_absolute_over_many_weeks() -> None:
    """Minutes over ~2 years: the nth change is exactly k * week + point, with no drift."""
    cal = calendar((["mon"], "08:00", "16:00", 1), unit="minute")
    weeks = 100
    got = list(cal.changes(weeks * 10080.0))
    expected = [(k * 10080.0 + p, level) for k in range(weeks) for p, level in ((480.0, 1), (960.0, 0))]
    assert got == expected


def test_changes_with_offset_are_absolute() -> None:
    start = datetime(2026, 1, 9, 13, 17)  # Friday 13:17
    cal = calendar((WEEKDAYS, "06:00", "14:00", 2), (["sat"], "10:00", "12:00", 1),
                   unit="minute", start=start)
    offset = (4 * 24 + 13) * 60 + 17
    assert cal.offset == offset
    horizon = 52 * 10080.0
    got = list(cal.changes(horizon))
    points = cal.breakpoints.tolist()
    levels = cal.levels.tolist()
    expected = []
    current = cal.on_duty(0.0)
    for k in range(53):
        for p, level in zip(points, levels, strict=True):
            t = k * 10080 + p - offset
            if 0 < t <= horizon and level != current:
                expected.append((t, level))
                current = level
    assert got == expected


@pytest.mark.parametrize("start", [DEFAULT_START + timedelta(hours=h) for h in (0, 7, 30, 100, 167)])
@pytest.mark.parametrize("unit", ["minute", "hour", "day"])
def test_changes_are_real_ordered_and_within_horizon(start: datetime, unit: str) -> None:
    cal = calendar((WEEKDAYS, "08:00", "16:00", 2), (WEEKDAYS, "12:00", "20:00", 1),
                   (["sat", "sun"], "22:00", "06:00", 1), (["fri"], "16:00", "20:00", 1),
                   unit=unit, start=start)
    horizon = 3.5 * cal.week
    changes = list(cal.changes(horizon))
    times = [t for t, _ in changes]
    levels = [cal.on_duty(0.0)] + [level for _, level in changes]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert all(0 < t <= horizon for t in times)
    assert all(a != b for a, b in itertools.pairwise(levels))  # only real changes
    # between changes, on_duty agrees with the last change
    bounds = [0.0, *times, horizon]
    for (lo, hi), level in zip(itertools.pairwise(bounds), levels, strict=True):
        assert cal.on_duty((lo + hi) / 2) == level
    # and per week: the same number of changes as level steps in the calendar
    assert 3 * len(cal.levels) <= len(changes) <= 4 * len(cal.levels)


def test_change_exactly_at_horizon_is_included() -> None:
    cal = calendar((["mon"], "08:00", "16:00", 1))
    assert list(cal.changes(16.0)) == [(8.0, 1), (16.0, 0)]
    assert list(cal.changes(15.999)) == [(8.0, 1)]
    assert list(cal.changes(8.0)) == [(8.0, 1)]
    assert list(cal.changes(7.0)) == []


def test_no_change_at_time_zero() -> None:
    cal = calendar((["mon"], "00:00", "08:00", 1))
    assert cal.on_duty(0.0) == 1
    assert list(cal.changes(168.0)) == [(8.0, 0), (168.0, 1)]


def test_levels_are_integers() -> None:
    cal = calendar((["mon"], "08:00", "16:00", 3))
    assert cal.levels.dtype == np.int64
    assert isinstance(cal.on_duty(9.0), int)
    assert all(isinstance(level, int) for _, level in cal.changes(200.0))


def test_minute_clock_times_are_exact() -> None:
    cal = calendar((["mon"], "08:20", "16:40", 1), unit="minute")
    assert cal.breakpoints.tolist() == [0.0, 500.0, 1000.0]
    assert cal.on_duty(500.0) == 1
    for t, level in cal.changes(3 * 10080.0):
        assert cal.on_duty(t) == level


# ---------------------------------------------------------------------------
# Through the spec
# ---------------------------------------------------------------------------

def test_twin_calendar_uses_time_unit_and_start() -> None:
    twin = loads_twin("""\
name: shifts
time_unit: minute
horizon: 20160
start: 2026-01-06T07:00   # Tuesday
arrivals: [{name: a, interarrival: 10, route: work}]
activities: [{name: work, duration: 5, resources: {crew: 1}}]
resources:
  - name: crew
    capacity: 2
    shifts: [{days: [mon, tue], start: "08:00", end: "16:00", capacity: 2}]
  - name: always
    capacity: 1
""")
    crew, always = twin.resources
    assert twin.calendar(always) is None
    cal = twin.calendar(crew)
    assert cal is not None
    assert cal.offset == (24 + 7) * 60
    assert cal.on_duty(0.0) == 0
    assert list(cal.changes(7 * 24 * 60.0))[:2] == [(60.0, 2), (540.0, 0)]
