"""Weekly arrival-rate profiles: the spec forms and their errors, the inversion reference,
the Poisson counts per hour of the week, and sameness of the two engines."""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import rate_profiles
from test_fast_engine import assert_same

from twin import SpecError, loads_twin, parse_twin
from twin.calendar import build_rate_profile
from twin.engine_fast import simulate_fast
from twin.loader import twin_to_data

BASE = """
name: profile
time_unit: {unit}
horizon: {horizon}
start: {start}
arrivals: [{{name: a, {source}, route: s}}]
activities: [{{name: s, duration: 0.01}}]
"""
OFFICE = "rate_profile: {hours: {'mon-fri 08:00-12:00': 6, 'mon-fri 13:00-17:00': 3, 'sun 22:00-02:00': 1}}"
ONE_SOURCE = "give exactly one of interarrival or rate_profile"


def twin_with(source: str, unit: str = "hour", horizon: float = 500, start: str = "2026-01-05T00:00"):
    return loads_twin(BASE.format(unit=unit, horizon=horizon, start=start, source=source))


def test_compact_form_equals_its_168_vector() -> None:
    compact = twin_with(OFFICE).arrivals[0].rate_profile
    assert compact is not None
    hourly = compact.hourly()
    expected = [0.0] * 168
    for day in range(5):
        for h in range(8, 12):
            expected[day * 24 + h] = 6.0
        for h in range(13, 17):
            expected[day * 24 + h] = 3.0
    expected[6 * 24 + 22] = expected[6 * 24 + 23] = expected[0] = expected[1] = 1.0  # wraps to Monday
    assert hourly == expected
    vector = twin_with(f"rate_profile: {{per_hour: {expected}}}").arrivals[0].rate_profile
    assert vector is not None and vector.hourly() == hourly


def test_round_trip_and_mean_interarrival() -> None:
    twin = twin_with(OFFICE, unit="minute")
    data = twin_to_data(twin)
    assert set(data["arrivals"][0]) == {"name", "rate_profile", "route"}  # only the source given
    assert parse_twin(data) == twin
    per_week = 5 * 4 * 6 + 5 * 4 * 3 + 4 * 1
    assert twin.arrivals[0].interarrival is None
    assert twin.mean_interarrival(twin.arrivals[0]) == pytest.approx(168 / per_week * 60)
    plain = twin_to_data(twin_with("interarrival: 2"))
    assert set(plain["arrivals"][0]) == {"name", "interarrival", "route"}


@pytest.mark.parametrize(
    ("source", "path", "message"),
    [
        ("interarrival: 1, rate_profile: {per_hour: [1]}", "arrivals[a]", ONE_SOURCE),
        ("foo: 1", "arrivals[a]", ONE_SOURCE),
        ("rate_profile: {per_hour: [1, 2]}", "arrivals[a].rate_profile.per_hour", "needs 168 values"),
        ("rate_profile: {per_hour: " + str([0] * 168) + "}", "arrivals[a].rate_profile", "positive rate"),
        ("rate_profile: {per_hour: " + str([-1] + [1] * 167) + "}", "arrivals[a].rate_profile.per_hour[0]",
         "greater than or equal to 0"),
        ("rate_profile: {}", "arrivals[a].rate_profile", "exactly one of per_hour"),
        ("rate_profile: {hours: {'mon 08:30-10:00': 1}}", "arrivals[a].rate_profile.hours", "whole hour"),
        ("rate_profile: {hours: {'funday 08:00-10:00': 1}}", "arrivals[a].rate_profile.hours", "not a day"),
        ("rate_profile: {hours: {'mon': 1}}", "arrivals[a].rate_profile.hours", "HH:00-HH:00"),
        ("rate_profile: {hours: {'mon 08:00-09:00': 0}}", "arrivals[a].rate_profile", "positive rate"),
        ("rate_profile: {weekly: [1]}", "arrivals[a].rate_profile.weekly", "unknown field"),
    ],
)
def test_bad_profiles_name_the_field(source: str, path: str, message: str) -> None:
    with pytest.raises(SpecError) as error:
        twin_with(source)
    assert any(p == path and message in m for p, m in error.value.problems), error.value.problems


