"""Supply vocabulary: periodic review, lost sales (several suppliers and closures below).

Spec checks name the field and the reason; engine checks run both engines on small twins
with constant times, where what must happen can be read off the trace.
"""

from __future__ import annotations

from typing import Any

import pytest

from twin import SpecError, loads_twin, parse_twin, simulate
from twin.engine_fast import simulate_fast

ENGINES = [simulate, simulate_fast]
BASE = """
name: supply
horizon: 60
arrivals: [{name: d, interarrival: 1, route: pick}]
activities: [{name: pick, duration: 0.25, consumes: {m: 1}, resources: {c: 1}}]
resources: [{name: c, capacity: 1}]
"""


def twin_with(material: str) -> Any:
    return loads_twin(BASE + "materials:\n  - " + material)


def rows(trace: list[tuple[float, str, int, str]], kind: str) -> list[tuple[float, int]]:
    return [(t, who) for t, k, who, _ in trace if k == kind]


# -- periodic review ------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_periodic_review_orders_up_to_the_level_at_each_review(engine: Any) -> None:
    twin = twin_with("{name: m, initial: 10, reorder: {review: 5, up_to: 12, first_review: 0.5}, "
                     "supplier: {lead_time: 2}}")
    trace = engine(twin, 1, 0, trace=True).trace
    orders = rows(trace, "order")
    assert [t for t, _ in orders] == [0.5 + 5 * k for k in range(12)]  # every review finds the position low
    assert orders[0] == (0.5, 2)  # 10 on hand at 0.5 (the first demand comes at 1): up to 12
    assert all(q == 5 for _, q in orders[1:])  # five demands between reviews


@pytest.mark.parametrize("engine", ENGINES)
def test_periodic_review_with_a_point_orders_only_at_or_below_it(engine: Any) -> None:
    twin = twin_with("{name: m, initial: 12, reorder: {review: 5, point: 4, up_to: 12}, "
                     "supplier: {lead_time: 2}}")
    orders = rows(engine(twin, 1, 0, trace=True).trace, "order")
    # at 5 the position is 8 (> 4): no order; at 10 (before that instant's demand) it is 3, at 20 it is 2
    assert orders[:2] == [(10.0, 9), (20.0, 10)]


# -- lost sales -------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_a_lost_sale_leaves_unserved_and_keeps_the_position(engine: Any) -> None:
    twin = twin_with("{name: m, initial: 2, shortage: lose, reorder: {point: 1, up_to: 2}, "
                     "supplier: {lead_time: 3.5}}")
    rep = engine(twin, 1, 0, trace=True)
    lost = {who for _, who in rows(rep.trace, "lost_sale")}
    started = {who for _, who in rows(rep.trace, "start")}
    assert lost and not lost & started
    ordered = sum(q for _, q in rows(rep.trace, "order"))
    assert ordered == len(started)  # base stock: one unit ordered per sale, none per lost sale
    record = rep.record
    assert record["materials.m.lost_sales"] == pytest.approx(len(lost) / (len(lost) + len(started)))
    unfinished = sum(1 for t, _ in rows(rep.trace, "start") if t > 59.75)
    assert round(record["throughput"] * 60) == len(started) - unfinished  # lost sales complete nothing
    assert record["resources.c.utilization"] == pytest.approx(0.25 * len(started) / 60, rel=0.05)


def test_lost_sales_is_a_kpi_of_lose_materials_only() -> None:
    twin = twin_with("{name: m, initial: 2, reorder: {point: 1, up_to: 2}, supplier: {lead_time: 3.5}}")
    rep = simulate(twin, 1, 0)
    assert "materials.m.lost_sales" not in rep.record


# -- the spec ---------------------------------------------------------------------------
@pytest.mark.parametrize("material, path, reason", [
    ("{name: m, initial: 1, reorder: {review: 5, point: 1, quantity: 3}, supplier: {lead_time: 1}}",
     "materials[m].reorder", "give up_to, not quantity"),
    ("{name: m, initial: 1, reorder: {point: 1, up_to: 5, first_review: 2}, supplier: {lead_time: 1}}",
     "materials[m].reorder", "first_review needs review"),
    ("{name: m, initial: 1, reorder: {up_to: 5}, supplier: {lead_time: 1}}",
     "materials[m].reorder", "continuous review needs point"),
    ("{name: m, initial: 1, reorder: {review: 5, point: 6, up_to: 5}, supplier: {lead_time: 1}}",
     "materials[m].reorder", "up_to (5) must exceed point (6)"),
    ("{name: m, initial: 1, reorder: {review: 0, up_to: 5}, supplier: {lead_time: 1}}",
     "materials[m].reorder.review", "greater than 0"),
    ("{name: m, initial: 1, shortage: never}", "materials[m].shortage", "'backorder' or 'lose'"),
])
def test_bad_supply_fields_are_named(material: str, path: str, reason: str) -> None:
    with pytest.raises(SpecError) as caught:
        twin_with(material)
    assert any(p == path and reason in r for p, r in caught.value.problems), caught.value.problems


