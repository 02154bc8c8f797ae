"""The twin spec: YAML round trip, validation errors with field paths, distributions."""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import TypeAdapter

from twin.distributions import (
    Constant,
    Dist,
    Empirical,
    Exponential,
    Gamma,
    Lognormal,
    Normal,
    Triangular,
    Uniform,
    Weibull,
)
from twin.errors import SpecError
from twin.loader import dumps_twin, load_twin, loads_twin, parse_twin, spec_sha256, twin_to_data
from twin.spec import EXIT, Twin, flow_graph

# ---------------------------------------------------------------------------
# A twin using every feature of the spec
# ---------------------------------------------------------------------------

FULL_YAML = """\
name: every-feature
time_unit: hour
horizon: 200
warmup: 20
start: 2026-01-07T06:30   # a Wednesday
arrivals:
  - name: orders
    interarrival: {dist: exponential, mean: 0.5}
    route: serve
  - name: walkins
    interarrival: 3          # bare number: constant
    route: pack
activities:
  - name: serve
    duration: {dist: lognormal, mean: 0.3, sd: 0.1}
    resources: {clerk: 1}
    next: {pack: 0.7, rework: 0.2, exit: 0.1}
  - name: rework
    duration: {dist: gamma, mean: 0.2, cv: 0.5}
    resources: {clerk: 1}
    next: serve              # shorthand for {serve: 1}
  - name: pack
    duration: {dist: triangular, low: 0.1, mode: 0.2, high: 0.4}
    resources: {packer: 1}
    consumes: {bottles: 2}
    next: inspect
  - name: inspect
    duration: {dist: normal, mean: 0.1, sd: 0.05}
    next: {ship: 1.0}
  - name: ship
    duration: {dist: empirical, values: [0.1, 0.2, 0.3]}
    resources: {machine: 1}
    next: {label: 1}
  - name: label
    duration: {dist: uniform, low: 0.05, high: 0.1}
    next: seal
  - name: seal
    duration: {dist: constant, value: 0.05}
    consumes: {caps: 1}
    next: weigh
  - name: weigh
    duration: {dist: weibull, shape: 2, scale: 0.1}
resources:
  - name: clerk
    capacity: 3
    shifts:
      - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "16:00", capacity: 3}
      - {days: [sun], start: "22:00", end: "06:00", capacity: 1}
  - name: packer
    capacity: 2
    shifts:
      - {start: "06:00", end: "22:00", capacity: 2}   # days omitted: every day
  - name: machine
    capacity: 1
    failures:
      uptime: {dist: weibull, shape: 1.5, scale: 50}
      repair: {dist: lognormal, mean: 2, sd: 1}
materials:
  - name: bottles
    initial: 500
    reorder: {point: 200, up_to: 800}
    supplier:
      lead_time: {dist: gamma, mean: 24, cv: 0.3}
      disruptions:
        every: {dist: exponential, mean: 400}
        duration: {dist: uniform, low: 10, high: 40}
  - name: caps
    initial: 300
    reorder: {point: 100, quantity: 400}
    supplier:
      lead_time: 12
  - name: labels
    initial: 10
"""

MINIMAL_YAML = """\
name: minimal
horizon: 10
arrivals: [{name: a, interarrival: 1, route: work}]
activities: [{name: work, duration: 0.5}]
"""


@pytest.fixture(scope="module")
def full() -> Twin:
    return loads_twin(FULL_YAML)


def test_full_spec_parses_every_feature(full: Twin) -> None:
    assert full.start == datetime(2026, 1, 7, 6, 30)
    assert full.arrivals[1].interarrival == Constant(value=3)
    serve = full.activity("serve")
    assert serve.next == {"pack": 0.7, "rework": 0.2, EXIT: 0.1}
    assert full.activity("rework").next == {"serve": 1.0}
    assert full.activity("weigh").next == {}
    assert full.activity("weigh").successors == {EXIT: 1.0}
    families = {type(a.duration) for a in full.activities}
    assert families == {Lognormal, Gamma, Triangular, Normal, Empirical, Uniform, Constant, Weibull}
    assert isinstance(full.arrivals[0].interarrival, Exponential)
    packer = next(r for r in full.resources if r.name == "packer")
    assert packer.shifts is not None
    assert packer.shifts[0].days == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    machine = next(r for r in full.resources if r.name == "machine")
    assert machine.failures is not None and isinstance(machine.failures.uptime, Weibull)
    bottles, caps, labels = full.materials
    assert bottles.reorder is not None and bottles.reorder.up_to == 800
    assert caps.reorder is not None and caps.reorder.quantity == 400
    assert caps.supplier is not None and caps.supplier.lead_time == Constant(value=12)
    assert labels.reorder is None and labels.supplier is None


