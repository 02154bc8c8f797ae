"""Steps whose duration counts working time only (`working_hours`), in both engines."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twin import parse_twin, simulate
from twin.engine_fast import simulate_fast
from twin.errors import SpecError

OFFICE = {"hours": {"mon-fri 09:00-17:00": 1.0, "sat 09:00-13:00": 0.5}}


def shares(spec_hours: dict) -> np.ndarray:
    """The 168 working shares, written out independently of twin.spec."""
    out = np.zeros(168)
    for day in range(5):
        out[day * 24 + 9 : day * 24 + 17] = 1.0
    out[5 * 24 + 9 : 5 * 24 + 13] = 0.5
    assert spec_hours == OFFICE
    return out


def working_time(a: float, b: float, offset: float, week: np.ndarray, per_hour: float = 1.0) -> float:
    """Working hours in model times [a, b] (time units of `per_hour` hours), summed hour by hour."""
    lo, hi = offset + a * per_hour, offset + b * per_hour
    total, h = 0.0, math.floor(lo)
    while h < hi:
        total += week[h % 168] * (min(hi, h + 1) - max(lo, h))
        h += 1
    return total


def office_twin(duration: object, time_unit: str = "hour", start: str = "2026-01-07T15:30:00") -> dict:
    scale = {"hour": 1, "minute": 60}[time_unit]
    return {
        "name": "office", "time_unit": time_unit, "horizon": 2000 * scale, "start": start,
        "arrivals": [{"name": "cases", "interarrival": {"dist": "exponential", "mean": 3 * scale},
                      "route": "review"}],
        "activities": [
            {"name": "review", "duration": duration, "working_hours": OFFICE, "next": "fix"},
            {"name": "fix", "duration": {"dist": "exponential", "mean": 0.5 * scale},
             "resources": {"crew": 1}, "working_hours": {"per_hour": [1.0] * 168}},
        ],
        "resources": [{"name": "crew", "capacity": 2, "shifts": [{"days": ["mon", "tue", "wed", "thu", "fri"],
                                                                  "start": "08:00", "end": "18:00",
                                                                  "capacity": 2}]}],
    }


def spans(trace: list | None, step: str) -> list[tuple[float, float]]:
    assert trace is not None
    began: dict[int, float] = {}
    out = []
    for time, kind, entity, name in trace:
        if name == step and kind == "start":
            began[entity] = time
        elif name == step and kind == "end":
            out.append((began.pop(entity), time))
    return out


@pytest.mark.parametrize("time_unit", ["hour", "minute"])
def test_a_constant_duration_is_exactly_that_much_working_time(time_unit: str) -> None:
    """Start at Wednesday 15:30; each review takes 5 working hours, ending in working time."""
    scale = {"hour": 1, "minute": 60}[time_unit]
    twin = parse_twin(office_twin(5 * scale, time_unit))
    week, offset = shares(OFFICE), 2 * 24 + 15.5
    for result in (simulate(twin, 1, 0, trace=True), simulate_fast(twin, 1, 0, trace=True)):
        done = spans(result.trace, "review")
        assert len(done) > 300
        for a, b in done:
            assert working_time(a, b, offset, week, 1 / scale) == pytest.approx(5.0, abs=1e-6)
            assert week[math.floor(offset + b / scale - 1e-9) % 168] > 0  # it ended while open


def test_mean_working_time_of_exponential_durations() -> None:
    """Measured in working time, exponential(4) durations have mean 4 (99% CI); in clock
    time they last far longer (nights and weekends)."""
    twin = parse_twin(office_twin({"dist": "exponential", "mean": 4.0}))
    week, offset = shares(OFFICE), 2 * 24 + 15.5
    done = spans(simulate_fast(twin, 3, 0, trace=True).trace, "review")
    worked = np.array([working_time(a, b, offset, week) for a, b in done])
    half = 2.576 * worked.std(ddof=1) / math.sqrt(len(worked))
    assert abs(worked.mean() - 4.0) < half
    assert np.mean([b - a for a, b in done]) > 2 * 4.0


def test_both_engines_give_the_same_trace() -> None:
    twin = parse_twin(office_twin({"dist": "gamma", "mean": 3.0, "cv": 0.7}, start="2026-01-10T22:15:00"))
    fast, ref = simulate_fast(twin, 7, 2, trace=True), simulate(twin, 7, 2, trace=True)
    assert fast.trace == ref.trace and fast.events == ref.events
    assert list(fast.record) == list(ref.record)


def test_always_open_is_clock_time() -> None:
    spec = office_twin({"dist": "exponential", "mean": 2.0})
    clock = {**spec, "activities": [{k: v for k, v in a.items() if k != "working_hours"}
                                    for a in spec["activities"]]}
    spec["activities"][0]["working_hours"] = {"per_hour": [1.0] * 168}
    assert simulate(parse_twin(spec), 4, 0).record == simulate(parse_twin(clock), 4, 0).record


@pytest.mark.parametrize(("hours", "failures", "message"), [
    ({"per_hour": [2.0] * 168}, False, "working_hours: each hour's working share is at most"),
    ({"per_hour": [0.0] * 168}, False, "at least one hour of the week needs a positive rate"),
    ({"hours": {"mon 09:00-17:00": 1.0}}, True, "activities[fix].working_hours: not on a step whose pool"),
])
def test_bad_working_hours_name_the_field(hours: dict, failures: bool, message: str) -> None:
    spec = office_twin(1.0)
    spec["activities"][0]["working_hours"] = hours if not failures else OFFICE
    if failures:
        spec["activities"][1]["working_hours"] = hours
        spec["resources"][0]["failures"] = {"uptime": {"dist": "exponential", "mean": 50}, "repair": 2}
    with pytest.raises(SpecError) as error:
        parse_twin(spec)
    assert message in str(error.value)


def test_specs_without_working_hours_dump_as_before() -> None:
    spec = office_twin(1.0)
    for a in spec["activities"]:
        a.pop("working_hours")
    dumped = parse_twin(spec).model_dump(mode="json")
    assert all("working_hours" not in a for a in dumped["activities"])
