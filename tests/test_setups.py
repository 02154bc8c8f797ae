"""Set-ups when a unit switches between classes: both engines bitwise equal on random twins,
and a set-up exactly where the unit's class changes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import assembly, batches, policies, queueing, setups, twins, upkeep
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
    return parse_twin(data.draw(setups(base)))


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
