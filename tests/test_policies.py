"""Stresses, contingency rules, due dates and costs: semantics, sameness of the engines,
and clear errors for bad input."""

from __future__ import annotations

import copy
import math
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.strategies import policies, twins
from tests.traces import unit_needs
from twin import loads_twin
from twin.costs import COST_PARTS
from twin.engine_fast import simulate_fast
from twin.engine_simpy import simulate
from twin.errors import SpecError
from twin.loader import parse_twin, twin_to_data

ROOT = Path(__file__).resolve().parents[1]

BASE = """
name: stressed
time_unit: hour
horizon: 1500
warmup: 100
arrivals:
  - {name: orders, interarrival: {dist: exponential, mean: 1.0}, route: machining, due: 12}
activities:
  - name: machining
    duration: {dist: gamma, mean: 2.2, cv: 0.5}
    resources: {cnc: 1}
    consumes: {steel: 1}
    next: assembly
  - {name: assembly, duration: {dist: exponential, mean: 1.5}, resources: {fitter: 1}}
resources:
  - name: cnc
    capacity: 3
    failures: {uptime: {dist: exponential, mean: 80}, repair: {dist: lognormal, mean: 4, sd: 2}}
  - name: fitter
    capacity: 3
    shifts: [{start: "06:00", end: "22:00", capacity: 2}]
materials:
  - name: steel
    initial: 60
    reorder: {point: 30, up_to: 90}
    supplier:
      lead_time: {dist: gamma, mean: 24, cv: 0.3}
      disruptions: {every: {dist: exponential, mean: 500}, duration: {dist: uniform, low: 20, high: 60}}
"""

STRESSES = [
    {"name": "outage", "kind": "supplier_outage", "target": "steel", "start": 300, "end": 500},
    {"name": "down", "kind": "equipment_down", "target": "cnc", "units": 2, "start": 600, "end": 660},
    {"name": "absent", "kind": "staff_absence", "target": "fitter", "units": 1, "start": 704, "end": 800},
    {"name": "surge", "kind": "demand_surge", "target": "orders", "factor": 1.5, "start": 900, "end": 1050},
    {"name": "storm", "kind": "failure_rate", "target": "cnc", "factor": 4, "start": 1100, "end": 1300},
    {"name": "slow", "kind": "lead_time", "target": "steel", "factor": 2, "start": 1250, "end": 1400},
]
RULES = [
    {"name": "backup", "when": {"stock": "steel", "below": 10}, "delay": 2,
     "action": {"order": {"material": "steel", "quantity": 40, "unit_cost": 3,
                          "lead_time": {"dist": "uniform", "low": 4, "high": 8}}}, "cost": 500},
    {"name": "extra-fitter", "when": {"queue": "assembly", "above": 5}, "delay": 1,
     "action": {"overtime": {"pool": "fitter", "units": 1, "duration": 8}}, "cost": 100},
    {"name": "sub", "when": {"queue": "machining", "above": 15},
     "action": {"reroute": {"from": "machining", "to": "subcontract", "duration": 12}}},
    {"name": "cnc-down", "when": {"down": "cnc", "units": 2, "for": 3},
     "action": {"overtime": {"pool": "fitter", "units": 1, "duration": 4}}},
]
COSTS = {"resources": {"cnc": {"per_time": 20, "per_repair": 300},
                       "fitter": {"per_time": 40, "overtime_per_time": 25}},
         "materials": {"steel": {"holding": 0.05, "per_stockout": 30}}, "per_late": 80}


def twin_with(**sections: object) -> object:
    data = twin_to_data(loads_twin(BASE))
    data.update(copy.deepcopy(sections))
    if any("reroute" in rule["action"] for rule in data.get("contingency", [])):
        data["activities"].append({"name": "subcontract", "duration": 6})  # reached by rerouting only
    return parse_twin(data)


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


@pytest.fixture(scope="module")
def full() -> object:
    return twin_with(stresses=STRESSES, contingency=RULES, costs=COSTS)


def test_engines_agree_bitwise_with_every_stress_rule_and_cost(full: object) -> None:
    for r in range(3):
        a, b = simulate(full, 5, r, trace=True), simulate_fast(full, 5, r, trace=True)
        assert a.events == b.events
        assert same(a.record, b.record)
        assert a.trace == b.trace
    kinds = {kind for _, kind, _, _ in a.trace}
    assert {"contingency", "failure", "repair", "shift", "order", "delivery"} <= kinds


