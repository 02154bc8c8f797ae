"""Repair crews and planned maintenance: both engines bitwise equal on random twins, what the
trace shows, and the spec's checks. The exact-value checks against theory (machine repair,
age replacement) are in test_upkeep_theory.py."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import policies, queueing, twins, upkeep
from test_queueing import check_same

from twin import SpecError, loads_twin, parse_twin, simulate
from twin.engine_fast import simulate_fast
from twin.spec import Twin


def upkeep_twin(data: st.DataObject) -> Twin:
    base = data.draw(policies(data.draw(twins())))
    if data.draw(st.booleans()):
        base = data.draw(queueing(base))
    try:
        parse_twin(base)
    except SpecError:
        assume(False)
    return parse_twin(data.draw(upkeep(base)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_twins_with_crews_and_maintenance_agree_bitwise(data: st.DataObject) -> None:
    check_same(upkeep_twin(data))


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_many_random_twins_with_crews_and_maintenance_agree_bitwise(data: st.DataObject) -> None:
    check_same(upkeep_twin(data))


UPTIME = "uptime: {dist: exponential, mean: 30}"
REPAIR = "repair: {dist: exponential, mean: 2}"
FAILURES = f"    failures: {{{UPTIME}, {REPAIR}, crew: {{fitter: 1}}, urgent: true}}\n"
PLANT = f"""
name: plant
horizon: 2000
warmup: 100
arrivals: [{{name: jobs, interarrival: {{dist: exponential, mean: 0.6}}, route: press}}]
activities:
  - name: press
    duration: {{dist: exponential, mean: 1.5}}
    resources: {{press: 1}}
    next: {{tune: 0.3, exit: 0.7}}
  - {{name: tune, duration: {{dist: exponential, mean: 0.3}}, resources: {{fitter: 1}}}}
resources:
  - name: press
    capacity: 4
{FAILURES}    maintenance: {{duration: {{dist: constant, value: 2}}, weekly: ["sun 06:00"], every: 60}}
  - {{name: fitter, capacity: 1}}
