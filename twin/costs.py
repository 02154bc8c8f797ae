"""The `cost` KPI: a replication's record priced by the twin's `costs` (twin.policies).

Costs cover [warmup, horizon], like every KPI; rates are per time unit of the twin. Every
part but `buffers` prices what the record counts; `buffers` prices the places a step's
`queue_capacity` provides, whether used or not (it is the same in every replication). Both
engines call `add_costs` on the same record, so their costs agree to the last bit.
"""

from __future__ import annotations

from twin.spec import Twin

COST_PARTS = ("labour", "overtime", "repairs", "holding", "stockouts", "late", "contingency", "buffers",
              "ordering")
POOL_INPUTS = ("on_duty", "overtime", "repairs")  # resources.P.<input>, recorded with `costs`


def add_costs(twin: Twin, record: dict[str, float]) -> None:
    """Add `cost` and `cost.<part>` for each of COST_PARTS to `record` (in place)."""
    costs = twin.costs
    assert costs is not None
    span = twin.horizon - twin.warmup
    parts = dict.fromkeys(COST_PARTS, 0.0)
    for pool, price in costs.resources.items():
        parts["labour"] += price.per_time * record[f"resources.{pool}.on_duty"] * span
        parts["overtime"] += price.overtime_per_time * record[f"resources.{pool}.overtime"] * span
        parts["repairs"] += price.per_repair * record[f"resources.{pool}.repairs"]
    for material, stock in costs.materials.items():
        parts["holding"] += stock.holding * record[f"materials.{material}.inventory"] * span
        parts["stockouts"] += stock.per_stockout * record[f"materials.{material}.stockouts"]
        parts["ordering"] += stock.per_order * record[f"materials.{material}.orders"]
    for step, place in costs.activities.items():  # places the spec gives, used or not
        parts["buffers"] += place.per_place * (twin.activity(step).queue_capacity or 0) * span
    if costs.per_late_class:  # each class at its own price (per_late for the others)
        parts["late"] = sum(costs.per_late_class.get(c, costs.per_late) * record.get(f"classes.{c}.late", 0.0)
                            for c in twin.classes)
    else:
        parts["late"] = costs.per_late * record.get("late", 0.0)
    for rule in twin.contingency:
        order = rule.action.order
        each = rule.cost + (order.quantity * order.unit_cost if order else 0.0)
        parts["contingency"] += each * record[f"contingency.{rule.name}.activations"]
    record["cost"] = sum(parts.values())
    record |= {f"cost.{part}": value for part, value in parts.items()}
