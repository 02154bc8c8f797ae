"""A live twin: both engines start from a state bitwise alike, and what they forecast from it
holds against exact values (drain of exponential stages, conditional remaining time, a
snapshot of the twin's own steady state needing no warm-up)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory
from strategies import assembly, batches, policies, queueing, setups, twins, upkeep
from test_engine_theory import t_interval, twin_file
from test_queueing import same

from twin import SpecError, parse_twin, simulate
from twin.distributions import Exponential
from twin.engine_fast import simulate_fast
from twin.errors import DeadlockError
from twin.forecast import forecast
from twin.loader import twin_to_data
from twin.remaining import mean_remaining
from twin.spec import Twin
from twin.starting import begin
from twin.state import State

ROOT = Path(__file__).resolve().parents[1]
Z99 = 2.5758


# -- both engines from any state ---------------------------------------------------------
@st.composite
def states(draw: st.DrawFn, twin: Twin) -> dict[str, Any]:
    """A state of `twin`: entities anywhere (none in service at a batch step), stock on hand."""
    entities = []
    for _ in range(draw(st.integers(0, 8))):
        activity = draw(st.sampled_from(twin.activities))
        kinds = ["waiting", "between"] + ([] if activity.batch is not None else ["in_service"])
        kind = draw(st.sampled_from(kinds))
        since = -round(draw(st.floats(0, 6)), 2)
        entity: dict[str, Any] = {"state": kind, "since": since}
        entity["after" if kind == "between" else "activity"] = activity.name
        if draw(st.booleans()):
            entity["class"] = draw(st.sampled_from(twin.classes))
        if draw(st.booleans()):
            entity["due"] = round(draw(st.floats(-3, 30)), 2)
        if draw(st.booleans()):
            entity["arrived"] = since - round(draw(st.floats(0, 4)), 2)
        entities.append(entity)
    stock = {m.name: draw(st.integers(0, 12)) for m in twin.materials if draw(st.booleans())}
    time = round(draw(st.floats(0, 50)), 2)
    down, down_since = {}, {}
    for pool in twin.resources:
        if pool.failures is not None and draw(st.booleans()):
            down[pool.name] = draw(st.integers(1, pool.capacity))
            down_since[pool.name] = [time - round(draw(st.floats(0, 5)), 2) for _ in range(down[pool.name])]
    orders = [{"material": m.name, "quantity": draw(st.integers(1, 20)),
               "due": time + round(draw(st.floats(-1, 20)), 2),
               "supplier": draw(st.sampled_from([name for name, _ in m.sources]))}
              for m in twin.materials if m.sources and draw(st.booleans())]
    delays = [a.name for a in twin.activities if not a.can_queue and a.batch is None and draw(st.booleans())]
    levels = [a.name for a in twin.arrivals
              if a.rate_profile is not None or isinstance(a.interarrival, Exponential)]
    arrivals = {name: draw(st.sampled_from([0.5, 1.0, 2.5])) for name in levels if draw(st.booleans())}
    pace = {a.name: draw(st.sampled_from([0.3, 1.0, 1.7])) for a in twin.activities if draw(st.booleans())}
    return {"time": time, "entities": entities, "stock": stock, "down": down, "down_since": down_since,
            "orders": orders, "delays": delays, "arrivals": arrivals, "pace": pace}


def any_twin(data: st.DataObject) -> Twin:
    base = data.draw(policies(data.draw(twins())))
    for feature in (queueing, upkeep, batches, assembly, setups):
        if data.draw(st.booleans()):
            base = data.draw(feature(base))
    try:
        return parse_twin(base)
    except SpecError:
        assume(False)
        raise


def outcome(engine: Any, twin: Twin, start: Any, replication: int) -> Any:
    try:
        return engine(twin, 7, replication, trace=True, start=start)
    except DeadlockError as error:
        return (error.time, error.activities)


def check_same_from(twin: Twin, state: State) -> None:
    now, start = begin(twin, state)
    for r in (0, 1):
        a, b = outcome(simulate, now, start, r), outcome(simulate_fast, now, start, r)
        if isinstance(a, tuple) or isinstance(b, tuple):
            assert a == b
            continue
        assert a.events == b.events and same(a.record, b.record) and a.trace == b.trace


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_both_engines_start_alike_from_any_state(data: st.DataObject) -> None:
    twin = any_twin(data)
    check_same_from(twin, State.model_validate(data.draw(states(twin))))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_both_engines_start_alike_from_many_states(data: st.DataObject) -> None:
    twin = any_twin(data)
    check_same_from(twin, State.model_validate(data.draw(states(twin))))


def test_an_empty_state_is_an_empty_start() -> None:
    twin = twin_file("mm3")
    now, _ = begin(twin, State())
    empty = twin.model_copy(update={"warmup": 0.0})
    assert simulate_fast(now, 3, 0).record == simulate_fast(empty, 3, 0).record


# -- exact values ----------------------------------------------------------------------
def no_arrivals(twin: Twin) -> Twin:
    """`twin` whose one stream brings nobody within any forecast here."""
    data = twin_to_data(twin)
    data["arrivals"][0]["interarrival"] = {"dist": "constant", "value": 1e9}
    return parse_twin(data)


def test_drain_time_is_the_sum_of_the_exponential_stages() -> None:
    """3 busy exponential servers (mean 2.4) and 5 waiting, nobody arriving: the system empties
    after 8 stages, at rate min(n, 3) / 2.4 with n in the system."""
    twin = no_arrivals(twin_file("mm3"))
    busy = [{"activity": "serve", "state": "in_service", "since": -float(k)} for k in range(3)]
    waiting = [{"activity": "serve", "state": "waiting", "since": -0.5 * k} for k in range(5)]
    state = State.model_validate({"entities": busy + waiting})
    result = forecast(twin, state, until=400.0, replications=2000, seed=11, points=10)
    exact = sum(2.4 / min(n, 3) for n in range(1, 9))
    drain = result.finish.max(axis=1)
    mean, half = t_interval(drain.tolist())
    assert abs(mean - exact) <= half, (mean, half, exact)
    assert half < 0.03 * exact
    summary = result.summary()
    assert summary["drain_time"] == pytest.approx(mean) and summary["p_drained"] == 1.0


@pytest.mark.parametrize("dist", [
    {"dist": "uniform", "low": 2.0, "high": 10.0},
    {"dist": "weibull", "shape": 2.5, "scale": 6.0},
    {"dist": "lognormal", "mean": 5.0, "sd": 4.0},
])
def test_an_in_service_job_finishes_at_its_conditional_mean(dist: dict[str, Any]) -> None:
    """A job in service for 4.5 time units finishes after E[X - 4.5 | X > 4.5], not after E[X]."""
    base = no_arrivals(twin_file("mm3"))
    data = twin_to_data(base)
    data["activities"][0]["duration"] = dist
    twin = parse_twin(data)
    state = State.model_validate({"time": 10.0, "entities": [
        {"activity": "serve", "state": "in_service", "since": 5.5}]})
    result = forecast(twin, state, until=200.0, replications=3000, seed=5, points=5)
    left = result.finish[:, 0]
    mean, half = t_interval(left.tolist())
    exact = mean_remaining(twin.activities[0].duration, 4.5)
    assert abs(mean - exact) <= half, (mean, half, exact)
    assert abs(exact - mean_remaining(twin.activities[0].duration, 0.0)) > 3 * half  # elapsed time matters


def snapshot(twin: Twin, seed: int, at: float) -> State:
    """The entities of a single-step twin at `at` of an empty-start run: in service since they
    started, else waiting since they arrived (each one arrived when it did)."""
    run = simulate_fast(twin.model_copy(update={"horizon": at, "warmup": 0.0}), seed, 0, trace=True)
    arrived: dict[int, float] = {}
    started: dict[int, float] = {}
    for t, kind, who, _ in run.trace or []:
        if kind == "arrival":
            arrived[who] = t
        elif kind == "start":
            started[who] = t
        elif kind == "leave":
            arrived.pop(who)
    entities = [{"activity": "serve", "state": "in_service" if who in started else "waiting",
                 "since": started.get(who, t0) - at, "arrived": t0 - at} for who, t0 in arrived.items()]
    return State.model_validate({"entities": entities})


def test_a_snapshot_of_steady_state_needs_no_warm_up() -> None:
    """M/M/3 at rho = 0.8 started from snapshots of its own steady state: over the next 30
    hours the mean number in the system and the mean wait are Erlang C's, with no warm-up."""
    twin = twin_file("mm3").model_copy(update={"warmup": 0.0, "horizon": 30.0})
    wip, wait = [], []
    for r in range(400):
        now, start = begin(twin, snapshot(twin, 1000 + r, 500.0))
        record = simulate_fast(now, 3, r, start=start).record
        wip.append(record["wip"])
        wait.append(record["activities.serve.wait"])
    wq = theory.mmc_mean_wait(3, 1.0, 2.4)
    for values, exact in ((wip, wq + 2.4), (wait, wq)):
        mean, half = t_interval(values)
        assert abs(mean - exact) <= half, (mean, half, exact)
    empty = [simulate_fast(twin, 3, r).record["wip"] for r in range(400)]
    assert t_interval(empty)[0] < wq + 2.4 - 3 * t_interval(wip)[1]  # an empty start is far below


