"""Logs cut from a longer history: completed-cases-only selection, opening hours, the score window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.arrivals import ArrivalFitter
from calibration.calendars import hours_to_open, next_open
from calibration.calibrate import OPEN, calibrate
from calibration.routing import RoutingFitter
from calibration.scoring import censor
from calibration.selection import SelectionFitter
from twin.loader import parse_twin

T0 = pd.Timestamp("2026-01-05")
RATE = 2.0  # cases per hour
WINDOW = 1000.0  # hours


def _cases(rng: np.random.Generator) -> pd.DataFrame:
    """Poisson starts at RATE over WINDOW, exponential cycle times with mean 100 h."""
    starts = np.sort(rng.uniform(0, WINDOW, rng.poisson(RATE * WINDOW)))
    cycle = rng.exponential(100.0, len(starts))
    return pd.DataFrame({
        "start": T0 + pd.to_timedelta(starts, "h"), "end": T0 + pd.to_timedelta(starts + cycle, "h"),
    })


def test_completed_only_log_is_detected_and_reweighted() -> None:
    """Keeping only cases ended by the cut loses about 10% of them and thins the last
    weeks; the weighted count recovers the true number started, a full log is left alone."""
    cases = _cases(np.random.default_rng(5))
    kept = cases[cases["end"] <= T0 + pd.Timedelta(hours=WINDOW)]
    fit = SelectionFitter().fit(kept["start"], kept["end"])
    assert fit.selected_ and fit.pvalue_ < 1e-6
    assert len(kept) < 0.93 * len(cases)
    assert fit.weights_.sum() == pytest.approx(len(cases), rel=0.05)
    whole = SelectionFitter().fit(cases["start"], cases["start"] + pd.Timedelta(hours=1))
    assert not whole.selected_ and (whole.weights_ == 1).all()
    arrivals = ArrivalFitter().fit(kept["start"], fit.weights_)
    assert arrivals.profile_.mean() == pytest.approx(RATE, rel=0.05)
    assert arrivals.preferred_ == "stationary"
    assert arrivals.spec_["interarrival"]["dist"] == "exponential"
    assert arrivals.spec_["interarrival"]["mean"] == pytest.approx(1 / RATE, rel=0.05)


def test_routing_counts_each_case_by_its_weight() -> None:
    events = pd.DataFrame({
        "case_id": ["a", "a", "b"], "activity": ["X", "Y", "X"],
        "start_time": pd.to_datetime(["2026-01-05 08:00", "2026-01-05 09:00", "2026-01-05 08:00"]),
    })
    events["end_time"] = events["start_time"] + pd.Timedelta(minutes=30)
    fit = RoutingFitter(walks=200).fit(events, pd.Series({"a": 3.0, "b": 1.0}))
    assert fit.next_["X"] == {"Y": 0.75, "exit": 0.25}
    assert fit.observed_events_per_case_ == pytest.approx(1.75)
    assert fit.expected_events_per_case_ == pytest.approx(1.75)


def test_next_open_moves_closed_times_to_the_next_opening() -> None:
    on = np.zeros(168, dtype=bool)
    on[[8, 9, 24 + 8]] = True  # Monday 08-10, Tuesday 08-09
    assert hours_to_open(on)[10] == 22 and hours_to_open(on)[8] == 0 and hours_to_open(on)[33] == 143
    times = pd.Series(pd.to_datetime(["2026-01-05 08:30", "2026-01-05 10:15", "2026-01-06 09:00"]))
    assert list(next_open(times, on)) == list(pd.to_datetime(
        ["2026-01-05 08:30", "2026-01-06 08:00", "2026-01-12 08:00"]
    ))
    with pytest.raises(ValueError, match="no open hour"):
        hours_to_open(np.zeros(168, dtype=bool))


def test_waits_after_hours_are_measured_from_the_next_opening() -> None:
    """Office-hours work, handed over at the end of one day and picked up at 09:30 the next:
    the twin's wait step needs the `open_hours` pool and holds about half an hour, not 16."""
    days = [d for d in pd.date_range("2026-01-05", periods=42, freq="D") if d.dayofweek < 4]
    rows = []
    for i, day in enumerate(days):
        for k in range(4):
            start, handed = day + pd.Timedelta(hours=9 + 2 * k), day + pd.Timedelta(hours=33.5)
            rows += [
                (f"{i}-{k}", "A", "r1", start, day + pd.Timedelta(hours=17)),
                (f"{i}-{k}", "B", "r2", handed, handed + pd.Timedelta(minutes=30)),
            ]
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    spec, report = calibrate(events, calendars=True)
    parse_twin(spec)
    wait = next(a for a in spec["activities"] if a["name"] == "wait_B")
    assert wait["resources"] == {OPEN: 1}
    assert report["waits"]["B"]["observed_mean"] == pytest.approx(0.5, abs=0.01)
    pool = next(p for p in spec["resources"] if p["name"] == OPEN)
    assert {s["days"][0] for s in pool["shifts"]} == {"mon", "tue", "wed", "thu", "fri"}
    clock, _ = calibrate(events, calendars=False)
    assert not any(p["name"] == OPEN for p in clock["resources"])


def test_censor_keeps_what_the_log_had_recorded_by_its_end() -> None:
    log = pd.DataFrame({
        "case_id": ["a", "a", "b"],
        "start_time": pd.to_datetime(["2026-01-05 08:00", "2026-01-05 09:00", "2026-01-05 10:00"]),
        "end_time": pd.to_datetime(["2026-01-05 08:30", "2026-01-05 11:00", "2026-01-05 10:30"]),
    })
    kept = censor(log, pd.Timestamp("2026-01-05 10:30"))
    assert list(kept["end_time"].dt.hour) == [8, 10] and list(kept["case_id"]) == ["a", "b"]