def test_each_stress_alone_agrees_and_changes_the_run() -> None:
    plain = simulate(twin_with(), 3, 0)
    for stress in STRESSES:
        twin = twin_with(stresses=[stress])
        a, b = simulate(twin, 3, 0), simulate_fast(twin, 3, 0)
        assert same(a.record, b.record) and a.events == b.events, stress["name"]
        assert not same(a.record, plain.record), f"{stress['name']} changed nothing"


def test_a_stress_after_the_horizon_changes_nothing() -> None:
    late = [{**s, "start": 5000, "end": 6000} for s in STRESSES]
    assert same(simulate(twin_with(stresses=late), 3, 1).record, simulate(twin_with(), 3, 1).record)


def test_outage_holds_every_delivery_due_in_the_window() -> None:
    rep = simulate(twin_with(stresses=[STRESSES[0]]), 2, 0, trace=True)
    deliveries = [t for t, kind, _, name in rep.trace if kind == "delivery" and name == "steel"]
    assert not [t for t in deliveries if 300 <= t < 500]
    assert 500.0 in deliveries  # what fell due in the window arrives at its end


def test_equipment_down_takes_the_units_out_for_the_window() -> None:
    twin = twin_with(stresses=[STRESSES[1]])
    rep = simulate(twin, 2, 0, trace=True)
    cnc = [(t, kind, unit) for t, kind, unit, name in rep.trace if name == "cnc"]
    starts = [(t, unit) for t, kind, unit in cnc if kind == "failure" and t == 600]
    ends = [(t, unit) for t, kind, unit in cnc if kind == "repair" and t == 660]
    assert [u for _, u in starts] == [0, 1] and [u for _, u in ends] == [0, 1]
    cut = twin_with(stresses=[{**STRESSES[1], "start": 100, "end": 1500, "units": 3}])
    assert simulate(cut, 2, 0).record["resources.cnc.availability"] == 0.0


def test_staff_absence_lowers_the_units_on_duty() -> None:
    rep = simulate(twin_with(stresses=[STRESSES[2]], costs=COSTS), 2, 0, trace=True)
    levels = {t: level for t, kind, level, name in rep.trace if kind == "shift" and name == "fitter"}
    assert levels[704.0] == 1 and levels[800.0] == 2  # 08:00, on shift: 2 on duty, one absent


def test_demand_surge_adds_arrivals_only_inside_its_window() -> None:
    base, surged = (simulate(twin_with(stresses=s), 9, 0, trace=True) for s in ([], [STRESSES[3]]))
    times = [[t for t, kind, _, _ in r.trace if kind == "arrival"] for r in (base, surged)]
    extra = len(times[1]) - len(times[0])
    assert 40 < extra < 110  # (1.5 - 1) x 1 per hour x 150 hours = 75 expected
    assert [t for t in times[0] if t < 900] == [t for t in times[1] if t < 900]


def test_contingency_fires_exactly_when_its_condition_holds() -> None:
    """Replay the trace: the stock rule fires at the take that leaves stock below 10 (the take
    is logged as the machining start that follows at the same time), only while armed (it
    re-arms at its backup delivery), and is never missed; its order follows after the delay."""
    twin = twin_with(stresses=STRESSES, contingency=RULES[:1])
    trace = simulate(twin, 4, 0, trace=True).trace
    stock, armed, fired = 60, True, []
    for i, (t, kind, subject, name) in enumerate(trace):
        if kind == "contingency":
            assert armed and _drops_below(trace, i, stock, 10), (t, stock)
            armed = False
            fired.append(t)
        elif kind == "delivery" and name == "steel":
            stock += subject
            armed = armed or subject == 40  # the backup delivery re-arms the rule
        elif kind == "start" and name == "machining":
            stock -= 1
            assert not (armed and stock < 10), f"the rule should have fired at {t}"
    assert len(fired) >= 2
    orders = [t for t, kind, q, name in trace if kind == "order" and q == 40]
    assert orders == [t + 2 for t in fired][:len(orders)] and len(orders) >= len(fired) - 1


def _drops_below(trace: list, i: int, stock: int, level: int) -> bool:
    """Whether the takes logged right after row i, at its time, bring `stock` below `level`."""
    for t, kind, _, name in trace[i + 1:]:
        if t != trace[i][0] or kind == "delivery":
            return False
        if kind == "start" and name == "machining":
            stock -= 1
            if stock < level:
                return True
    return False


