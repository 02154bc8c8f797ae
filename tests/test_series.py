"""State series (twin.series): both engines record the same floats at the same times,
sampling changes nothing else, and each sample is the state the event trace implies."""

from __future__ import annotations

import sys
from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import twins

from twin import load_twin, loads_twin, parse_twin, simulate
from twin.engine_fast import simulate_fast, simulate_many_fast
from twin.series import MAX_SAMPLES, columns, default_interval, sample_count, sample_times
from twin.spec import Twin

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "scenarios" / "examples" / f"{name}.yaml" for name in ("clinic", "manufacturing")]
THEORY = sorted((ROOT / "tests" / "twins").glob("*.yaml"))


def short(twin: Twin, horizon: float) -> Twin:
    update = {"horizon": min(twin.horizon, horizon), "warmup": min(twin.warmup, horizon / 10)}
    return twin.model_copy(update=update)


def assert_same_series(twin: Twin, seed: int, replication: int, every: float, trace: bool = False) -> None:
    ref = simulate(twin, seed, replication, trace, sample_every=every)
    fast = simulate_fast(twin, seed, replication, trace, sample_every=every)
    assert ref.series is not None and fast.series is not None
    assert ref.series.shape == (sample_count(twin.horizon, every), len(columns(twin)))
    assert ref.series.tobytes() == fast.series.tobytes()  # bitwise
    plain = simulate_fast(twin, seed, replication, trace)  # sampling changes nothing else
    assert plain.series is None
    assert fast.events == plain.events == ref.events
    assert fast.record == plain.record
    assert fast.trace == plain.trace == ref.trace


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_same_series_on_both_engines(path: Path) -> None:
    twin = short(load_twin(path), 600.0)
    assert_same_series(twin, 7, 0, 5.0, trace=True)
    assert_same_series(twin, 7, 1, 0.37)  # an interval that is no divisor of anything


@pytest.mark.parametrize("path", THEORY, ids=lambda p: p.stem)
def test_theory_twins_same_series(path: Path) -> None:
    assert_same_series(short(load_twin(path), 1500.0), 11, 0, 10.0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=twins(), every=st.sampled_from([0.5, 1.0, 3.7, 25.0]))
def test_random_twins_same_series(spec: dict, every: float) -> None:
    twin = parse_twin(spec)
    assert_same_series(twin, 5, 0, every, trace=True)


def test_parallel_replications_give_the_same_series() -> None:
    twin = short(load_twin(EXAMPLES[1]), 400.0)
    together = simulate_many_fast(twin, 3, [0, 1, 2], sample_every=4.0)
    for r, rep in enumerate(together):
        alone = simulate_fast(twin, 3, r, sample_every=4.0)
        assert rep.series is not None and alone.series is not None
        assert rep.series.tobytes() == alone.series.tobytes()
        assert rep.record == alone.record
    assert simulate_many_fast(twin, 3, [0])[0].series is None


def test_samples_are_the_state_the_trace_implies() -> None:
    """WIP, queue, stock and backlog at s = k * every from the trace: events before s count,
    events at s do not (constant times put events exactly on the sample times)."""
    twin = loads_twin("""
name: sampled
horizon: 200
warmup: 10
arrivals: [{name: a, interarrival: 1.0, route: s}]
activities:
  - {name: s, duration: {dist: exponential, mean: 1.8}, resources: {c: 2}, consumes: {m: 1}, next: t}
  - {name: t, duration: 0.5}
resources: [{name: c, capacity: 4, failures: {uptime: {dist: exponential, mean: 30}, repair: 2}}]
materials:
  - {name: m, initial: 8, reorder: {point: 3, up_to: 12}, supplier: {lead_time: 4}}
""")
    every = 2.0
    rep = simulate(twin, 2, 0, trace=True, sample_every=every)
    assert rep.series is not None and rep.trace is not None
    assert columns(twin) == ["wip", "queue.s", "queue.t", "stock.m", "backlog"]

    def before(kind: str, name: str | None = None, weight: bool = False) -> list[tuple[float, int]]:
        return [(t, subject if weight else 1) for t, k, subject, n in rep.trace
                if k == kind and (name is None or n == name)]

    def count(events: list[tuple[float, int]], s: float) -> int:
        times = [t for t, _ in events]
        return sum(w for _, w in events[:bisect_left(times, s)])

    arrivals, leaves = before("arrival"), before("leave")
    starts, deliveries = before("start", "s"), before("delivery", "m", weight=True)
    on_samples = set(sample_times(len(rep.series), every).tolist())
    assert sum(t in on_samples for t, _ in arrivals) > 50  # events due at sample times: not counted
    for k, (wip, queue_s, queue_t, stock, backlog) in enumerate(rep.series):
        s = k * every
        assert wip == count(arrivals, s) - count(leaves, s)
        assert queue_s == count(arrivals, s) - count(starts, s)  # everyone arrives at s
        assert queue_t == 0  # t needs nothing: it never queues
        assert stock == 8 - count(starts, s) + count(deliveries, s)
        assert backlog == queue_s + queue_t
    assert rep.series[0].tolist() == [0.0, 0.0, 0.0, 8.0, 0.0]


def test_sample_count_and_times() -> None:
    assert sample_count(10.0, 2.5) == 5
    assert sample_count(10.0, 3.0) == 4
    assert sample_times(4, 3.0).tolist() == [0.0, 3.0, 6.0, 9.0]
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive"):
            sample_count(10.0, bad)
    with pytest.raises(ValueError, match="at most"):
        sample_count(MAX_SAMPLES * 2.0, 1.0)


def test_series_memory_does_not_grow_with_events() -> None:
    """The series is samples x columns, whatever the horizon's number of events."""
    twin = load_twin(EXAMPLES[1])
    small = simulate_fast(short(twin, 200.0), 1, 0, sample_every=2.0)
    large = simulate_fast(twin.model_copy(update={"horizon": 2000.0, "warmup": 0.0}), 1, 0, sample_every=20.0)
    assert small.series is not None and large.series is not None
    assert large.events > 5 * small.events
    assert small.series.shape == large.series.shape == (101, len(columns(twin)))
    assert np.isfinite(large.series).all()


def test_default_interval_is_round_and_bounded() -> None:
    assert default_interval(2016.0, "hour") == 6.0  # 12 weeks: 336 intervals
    assert default_interval(40320.0, "minute") == 120.0  # 4 weeks in minutes
    assert default_interval(400.0, "hour") == 1.0
    assert default_interval(365.0, "day") == 1.0
    assert default_interval(1e6, "day") == 1e6 / 400  # nothing round is long enough
    for horizon, unit in ((2016.0, "hour"), (7.0, "minute"), (3000.0, "day")):
        assert sample_count(horizon, default_interval(horizon, unit)) <= 401