def test_model_dump_round_trip(full: Twin) -> None:
    """The full (non-sparse) dump parses back to an equal twin."""
    data = full.model_dump(mode="json")
    assert parse_twin(yaml.safe_load(yaml.safe_dump(data))) == full


@pytest.mark.parametrize("text", [FULL_YAML, MINIMAL_YAML], ids=["full", "minimal"])
def test_yaml_round_trip(text: str) -> None:
    twin = loads_twin(text)
    assert parse_twin(twin_to_data(twin)) == twin
    assert loads_twin(dumps_twin(twin)) == twin


def test_dump_is_plain_yaml(full: Twin) -> None:
    text = dumps_twin(full)
    assert "!!python" not in text
    data = yaml.safe_load(text)
    assert data["name"] == "every-feature"
    assert data["horizon"] == 200


def test_spec_hash_ignores_layout_and_comments(full: Twin) -> None:
    relaid = yaml.safe_dump(yaml.safe_load(FULL_YAML), default_flow_style=True)
    assert spec_sha256(loads_twin(relaid)) == spec_sha256(full)
    changed = FULL_YAML.replace("horizon: 200", "horizon: 201")
    assert spec_sha256(loads_twin(changed)) != spec_sha256(full)


def test_flow_graph(full: Twin) -> None:
    graph = flow_graph(full)
    assert graph.edges["serve", "pack"]["probability"] == 0.7
    assert graph.edges["weigh", EXIT]["probability"] == 1.0
    assert graph.has_edge("arrival:walkins", "pack")


def test_load_twin_from_file(tmp_path: Path, full: Twin) -> None:
    path = tmp_path / "full.yaml"
    path.write_text(FULL_YAML, encoding="utf-8")
    assert load_twin(path) == full
    assert load_twin(str(path)) == full


# ---------------------------------------------------------------------------
# Bad specs: SpecError naming the field path and a recognisable reason
# ---------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "name": "base",
    "horizon": 100,
    "warmup": 10,
    "arrivals": [{"name": "orders", "interarrival": {"dist": "exponential", "mean": 1},
                  "route": "serve"}],
    "activities": [{"name": "serve", "duration": {"dist": "exponential", "mean": 0.5},
                    "resources": {"clerk": 1}}],
    "resources": [{"name": "clerk", "capacity": 2}],
}


def test_base_is_valid() -> None:
    parse_twin(copy.deepcopy(BASE))


def _serve(d: dict[str, Any]) -> dict[str, Any]:
    return d["activities"][0]