def test_units_down_rule_waits_for_its_spell() -> None:
    rule = {**RULES[3], "when": {"down": "cnc", "units": 2, "for": 30}}
    rep = simulate(twin_with(stresses=[STRESSES[1]], contingency=[rule]), 2, 0, trace=True)
    fired = [t for t, kind, _, _ in rep.trace if kind == "contingency"]
    assert 630.0 in fired  # two CNCs down from 600 (the stress): fires 30 hours later
    assert all(t >= 630.0 or t < 600.0 for t in fired)


def test_due_dates_and_costs_add_up(full: object) -> None:
    record = simulate(full, 1, 0).record
    assert 0 <= record["on_time"] <= 1 and record["tardiness"] >= 0 and record["late"] >= 0
    parts = sum(record[f"cost.{p}"] for p in COST_PARTS)
    assert record["cost"] == pytest.approx(parts)
    span = 1500 - 100
    assert record["cost.labour"] == pytest.approx(
        (20 * record["resources.cnc.on_duty"] + 40 * record["resources.fitter.on_duty"]) * span)
    assert record["cost.late"] == 80 * record["late"]
    activations = {r["name"]: record[f"contingency.{r['name']}.activations"] for r in RULES}
    assert record["cost.contingency"] == pytest.approx(
        activations["backup"] * (500 + 40 * 3) + activations["extra-fitter"] * 100)
    assert record["resources.fitter.overtime"] > 0


@pytest.mark.parametrize(("section", "value", "path", "reason"), [
    ("stresses", [{**STRESSES[0], "target": "copper"}], "stresses[outage].target", "no material"),
    ("stresses", [{**STRESSES[0], "end": 100}], "stresses[outage]", "must be after start"),
    ("stresses", [{**STRESSES[3], "factor": 0.5}], "stresses[surge]", "must exceed 1"),
    ("stresses", [{**STRESSES[1], "units": 9}], "stresses[down].units", "exceeds the capacity"),
    ("stresses", [{**STRESSES[4], "factor": None}], "stresses[storm]", "factor is required"),
    ("contingency", [{**RULES[2], "action": {"reroute": {"from": "machining", "to": "nowhere",
                                                          "duration": 1}}}],
     "contingency[sub].action.reroute.to", "no activity named 'nowhere'"),
    ("contingency", [{**RULES[0], "when": {"stock": "steel"}}], "contingency[backup].when", ""),
    ("contingency", [{**RULES[0], "action": {}}], "contingency[backup].action", "exactly one"),
    ("costs", {"resources": {"crane": {"per_time": 1}}}, "costs.resources.crane", "no resource"),
])
def test_bad_policies_name_the_field(section: str, value: object, path: str, reason: str) -> None:
    data = twin_to_data(loads_twin(BASE))
    data[section] = value
    data["activities"].append({"name": "subcontract", "duration": 6, "next": "assembly"})
    data["arrivals"].append({"name": "direct", "interarrival": 50, "route": "subcontract"})
    with pytest.raises(SpecError) as error:
        parse_twin(data)
    assert any(p.startswith(path) and reason in r for p, r in error.value.problems), error.value.problems


def test_specs_without_policies_keep_their_shape() -> None:
    data = twin_to_data(loads_twin(BASE.replace(", due: 12", "")))
    assert not {"stresses", "contingency", "costs"} & set(data)
    assert "due" not in data["arrivals"][0]


# -- scenario files: random windows, fixed windows, plans -------------------------------
def _study(tmp_path: Path, *scenarios: str, replications: int = 6) -> object:
    from scenarios.loader import load_study
    from scenarios.runner import run_study, settings_for

    (tmp_path / "base.yaml").write_text(BASE)
    paths = []
    for i, text in enumerate(scenarios):
        paths.append(tmp_path / f"s{i}.yaml")
        paths[-1].write_text(text)
    loaded = load_study(paths)
    return run_study(loaded, settings_for(loaded[0], replications, 3, "fast"), executor="serial").table


def _random_outage(name: str, probability: float) -> str:
    return f"""
name: {name}
base: base.yaml
stresses:
  - name: outage
    kind: supplier_outage
    target: steel
    random: {{probability: {probability}, start: {{dist: uniform, low: 200, high: 900}},
             length: {{dist: uniform, low: 100, high: 300}}}}
"""


