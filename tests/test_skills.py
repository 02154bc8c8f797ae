"""Skills (`one_of`): one unit of whichever listed pool can serve first, in both engines."""

from __future__ import annotations

from typing import Any

import pytest

from twin import parse_twin, simulate
from twin.engine_fast import simulate_fast
from twin.errors import SpecError


def team(arrivals: list[float], one_of: list[str], durations: dict[str, Any] | None = None,
         duration: float = 3.0) -> dict[str, Any]:
    """Jobs arriving at the given times (constant gaps are not enough: an empirical list of
    gaps is resampled), served by one-person pools `ann`, `bo`."""
    acts: dict[str, Any] = {"name": "serve", "duration": duration, "one_of": one_of}
    if durations:
        acts["durations"] = durations
    return {
        "name": "team", "horizon": 100.0,
        "arrivals": [{"name": f"job{i}", "interarrival": {"dist": "constant", "value": t},
                      "route": "serve"} for i, t in enumerate(arrivals)],
        "activities": [acts],
        "resources": [{"name": "ann", "capacity": 1}, {"name": "bo", "capacity": 1}],
    }


def served(spec: dict[str, Any], engine: Any = simulate) -> list[tuple[float, str, float]]:
    """(start, pool, end) of every visit, from the trace's grant, `by` and end rows."""
    trace = engine(parse_twin(spec), 1, 0, trace=True).trace
    by, start, out = {}, {}, []
    for t, kind, entity, name in trace:
        if kind == "by":
            by[entity] = name
        elif kind == "start":
            start[entity] = t
        elif kind == "end":
            out.append((start[entity], by[entity], t))
    return sorted(out)


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_whoever_is_free_serves_the_first_listed_when_both_are(engine: Any) -> None:
    # One job at 10 (both free: ann, listed first), one at 11 (ann busy: bo at once), one
    # at 12 (both busy: waits for ann, free at 13). Streams repeat every 10/11/12 hours.
    spec = team([10.0, 11.0, 12.0], ["ann", "bo"])
    spec["horizon"] = 19.0
    assert served(spec, engine) == [(10.0, "ann", 13.0), (11.0, "bo", 14.0), (13.0, "ann", 16.0)]
    spec["activities"][0]["one_of"] = ["bo", "ann"]
    assert served(spec, engine) == [(10.0, "bo", 13.0), (11.0, "ann", 14.0), (13.0, "bo", 16.0)]


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_a_pool_with_its_own_duration_works_at_its_own_pace(engine: Any) -> None:
    spec = team([10.0, 11.0, 12.0], ["ann", "bo"], durations={"bo": 1.5})
    spec["horizon"] = 19.0
    # bo serves 11 -> 12.5 and is free first, so he takes the job of 12 at 12.5.
    assert served(spec, engine) == [(10.0, "ann", 13.0), (11.0, "bo", 12.5), (12.5, "bo", 14.0)]


@pytest.mark.parametrize("engine", [simulate, simulate_fast])
def test_a_skilled_step_keeps_its_fixed_needs(engine: Any) -> None:
    # Every job also needs the one desk: the second waits for it although bo is free.
    spec = team([10.0, 11.0], ["ann", "bo"])
    spec["horizon"] = 19.0
    spec["resources"].append({"name": "desk", "capacity": 1})
    spec["activities"][0]["resources"] = {"desk": 1}
    assert served(spec, engine) == [(10.0, "ann", 13.0), (13.0, "ann", 16.0)]


def test_pools_share_the_work_and_report_their_own_utilisation() -> None:
    twin = parse_twin({
        "name": "pair", "horizon": 20000.0, "warmup": 500.0,
        "arrivals": [{"name": "jobs", "interarrival": {"dist": "exponential", "mean": 1.0},
                      "route": "serve"}],
        "activities": [{"name": "serve", "duration": {"dist": "exponential", "mean": 1.5},
                        "one_of": ["ann", "bo"]}],
        "resources": [{"name": "ann", "capacity": 1}, {"name": "bo", "capacity": 1}],
    })
    rec = simulate_fast(twin, 3, 0).record
    ann, bo = rec["resources.ann.utilization"], rec["resources.bo.utilization"]
    assert ann > bo > 0.5  # the first listed takes the job whenever both are free
    assert ann + bo == pytest.approx(1.5, rel=0.03)  # lambda * E[S] servers busy in all


@pytest.mark.parametrize(("change", "path", "reason"), [
    ({"one_of": ["ann", "cy"]}, "activities[serve].one_of[1]", "no resource named 'cy'"),
    ({"one_of": ["ann", "ann"]}, "activities[serve]", "lists a pool twice"),
    ({"one_of": ["ann"], "resources": {"ann": 1}}, "activities[serve]", "in both resources and one_of"),
    ({"one_of": ["ann"], "durations": {"bo": 1.0}}, "activities[serve]",
     "durations.bo: not a pool in one_of"),
])
def test_bad_skills_name_the_field(change: dict[str, Any], path: str, reason: str) -> None:
    spec = team([1.0], ["ann", "bo"])
    spec["activities"][0] |= change
    with pytest.raises(SpecError) as caught:
        parse_twin(spec)
    assert any(p.startswith(path) and reason in r for p, r in caught.value.problems), caught.value.problems


def test_specs_without_skills_keep_their_shape() -> None:
    spec = team([1.0], ["ann"])
    del spec["activities"][0]["one_of"]
    spec["activities"][0]["resources"] = {"ann": 1}
    dumped = parse_twin(spec).model_dump(mode="json")["activities"][0]
    assert "one_of" not in dumped and "durations" not in dumped