"""
NEVER_FAILS = "uptime: {dist: exponential, mean: 1e6}"


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_a_repair_waits_for_and_holds_its_crew(engine: Any) -> None:
    """Every repair and maintenance starts its work only once a fitter is granted ('crew'),
    and while it lasts that fitter serves nothing else: at most one unit is being worked on."""
    twin = loads_twin(PLANT)
    rep = engine(twin, 3, 0, trace=True)
    down: dict[int, str] = {}  # unit -> why it is down
    crewed: set[int] = set()
    waited = 0
    for t, kind, subject, name in rep.trace:
        if kind in ("failure", "maintenance"):
            assert subject not in down, "a unit goes down once at a time (no stresses here)"
            down[subject] = kind
        elif kind == "crew":
            assert subject in down and subject not in crewed
            crewed.add(subject)
            assert len(crewed) <= 1, f"two units worked on by one fitter at {t}"
        elif kind in ("repair", "maintained"):
            assert subject in crewed
            assert down.pop(subject) == ("failure" if kind == "repair" else "maintenance")
            crewed.discard(subject)
        elif kind == "grant" and name == "tune":
            waited += 1
            assert not crewed, f"a tune job got the fitter while it worked on a press at {t}"
    assert waited > 100
    record = rep.record
    assert record["resources.press.maintenances"] > 30
    assert record["resources.press.crew_wait"] > 0


def test_maintenance_is_weekly_at_its_clock_time_and_by_age() -> None:
    twin = loads_twin(PLANT.replace("every: 60", "every: 1000").replace(UPTIME, NEVER_FAILS))
    rep = simulate_fast(twin, 1, 0, trace=True)
    starts = sorted({t for t, kind, _, _ in rep.trace if kind == "maintenance"})
    week_times = [150.0 + 168 * k for k in range(12)]  # Sunday 06:00, the twin starting on a Monday
    assert starts == week_times
    aged = loads_twin(PLANT.replace("weekly: [\"sun 06:00\"], ", "").replace(UPTIME, NEVER_FAILS))
    rep = simulate(aged, 1, 0, trace=True)
    first = [t for t, kind, s, _ in rep.trace if kind == "maintenance" and s == 0][:3]
    assert first[0] == 60.0 and all(b - a > 60 for a, b in itertools.pairwise(first))


def test_the_new_fields_keep_older_twins_shape() -> None:
    plain = PLANT.replace("    maintenance:", "    #").replace(", crew: {fitter: 1}, urgent: true", "")
    dumped = loads_twin(plain).model_dump(mode="json")["resources"]
    assert "maintenance" not in dumped[0] and set(dumped[0]["failures"]) == {"uptime", "repair"}
    full = loads_twin(PLANT).model_dump(mode="json")["resources"]
    assert full[0]["failures"]["urgent"] is True and "maintenance" not in full[1]


@pytest.mark.parametrize(("change", "path", "reason"), [
    ("crew: {fitter: 1}", "resources[press].failures.crew.welder", "no resource named 'welder'"),
    ("crew: {fitter: 1}", "resources[press].failures.crew.press", "its own crew"),
    ("crew: {fitter: 1}", "resources[press].failures.crew.fitter", "at most 1 on duty"),
])
def test_bad_crews_are_named(change: str, path: str, reason: str) -> None:
    target = {"no resource named 'welder'": "crew: {welder: 1}", "its own crew": "crew: {press: 1}",
              "at most 1 on duty": "crew: {fitter: 2}"}[reason]
    with pytest.raises(SpecError) as error:
        loads_twin(PLANT.replace(change, target))
    assert any(p == path and reason in r for p, r in error.value.problems)


def test_a_crew_must_not_go_down_itself() -> None:
    text = PLANT.replace("- {name: fitter, capacity: 1}",
                         "- {name: fitter, capacity: 1, failures: {uptime: 100, repair: 1}}")
    with pytest.raises(SpecError, match="can go down itself"):
        loads_twin(text)


def test_maintenance_needs_a_time() -> None:
    with pytest.raises(SpecError, match=r"every .* or weekly"):
        loads_twin(PLANT.replace("weekly: [\"sun 06:00\"], every: 60", "weekly: []"))
    with pytest.raises(SpecError, match="not a day"):
        loads_twin(PLANT.replace("sun 06:00", "sunday 06:00"))


def test_availability_counts_planned_downtime() -> None:
    """Weekly maintenance alone (no failures): 4 units each down 2 h a week out of 168."""
    text = PLANT.replace(FAILURES, "")
    text = text.replace(", every: 60", "")  # no crew: each unit's 2 h start on time
    twin = loads_twin(text.replace("warmup: 100", "warmup: 150"))  # whole weeks from a maintenance
    rep = simulate(twin, 1, 0)
    weeks = (2000 - 150) / 168
    expected = 1 - 2 * math.ceil(weeks) / (2000 - 150)
    assert rep.record["resources.press.availability"] == pytest.approx(expected, rel=1e-12)


def test_the_pool_timeline_shows_crew_waits_maintenance_and_setups() -> None:
    """The report's unit timeline: time down waiting for the crew, under repair and in planned
    maintenance adds up to the engine's availability; set-ups are marks on the units."""
    from viz.timeline import pool_gantt, unit_states

    text = PLANT.replace("  - name: press\n    duration:", "  - name: press\n    setup: 0.2\n    duration:")
    text = text.replace("arrivals: [{name: jobs,", "arrivals: [{name: jobs, classes: {a: 0.5, b: 0.5},")
    twin = loads_twin(text)
    rep = simulate_fast(twin, 3, 0, trace=True)
    assert rep.trace is not None
    states = unit_states(rep.trace, twin)
    press = states[states["pool"] == "press"]
    w, h = twin.warmup, twin.horizon
    spans = press.assign(start=press["start"].clip(w, h), end=press["end"].clip(w, h))
    time = (spans["end"] - spans["start"]).groupby(spans["state"]).sum()
    down = sum(time.get(s, 0.0) for s in ("failed", "down, waiting for the crew", "planned maintenance"))
    assert time["down, waiting for the crew"] > 0 and time["planned maintenance"] > 0
    assert 1 - down / (4 * (h - w)) == pytest.approx(rep.record["resources.press.availability"], rel=1e-9)
    marks = press[press["state"] == "set-up"]
    assert len(marks) == sum(1 for e in rep.trace if e[1] == "setup") > 0
    fig = pool_gantt(states, twin.time_unit, (w, w + 200))
    assert "set-up" in [t.name for t in fig.data]


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_a_unit_that_wears_by_jobs_goes_down_after_that_many(engine: Any) -> None:
    """Uptime 7 jobs and maintenance every 5: the press is maintained as its 5th job since its
    last renewal ends, and never fails."""
    text = """
name: counter
horizon: 500
arrivals: [{name: jobs, interarrival: {dist: exponential, mean: 0.8}, route: stamp}]
activities: [{name: stamp, duration: {dist: exponential, mean: 0.4}, resources: {press: 1}}]
resources:
  - name: press
    capacity: 1
    wear: jobs
    failures: {uptime: 7, repair: 1}
    maintenance: {every: 5, duration: 0.5}
"""
    rep = engine(loads_twin(text), 4, 0, trace=True)
    assert rep.trace is not None
    done, last_end = 0, -1.0
    for t, kind, _, _ in rep.trace:
        if kind == "end":
            done, last_end = done + 1, t
        elif kind == "maintenance":
            assert done == 5 and t == last_end, f"maintained after {done} jobs at {t}"
            done = 0
        assert kind != "failure", "a press maintained every 5 jobs never reaches 7"
    assert rep.record["resources.press.maintenances"] > 20


def test_stresses_and_rules_reach_the_crew() -> None:
    """The crew is a pool like any other: an absence of the fitter makes repairs wait longer (same
    random numbers), and a rule calling in overtime when presses are down brings them back sooner."""
    base = loads_twin(PLANT)
    data = base.model_dump(mode="json")
    absent = {**data, "stresses": [{"name": "flu", "kind": "staff_absence", "target": "fitter",
                                    "start": 200, "end": 1800, "units": 1}]}
    spare = {**data, "resources": [*data["resources"][:1], {"name": "fitter", "capacity": 2,
                                   "shifts": [{"start": "00:00", "end": "24:00", "capacity": 1}]}],
             "contingency": [{"name": "call-in", "when": {"down": "press", "units": 1, "for": 0.5},
                              "action": {"overtime": {"pool": "fitter", "units": 1, "duration": 8}}}]}
    waits = {name: simulate_fast(parse_twin(spec), 5, 0).record["resources.press.crew_wait"]
             for name, spec in (("base", data), ("absent", absent))}
    assert waits["absent"] > 3 * waits["base"]
    called = simulate_fast(parse_twin(spare), 5, 0).record
    alone = simulate_fast(parse_twin({**spare, "contingency": []}), 5, 0).record
    assert called["contingency.call-in.activations"] > 0
    assert called["resources.press.crew_wait"] < alone["resources.press.crew_wait"]