def test_random_stress_probability_zero_changes_nothing_one_always_occurs(tmp_path: Path) -> None:
    table = _study(tmp_path, "name: plain\nbase: base.yaml\n", _random_outage("never", 0.0),
                   _random_outage("always", 1.0))
    plain, never, always = (table[table.scenario == n].reset_index(drop=True)
                            for n in ("plain", "never", "always"))
    kpis = [c for c in plain.columns if c not in ("scenario",) and not c.startswith("input.")]
    assert never[kpis].equals(plain[kpis])
    assert (never["input.stress.outage.occurred"] == 0).all()
    assert (always["input.stress.outage.occurred"] == 1).all()
    assert (always["events"] != plain["events"]).any()
    # the same window in replication r of every scenario (common random numbers)
    assert always["input.stress.outage.start"].equals(never["input.stress.outage.start"])


def test_scenario_plans_add_rules_costs_and_fixed_windows(tmp_path: Path) -> None:
    plan = """
name: plan
base: base.yaml
changes: {arrivals.orders.due: 20}
stresses:
  - {name: outage, kind: supplier_outage, target: steel, window: {start: 300, length: 200}}
contingency:
  - {name: backup, when: {stock: steel, below: 10}, delay: 2, cost: 500,
     action: {order: {material: steel, quantity: 40, lead_time: 5}}}
costs: {per_late: 10, resources: {cnc: {per_time: 20}}}
"""
    table = _study(tmp_path, "name: plain\nbase: base.yaml\n", plan, replications=3)
    row = table[table.scenario == "plan"].iloc[0]
    assert row["contingency.backup.activations"] >= 1
    assert row["cost"] == pytest.approx(row["cost.labour"] + row["cost.late"] + row["cost.contingency"])
    assert math.isnan(table[table.scenario == "plain"].iloc[0]["cost"])


@pytest.mark.parametrize(("stress", "where"), [
    ("{name: x, kind: supplier_outage, target: steel}", "stresses[x]"),
    ("{name: x, kind: supplier_outage, target: copper, window: {start: 1, length: 2}}", "stresses"),
    ("{name: x, kind: meteor, target: steel, window: {start: 1, length: 2}}", "stresses[x]"),
    ("{name: x, kind: demand_surge, target: steel, factor: 2, random: {probability: 0.5, start: 1, "
     "length: 2}}", "stresses[x]"),
])
def test_bad_scenario_stresses_name_the_field(tmp_path: Path, stress: str, where: str) -> None:
    from scenarios.loader import load_scenario

    (tmp_path / "base.yaml").write_text(BASE)
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nbase: base.yaml\nstresses:\n  - {stress}\n")
    with pytest.raises(SpecError) as error:
        load_scenario(path)
    assert any(p.startswith(where) for p, _ in error.value.problems), error.value.problems


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_twins_with_policies_agree_bitwise(data: st.DataObject) -> None:
    spec = data.draw(policies(data.draw(twins())))
    try:
        twin = parse_twin(spec)
    except SpecError:
        assume(False)  # e.g. a reroute back into its own source
    for r in (0, 1):
        a, b = simulate(twin, 7, r, trace=True), simulate_fast(twin, 7, r, trace=True)
        assert a.events == b.events and same(a.record, b.record) and a.trace == b.trace


def test_equipment_down_interrupts_work_on_a_pool_without_failures() -> None:
    """Found by Hypothesis: the unit must not be released to the next job while down."""
    twin = loads_twin("""
name: down-without-failures
horizon: 50
arrivals: [{name: a, interarrival: {dist: exponential, mean: 1.0}, route: s}]
activities: [{name: s, duration: {dist: exponential, mean: 1.0}, resources: {m: 1}}]
resources: [{name: m, capacity: 1}]
stresses: [{name: d, kind: equipment_down, target: m, start: 1.0, end: 2.0}]
""")
    for engine in (simulate, simulate_fast):
        trace = engine(twin, 11, 0, trace=True).trace
        assert not [t for t, kind, _, _ in trace if kind in ("start", "end", "grant") and 1.0 < t < 2.0]