# -- the command -----------------------------------------------------------------------
def test_forecast_command_json(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    state = tmp_path / "now.json"
    state.write_text(json.dumps({"time": 0, "entities": [
        {"activity": "serve", "state": "waiting", "since": -2.5},
        {"activity": "serve", "state": "in_service", "since": -6.0, "due": 3}]}))
    twin = ROOT / "tests" / "twins" / "mm3.yaml"
    result = CliRunner().invoke(app, ["forecast", str(twin), str(twin), "--state", str(state),
                                      "--until", "24", "--replications", "40", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["drain_time"] > 0 and len(out["entities"]) == 2
    assert [e["state"] for e in out["entities"]] == ["waiting", "in_service"]  # the state's order
    assert 0 <= out["entities"][1]["p_on_time"] <= out["entities"][1]["p_done"] <= 1
    assert out["what_if"][0]["entities"] == out["entities"]  # same plan, same seed: same numbers
    assert len(out["fan"]["wip"]["p50"]) == len(out["fan"]["time"])


def test_forecast_report_draws_the_jobs_and_the_fans(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    state = tmp_path / "now.json"
    state.write_text(json.dumps({"time": 0, "entities": [
        {"activity": "serve", "state": "waiting", "since": -2.5, "case": "K-17"}]}))
    twin = ROOT / "tests" / "twins" / "mm3.yaml"
    out = tmp_path / "forecast.html"
    result = CliRunner().invoke(app, ["forecast", str(twin), str(twin), "--state", str(state),
                                      "--until", "24", "--replications", "20", "--report", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert "K-17 (serve, waiting)" in page and "completions since now" in page and "plotly" in page


def test_forecast_command_names_what_is_wrong(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from twin.cli import app

    state = tmp_path / "now.json"
    state.write_text(json.dumps({"time": 5, "entities": [{"activity": "nowhere", "state": "waiting",
                                                          "since": 1}]}))
    twin = ROOT / "tests" / "twins" / "mm3.yaml"
    result = CliRunner().invoke(app, ["forecast", str(twin), "--state", str(state), "--until", "24"])
    assert result.exit_code == 2 and "entities[0].activity" in result.output and "nowhere" in result.output
    state.write_text(json.dumps({"time": 5, "entities": []}))
    result = CliRunner().invoke(app, ["forecast", str(twin), "--state", str(state), "--until", "5"])
    assert result.exit_code == 2 and "until" in result.output


def test_a_case_between_steps_is_open_so_it_goes_on() -> None:
    """After A a case leaves with 0.9 or goes to B: one known to be open after A goes to B, in
    both engines, and its wait there counts from when A ended."""
    twin = parse_twin({
        "name": "t", "horizon": 100, "arrivals": [
            {"name": "a", "interarrival": {"dist": "exponential", "mean": 1000}, "route": "A"}],
        "activities": [{"name": "A", "duration": 1, "next": {"B": 0.1, "exit": 0.9}},
                       {"name": "B", "duration": 5}]})
    state = State.model_validate({"time": 0, "entities": [{"state": "between", "after": "A", "since": -2.0}]})
    for engine in ("fast", "simpy"):
        result = forecast(twin, state, 50, replications=20, seed=1, engine=engine, points=5)
        assert (result.finish[:, 0] == 5.0).all()
    now, start = begin(twin, state)
    record = simulate_fast(now.model_copy(update={"horizon": 50.0}), 1, 0, start=start).record
    assert record["activities.B.wait"] == 2.0 and record["cycle_time"] == 7.0


def test_a_job_due_after_the_forecast_ends_is_judged_by_its_due_date() -> None:
    """Jobs of exactly 5 h, one machine, three waiting: done at 5, 10 and 15. With `--until` 8,
    the one due at 12 finishes at 10, on time though not done by 8; the one due at 100 is past
    ten spans of the forecast, so its P(on time) is not known; fans stop at `until`."""
    twin = parse_twin({
        "name": "t", "horizon": 100, "arrivals": [
            {"name": "a", "interarrival": {"dist": "constant", "value": 1e9}, "route": "A"}],
        "activities": [{"name": "A", "duration": 5, "resources": {"m": 1}}],
        "resources": [{"name": "m", "capacity": 1}]})
    state = State.model_validate({"time": 0, "entities": [
        {"activity": "A", "state": "waiting", "since": 0, "due": d} for d in (4, 12, 100)]})
    for engine in ("fast", "simpy"):
        result = forecast(twin, state, 8, replications=3, seed=1, engine=engine, points=4)
        rows = result.summary()["entities"]
        assert [r["p_done"] for r in rows] == [1.0, 0.0, 0.0]
        assert rows[0]["p_on_time"] == 0.0 and rows[1]["p_on_time"] == 1.0 and "p_on_time" not in rows[2]
        assert result.times[-1] == 8.0 and result.wip.shape[1] == len(result.times) == 5


def delayed_after_a(wait_1: dict[str, Any]) -> Twin:
    """A (one unit) then, half and half, one of two delays taking no units (W1, W2), then out."""
    return parse_twin({
        "name": "t", "horizon": 100, "arrivals": [
            {"name": "a", "interarrival": {"dist": "exponential", "mean": 1000}, "route": "A"}],
        "activities": [{"name": "A", "duration": 1, "resources": {"u": 1}, "next": {"W1": 0.5, "W2": 0.5}},
                       {"name": "W1", "duration": wait_1}, {"name": "W2", "duration": 10}],
        "resources": [{"name": "u", "capacity": 1}]})


def test_a_case_between_steps_may_be_in_a_delay_already() -> None:
    """3 hours after A: W1 (1 hour) would have ended, so the case is in W2 (10 hours) and leaves
    7 hours on, in both engines; the twin's own routing, without delays, sends half to W1."""
    twin = delayed_after_a({"dist": "constant", "value": 1})
    between = {"state": "between", "after": "A", "since": -3.0}
    state = State.model_validate({"time": 0, "entities": [between], "delays": ["W1", "W2"]})
    for engine in ("fast", "simpy"):
        result = forecast(twin, state, 50, replications=20, seed=1, engine=engine, points=5)
        assert (result.finish[:, 0] == 7.0).all()
    plain = forecast(twin, state.model_copy(update={"delays": []}), 50, replications=40, seed=1, points=5)
    assert set(plain.finish[:, 0]) == {1.0, 10.0}
    longer = State.model_validate({"time": 0, "entities": [between | {"since": -20.0}],  # than either delay
                                   "delays": ["W1", "W2"]})
    again = forecast(twin, longer, 50, replications=40, seed=1, points=5)
    assert set(again.finish[:, 0]) == {1.0, 10.0}  # no delay lasts that long: one starts afresh


def test_a_delay_goes_on_for_what_is_left_of_it() -> None:
    """W1 takes 1, 5 or 9 hours and W2 10; after 2 hours W1 is over in a third of its draws, so
    W2 is weighed 1/2 and W1 1/2 * 2/3 (shares 0.6 and 0.4): what is left, 3 or 7 hours of W1, 8
    of W2, comes up 0.2, 0.2 and 0.6 of the time (both engines alike)."""
    twin = delayed_after_a({"dist": "empirical", "values": [1, 5, 9]})
    state = State.model_validate({"time": 0, "entities": [{"state": "between", "after": "A", "since": -2.0}],
                                  "delays": ["W1", "W2"]})
    finish = forecast(twin, state, 50, replications=2000, seed=2, points=5).finish[:, 0]
    assert set(finish) == {3.0, 7.0, 8.0}
    shares = [float(np.mean(finish == x)) for x in (3.0, 7.0, 8.0)]
    assert shares == pytest.approx([0.2, 0.2, 0.6], abs=0.04)
    check_same_from(twin, state)


def test_arrivals_go_on_at_the_states_level() -> None:
    twin = twin_file("mm3")
    level = {twin.arrivals[0].name: 0.8}
    now, _ = begin(twin, State.model_validate({"arrivals": level}))
    assert now.arrivals[0].interarrival.mean == pytest.approx(twin.arrivals[0].interarrival.mean / 0.8)
    profiled = parse_twin({
        "name": "p", "horizon": 10, "arrivals": [
            {"name": "a", "rate_profile": {"hours": {"daily 08:00-10:00": 3.0}}, "route": "A"}],
        "activities": [{"name": "A", "duration": 1}]})
    now, _ = begin(profiled, State.model_validate({"arrivals": {"a": 0.5}}))
    assert sorted(set(now.arrivals[0].rate_profile.hourly())) == [0.0, 1.5]
    with pytest.raises(SpecError, match=r"arrivals\.nobody"):
        begin(profiled, State.model_validate({"arrivals": {"nobody": 2.0}}))
    with pytest.raises(SpecError, match=r"delays\.A.*no units"):
        begin(delayed_after_a({"dist": "constant", "value": 1}), State.model_validate({"delays": ["A"]}))


def test_steps_go_on_at_the_states_pace() -> None:
    """At pace 0.5, W1's 1, 5 or 9 hours take 0.5, 2.5 or 4.5, and at pace 2 W2 takes 20: after 2
    hours W1 is over in a third of its draws, so what is left, 0.5 or 2.5 hours of W1 or 18 of W2,
    comes up 0.2, 0.2 and 0.6 of the time; A at pace 3 takes 3 hours, so a case in it for one has 2
    left, then W2's 20 (both engines alike). The twin's own durations are untouched."""
    twin = delayed_after_a({"dist": "empirical", "values": [1, 5, 9]})
    state = State.model_validate({
        "time": 0, "entities": [{"state": "between", "after": "A", "since": -2.0},
                                {"state": "in_service", "activity": "A", "since": -1.0}],
        "delays": ["W1", "W2"], "pace": {"W1": 0.5, "W2": 2.0, "A": 3.0}})
    finish = forecast(twin, state, 50, replications=2000, seed=2, points=5).finish
    assert set(finish[:, 0]) == {0.5, 2.5, 18.0}
    shares = [float(np.mean(finish[:, 0] == x)) for x in (0.5, 2.5, 18.0)]
    assert shares == pytest.approx([0.2, 0.2, 0.6], abs=0.04)
    assert set(finish[:, 1]) == {2.0 + 0.5, 2.0 + 2.5, 2.0 + 4.5, 22.0}
    check_same_from(twin, state)
    assert twin.activities[1].duration.values == [1, 5, 9]
    with pytest.raises(SpecError, match=r"pace\.nowhere"):
        begin(twin, State.model_validate({"pace": {"nowhere": 2.0}}))


@pytest.mark.parametrize("dist", [
    {"dist": "exponential", "mean": 2}, {"dist": "gamma", "mean": 2, "cv": 0.5},
    {"dist": "lognormal", "mean": 2, "sd": 1}, {"dist": "normal", "mean": 1, "sd": 2},
    {"dist": "weibull", "shape": 1.5, "scale": 2}, {"dist": "uniform", "low": 1, "high": 3},
    {"dist": "triangular", "low": 1, "mode": 2, "high": 4}, {"dist": "constant", "value": 2},
    {"dist": "empirical", "values": [1, 2, 6]}])
def test_a_scaled_distribution_is_the_variable_scaled(dist: dict[str, Any]) -> None:
    from twin.distributions import scaled
    from twin.remaining import frozen

    original = twin_file("mm3").activities[0].model_validate({"name": "x", "duration": dist}).duration
    double = scaled(original, 2.5)
    assert type(double) is type(original) and double.mean_value == pytest.approx(2.5 * original.mean_value)
    if dist["dist"] not in ("constant", "empirical"):
        q = [0.1, 0.5, 0.9]
        assert frozen(double).ppf(q) == pytest.approx(2.5 * frozen(original).ppf(q))


def test_a_clock_with_an_offset_is_read_in_the_twins_zone() -> None:
    """14:00 UTC on 3 Dec is 15:00 in Amsterdam, and 14:00 UTC on 3 Jul is 16:00 (summer time):
    the twin from now on starts at that wall time; without a zone the clock is taken as written."""
    data = twin_to_data(twin_file("mm3"))
    zoned = parse_twin(data | {"timezone": "Europe/Amsterdam"})
    for clock, wall in (("2026-12-03T14:00:00+00:00", "2026-12-03T15:00:00"),
                        ("2026-07-03T14:00:00Z", "2026-07-03T16:00:00")):
        now, _ = begin(zoned, State.model_validate({"clock": clock}))
        assert now.start.isoformat() == wall
    now, _ = begin(parse_twin(data), State.model_validate({"clock": "2026-12-03T14:00:00+00:00"}))
    assert now.start.isoformat() == "2026-12-03T14:00:00"
    with pytest.raises(SpecError, match=r"timezone: unknown time zone 'Mars/Olympus'"):
        parse_twin(data | {"timezone": "Mars/Olympus"})


def test_what_a_state_cannot_say_is_named() -> None:
    twin = twin_file("mm3")
    with pytest.raises(SpecError, match=r"down\.clerk.*no failures"):
        begin(twin, State.model_validate({"down": {"clerk": 1}}))
    with pytest.raises(SpecError, match=r"down_since\.clerk"):
        begin(twin, State.model_validate({"time": 1, "down": {"clerk": 1}, "down_since": {"clerk": [2, 0]}}))


def test_a_unit_down_now_finishes_its_repair_first() -> None:
    """One machine, down for 3 hours of a lognormal repair (mean 4, sd 6), one job waiting
    (exponential, mean 1): the job leaves after E[R - 3 | R > 3] + 1."""
    twin = parse_twin({
        "name": "down", "horizon": 10, "arrivals": [
            {"name": "jobs", "interarrival": {"dist": "constant", "value": 1e9}, "route": "work"}],
        "activities": [{"name": "work", "duration": {"dist": "exponential", "mean": 1.0},
                        "resources": {"machine": 1}}],
        "resources": [{"name": "machine", "capacity": 1, "failures": {
            "uptime": {"dist": "constant", "value": 1e9},
            "repair": {"dist": "lognormal", "mean": 4, "sd": 6}}}]})
    state = State.model_validate({"time": 10, "down": {"machine": 1}, "down_since": {"machine": [7]},
                                  "entities": [{"activity": "work", "state": "waiting", "since": 9}]})
    result = forecast(twin, state, until=400.0, replications=3000, seed=3, points=5)
    mean, half = t_interval(result.finish[:, 0].tolist())
    exact = mean_remaining(twin.resources[0].failures.repair, 3.0) + 1.0
    assert abs(mean - exact) <= half, (mean, half, exact)


def test_open_orders_arrive_when_due() -> None:
    """Nothing on hand, 2 units due at t = 5 and 1 at t = 8: three jobs each taking one unit
    (1 hour of work) leave at 6, 7 and 9."""
    twin = parse_twin({
        "name": "orders", "horizon": 10, "arrivals": [
            {"name": "jobs", "interarrival": {"dist": "constant", "value": 1e9}, "route": "pack"}],
        "activities": [{"name": "pack", "duration": 1.0, "resources": {"packer": 1}, "consumes": {"box": 1}}],
        "resources": [{"name": "packer", "capacity": 1}],
        "materials": [{"name": "box", "initial": 0, "reorder": {"point": 0, "quantity": 1},
                       "supplier": {"lead_time": 1.0}}]})  # on order already: no order before t = 8
    state = State.model_validate({"time": 0, "stock": {"box": 0},
                                  "orders": [{"material": "box", "quantity": 2, "due": 5},
                                             {"material": "box", "quantity": 1, "due": 8}],
                                  "entities": [{"activity": "pack", "state": "waiting", "since": -1}] * 3})
    for engine in ("fast", "simpy"):
        finish = forecast(twin, state, until=20.0, replications=2, engine=engine, points=4).finish
        assert finish.tolist() == [[6.0, 7.0, 9.0]] * 2


def test_stock_on_hand_is_where_the_replication_starts() -> None:
    twin = twin_file("sS_poisson")
    material = twin.materials[0].name
    now, _ = begin(twin, State.model_validate({"stock": {material: 3}}))
    assert now.materials[0].initial == 3 and now.warmup == 0.0
    assert np.isfinite(simulate_fast(now, 1, 0).record[f"materials.{material}.inventory"])


def test_the_kernels_start_rows_are_twin_startings() -> None:
    """The kernels keep their own copy of the start row layout (they import nothing else of twin)."""
    from twin import starting
    from twin._kernel import layout

    assert (layout.PRE_KIND, layout.PRE_STEP, layout.PRE_CLASS, layout.PRE_SINCE, layout.PRE_BORN,
            layout.PRE_DUE, layout.PRE_REMAINING, layout.ROW) == (
        starting.KIND, starting.STEP, starting.CLASS, starting.SINCE, starting.BORN, starting.DUE,
        starting.REMAINING, starting.ROW)
    assert (layout.PRESET_WAITING, layout.PRESET_SERVING, layout.PRESET_BETWEEN) == (
        starting.WAITING, starting.SERVING, starting.BETWEEN)
    assert (layout.PRO_MATERIAL, layout.PRO_SUPPLIER, layout.PRO_QUANTITY, layout.PRO_LEAD, layout.PRO_W) == (
        starting.MATERIAL, starting.SUPPLIER, starting.QUANTITY, starting.LEAD, starting.ORDER)


def test_a_profiles_mass_is_its_integrated_rate() -> None:
    """3 an hour from 08:00 to 10:00 every day, model time 0 a Monday midnight."""
    from datetime import datetime

    from twin.calendar import build_rate_profile

    profile = build_rate_profile([3.0 if h % 24 in (8, 9) else 0.0 for h in range(168)], "hour",
                                 datetime(2024, 1, 1))
    assert profile.mass(0.0, 24.0) == pytest.approx(6.0) and profile.mass(-24.0, 0.0) == pytest.approx(6.0)
    assert profile.mass(7.0, 9.5) == pytest.approx(4.5) and profile.mass(9.5, 9.5) == 0.0
