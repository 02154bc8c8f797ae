"""Extraneous delays (`delays="extraneous"`): waits less the queueing the twin adds itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibration.calibrate import _available, calibrate, case_table, effective
from calibration.extraneous import available, next_open, resource_free
from calibration.resources import ResourceFitter
from calibration.staff import StaffFitter

# Monday 2024-01-01. Case a keeps r2 busy on Y until 12:00, so case b, ready for Y at 10:00,
# queues for r2 2 h and waits 0.5 h more; case c is ready for Y at 18:00, after Y's pool
# has closed (open 08:00-17:00), and starts at 08:15 the next morning.
ROWS = [
    ("a", "X", "r1", "2024-01-01 08:00", "2024-01-01 09:00"),
    ("a", "Y", "r2", "2024-01-01 09:00", "2024-01-01 12:00"),
    ("b", "X", "r3", "2024-01-01 08:00", "2024-01-01 10:00"),
    ("b", "Y", "r2", "2024-01-01 12:30", "2024-01-01 13:00"),
    ("c", "X", "r3", "2024-01-01 15:00", "2024-01-01 18:00"),
    ("c", "Y", "r2", "2024-01-02 08:15", "2024-01-02 09:00"),
]


def log(resources: bool = True) -> pd.DataFrame:
    events = pd.DataFrame(ROWS, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    for column in ("start_time", "end_time"):
        events[column] = pd.to_datetime(events[column])
    if not resources:
        events["resource"] = ""
    return events


def day_shift() -> np.ndarray:
    on = np.zeros(168, dtype=bool)
    on[[d * 24 + h for d in range(7) for h in range(8, 17)]] = True
    return on


def hours_waited(table: pd.DataFrame, free: pd.Series) -> dict[str, float]:
    later = ~table["first"]
    waited = (table["start_time"] - free)[later].dt.total_seconds() / 3600
    return dict(zip(table.loc[later, "case_id"], waited.clip(lower=0), strict=True))


def test_queueing_for_a_busy_resource_is_left_out() -> None:
    table = case_table(log())
    assert hours_waited(table, table["ready"]) == {"a": 0.0, "b": 2.5, "c": 14.25}
    assert hours_waited(table, available(table)) == {"a": 0.0, "b": 0.5, "c": 14.25}


def test_a_closed_night_is_left_out_where_the_pool_keeps_shifts() -> None:
    table = case_table(log())
    free = available(table, table["activity"], {"Y": day_shift()})
    assert hours_waited(table, free) == {"a": 0.0, "b": 0.5, "c": 0.25}
    # another pool's calendar does not move Y's waits
    assert hours_waited(table, available(table, table["activity"], {"X": day_shift()}))["c"] == 14.25


def test_resource_free_is_the_end_of_its_latest_job_before_the_start() -> None:
    table = case_table(log())
    free = resource_free(table)
    at = dict(zip(zip(table["case_id"], table["activity"], strict=True), free, strict=True))
    assert at[("b", "Y")] == pd.Timestamp("2024-01-01 12:00")
    assert at[("c", "Y")] == pd.Timestamp("2024-01-01 13:00")
    assert pd.isna(at[("a", "X")])  # r1 did nothing before
    assert pd.isna(resource_free(case_table(log(resources=False)))).all()


def test_next_open_moves_closed_times_to_the_next_opening_across_the_week() -> None:
    times = pd.Series(pd.to_datetime(["2024-01-01 10:30", "2024-01-01 18:10", "2024-01-07 23:00"]))
    on = day_shift()
    on[120:] = False  # closed at the weekend
    got = next_open(times, on)
    assert list(got) == list(pd.to_datetime(["2024-01-01 10:30", "2024-01-02 08:00", "2024-01-08 08:00"]))
    assert next_open(times, np.zeros(168, dtype=bool)).equals(times)


def wait_values(spec: dict) -> list[float]:
    (wait,) = [a for a in spec["activities"] if a["name"].startswith("wait_")]
    return sorted(wait["duration"]["values"])


def test_calibrated_waits_leave_the_queueing_out() -> None:
    observed, _ = calibrate(log(), delays="observed")
    extraneous, report = calibrate(log(), delays="extraneous")
    assert wait_values(observed) == [0.0, 2.5, 14.25]
    assert wait_values(extraneous) == [0.0, 0.5, 14.25]
    assert report["options"]["delays"] == "extraneous"


def test_without_resources_the_observed_waits_stay() -> None:
    spec, _ = calibrate(log(resources=False), delays="extraneous")
    assert wait_values(spec) == [0.0, 2.5, 14.25]


def test_delays_make_no_difference_without_waits() -> None:
    assert "delays" not in effective({"waits": False, "delays": "extraneous"})
    assert effective({"waits": True, "delays": "extraneous"})["delays"] == "extraneous"
    with pytest.raises(ValueError, match="delays must be one of"):
        calibrate(log(), delays="queueing")


def test_calibration_takes_the_calendar_of_the_pool_the_twin_queues_on() -> None:
    table = case_table(log())
    resources = ResourceFitter().fit(table)
    resources.on_ = {"Y": day_shift()}  # as if Y's pool had a clear calendar
    assert hours_waited(table, _available(table, resources, None, calendars=True))["c"] == 0.25
    assert hours_waited(table, _available(table, resources, None, calendars=False))["c"] == 14.25
    staff = StaffFitter().fit(table)
    staff.on_ = {"r2": day_shift()}  # pools by resource: r2's own calendar
    assert hours_waited(table, _available(table, resources, staff, calendars=True))["c"] == 0.25