def test_the_spec_page_policy_example_is_valid_and_runs_the_same_on_both_engines() -> None:
    """The stresses, contingency rules and costs of docs/spec.md, on that page's twin."""
    import re

    import yaml

    text = (ROOT / "docs" / "spec.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (spec,) = [b for b in blocks if b.startswith("name:") and "\nbase:" not in b]  # not the optimisation file
    (extra,) = [b for b in blocks if b.startswith("stresses:")]
    data = yaml.safe_load(spec) | yaml.safe_load(extra)
    data["arrivals"][0]["due"] = 36
    twin = parse_twin(data)
    a, b = simulate(twin, 2, 0), simulate_fast(twin, 2, 0)
    assert same(a.record, b.record) and a.events == b.events
    assert a.record["contingency.backup-bottles.activations"] >= 0 and a.record["cost"] > 0


def test_stressed_studies_give_identical_tables_on_every_executor(tmp_path: Path) -> None:
    from scenarios.loader import load_study
    from scenarios.runner import run_study, settings_for

    (tmp_path / "base.yaml").write_text(BASE)
    plan = _random_outage("plan", 0.6) + """
contingency:
  - {name: backup, when: {stock: steel, below: 10}, delay: 2, cost: 500,
     action: {order: {material: steel, quantity: 40, lead_time: {dist: uniform, low: 4, high: 8}}}}
costs: {per_late: 10, resources: {cnc: {per_time: 20}}}
"""
    (tmp_path / "plan.yaml").write_text(plan)
    scenarios = load_study([tmp_path / "base.yaml", tmp_path / "plan.yaml"])
    settings = settings_for(scenarios[0], 6, 2, "fast")
    serial = run_study(scenarios, settings, "serial").table
    assert serial["input.stress.outage.occurred"].sum() > 0
    for executor in ("processes", "dask"):
        other = run_study(scenarios, settings, executor, workers=2).table
        pd.testing.assert_frame_equal(serial, other, check_exact=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_twins_with_policies_keep_the_invariants(data: st.DataObject) -> None:
    """Replayed from the trace: the clock never goes back and every counted event is in it;
    busy units never exceed capacity and no unit is repaired while up; stock never goes
    negative and every delivery was ordered; entities leave at most once, and never before
    they arrived; a rule fires only while armed (once per action, re-armed when it ends)."""
    spec = data.draw(policies(data.draw(twins())))
    try:
        twin = parse_twin(spec)
    except SpecError:
        assume(False)
    rep = simulate(twin, 3, 0, trace=True)
    times = [t for t, *_ in rep.trace]
    assert all(a <= b for a, b in pairwise(times)) and max(times, default=0) <= twin.horizon
    assert rep.events == sum(k not in ("leave", "grant", "by", "supplier") for _, k, _, _ in rep.trace)
    capacity = {r.name: r.capacity for r in twin.resources}
    needs = unit_needs(twin, rep.trace)
    consumes = {a.name: a.consumes for a in twin.activities}
    held = dict.fromkeys(capacity, 0)
    down: dict[tuple[str, int], int] = defaultdict(int)
    stock = {m.name: m.initial for m in twin.materials}
    ordered: dict[str, list[int]] = defaultdict(list)
    arrived: set[int] = set()
    left: set[int] = set()
    for i, (t, kind, subject, name) in enumerate(rep.trace):
        if kind == "start":
            for pool, n in needs[i].items():
                held[pool] += n
                assert held[pool] <= capacity[pool]
            for material, n in consumes[name].items():
                stock[material] -= n
                assert stock[material] >= 0, f"{material} below 0 at {t}"
        elif kind == "end":
            for pool, n in needs[i].items():
                held[pool] -= n
        elif kind == "failure":
            down[(name, subject)] += 1
        elif kind == "repair":
            assert down[(name, subject)] > 0, f"{name} unit {subject} repaired while up at {t}"
            down[(name, subject)] -= 1
        elif kind == "order":
            ordered[name].append(subject)
        elif kind == "delivery":
            assert subject in ordered[name], f"delivery of {subject} {name} never ordered"
            ordered[name].remove(subject)
            stock[name] += subject
        elif kind == "arrival":
            arrived.add(subject)
        elif kind == "leave":
            assert subject in arrived and subject not in left
            left.add(subject)
    for i, rule in enumerate(twin.contingency):
        own = [t for t, k, s, _ in rep.trace if k == "contingency" and s == i]
        assert rule.max_activations is None or len(own) <= rule.max_activations
        action = rule.action.overtime or rule.action.reroute
        busy = rule.delay + (action.duration if action is not None else 0.0)  # disarmed at least this long
        gaps = [b - a for a, b in pairwise(own)]
        assert all(gap >= busy - 1e-9 * max(1.0, twin.horizon) for gap in gaps), (rule.name, gaps, busy)
