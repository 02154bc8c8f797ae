"""Logs cut from a longer history: completed-cases-only selection, working time, the score window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.arrivals import ArrivalFitter
from calibration.calendars import open_hours_between
from calibration.calibrate import OPEN, calibrate
from calibration.loaders import load_events
from calibration.routing import RoutingFitter
from calibration.scoring import censor, finished
from calibration.selection import SelectionFitter
from calibration.simlog import simulate_log
from calibration.worktime import chain_steps
from twin.engine_fast import simulate_fast
from twin.loader import load_twin, parse_twin

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


def test_open_hours_between_counts_only_open_slots() -> None:
    on = np.zeros(168, dtype=bool)
    on[[8, 9, 24 + 8]] = True  # Monday 08-10, Tuesday 08-09
    first = pd.Series(pd.to_datetime(["2026-01-05 08:30", "2026-01-05 10:15", "2026-01-06 08:30"]))
    then = pd.Series(pd.to_datetime(["2026-01-06 08:15", "2026-01-12 08:00", "2026-01-06 08:00"]))
    assert list(open_hours_between(first, then, on)) == pytest.approx([1.75, 1.0, 0.0])


def test_wait_chain_reproduces_the_whole_hours() -> None:
    """Waits of 0.5, 1.5, 2.5, 2.5 open hours: a fraction step, then one-hour steps that go
    on with the observed chances, so the expected whole hours are the observed mean."""
    steps = chain_steps("wait_X", "X", np.array([0.5, 1.5, 2.5, 2.5]), OPEN)
    assert [s["name"] for s in steps] == ["wait_X", "wait_X_1", "wait_X_2"]
    assert all(s["resources"] == {OPEN: 1} for s in steps)
    assert steps[0]["duration"] == {"dist": "constant", "value": 0.5}
    assert steps[0]["next"] == {"wait_X_1": 0.75, "X": 0.25}
    assert steps[1]["next"] == pytest.approx({"wait_X_2": 2 / 3, "X": 1 / 3}, abs=1e-5)
    assert steps[2] == {"name": "wait_X_2", "duration": 1.0, "resources": {OPEN: 1}, "next": {"X": 1.0}}
    for step in chain_steps("w", "X", np.random.default_rng(1).exponential(20, 500), OPEN):
        assert sum(step["next"].values()) == pytest.approx(1, abs=1e-12)
    tail = chain_steps("w", "X", np.array([0.0, 3.0, 7.0]), OPEN, longest=2)
    assert tail[-1]["next"] == pytest.approx({"w_2": 0.75, "X": 0.25})  # geometric, mean excess 3


@pytest.mark.parametrize("worktime", ["chain", "open", "weighted"])
def test_waits_after_hours_are_replayed_in_working_time(worktime: str) -> None:
    """Office-hours work, handed over at the end of one day and picked up at 09:30 the next:
    the wait is half an open hour (not 16 clock hours), and the twin picks every hand-over
    up at 09:30 too (weighted: in the 09:00 hour, the only one work starts in)."""
    days = [d for d in pd.date_range("2026-01-05", periods=42, freq="D") if d.dayofweek < 4]
    rows = []
    for i, day in enumerate(days):
        for k in range(4):
            start, handed = day + pd.Timedelta(hours=9, minutes=10 * k), day + pd.Timedelta(hours=33.5)
            rows += [
                (f"{i}-{k}", "A", "r1", start, start + pd.Timedelta(hours=8)),
                (f"{i}-{k}", "B", "r2", handed, handed + pd.Timedelta(minutes=30)),
            ]
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    spec, report = calibrate(events, calendars=True, worktime=worktime)
    parse_twin(spec)
    steps = {a["name"]: a for a in spec["activities"]}
    assert steps["A"]["next"] == {"wait_B_after0": 1.0}  # the A -> B hand-over has its own wait
    twin = parse_twin(spec)
    picked = simulate_log(twin, twin.start, 40, seed=3, meta=report).query("activity == 'B'")
    assert len(picked) == 40
    if worktime == "weighted":  # hour 9 counts fully on Tuesday-Thursday, half on Monday and Friday
        clock = picked["start_time"].dt.hour + picked["start_time"].dt.minute / 60
        assert clock.between(9.25, 10.0).all()  # a 0.5 drawn for a Friday runs to 10:00
        assert 0.25 <= report["waits"]["B after A"]["observed_mean"] <= 0.5
        return
    assert set(picked["start_time"].dt.strftime("%H:%M")) == {"09:30"}
    assert report["waits"]["B after A"]["observed_mean"] == pytest.approx(0.5, abs=0.01)
    if worktime == "open":
        assert steps["wait_B_after0"]["working_hours"]["per_hour"][9] == 1.0
        return
    assert steps["wait_B_after0"]["resources"] == {OPEN: 1}
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


def test_score_cuts_both_logs_at_the_test_end_and_keeps_the_uncut_replay() -> None:
    pytest.importorskip("log_distance_measures")
    from calibration.cli import scorecard_text
    from calibration.loaders import load_events
    from calibration.scoring import score

    log, _ = load_events(Path(__file__).parent / "data" / "production_sample.csv")
    starts = log.groupby("case_id")["start_time"].min().sort_values()
    train = log[log["case_id"].isin(starts.index[:20])]
    test = log[log["case_id"].isin(starts.index[20:])]
    spec, report = calibrate(train, calendars=True)
    result = score(parse_twin(spec), train, test, runs=2, seed=1, meta=report)
    assert set(result) >= {"model", "baseline", "baseline_uncut", "protocols"}
    assert list(result["protocols"]) == ["cut", "uncut", "finished"]
    assert result["model"] == result["protocols"]["cut"]["model"]
    assert set(result["baseline_uncut"]) == set(result["baseline"])
    text = scorecard_text(result)
    assert all(f"metric ({p})" in text for p in result["protocols"])


def test_simulating_until_the_end_is_the_cut_of_the_whole_log() -> None:
    """Same streams, shorter run: the log simulated up to `until` holds exactly the events
    of the completed log that ended by then, unfinished cases included."""
    log, _ = load_events(Path(__file__).parent / "data" / "production_sample.csv")
    spec, report = calibrate(log, calendars=True)
    twin = parse_twin(spec)
    whole = simulate_log(twin, twin.start, 12, seed=4, meta=report)
    end = whole["end_time"].quantile(0.5).floor("s")
    short = simulate_log(twin, twin.start, 12, seed=4, meta=report, until=end.to_pydatetime())
    cut = censor(whole, end)
    assert whole["case_id"].nunique() == 12 and len(cut) < len(whole)
    columns = ["case_id", "activity", "start_time", "end_time"]
    assert short[columns].equals(cut[columns])


def test_finished_only_keeps_the_cases_that_ended_inside_the_window_whole() -> None:
    """Every arrival of the window is simulated and a case is kept only if it ended by the
    window's end, all of its events: the completed log's cases that ended by then."""
    log, _ = load_events(Path(__file__).parent / "data" / "production_sample.csv")
    spec, report = calibrate(log, calendars=True)
    twin = parse_twin(spec)
    whole = simulate_log(twin, twin.start, 60, seed=4, meta=report)
    end = whole["end_time"].quantile(0.3).floor("s")
    until = end.to_pydatetime()
    done = simulate_log(twin, twin.start, 5, seed=4, meta=report, until=until, finished_only=True)
    expected = finished(whole, end)
    assert done["case_id"].nunique() > 5  # not only the first `cases`: every arrival
    assert (done.groupby("case_id")["end_time"].max() <= end).all()
    columns = ["case_id", "activity", "start_time", "end_time"]
    order = ["case_id", "start_time", "activity"]
    got = done[columns].sort_values(order).reset_index(drop=True)
    assert got.equals(expected[columns].sort_values(order).reset_index(drop=True))
    with pytest.raises(ValueError, match="needs `until`"):
        simulate_log(twin, twin.start, 5, seed=4, finished_only=True)


def _office_log(strays: list[str]) -> pd.DataFrame:
    """Eight weeks of cases started Monday-Friday 09:00-16:30 (A about 1 h, then B), with a
    case started at each of `strays`."""
    rng = np.random.default_rng(12)
    days = [d for d in pd.date_range("2026-01-05", periods=56, freq="D") if d.dayofweek < 5]
    starts = [d + pd.Timedelta(hours=float(h)) for d in days for h in np.sort(rng.uniform(9, 16.5, 12))]
    starts += [pd.Timestamp(s) for s in strays]
    rows = []
    for i, t in enumerate(sorted(starts)):
        a, b = t + pd.Timedelta(hours=float(rng.uniform(0.5, 1.5))), float(rng.uniform(0.2, 0.8))
        rows += [(f"c{i}", "A", f"r{i % 3}", t, a),
                 (f"c{i}", "B", f"s{i % 2}", a + pd.Timedelta(hours=0.1), a + pd.Timedelta(hours=b))]
    return pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])


def test_a_sparse_weekend_is_pooled_not_opened_in_its_stray_hours() -> None:
    """Two Saturday cases at 14:00 and one at 03:00 on a Wednesday in eight office weeks:
    taken at face value, A's calendar opens Saturday 14:00-15:00 only (every Saturday's
    queue would start in that hour). Pooled, Saturday keeps the weekdays' hours and its
    small pace (shrunk towards the mean day's) spread over them, the night stray is closed,
    and the twin works neither at night nor much on Saturdays."""
    events = _office_log(["2026-01-10 14:10", "2026-01-24 14:20", "2026-01-14 03:05"])
    spec, report = calibrate(events, calendars=True)
    site = report["resources"]["site_calendar"]
    assert site["sparse_days_pooled"] == ["sat"] and "wed 03:00" in site["stray_hours_closed"]
    for pool in spec["resources"]:
        hours = {day: {h for s in pool["shifts"] if s["days"] == [day]
                       for h in range(int(s["start"][:2]), int(s["end"][:2]))}
                 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        weekdays = [hours[d] for d in ("mon", "tue", "wed", "thu", "fri")]
        assert set.intersection(*weekdays) <= hours["sat"] <= set.union(*weekdays), pool["name"]
        assert len(hours["sat"]) >= 6 and not hours["sun"], pool["name"]
    pace = np.array(next(a for a in spec["activities"] if "working_hours" in a)["working_hours"]["per_hour"])
    saturday, weekday = pace.reshape(7, 24)[5], pace.reshape(7, 24)[:5].sum(axis=1).mean()
    assert (saturday[9:17] > 0).all() and pace.reshape(7, 24)[2, 3] == 0
    assert saturday.sum() < 0.25 * weekday  # 2 starts in 8 weeks, shrunk with one week's weight
    twin = parse_twin(spec)
    sim = simulate_log(twin, twin.start, 400, seed=2, meta=report)
    assert (sim["start_time"].dt.hour >= 8).all() and (sim["start_time"].dt.dayofweek == 5).mean() < 0.05
    worked = calibrate(_office_log([f"2026-01-{d} 10:00" for d in (10, 17, 24, 31)] * 5), calendars=True)[1]
    assert worked["resources"]["site_calendar"]["sparse_days_pooled"] == []  # 4% of starts: its own hours
    assert 5 * 24 + 10 in worked["resources"]["site_calendar"]["on_hours_of_week"]


def test_local_time_follows_the_site_clock_through_the_end_of_daylight_saving(tmp_path: Path) -> None:
    """An Amsterdam office starts work 09:00-16:00 local time, either side of 25 October 2026
    (CEST +02:00 to CET +01:00). Written in UTC, its day moves an hour; read in the site's
    zone (or at the offsets it wrote) the calendar is 09:00-16:00 all along and the YAML's
    header names the zone."""
    rng = np.random.default_rng(4)
    days = [d for d in pd.date_range("2026-09-28", "2026-11-22", freq="D") if d.dayofweek < 5]
    local = [d + pd.Timedelta(hours=float(h)) for d in days for h in rng.uniform(9, 16, 10)]
    instants = pd.DatetimeIndex(local).tz_localize("Europe/Amsterdam")
    hours = rng.uniform(0.2, 0.9, len(local))
    ends = instants + pd.to_timedelta(hours, unit="h")
    frame = pd.DataFrame({"case_id": [f"c{i}" for i in range(len(local))], "activity": "A",
                          "resource": [f"r{i % 3}" for i in range(len(local))]})
    written = {
        "utc": (frame.assign(start_time=instants.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
                             end_time=ends.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ"))),
        "offsets": frame.assign(start_time=instants.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                end_time=ends.strftime("%Y-%m-%dT%H:%M:%S%z")),
    }
    as_utc, _ = load_events(written["utc"])
    zoned, report = load_events(written["utc"], timezone="Europe/Amsterdam")
    own, _ = load_events(written["offsets"])
    assert zoned["start_time"].equals(own["start_time"]) and "Europe/Amsterdam" in report.clock
    assert set(zoned["start_time"].dt.hour) == set(range(9, 16))
    assert set(as_utc["start_time"].dt.hour) == set(range(7, 15))  # the day moved an hour in UTC
    site = {k: calibrate(log, calendars=True)[1]["resources"]["site_calendar"]["on_hours_of_week"]
            for k, log in (("utc", as_utc), ("local", zoned))}
    assert [h for h in site["local"] if h < 24] == list(range(9, 16))
    assert 7 in site["utc"] and 7 not in site["local"]
    with pytest.raises(ValueError, match="IANA"):
        load_events(written["utc"], timezone="Mars/Olympus")
    from calibration.cli import calibrate_files
    from calibration.simlog import read_header

    path = tmp_path / "office.csv"
    written["utc"].to_csv(path, index=False)
    calibrate_files(path, None, None, {}, tmp_path / "t.yaml", None, timezone="Europe/Amsterdam")
    assert read_header(tmp_path / "t.yaml")["clock"]["timezone"] == "Europe/Amsterdam"
    assert load_twin(tmp_path / "t.yaml").timezone == "Europe/Amsterdam"  # the spec says its zone too


def test_processing_in_working_time_pauses_over_nights_and_weekends() -> None:
    """Jobs started at 16:00 and finished at 10:00 the next working day (18 clock hours, or
    66 over a weekend) are 2 open hours each: with `processing="working"` the twin holds
    them that long in working time (the twin's arrivals are random, so they start at other
    times: each still spans exactly 2 open hours)."""
    days = [d for d in pd.date_range("2026-01-05", periods=56, freq="D") if d.dayofweek < 5]
    rows = []
    for i, day in enumerate(days[:-1]):
        start, end = day + pd.Timedelta(hours=16), days[i + 1] + pd.Timedelta(hours=10)
        rows += [(f"c{i}", "A", "r1", start, end), (f"c{i}", "B", "r2", end, end + pd.Timedelta(minutes=20))]
        early = day + pd.Timedelta(hours=9, minutes=15)
        rows.append((f"x{i}", "B", "r2", early, early + pd.Timedelta(minutes=15)))
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    spec, report = calibrate(events, calendars=True, worktime="open", processing="working")
    assert report["durations"]["A"]["observed_mean"] == pytest.approx(2.0)
    week = np.array(next(a for a in spec["activities"] if a["name"] == "A")["working_hours"]["per_hour"])
    twin = parse_twin(spec)
    done = simulate_log(twin, twin.start, 60, seed=5, meta=report).query("activity == 'A'")
    assert len(done) > 20
    worked = open_hours_between(done["start_time"], done["end_time"], week)
    assert worked == pytest.approx(np.full(len(done), 2.0))
    assert ((done["end_time"] - done["start_time"]) > pd.Timedelta(hours=2)).any()  # paused overnight
    _, report = calibrate(events, calendars=True, worktime="open")
    assert report["durations"]["A"]["observed_mean"] > 18


def test_pools_by_resource_share_a_person_between_activities() -> None:
    """ann does A (1 h) and B; bob does A only (3 h): per-resource pools make ann one unit
    that A and B share (never two jobs at once), with each resource's own pace on A."""
    rng = np.random.default_rng(7)
    rows, t = [], pd.Timestamp("2026-01-05 08:00")
    for i in range(300):
        t += pd.Timedelta(hours=float(rng.exponential(2.5)))
        who, hours = ("ann", 1.0) if i % 2 else ("bob", 3.0)
        rows.append((f"c{i}", "A", who, t, t + pd.Timedelta(hours=hours * float(rng.uniform(0.9, 1.1)))))
        b = rows[-1][4] + pd.Timedelta(minutes=5)
        rows.append((f"c{i}", "B", "ann", b, b + pd.Timedelta(minutes=20)))
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    spec, report = calibrate(events, waits=False, pools="resource")
    assert {p["name"]: p["capacity"] for p in spec["resources"]} == {"staff_ann": 1, "staff_bob": 1}
    steps = {a["name"]: a for a in spec["activities"]}
    assert steps["A"]["next"] == {"A__0": 0.5, "A__1": 0.5} and "resources" not in steps["A"]
    assert steps["A__0"]["resources"] == steps["B__0"]["resources"] == {"staff_ann": 1}
    twin = parse_twin(spec)
    sim = simulate_log(twin, twin.start, 200, seed=3, meta=report)
    assert set(sim["activity"]) == {"A", "B"} and set(sim.query("activity == 'B'")["resource"]) == {"ann"}
    hours = (sim["end_time"] - sim["start_time"]).dt.total_seconds() / 3600
    pace = hours[sim["activity"] == "A"].groupby(sim["resource"]).mean()
    assert pace["ann"] == pytest.approx(1.0, rel=0.05) and pace["bob"] == pytest.approx(3.0, rel=0.05)
    ann = sim[sim["resource"] == "ann"].sort_values("start_time")
    assert (ann["start_time"].to_numpy()[1:] >= ann["end_time"].to_numpy()[:-1]).all()  # one job at a time


def test_skilled_pools_serve_with_whoever_is_free() -> None:
    """ann (1 h) and bob (3 h) both do A, ann twice as often: with `pools="skills"`, A takes
    `one_of` their pools, ann listed first, each at their own pace; work never waits for one
    of them while the other is idle, and the simulated log names who served."""
    rng = np.random.default_rng(11)
    rows, t = [], pd.Timestamp("2026-01-05 08:00")
    for i in range(300):
        t += pd.Timedelta(hours=float(rng.exponential(1.2)))
        who, hours = ("bob", 3.0) if i % 3 == 0 else ("ann", 1.0)
        rows.append((f"c{i}", "A", who, t, t + pd.Timedelta(hours=hours * float(rng.uniform(0.9, 1.1)))))
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    spec, report = calibrate(events, waits=False, pools="skills")
    (step,) = spec["activities"]
    assert step["one_of"] == ["staff_ann", "staff_bob"] and "resources" not in step
    assert set(step["durations"]) == {"staff_ann", "staff_bob"}
    assert report["labels"] == {"A": "A"} and report["units"] == {"staff_ann": ["ann"], "staff_bob": ["bob"]}
    twin = parse_twin(spec)
    sim = simulate_log(twin, twin.start, 300, seed=3, meta=report)
    hours = (sim["end_time"] - sim["start_time"]).dt.total_seconds() / 3600
    pace = hours.groupby(sim["resource"]).mean()
    assert pace["ann"] == pytest.approx(1.0, rel=0.05) and pace["bob"] == pytest.approx(3.0, rel=0.05)
    for who in ("ann", "bob"):  # one job at a time each
        mine = sim[sim["resource"] == who].sort_values("start_time")
        assert (mine["start_time"].to_numpy()[1:] >= mine["end_time"].to_numpy()[:-1]).all()
    # At each arrival (before its own request), a job still waiting means both are busy.
    result = simulate_fast(twin, 3, 0, trace=True)
    busy, by, arrived, queued = {"staff_ann": 0, "staff_bob": 0}, {}, [], 0
    for time, kind, entity, name in result.trace:
        if kind == "arrival":
            if any(e not in by for e in arrived):
                queued += 1
                assert all(busy.values()), f"work waits at {time} while someone is idle"
            arrived.append(entity)
        elif kind == "by":
            by[entity] = name
            busy[name] += 1
        elif kind == "end":
            busy[by[entity]] -= 1
    assert queued > 20  # the check bites: work did queue


def test_a_twins_logs_are_read_in_its_own_zone_else_its_headers() -> None:
    from calibration.cli import header_clock, twin_zone

    data = {"name": "t", "horizon": 10, "activities": [{"name": "A", "duration": 1}],
            "arrivals": [{"name": "a", "interarrival": {"dist": "exponential", "mean": 1}, "route": "A"}]}
    header = {"clock": header_clock("Europe/Lisbon", "")}
    assert twin_zone(parse_twin(data | {"timezone": "Europe/Amsterdam"}), header) == "Europe/Amsterdam"
    assert twin_zone(parse_twin(data), header) == "Europe/Lisbon"  # calibrated before the field
    assert twin_zone(parse_twin(data), {"clock": header_clock(None, "")}) is None
