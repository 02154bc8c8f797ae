"""Batches: both engines bitwise equal on random twins, batch formation against its exact wait,
what the trace shows, and the spec's checks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import batches, policies, queueing, twins, upkeep
from test_engine_theory import check_against_theory, twin_file
from test_queueing import check_same

from twin import SpecError, loads_twin, parse_twin, simulate
from twin.engine_fast import simulate_fast
from twin.runner import run
from twin.spec import Twin


def batch_twin(data: st.DataObject) -> Twin:
    base = data.draw(policies(data.draw(twins())))
    if data.draw(st.booleans()):
        base = data.draw(queueing(base))
    if data.draw(st.booleans()):
        base = data.draw(upkeep(base))
    try:
        parse_twin(base)
    except SpecError:
        assume(False)
    return parse_twin(data.draw(batches(base)))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_twins_with_batches_agree_bitwise(data: st.DataObject) -> None:
    check_same(batch_twin(data))


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_many_random_twins_with_batches_agree_bitwise(data: st.DataObject) -> None:
    check_same(batch_twin(data))


def test_batch_formation_wait_matches_theory() -> None:
    """Poisson arrivals at rate lambda, batches of b, served at once: the k-th member of a batch
    waits for b - k more arrivals, so the mean wait is (b - 1) / (2 lambda)."""
    recs = run(twin_file("batch_formation"), 20, 41, engine="fast").records
    check_against_theory(recs, {"activities.oven.wait": 3 / (2 * 1.25),
                                "cycle_time": 3 / (2 * 1.25) + 2.5,
                                "throughput": 1.25})


OVEN = """
name: bakery
horizon: 400
arrivals: [{name: trays, interarrival: {dist: exponential, mean: 1}, route: oven}]
activities:
  - name: oven
    duration: {dist: constant, value: 3}
    resources: {oven: 1}
    batch: {size: 4, min_size: 2, timeout: 2}
    next: {pack: 0.5, exit: 0.5}
  - {name: pack, duration: {dist: exponential, mean: 0.2}, resources: {packer: 1}}
resources: [{name: oven, capacity: 1}, {name: packer, capacity: 1}]
"""


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_members_start_and_end_together_and_partial_batches_wait_their_timeout(engine: Any) -> None:
    rep = engine(loads_twin(OVEN), 5, 0, trace=True)
    came: dict[int, float] = {}
    starts: dict[float, list[int]] = {}
    ends: dict[float, list[int]] = {}
    for t, kind, subject, name in rep.trace:
        if kind == "arrival":
            came[subject] = t
        elif kind == "start" and name == "oven":
            starts.setdefault(t, []).append(subject)
        elif kind == "end" and name == "oven":
            ends.setdefault(t, []).append(subject)
    ended = [m for t, m in starts.items() if t + 3 < 400]  # the last may still be in the oven
    assert sorted(map(sorted, ended)) == sorted(map(sorted, ends.values()))
    sizes = [len(m) for m in starts.values()]
    assert set(sizes) <= {2, 3, 4} and 2 in sizes and 4 in sizes
    for t, members in starts.items():
        if len(members) < 4:  # a partial batch left once its first member had waited 2
            assert t >= min(came[m] for m in members) + 2 - 1e-9
    grants = [(t, s) for t, kind, s, name in rep.trace if kind == "grant" and name == "oven"]
    assert len(grants) == len(starts)  # one seizure per batch


@pytest.mark.parametrize(("batch", "reason"), [
    ("{size: 4, min_size: 2}", "min_size needs timeout"),
    ("{size: 2, min_size: 3, timeout: 1}", "exceeds size"),
])
def test_bad_batches_are_named(batch: str, reason: str) -> None:
    with pytest.raises(SpecError, match=reason):
        loads_twin(OVEN.replace("{size: 4, min_size: 2, timeout: 2}", batch))


def test_a_batch_step_lets_no_one_give_up() -> None:
    with pytest.raises(SpecError, match="batch does not go with patience"):
        loads_twin(OVEN.replace("    resources: {oven: 1}\n", "    resources: {oven: 1}\n    patience: 3\n"))


def test_the_plant_example_runs_the_same_on_both_engines() -> None:
    """The example with every part of this vocabulary at once: skilled cells, a buffer that
    blocks, an oven that batches, repairs and planned maintenance by one crew on shifts."""
    from twin.loader import load_twin

    twin = load_twin(Path(__file__).resolve().parents[1] / "scenarios/examples/plant.yaml")
    check_same(twin)