def test_new_fields_are_kept_and_old_shapes_unchanged() -> None:
    old = twin_with("{name: m, initial: 2, reorder: {point: 1, up_to: 2}, supplier: {lead_time: 3.5}}")
    dumped = old.model_dump(mode="json")["materials"][0]
    assert "shortage" not in dumped and set(dumped["reorder"]) == {"point", "up_to", "quantity"}
    new = twin_with("{name: m, initial: 2, shortage: lose, reorder: {review: 4, up_to: 9, first_review: 1}, "
                    "supplier: {lead_time: 3.5}}")
    data = new.model_dump(mode="json")
    assert data["materials"][0]["shortage"] == "lose"
    reorder = {"up_to": 9, "quantity": None, "review": 4.0, "first_review": 1.0}
    assert data["materials"][0]["reorder"] == reorder
    assert parse_twin(data) == new


# -- several suppliers ------------------------------------------------------------------
SEVERAL = """{name: m, initial: 3, reorder: {point: 2, up_to: 3},
     suppliers: [{name: main, lead_time: 5}, {name: backup, lead_time: 1}]}"""
FREE = BASE.replace(", resources: {c: 1}", "")  # every demand asks for stock when it comes


def free_twin(material: str) -> Any:
    return loads_twin(FREE + "materials:\n  - " + material)


@pytest.mark.parametrize("engine", ENGINES)
def test_orders_go_to_the_backup_while_the_primary_is_out(engine: Any) -> None:
    data = free_twin(SEVERAL).model_dump(mode="json")
    data["stresses"] = [{"name": "out", "kind": "supplier_outage", "target": "m", "supplier": "main",
                         "start": 20, "end": 40}]
    rep = engine(parse_twin(data), 1, 0, trace=True)
    chosen = [(t, name) for t, kind, _, name in rep.trace if kind == "supplier"]
    assert {name for t, name in chosen if 20 <= t < 40} == {"backup"}
    assert {name for t, name in chosen if t < 20 or t >= 40} == {"main"}
    share = rep.record["materials.m.suppliers.backup.orders"]
    assert share == pytest.approx(sum(1 for _, n in chosen if n == "backup") / len(chosen))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_switch_rule_sends_orders_to_the_backup_for_a_while(engine: Any) -> None:
    data = free_twin(SEVERAL).model_dump(mode="json")
    data["contingency"] = [{"name": "go-backup", "when": {"stock": "m", "below": 1},
                            "action": {"switch": {"material": "m", "supplier": "backup", "duration": 10}}}]
    rep = engine(parse_twin(data), 1, 0, trace=True)
    fired = [t for t, kind, _, _ in rep.trace if kind == "contingency"]
    chosen = [(t, name) for t, kind, _, name in rep.trace if kind == "supplier"]
    assert fired and all(name == "backup" for t, name in chosen if any(f < t < f + 10 for f in fired))
    assert any(name == "main" for _, name in chosen)


def test_a_split_by_share_draws_each_order() -> None:
    material = ("{name: m, initial: 3, reorder: {point: 2, up_to: 3}, suppliers: "
                "[{name: a, lead_time: 1, share: 0.25}, {name: b, lead_time: 1, share: 0.75}]}")
    twin = loads_twin(BASE.replace("horizon: 60", "horizon: 4000") + "materials:\n  - " + material)
    record = simulate_fast(twin, 3, 0).record
    assert record["materials.m.suppliers.a.orders"] == pytest.approx(0.25, abs=0.03)
    assert record["materials.m.suppliers.a.orders"] + record["materials.m.suppliers.b.orders"] == 1.0


@pytest.mark.parametrize("material, extra, path, reason", [
    ("{name: m, initial: 1, reorder: {point: 1, up_to: 5}, supplier: {lead_time: 1}, "
     "suppliers: [{name: a, lead_time: 1}]}", "", "materials[m]", "not both"),
    ("{name: m, initial: 1, reorder: {point: 1, up_to: 5}, suppliers: [{name: a, lead_time: 1, share: 0.5}, "
     "{name: b, lead_time: 1}]}", "", "materials[m]", "to every supplier"),
    ("{name: m, initial: 1, reorder: {point: 1, up_to: 5}, suppliers: [{name: a, lead_time: 1, share: 0.5}, "
     "{name: b, lead_time: 1, share: 0.4}]}", "", "materials[m]", "shares sum to 0.9"),
    ("{name: m, initial: 1, reorder: {point: 1, up_to: 5}, suppliers: [{name: a, lead_time: 1}, "
     "{name: a, lead_time: 2}]}", "", "materials[m]", "same name"),
    (SEVERAL, "stresses: [{name: s, kind: supplier_outage, target: m, supplier: spare, start: 1, end: 2}]",
     "stresses[s].supplier", "no supplier named 'spare'"),
    (SEVERAL, "stresses: [{name: s, kind: staff_absence, target: c, supplier: main, start: 1, end: 2}]",
     "stresses[s]", "only for supplier_outage and lead_time"),
    (SEVERAL, "contingency: [{name: r, when: {stock: m, below: 1}, action: {switch: {material: m, "
     "supplier: spare, duration: 3}}}]", "contingency[r].action.switch.supplier",
     "no supplier named 'spare'"),
])
def test_bad_supplier_fields_are_named(material: str, extra: str, path: str, reason: str) -> None:
    with pytest.raises(SpecError) as caught:
        loads_twin(BASE + "materials:\n  - " + material + "\n" + extra)
    assert any(p == path and reason in r for p, r in caught.value.problems), caught.value.problems