def _clerk_shifts(*shifts: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        d["resources"][0]["shifts"] = list(shifts)
    return mutate


def _material(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        d["materials"] = [{"name": "bottles", "initial": 5, **fields}]
        _serve(d)["consumes"] = {"bottles": 1}
    return mutate


def _loop(d: dict[str, Any]) -> None:
    _serve(d)["next"] = "check"
    d["activities"].append({"name": "check", "duration": 1, "next": {"serve": 1}})


SUPPLIER = {"lead_time": 5}
SHIFT = {"start": "08:00", "end": "16:00", "capacity": 1}

BAD: list[tuple[str, Callable[[dict[str, Any]], Any], str, str]] = [
    # (id, mutation of BASE, field path, fragment of the reason)
    ("typo", lambda d: _serve(d).update(duraton=1), "activities[serve].duraton", "unknown field"),
    ("typo-top", lambda d: d.update(horizn=5), "horizn", "unknown field"),
    ("typo-in-dist", lambda d: _serve(d)["duration"].update(meen=1),
     "activities[serve].duration.meen", "unknown field"),
    ("negative-mean", lambda d: _serve(d)["duration"].update(mean=-1),
     "activities[serve].duration.mean", "greater than 0"),
    ("zero-mean", lambda d: d["arrivals"][0]["interarrival"].update(mean=0),
     "arrivals[orders].interarrival.mean", "greater than 0"),
    # A bare number is a constant: the error names its implied `value` field.
    ("negative-bare-number", lambda d: _serve(d).update(duration=-2),
     "activities[serve].duration.value", "greater than or equal to 0"),
    ("zero-interarrival", lambda d: d["arrivals"][0].update(interarrival=0),
     "arrivals[orders].interarrival", "mean must be positive"),
    ("zero-uptime", lambda d: d["resources"][0].update(failures={"uptime": 0, "repair": 1}),
     "resources[clerk].failures.uptime", "mean must be positive"),
    ("unknown-family", lambda d: _serve(d).update(duration={"dist": "poisson", "mean": 1}),
     "activities[serve].duration", "poisson"),
    ("no-family", lambda d: _serve(d).update(duration={"mean": 1}),
     "activities[serve].duration", "dist"),
    ("missing-parameter", lambda d: _serve(d).update(duration={"dist": "gamma", "mean": 1}),
     "activities[serve].duration.cv", "Field required"),
    ("sum-not-one", lambda d: _serve(d).update(next={"exit": 0.5, "serve": 0.3}),
     "activities[serve].next", "sum to 0.8, not 1"),
    ("probability-above-one", lambda d: _serve(d).update(next={"exit": 1.5}),
     "activities[serve].next.exit", "less than or equal to 1"),
    ("route-missing", lambda d: d["arrivals"][0].update(route="srve"),
     "arrivals[orders].route", "no activity named 'srve'"),
    ("next-missing", lambda d: _serve(d).update(next={"pack": 0.5, "exit": 0.5}),
     "activities[serve].next.pack", "no activity named 'pack'"),
    ("next-shorthand-missing", lambda d: _serve(d).update(next="pack"),
     "activities[serve].next.pack", "no activity named 'pack'"),
    ("resource-undefined", lambda d: _serve(d).update(resources={"nurse": 1}),
     "activities[serve].resources.nurse", "no resource named 'nurse'"),
    ("material-undefined", lambda d: _serve(d).update(consumes={"bottles": 1}),
     "activities[serve].consumes.bottles", "no material named 'bottles'"),
    ("unreachable", lambda d: d["activities"].append({"name": "orphan", "duration": 1}),
     "activities[orphan]", "not reachable"),
    ("loop-without-exit", _loop, "activities[serve].next", "never leave"),
    ("warmup-equals-horizon", lambda d: d.update(warmup=100), "warmup", "less than horizon"),
    ("warmup-beyond-horizon", lambda d: d.update(warmup=500), "warmup", "less than horizon"),
    ("zero-horizon", lambda d: d.update(horizon=0), "horizon", "greater than 0"),
    ("infinite-horizon", lambda d: d.update(horizon=float("inf")), "horizon", "finite"),
    ("nan-mean", lambda d: _serve(d)["duration"].update(mean=float("nan")),
     "activities[serve].duration.mean", "finite"),
    ("time-unit", lambda d: d.update(time_unit="second"), "time_unit", "'minute'"),
    ("shift-25h", _clerk_shifts({**SHIFT, "start": "25:00"}),
     "resources[clerk].shifts[0].start", "'25:00' is not a clock time"),
    ("shift-8am", _clerk_shifts({**SHIFT, "end": "8am"}),
     "resources[clerk].shifts[0].end", "'8am' is not a clock time"),
    ("shift-bad-day", _clerk_shifts({**SHIFT, "days": ["monday"]}),
     "resources[clerk].shifts[0].days[0]", "'mon'"),
    ("shift-above-capacity", _clerk_shifts({**SHIFT, "capacity": 3}),
     "resources[clerk].shifts", "more than capacity 2"),
    ("overlapping-shifts-above-capacity",
     _clerk_shifts({**SHIFT, "capacity": 2}, {**SHIFT, "start": "12:00", "end": "20:00"}),
     "resources[clerk].shifts", "3 units on duty at once"),
    ("needs-more-than-capacity", lambda d: _serve(d).update(resources={"clerk": 3}),
     "activities[serve].resources.clerk", "needs 3 units but at most 2"),
    ("needs-more-than-on-shift",
     lambda d: (_clerk_shifts(SHIFT)(d), _serve(d).update(resources={"clerk": 2})),
     "activities[serve].resources.clerk", "needs 2 units but at most 1"),
    ("duplicate-activity",
     lambda d: (_serve(d).update(next="serve2"),
                d["activities"].extend([{"name": "serve2", "duration": 1},
                                        {"name": "serve2", "duration": 2}])),
     "activities[serve2].name", "duplicate name"),
    ("duplicate-resource", lambda d: d["resources"].append({"name": "clerk", "capacity": 1}),
     "resources[clerk].name", "duplicate name"),
    ("reserved-exit-activity",
     lambda d: d["activities"].append({"name": "exit", "duration": 1}),
     "activities[exit].name", "reserved"),
    ("reserved-exit-resource", lambda d: d["resources"].append({"name": "exit", "capacity": 1}),
     "resources[exit].name", "reserved"),
    ("bad-name", lambda d: d["resources"].append({"name": "night shift", "capacity": 1}),
     "resources[night shift].name", "pattern"),
    ("reorder-both", _material(reorder={"point": 1, "up_to": 5, "quantity": 3}, supplier=SUPPLIER),
     "materials[bottles].reorder", "exactly one of up_to"),
    ("reorder-neither", _material(reorder={"point": 1}, supplier=SUPPLIER),
     "materials[bottles].reorder", "exactly one of up_to"),
    ("up-to-not-above-point", _material(reorder={"point": 5, "up_to": 5}, supplier=SUPPLIER),
     "materials[bottles].reorder", "up_to (5) must exceed point (5)"),
    ("reorder-without-supplier", _material(reorder={"point": 1, "up_to": 5}),
     "materials[bottles]", "give both or neither"),
    ("supplier-without-reorder", _material(supplier=SUPPLIER),
     "materials[bottles]", "give both or neither"),
    ("negative-initial", _material(initial=-1),
     "materials[bottles].initial", "greater than or equal to 0"),
    ("uniform-reversed", lambda d: _serve(d).update(duration={"dist": "uniform", "low": 2, "high": 1}),
     "activities[serve].duration", "high (1.0) must be >= low (2.0)"),
    ("triangular-out-of-order",
     lambda d: _serve(d).update(duration={"dist": "triangular", "low": 1, "mode": 3, "high": 2}),
     "activities[serve].duration", "low <= mode <= high"),
    ("triangular-degenerate",
     lambda d: _serve(d).update(duration={"dist": "triangular", "low": 1, "mode": 1, "high": 1}),
     "activities[serve].duration", "low < high"),
    ("empirical-empty", lambda d: _serve(d).update(duration={"dist": "empirical", "values": []}),
     "activities[serve].duration.values", "at least 1"),
    ("empirical-negative",
     lambda d: _serve(d).update(duration={"dist": "empirical", "values": [1, -1]}),
     "activities[serve].duration.values[1]", "greater than or equal to 0"),
    ("weibull-negative-shape",
     lambda d: _serve(d).update(duration={"dist": "weibull", "shape": -1, "scale": 1}),
     "activities[serve].duration.shape", "greater than 0"),
    ("string-duration", lambda d: _serve(d).update(duration="3 hours"),
     "activities[serve].duration", "dictionary"),
    ("no-arrivals", lambda d: d.update(arrivals=[]), "arrivals", "at least 1"),
    ("missing-duration", lambda d: _serve(d).pop("duration"),
     "activities[serve].duration", "Field required"),
]


@pytest.mark.parametrize(("mutate", "path", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_spec(mutate: Callable[[dict[str, Any]], Any], path: str, reason: str) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    with pytest.raises(SpecError) as caught:
        parse_twin(data, "bad.yaml")
    error = caught.value
    assert path in [p for p, _ in error.problems], error.problems
    assert any(p == path and reason in r for p, r in error.problems), error.problems
    text = str(error)
    assert text.startswith("bad.yaml: ")
    assert f"{path}: " in text
    assert reason in text
    assert "Traceback" not in text
    assert 'File "' not in text


def test_bad_spec_ids_are_unique() -> None:
    ids = [b[0] for b in BAD]
    assert len(ids) == len(set(ids)) >= 12


def test_loop_reports_every_activity_on_the_loop() -> None:
    data = copy.deepcopy(BASE)
    _loop(data)
    with pytest.raises(SpecError) as caught:
        parse_twin(data)
    assert [p for p, _ in caught.value.problems] == ["activities[serve].next", "activities[check].next"]


def test_several_field_problems_are_reported_together() -> None:
    data = copy.deepcopy(BASE)
    _serve(data).update(duraton=1)
    data["arrivals"][0]["interarrival"]["mean"] = -3
    data["resources"][0]["shifts"] = [{**SHIFT, "start": "8am"}]
    data["warmup"] = -1
    with pytest.raises(SpecError) as caught:
        parse_twin(data)
    paths = {p for p, _ in caught.value.problems}
    assert paths == {
        "activities[serve].duraton",
        "arrivals[orders].interarrival.mean",
        "resources[clerk].shifts[0].start",
        "warmup",
    }
    assert str(caught.value).startswith("4 problem(s)")


def test_several_wiring_problems_are_reported_together() -> None:
    data = copy.deepcopy(BASE)
    data["warmup"] = 200
    data["arrivals"][0]["route"] = "nowhere"
    _serve(data)["resources"] = {"nurse": 1}
    _serve(data)["consumes"] = {"bottles": 2}
    data["resources"].append({"name": "clerk", "capacity": 1})
    with pytest.raises(SpecError) as caught:
        parse_twin(data)
    assert {p for p, _ in caught.value.problems} == {
        "warmup",
        "arrivals[orders].route",
        "activities[serve].resources.nurse",
        "activities[serve].consumes.bottles",
        "resources[clerk].name",
    }


def test_probabilities_summing_to_one_within_rounding_are_accepted() -> None:
    data = copy.deepcopy(BASE)
    data["activities"].append({"name": "again", "duration": 1})
    _serve(data)["next"] = {"exit": 0.7, "again": 0.1 + 0.2}  # sums to 1.0000000000000002
    assert parse_twin(data).activity("serve").next["again"] == 0.1 + 0.2


def test_invalid_yaml_names_the_line() -> None:
    text = "name: x\nhorizon: 10\narrivals: [{name: a,\n  bad: : :\n"
    with pytest.raises(SpecError) as caught:
        loads_twin(text, "broken.yaml")
    ((where, reason),) = caught.value.problems
    assert where.startswith("line ")
    assert "not valid YAML" in reason
    assert str(caught.value).startswith("broken.yaml: ")
    assert "Traceback" not in str(caught.value)


def test_invalid_yaml_line_number_is_right() -> None:
    text = "name: x\nhorizon: 10\nwarmup: 1\n  oops: 2\n"
    with pytest.raises(SpecError) as caught:
        loads_twin(text)
    assert caught.value.problems[0][0].startswith("line 4")


@pytest.mark.parametrize("text", ["- name: x\n- horizon: 3\n", "", "just a string\n", "42\n"],
                         ids=["list", "empty", "string", "number"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(SpecError) as caught:
        loads_twin(text)
    assert caught.value.problems == [("", "a twin spec must be a mapping of fields")]
    assert "(top level)" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError) as caught:
        load_twin(path)
    assert str(path) in str(caught.value)
    assert "cannot read file" in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_error_has_no_chained_context() -> None:
    """Errors are raised `from None`, so a traceback would not show pydantic internals."""
    data = copy.deepcopy(BASE)
    _serve(data).update(duraton=1)
    with pytest.raises(SpecError) as caught:
        parse_twin(data)
    assert caught.value.__suppress_context__
    assert caught.value.__cause__ is None


# ---------------------------------------------------------------------------
# Distributions
# ---------------------------------------------------------------------------

DIST = TypeAdapter(Dist)
N = 200_000
Z999 = 3.2905  # two-sided 99.9% normal quantile

FAMILIES = {
    "exponential": {"dist": "exponential", "mean": 2.5},
    "gamma": {"dist": "gamma", "mean": 3.0, "cv": 0.5},
    "gamma-high-cv": {"dist": "gamma", "mean": 1.0, "cv": 2.0},
    "gamma-lead-time": {"dist": "gamma", "mean": 72, "cv": 0.3},
    "lognormal": {"dist": "lognormal", "mean": 2.0, "sd": 1.0},
    "normal": {"dist": "normal", "mean": 5.0, "sd": 1.0},
    "normal-truncated": {"dist": "normal", "mean": 0.5, "sd": 1.0},
    "normal-zero-sd": {"dist": "normal", "mean": 0.7, "sd": 0},
    "weibull": {"dist": "weibull", "shape": 1.5, "scale": 200},
    "weibull-heavy": {"dist": "weibull", "shape": 0.8, "scale": 2},
    "uniform": {"dist": "uniform", "low": 100, "high": 400},
    "triangular": {"dist": "triangular", "low": 1, "mode": 2, "high": 6},
    "constant": {"dist": "constant", "value": 3},
    "empirical": {"dist": "empirical", "values": [0.5, 1, 1, 4]},
    "bare-number": 1.25,
}


@functools.cache
def _draws(family: str) -> tuple[Any, np.ndarray]:
    """N draws of FAMILIES[family] from default_rng(1), computed once per module."""
    dist = DIST.validate_python(FAMILIES[family])
    rng = np.random.default_rng(1)
    return dist, np.array([dist.sample(rng) for _ in range(N)])


@pytest.mark.parametrize("family", list(FAMILIES))
def test_sample_mean_matches_mean_value(family: str) -> None:
    dist, x = _draws(family)
    assert np.all(x >= 0)
    half = Z999 * x.std(ddof=1) / math.sqrt(N)
    assert abs(x.mean() - dist.mean_value) <= half + 1e-12 * dist.mean_value, (
        x.mean(), dist.mean_value, half)


def test_bare_number_is_constant() -> None:
    assert DIST.validate_python(2) == Constant(value=2.0)
    assert DIST.validate_python(0.5) == Constant(value=0.5)
    with pytest.raises(ValueError, match="valid dictionary"):
        DIST.validate_python(True)


def test_truncated_normal_mean_exceeds_parameter() -> None:
    dist = Normal(mean=0.5, sd=1.0)
    assert dist.mean_value > 0.5
    assert Normal(mean=10, sd=0.1).mean_value == pytest.approx(10, abs=1e-12)


def test_lognormal_reproduces_mean_and_sd() -> None:
    dist, x = _draws("lognormal")
    mu, sigma = dist.log_params
    assert math.exp(mu + sigma**2 / 2) == pytest.approx(2.0, rel=1e-12)
    assert 2.0 * math.sqrt(math.expm1(sigma**2)) == pytest.approx(1.0, rel=1e-12)
    assert x.std(ddof=1) == pytest.approx(1.0, rel=0.02)
    assert np.log(x).std(ddof=1) == pytest.approx(sigma, rel=0.01)


def test_gamma_reproduces_mean_and_cv() -> None:
    for family, cv in [("gamma", 0.5), ("gamma-lead-time", 0.3), ("gamma-high-cv", 2.0)]:
        dist, x = _draws(family)
        assert isinstance(dist, Gamma)
        tolerance = 0.05 if cv > 1 else 0.01
        assert x.std(ddof=1) / x.mean() == pytest.approx(cv, rel=tolerance), family


def test_empirical_resamples_values_with_equal_weight() -> None:
    _, x = _draws("empirical")
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [0.5, 1.0, 4.0]
    assert counts / N == pytest.approx([0.25, 0.5, 0.25], abs=0.005)


def test_uniform_and_triangular_stay_in_range() -> None:
    _, x = _draws("uniform")
    assert x.min() >= 100 and x.max() <= 400
    _, x = _draws("triangular")
    assert x.min() >= 1 and x.max() <= 6


def test_sampling_is_reproducible() -> None:
    dist = Lognormal(mean=1.0, sd=0.5)
    a = [dist.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [dist.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b


def test_distributions_are_frozen() -> None:
    dist = Exponential(mean=1.0)
    with pytest.raises(ValueError, match="frozen"):
        dist.mean = 2.0  # type: ignore[misc]
