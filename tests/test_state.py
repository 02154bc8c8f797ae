"""A live twin's starting point: the state of an operation at a moment, from its event log
(`twin state`), and the state file's checks against a twin."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from calibration.loaders import CalibrationDataError, load_events
from calibration.state import PACE_PRIOR, _km_median, state_from_log
from twin.errors import SpecError
from twin.loader import parse_twin
from twin.state import State, check_state, load_state

SAMPLE = Path(__file__).parent / "data" / "production_sample.csv"
SHARED = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "production-manufacturing" / "Production.csv.gz"
)
CUT = pd.Timestamp("2012-02-01T08:00")


def test_open_cases_and_where_each_stands() -> None:
    log, _ = load_events(SAMPLE)
    state = state_from_log(log, CUT)
    spans = log.groupby("case_id").agg(first=("start_time", "min"), last=("end_time", "max"))
    open_cases = set(spans[(spans["first"] <= CUT) & (spans["last"] > CUT)].index)
    assert {e.case for e in state.entities} == open_cases and open_cases
    running = set(log[(log["start_time"] <= CUT) & (log["end_time"] > CUT)]["case_id"])
    assert {e.case for e in state.entities if e.state == "in_service"} == running
    for e in state.entities:
        events = log[(log["case_id"] == e.case) & (log["end_time"] <= CUT)]
        assert len(e.history) == len(events) and e.since <= 0
        if e.state == "between":
            last = events.sort_values("end_time", kind="stable").iloc[-1]
            assert e.since == pytest.approx((last["end_time"] - CUT).total_seconds() / 3600)
    assert state.clock == CUT.to_pydatetime() and state.time == 0


def test_the_twins_unit_and_names() -> None:
    log, _ = load_events(SAMPLE)
    in_hours = state_from_log(log, CUT)
    twin = parse_twin(
        {
            "name": "t",
            "time_unit": "minute",
            "horizon": 100,
            "arrivals": [
                {"name": "a", "interarrival": {"dist": "exponential", "mean": 1}, "route": "Lapping"}
            ],
            "activities": [{"name": "Lapping", "duration": {"dist": "exponential", "mean": 1}}],
        }
    )
    in_minutes = state_from_log(log, CUT, twin=twin)
    assert [e.since * 1 for e in in_minutes.entities] == pytest.approx(
        [e.since * 60 for e in in_hours.entities]
    )
    problems = check_state(in_minutes, twin)
    assert problems and all("no activity named" in reason for _, reason in problems)
    assert not any("'Lapping'" in reason for _, reason in problems)  # the twin's own name is kept


def test_steps_of_a_second_order_twin() -> None:
    """A twin of second-order routing has a step per activity and the one before it (`B_afterK`,
    K: the previous label's place among the sorted labels): each case is put at its own."""
    t = pd.Timestamp("2024-01-01T08:00")
    h = pd.Timedelta(hours=1)
    rows = [("c1", "A x", t, t + h), ("c1", "B y", t + 2 * h, t + 5 * h),  # B after A: in service
            ("c2", "C z", t, t + h), ("c2", "B y", t + 2 * h, t + 3 * h), ("c2", "A x", t + 6 * h, t + 7 * h),
            ("c3", "B y", t, t + 9 * h)]  # B first: in service
    log = pd.DataFrame(rows, columns=["case_id", "activity", "start_time", "end_time"]).assign(resource="r")
    step = {"duration": {"dist": "exponential", "mean": 1}}
    names = ["start", "A_x", "B_y", "C_z", "B_y_after0", "B_y_after2", "A_x_after1", "wait_B_y_after0"]
    twin = parse_twin({"name": "t", "horizon": 10, "arrivals": [
        {"name": "a", "interarrival": {"dist": "exponential", "mean": 1}, "route": "start"}],
        "activities": [{"name": n, **step} | ({"next": {m: 0.4 if m == "A_x" else 0.1 for m in names[1:]}}
                                              if n == "start" else {}) for n in names]})
    state = state_from_log(log, t + 4 * h, twin=twin)
    where = {e.case: (e.state, e.activity or e.after, e.history) for e in state.entities}
    assert where == {"c1": ("in_service", "B_y_after0", ["A_x"]),
                     "c2": ("between", "B_y_after2", ["C_z", "B_y_after2"]),
                     "c3": ("in_service", "B_y", [])}
    assert not check_state(state, twin)
    header = {n: n.replace("_", " ").replace(" after0", "").replace(" after2", "").replace(" after1", "")
              for n in names if not n.startswith(("start", "wait"))}
    assert state_from_log(log, t + 4 * h, twin=twin, labels=header) == state


def test_a_state_file_is_checked_field_by_field(tmp_path: Path) -> None:
    twin = parse_twin(
        {
            "name": "t",
            "horizon": 100,
            "arrivals": [{"name": "a", "interarrival": {"dist": "exponential", "mean": 1}, "route": "serve"}],
            "activities": [
                {"name": "serve", "duration": {"dist": "exponential", "mean": 1}, "resources": {"clerk": 1}}
            ],
            "resources": [{"name": "clerk", "capacity": 2}],
        }
    )
    good = {
        "time": 0,
        "entities": [
            {"activity": "serve", "state": "waiting", "since": -2.5},
            {"activity": "serve", "state": "in_service", "since": -6.0},
        ],
        "down": {"clerk": 1},
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(good))
    assert len(load_state(path, twin).entities) == 2
    bad = {
        "time": 0,
        "entities": [
            {"activity": "cut", "state": "waiting", "since": -1},
            {"state": "between", "since": -1},
            {"activity": "serve", "state": "waiting", "since": 3},
        ],
        "down": {"clerk": 3, "press": 1},
        "stock": {"blanks": 4},
    }
    path.write_text(json.dumps(bad))
    with pytest.raises(SpecError) as caught:
        load_state(path, twin)
    assert any("needs after" in reason for _, reason in caught.value.problems)
    State.model_validate({**bad, "entities": bad["entities"][:1]})  # the rest is the twin's to judge
    problems = check_state(State.model_validate({**bad, "entities": bad["entities"][:1]}), twin)
    assert ("entities[0].activity", "no activity named 'cut'") in problems
    assert ("down.clerk", "3 down of a pool of 2") in problems and (
        "down.press",
        "no resource named 'press'",
    ) in problems
    assert ("stock.blanks", "no material named 'blanks'") in problems


def test_cli_writes_the_state_and_names_a_moment_outside_the_log(tmp_path: Path) -> None:
    out = tmp_path / "state.json"
    command = [
        sys.executable,
        "-m",
        "twin.cli",
        "state",
        "--events",
        str(SAMPLE),
        "--at",
        "2012-02-01T08:00",
        "-o",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert load_state(out).entities and "open cases" in done.stderr
    outside = subprocess.run([*command[:7], "1999-01-01"], capture_output=True, text=True, timeout=120)
    assert (
        outside.returncode == 2 and "outside the log" in outside.stderr and "Traceback" not in outside.stderr
    )


@pytest.mark.skipif(not SHARED.exists(), reason="the shared Production log is not here")
def test_state_of_the_shared_production_log() -> None:
    log, _ = load_events(SHARED)
    state = state_from_log(log, "2012-03-01T12:00")
    assert len(state.entities) > 10 and any(e.state == "in_service" for e in state.entities)
    with pytest.raises(CalibrationDataError, match="outside the log"):
        state_from_log(log, "2030-01-01")


def _twin_with_waits(per_hour: float) -> object:
    return parse_twin({
        "name": "w", "horizon": 100, "start": "2024-01-01T00:00:00",
        "arrivals": [{"name": "cases", "interarrival": {"dist": "exponential", "mean": 1 / per_hour},
                      "route": "A"}],
        "activities": [
            {"name": "A", "duration": 1.0, "resources": {"a": 1}, "next": {"wait_B": 1.0}},
            {"name": "wait_B", "duration": {"dist": "exponential", "mean": 3.0}, "next": "B"},
            {"name": "B", "duration": 1.0, "resources": {"b": 1}}],
        "resources": [{"name": "a", "capacity": 1}, {"name": "b", "capacity": 1}]})


def _log(starts: list[pd.Timestamp]) -> pd.DataFrame:
    """One A event per case, each case open past 2024-01-10 by a B event then."""
    rows = []
    for k, t in enumerate(starts):
        rows.append({"case_id": f"c{k}", "activity": "A", "start_time": t,
                     "end_time": t + pd.Timedelta(hours=1), "resource": "r"})
        rows.append({"case_id": f"c{k}", "activity": "B", "start_time": pd.Timestamp("2024-01-10"),
                     "end_time": pd.Timestamp("2024-01-10T01:00"), "resource": "r"})
    return pd.DataFrame(rows)


def test_the_twins_unseen_steps_are_delays() -> None:
    twin = _twin_with_waits(1.0)
    log = _log([pd.Timestamp("2024-01-05T00:00")])
    state = state_from_log(log, "2024-01-05T03:00", twin=twin)
    assert state.delays == ["wait_B"] and state.entities[0].state == "between"
    assert state_from_log(log, "2024-01-05T03:00").delays == []  # no twin, no delays


def test_arrivals_go_on_at_the_recent_level() -> None:
    """A case an hour begun against the twin's one every two hours: level 2, over the last day or
    over the two days asked, of which the log covers 47 hours (from its first case, which opens the
    span); no level without `recent`."""
    twin = _twin_with_waits(0.5)
    cut = pd.Timestamp("2024-01-05T00:00")
    log = _log([cut - pd.Timedelta(hours=h) for h in range(48)])  # the first at cut - 47 h
    assert state_from_log(log, cut, twin=twin, recent=2).arrivals == {"cases": pytest.approx(47 / 23.5)}
    assert state_from_log(log, cut, twin=twin, recent=1).arrivals == {"cases": pytest.approx(24 / 12)}
    assert state_from_log(log, cut, twin=twin).arrivals == {}


def test_cli_state_with_a_recent_level(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from twin.cli import app
    from twin.loader import twin_to_data

    twin_path, log_path, out = tmp_path / "w.yaml", tmp_path / "log.csv", tmp_path / "state.json"
    twin_path.write_text(yaml.safe_dump(twin_to_data(_twin_with_waits(0.5))))
    cut = pd.Timestamp("2024-01-05T00:00")
    _log([cut - pd.Timedelta(hours=h) for h in range(48)]).to_csv(log_path, index=False)
    result = CliRunner().invoke(app, ["state", "--events", str(log_path), "--at", str(cut), "--twin",
                                      str(twin_path), "--recent", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    state = load_state(out)
    assert state.arrivals == {"cases": pytest.approx(2.0)} and state.delays == ["wait_B"]


def _paced_log(cut: pd.Timestamp) -> pd.DataFrame:
    """40 cases closed in the two days before `cut`, each A for 2 hours (the twin: 1), a gap of half
    the twin's median wait (3 ln 2 hours) and B for 2 hours (the twin: 1); 50 older cases, slower
    still (A 5 hours, a gap of 12); two cases between A and B since 3 hours; one in A since half an hour."""
    hour = pd.Timedelta(hours=1)
    gap = 0.5 * 3 * math.log(2) * hour
    rows = []

    def case(name: str, a: pd.Timestamp, took: float, wait: pd.Timedelta, b: float = 2.0) -> None:
        rows.append({"case_id": name, "activity": "A", "start_time": a, "end_time": a + took * hour,
                     "resource": "r"})
        b_start = a + took * hour + wait
        rows.append({"case_id": name, "activity": "B", "start_time": b_start, "end_time": b_start + b * hour,
                     "resource": "r"})

    for k in range(40):
        case(f"c{k}", cut - (46 - k) * hour, 2.0, gap)
    for k in range(50):
        case(f"old{k}", cut - (120 + 10 * k) * hour, 5.0, 12 * hour)
    for k in range(2):
        case(f"open{k}", cut - 5 * hour, 2.0, 8 * hour)
    rows.append({"case_id": "running", "activity": "A", "start_time": cut - 0.5 * hour,
                 "end_time": cut + 1.5 * hour, "resource": "r"})
    return pd.DataFrame(rows)


def test_steps_go_on_at_the_recent_pace() -> None:
    """The recent pace: waits at half the twin's median, services at twice the twin's times (those
    before the two days asked and the open cases' unfinished parts left out or censored), each group's
    median ratio pulled towards 1 by PACE_PRIOR done observations and each step's towards its group's;
    the services' pace only when asked."""
    twin = _twin_with_waits(1.0)
    cut = pd.Timestamp("2024-01-05T00:00")
    state = state_from_log(_paced_log(cut), cut, twin=twin, pace=2, pace_services=True)
    k = PACE_PRIOR
    waits = math.log(0.5) * 40 / (40 + k)
    wait_b = waits + 40 / (40 + k) * (math.log(0.5) - waits)
    services = math.log(2.0) * 82 / (82 + k)
    a = services + 42 / (42 + k) * (math.log(2.0) - services)
    b = services + 40 / (40 + k) * (math.log(2.0) - services)
    assert state.pace == pytest.approx({"wait_B": math.exp(wait_b), "A": math.exp(a), "B": math.exp(b)},
                                       abs=1e-4)
    assert state_from_log(_paced_log(cut), cut, twin=twin).pace == {}  # the twin's pace without `pace`
    older = state_from_log(_paced_log(cut), cut, twin=twin, pace=30, pace_services=True).pace  # the old too
    assert older["wait_B"] > 1 and older["A"] > state.pace["A"]
    delays_only = state_from_log(_paced_log(cut), cut, twin=twin, pace=2).pace  # the default: the delays'
    assert delays_only == {"wait_B": state.pace["wait_B"]}


def test_a_recent_median_is_kaplan_meiers() -> None:
    """Censored values take their share of the survival on to the longer ones: with 2 done at 1,
    3 censored at 1.5 and 2 done at 3, the survival is 5/7 after 1 and 0 at 3, so the median is 3;
    with the censored ones taken as done it would be 1.5, and without them 1 (two of four)."""
    values = [(1.0, True, 1.0)] * 2 + [(1.5, False, 1.0)] * 3 + [(3.0, True, 1.0)] * 2
    assert _km_median(values) == 3.0
    assert _km_median([(2.0, False, 1.0)]) is None


def test_cli_state_with_the_recent_pace(tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from twin.cli import app
    from twin.loader import twin_to_data

    twin_path, log_path, out = tmp_path / "w.yaml", tmp_path / "log.csv", tmp_path / "state.json"
    twin_path.write_text(yaml.safe_dump(twin_to_data(_twin_with_waits(1.0))))
    cut = pd.Timestamp("2024-01-05T00:00")
    _paced_log(cut).to_csv(log_path, index=False)
    result = CliRunner().invoke(app, ["state", "--events", str(log_path), "--at", str(cut), "--twin",
                                      str(twin_path), "--pace", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    pace = load_state(out).pace
    assert set(pace) == {"wait_B"} and pace["wait_B"] < 1
