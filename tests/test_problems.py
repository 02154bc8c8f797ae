"""`twin validate` reports every problem of a spec in one pass (twin.problems): field errors
and the wiring checks together, no echo of a problem as another, and never a new problem
once some are fixed."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.errors import SpecError
from twin.loader import parse_twin

ROOT = Path(__file__).resolve().parents[1]

GOOD: dict[str, Any] = {
    "name": "five-mistakes",
    "horizon": 100,
    "warmup": 10,
    "arrivals": [{"name": "orders", "interarrival": {"dist": "exponential", "mean": 1}, "route": "serve"}],
    "activities": [
        {"name": "serve", "duration": {"dist": "exponential", "mean": 0.5}, "resources": {"clerk": 2},
         "next": "pack"},
        {"name": "pack", "duration": 0.2, "resources": {"packer": 1}},
    ],
    "resources": [{"name": "clerk", "capacity": 2}, {"name": "packer", "capacity": 1}],
}


def _bad_mean(spec: dict[str, Any]) -> None:
    spec["activities"][0]["duration"]["mean"] = -1


def _typo(spec: dict[str, Any]) -> None:
    spec["activities"][1]["resorces"] = spec["activities"][1].pop("resources")


def _warmup(spec: dict[str, Any]) -> None:
    spec["warmup"] = 200


def _route(spec: dict[str, Any]) -> None:
    spec["arrivals"][0]["route"] = "serv"


def _duplicate(spec: dict[str, Any]) -> None:
    spec["resources"].append({"name": "packer", "capacity": 1})


MISTAKES: dict[str, tuple[Callable[[dict[str, Any]], None], tuple[str, str]]] = {
    "bad mean": (_bad_mean, ("activities[serve].duration.mean", "Input should be greater than 0")),
    "typo": (_typo, ("activities[pack].resorces", "unknown field")),
    "warmup": (_warmup, ("warmup", "must be less than horizon (100)")),
    "route": (_route, ("arrivals[orders].route", "no activity named 'serv'")),
    "duplicate": (_duplicate, ("resources[packer].name", "duplicate name")),
}


def problems(spec: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        parse_twin(spec)
    return caught.value.problems


def with_mistakes(names: tuple[str, ...]) -> dict[str, Any]:
    spec = copy.deepcopy(GOOD)
    for name in names:
        MISTAKES[name][0](spec)
    return spec


def test_the_good_twin_is_good() -> None:
    parse_twin(GOOD)


def test_five_independent_mistakes_are_reported_at_once() -> None:
    """Two field errors (pydantic's) and three wiring problems (check_wiring), which used to
    come out as two, then three more once the first two were fixed."""
    found = problems(with_mistakes(tuple(MISTAKES)))
    assert sorted(found) == sorted(expected for _, expected in MISTAKES.values())


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_fixing_some_mistakes_reveals_no_new_one(size: int) -> None:
    for names in itertools.combinations(MISTAKES, size):
        assert sorted(problems(with_mistakes(names))) == sorted(MISTAKES[n][1] for n in names), names


def test_an_item_set_aside_is_not_reported_missing_where_it_is_named() -> None:
    """A pool whose capacity is wrong is still the pool the activities name: one problem, not
    a second 'no resource named' echo of the first."""
    spec = copy.deepcopy(GOOD)
    spec["resources"][0]["capacity"] = -2
    spec["arrivals"][0]["route"] = "serv"
    assert sorted(problems(spec)) == [("arrivals[orders].route", "no activity named 'serv'"),
                                      ("resources[clerk].capacity", "Input should be greater than 0")]


def test_a_missing_distribution_and_a_flow_problem_come_together() -> None:
    """A required duration left out gets a placeholder, so the flow checks still run: here
    `pack` loops to itself for ever, and so what reaches `serve` never leaves either."""
    spec = copy.deepcopy(GOOD)
    del spec["activities"][0]["duration"]
    spec["activities"][1]["next"] = "pack"
    loops = "work here can never leave: every path loops without an exit"
    assert sorted(problems(spec)) == [("activities[pack].next", loops), ("activities[serve].duration",
                                                                         "Field required"),
                                      ("activities[serve].next", loops)]


def test_a_route_changed_by_a_repair_does_not_start_flow_echoes() -> None:
    """Branch probabilities that do not sum to 1 are set aside; what then looks unreachable
    (pack) is not reported, since it is reached once the branches are fixed."""
    spec = copy.deepcopy(GOOD)
    spec["activities"][0]["next"] = {"pack": 0.5, "exit": 0.6}
    spec["warmup"] = 100
    assert sorted(problems(spec)) == [("activities[serve].next", "branch probabilities sum to 1.1, not 1"),
                                      ("warmup", "must be less than horizon (100)")]


def test_a_spec_without_activities_reports_what_it_can() -> None:
    spec = copy.deepcopy(GOOD)
    spec["activities"] = []
    spec["horizon"] = -1
    found = dict(problems(spec))
    assert set(found) == {"activities", "horizon"}


LEAVES = st.sampled_from([-1, 0, "x", None, [], {}, 1e9, True, {"dist": "nonsense"}])


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))] + [path]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))] + [path]
    return [path]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_broken_example_gets_problems_never_a_crash(data: st.DataObject) -> None:
    """Random values put anywhere in the shipped examples: a twin or a SpecError whose every
    problem names a path and a reason, never another exception."""
    name = data.draw(st.sampled_from(["clinic", "manufacturing", "plant", "emergency", "call_centre"]))
    spec = yaml.safe_load((ROOT / "scenarios" / "examples" / f"{name}.yaml").read_text())
    paths = _leaves(spec)
    for _ in range(data.draw(st.integers(1, 5))):
        path = data.draw(st.sampled_from(paths))
        if not path:
            continue
        value = copy.deepcopy(data.draw(LEAVES))
        node = spec
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # a field above it was replaced by an earlier draw
    try:
        parse_twin(spec)
    except SpecError as error:
        assert error.problems
        assert all(isinstance(reason, str) and reason for _, reason in error.problems)