def test_inversion_reference() -> None:
    rates = [0.0] * 168
    rates[1] = 2.0  # Monday 01:00-02:00, two an hour
    rates[167] = 1.0  # Sunday 23:00-24:00
    profile = build_rate_profile(rates, "hour", datetime(2026, 1, 5))
    assert profile.next_arrival(0.0, 1.0, 1e9) == 1.5  # skips the empty hour 0
    assert profile.next_arrival(1.5, 1.5, 1e9) == 167.5  # 1 left at 02:00, half an hour on Sunday
    assert profile.next_arrival(1.5, 2.5, 1e9) == 169.25  # then a quarter hour into next week's hour 1
    assert profile.next_arrival(0.0, 100.0, 200.0) >= 200.0  # stops at the limit
    assert profile.next_arrival(1.0, 2.0, 1e9) == 2.0  # used up at 02:00: ends there, not on Sunday
    minutes = build_rate_profile(rates, "minute", datetime(2026, 1, 5, 1, 30))  # t = 0 at 01:30
    assert minutes.rates[1] == 2.0 / 60 and minutes.offset == 90.0
    assert minutes.next_arrival(0.0, 0.5, 1e9) == pytest.approx(15.0)


@pytest.mark.parametrize(("unit", "per_hour_unit"), [("hour", 1.0), ("minute", 60.0), ("day", 1 / 24)])
def test_counts_per_hour_of_week_are_poisson_with_the_profile_means(unit: str, per_hour_unit: float) -> None:
    """Over 300 weeks, from a start that is not on an hour boundary: each hour of the week
    has Poisson(300 * rate) arrivals (a 4.5-sigma band per hour, so a chance failure over
    168 hours is ~1e-3), hours at rate 0 none, and the total matches within 4 sigma."""
    weeks = 300
    start = datetime(2026, 1, 8, 13, 20)  # Thursday 13:20
    twin = twin_with(OFFICE, unit, horizon=weeks * 168 * per_hour_unit, start=start.isoformat())
    profile = twin.arrivals[0].rate_profile
    assert profile is not None
    expected = np.array(profile.hourly()) * weeks
    rep = simulate_fast(twin, 17, 0, trace=True)
    assert rep.trace is not None
    counts = np.zeros(168)
    for t, kind, _, _ in rep.trace:
        if kind == "arrival":
            clock = start + timedelta(hours=t / per_hour_unit)
            counts[clock.weekday() * 24 + clock.hour] += 1
    zero = expected == 0
    assert counts[zero].sum() == 0
    z = (counts[~zero] - expected[~zero]) / np.sqrt(expected[~zero])
    assert np.abs(z).max() < 4.5, z
    assert abs(counts.sum() - expected.sum()) < 4 * math.sqrt(expected.sum())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), unit=st.sampled_from(["hour", "minute", "day"]), quarter=st.integers(0, 7 * 96 - 1))
def test_fast_engine_equals_simpy_with_profiles(data: st.DataObject, unit: str, quarter: int) -> None:
    per_hour_unit = {"hour": 1.0, "minute": 60.0, "day": 1 / 24}[unit]
    horizon = 336 * per_hour_unit  # two weeks
    profile = data.draw(rate_profiles(unit, horizon / 150))
    start = datetime(2026, 1, 5) + timedelta(minutes=15 * quarter)
    other = {"name": "b", "interarrival": {"dist": "exponential", "mean": horizon / 100}, "route": "s"}
    twin = parse_twin({
        "name": "p", "time_unit": unit, "horizon": horizon, "warmup": horizon / 10,
        "start": start.isoformat(),
        "arrivals": [{"name": "a", "rate_profile": profile, "route": "s"}, other],
        "activities": [{"name": "s", "duration": {"dist": "exponential", "mean": horizon / 200},
                        "resources": {"c": 1}}],
        "resources": [{"name": "c", "capacity": 2}],
    })
    assert_same(twin, 3, 0, trace=True)
    assert_same(twin, 3, 1)
