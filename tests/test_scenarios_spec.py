"""Scenario files: validation with field paths, change-by-path semantics, targets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scenarios import changes
from scenarios.loader import load_scenario, load_study
from scenarios.spec import parse_target
from twin.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples"

SHOP = """\
name: shop
horizon: 200
warmup: 20
arrivals:
  - {name: orders, interarrival: {dist: exponential, mean: 1.0}, route: serve}
activities:
  - name: serve
    duration: {dist: exponential, mean: 0.6}
    resources: {clerk: 1}
    next: {pack: 0.9, exit: 0.1}
  - name: pack
    duration: 0.2
    resources: {packer: 1}
resources:
  - {name: clerk, capacity: 1}
  - name: packer
    capacity: 2
    shifts:
      - {start: "00:00", end: "12:00", capacity: 2}
      - {start: "12:00", end: "24:00", capacity: 1}
"""


def write(folder: Path, scenario: dict) -> Path:
    (folder / "shop.yaml").write_text(SHOP)
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "base": "shop.yaml", **scenario}))
    return path


def problems(folder: Path, scenario: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_scenario(write(folder, scenario))
    return dict(caught.value.problems)


BAD = [
    ({"chnages": {}}, "chnages", "unknown field"),
    ({"changes": {"resources.clrk.capacity": 2}}, "changes.resources.clrk.capacity", "no item named 'clrk'"),
    ({"changes": {"resources.clerk.capacity": 0}}, "changes.resources.clerk.capacity", "greater than 0"),
    ({"changes": {"activities.pack.duration.mean": 1}}, "changes.activities.pack.duration.mean",
     "unknown field"),
    ({"changes": {"activities.serve.next.pack": 0.5}}, "changes.activities.serve.next.pack", "sum to 0.6"),
    ({"changes": {"horizon": 10}}, "warmup (after this scenario's changes: horizon)", "less than horizon"),
    ({"changes": {"resources.packer.capacity": 1}},
     "resources[packer].shifts (after this scenario's changes: resources.packer.capacity)",
     "more than capacity 1"),
    ({"add": {"resources": [{"name": "clerk", "capacity": 1}]}}, "add.resources[clerk].name", "duplicate"),
    ({"add": {"resources": [{"name": "extra", "capasity": 1}]}}, "add.resources[extra].capasity", "unknown"),
    ({"remove": {"resources": ["clerk"]}},
     "activities[serve].resources.clerk (after this scenario's changes: remove.resources)",
     "no resource named 'clerk'"),
    ({"remove": {"resources": ["nobody"]}}, "remove.resources", "no item named 'nobody'"),
    ({"targets": ["throughput => 1"]}, "targets[0].target", "not a target"),
    ({"targets": ["thruput >= 1"]}, "targets[0]", "no KPI named 'thruput'"),
    ({"uncertain": {"params": {"activities.serve.duration": {"dist": "uniform", "low": 0.5, "high": 0.7}}}},
     "uncertain.params.activities.serve.duration", "must lead to a number"),
    ({"uncertain": {"method": "sobol", "params": {"horizon": 1}}}, "uncertain.method", "monte_carlo"),
    ({"sensitivity": {"params": {"resources.clerk.capacity": [3, 2]}}}, "sensitivity.params", "below high"),
    ({"experiment": {"replications": 1}}, "experiment.replications", "greater than or equal to 2"),
    ({"experiment": {"precision": {"kpi": "wait", "relative_half_width": 0.1}}},
     "experiment.precision.kpi", "no KPI named 'wait'"),
    ({"stresses": [{"name": "s", "kind": "outage", "target": "x", "window": {"start": 0, "length": 1}}]},
     "stresses[s].kind", "supplier_outage"),
    ({"contingency": [{"name": "r", "when": {"queue": "serve", "above": 3}, "action": {}}]},
     "contingency[r].action", "exactly one of order, overtime, reroute or switch"),
]


@pytest.mark.parametrize(("scenario", "path", "reason"), BAD, ids=[b[1] for b in BAD])
def test_bad_scenarios_name_the_field(tmp_path: Path, scenario: dict, path: str, reason: str) -> None:
    found = problems(tmp_path, scenario)
    assert path in found, found
    assert reason in found[path]


def test_a_missing_base_and_a_cycle_are_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\nbase: missing.yaml\n")
    with pytest.raises(SpecError, match="cannot read file"):
        load_scenario(tmp_path / "a.yaml")
    (tmp_path / "a.yaml").write_text("name: a\nbase: b.yaml\n")
    (tmp_path / "b.yaml").write_text("name: b\nbase: a.yaml\n")
    with pytest.raises(SpecError, match="cycle"):
        load_scenario(tmp_path / "a.yaml")


def test_study_names_must_be_unique(tmp_path: Path) -> None:
    path = write(tmp_path, {})
    with pytest.raises(SpecError, match="also the name"):
        load_study([path, path])


def test_changes_set_values_by_name_and_position(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, {"changes": {
        "resources.clerk.capacity": 2,
        "resources.packer.shifts.1.capacity": 2,
        "activities.serve.duration.mean": 0.8,
        "activities.serve.next": {"pack": 1.0},
        "arrivals.orders.interarrival": {"dist": "gamma", "mean": 0.9, "cv": 0.5},
        "resources.clerk.failures": {"uptime": 50, "repair": 1},
    }}))
    twin = s.twin
    assert twin.resources[0].capacity == 2 and twin.resources[0].failures is not None
    assert twin.resources[1].shifts is not None and twin.resources[1].shifts[1].capacity == 2
    assert twin.activity("serve").duration.mean_value == 0.8
    assert twin.activity("serve").next == {"pack": 1.0}
    assert twin.arrivals[0].interarrival.dist == "gamma"  # type: ignore[union-attr]


def test_add_and_remove_whole_items(tmp_path: Path) -> None:
    s = load_scenario(write(tmp_path, {
        "add": {"resources": [{"name": "helper", "capacity": 1}],
                "resources.packer.shifts": [{"days": ["sat"], "start": "06:00", "end": "08:00",
                                             "capacity": 1}]},
        "remove": {"resources.packer.shifts": [0]},
        "changes": {"activities.pack.resources": {"packer": 1, "helper": 1}},
    }))
    assert [r.name for r in s.twin.resources] == ["clerk", "packer", "helper"]
    shifts = s.twin.resources[1].shifts
    assert shifts is not None and [x.start for x in shifts] == ["12:00", "06:00"]


def test_plain_twin_is_a_scenario_without_changes() -> None:
    s = load_scenario(EXAMPLES / "clinic.yaml")
    assert s.name == "urgent-care-clinic" and s.targets == [] and s.uncertain is None


def test_scenarios_extend_their_base_scenario() -> None:
    base = load_scenario(EXAMPLES / "clinic_baseline.yaml")
    option = load_scenario(EXAMPLES / "clinic_night_physician.yaml")
    assert option.targets == base.targets and option.experiment == base.experiment
    assert option.twin.warmup == base.twin.warmup == 2880
    shifts = option.twin.resources[2].shifts
    assert shifts is not None and shifts[1].capacity == 3


def test_walk_and_set_leave_the_input_untouched() -> None:
    data = {"resources": [{"name": "a", "capacity": 1}]}
    out, found = changes.apply(data, {"resources.a.capacity": 3})
    assert found == [] and out["resources"][0]["capacity"] == 3 and data["resources"][0]["capacity"] == 1
    _, found = changes.apply(data, {"resources.a.capacity.value": 3})
    assert "is a value" in found[0][1]


@pytest.mark.parametrize(("text", "parsed"), [
    ("throughput >= 1.6", ("throughput", None, ">=", 1.6)),
    ("cycle_time.p95 <= 48", ("cycle_time", "p95", "<=", 48.0)),
    ("activities.triage.wait<10", ("activities.triage.wait", None, "<", 10.0)),
    ("activities.triage.wait.mean <= 1e1", ("activities.triage.wait", "mean", "<=", 10.0)),
])
def test_targets_parse(text: str, parsed: tuple) -> None:
    t = parse_target(text)
    assert (t.kpi, t.statistic, t.op, t.threshold) == parsed
    assert t.holds(parsed[3]) == (parsed[2] in ("<=", ">="))


def test_example_studies_load() -> None:
    names = ["clinic_baseline", "clinic_night_physician", "clinic_day_nurse",
             "manufacturing_baseline", "manufacturing_reorder", "manufacturing_fifth_cnc",
             "clinic_on_call", "stress_baseline", "stress_backup", "stress_subcontract", "stress_regional"]
    loaded = [load_scenario(EXAMPLES / f"{n}.yaml") for n in names]
    assert loaded[5].twin.resources[0].capacity == 5
    assert [r.name for r in loaded[6].twin.contingency] == ["call-in"]
    stressed = loaded[7:]
    assert all(len(s.stresses) == 2 and s.twin.costs is not None for s in stressed)
    assert [len(s.twin.contingency) for s in stressed] == [0, 1, 1, 1]


SCENARIO_FILES = sorted(p for p in EXAMPLES.glob("*.yaml")  # optimisation files (decisions) load elsewhere
                        if "base" in (data := yaml.safe_load(p.read_text())) and "decisions" not in data)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_example_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.targets and scenario.experiment is not None  # each inherits or sets them


def test_queueing_example_studies_change_what_they_say() -> None:
    ed = load_study([EXAMPLES / f"emergency_{n}.yaml" for n in
                     ("baseline", "evening_physician", "fast_track", "fast_track_late_mid")])
    fast_track = ["nurse_practitioner", "physician"]
    assert [s.twin.activity("minors").one_of for s in ed] == [[], [], fast_track, fast_track]
    physicians = [s.twin.resources[1].shifts for s in ed]
    assert physicians[1][2].capacity == 4 and physicians[3][1].start == "14:00"
    assert "activities.doctor.by_class.urgent.wait" in {t.kpi for t in ed[3].targets}
    calls = load_study([EXAMPLES / f"call_centre_{n}.yaml" for n in
                        ("baseline", "evening_plus_1", "evening_plus_2", "late_mid")])
    evening = [s.twin.resources[0].shifts[2].capacity for s in calls]
    assert evening == [6, 7, 8, 6] and len(calls[3].twin.resources[0].shifts) == 5
