"""Set-ups when a unit switches between classes, and closures: both engines bitwise equal on
random twins with every feature, a set-up exactly where the unit's class changes, nobody on duty
and nothing delivered while closed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import assembly, batches, closures, policies, queueing, setups, twins, upkeep
from test_queueing import check_same

from twin import SpecError, loads_twin, parse_twin, simulate
from twin.engine_fast import simulate_fast
from twin.spec import Twin


def setup_twin(data: st.DataObject) -> Twin:
    base = data.draw(policies(data.draw(twins())))
    for extra in (queueing, upkeep, batches, assembly):
        if data.draw(st.booleans()):
            base = data.draw(extra(base))
    try:
        parse_twin(base)
    except SpecError:
        assume(False)
    return parse_twin(data.draw(closures(data.draw(setups(base)))))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_twins_with_setups_agree_bitwise(data: st.DataObject) -> None:
    check_same(setup_twin(data))


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_many_random_twins_with_setups_agree_bitwise(data: st.DataObject) -> None:
    check_same(setup_twin(data))


PRESS = """
name: press-shop
horizon: 500
arrivals:
  - {name: orders, interarrival: {dist: exponential, mean: 1}, route: press, classes: {red: 0.5, blue: 0.5}}
activities:
  - name: press
    duration: {dist: constant, value: 0.5}
    resources: {press: 1}
    setup: {dist: constant, value: 0.25}
    class_setups: {blue: {dist: constant, value: 0.125}}
resources: [{name: press, capacity: 1}]
"""


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_a_setup_exactly_where_the_press_changes_class(engine: Any) -> None:
    rep = engine(loads_twin(PRESS), 2, 0, trace=True)
    klass = {s: n for _, kind, s, n in rep.trace if kind == "class"}
    setups = {s for _, kind, s, _ in rep.trace if kind == "setup"}
    started = [s for _, kind, s, _ in rep.trace if kind == "start"]
    ends = {s: t for t, kind, s, _ in rep.trace if kind == "end"}
    starts = {s: t for t, kind, s, _ in rep.trace if kind == "start"}
    last = None
    for s in started:
        switch = last is not None and klass[s] != last
        assert (s in setups) == switch
        if s in ends:  # the hold is the duration plus the class's set-up
            extra = (0.125 if klass[s] == "blue" else 0.25) if switch else 0.0
            assert ends[s] - starts[s] == pytest.approx(0.5 + extra, abs=1e-9)
        last = klass[s]
    assert rep.record["activities.press.setups"] == len(setups) > 50


def test_a_setup_needs_units() -> None:
    with pytest.raises(SpecError, match="setup needs resources"):
        loads_twin(PRESS.replace("    resources: {press: 1}\n", ""))
    with pytest.raises(SpecError, match="no class named 'green'"):
        loads_twin(PRESS.replace("class_setups: {blue:", "class_setups: {green:"))


CLOSED = """
name: closed
horizon: 1000
start: 2026-12-14T00:00
arrivals: [{name: a, interarrival: {dist: exponential, mean: 1.0}, route: s}]
activities:
  - {name: s, duration: {dist: exponential, mean: 0.5}, resources: {op: 1}, consumes: {blank: 1}}
resources:
  - {name: op, capacity: 2, shifts: [{start: "06:00", end: "22:00", capacity: 2}]}
materials:
  - name: blank
    initial: 50
    reorder: {point: 30, up_to: 120}
    supplier: {lead_time: 24, closures: [{name: xmas, from: 2026-12-24, to: 2027-01-02}]}
closures: [{name: xmas, from: 2026-12-24, to: 2026-12-27}]
"""


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_nobody_works_and_nothing_arrives_while_closed(engine: Any) -> None:
    """Christmas Eve (t = 240 h) to the 27th (312 h): no shift puts anyone on duty and no step
    starts; the supplier's deliveries due from the 24th to 2 January (456 h) arrive at its end."""
    rep = engine(loads_twin(CLOSED), 1, 0, trace=True)
    assert rep.trace is not None
    assert not [t for t, kind, _, _ in rep.trace if kind == "start" and 240 < t < 312]
    on_duty = [s for t, kind, s, _ in rep.trace if kind == "shift" and 240 <= t < 312]
    assert on_duty and set(on_duty) == {0}
    deliveries = [t for t, kind, _, _ in rep.trace if kind == "delivery"]
    assert 456.0 in deliveries and not [t for t in deliveries if 240 <= t < 456]


def test_a_closure_ends_after_it_begins() -> None:
    with pytest.raises(SpecError, match="must be after from"):
        loads_twin(CLOSED.replace("to: 2026-12-27}", "to: 2026-12-20}"))
