"""What happens to an operation beyond its routine: stress windows, contingency rules, costs.

Plain spec data (pydantic, unknown keys are errors), shared by both engines:

- a `Stress` is one fixed window [start, end) in which something is worse: a supplier is
  out, units of a pool are down or absent, a stream brings extra demand, units fail more
  often, lead times are longer. (Scenario files draw random windows per replication and
  hand the engines fixed ones.)
- a `Rule` watches one state (stock below a level, a queue above a length, units of a pool
  down for a while) and, when it holds while the rule is armed, fires: after `delay` it
  takes its action (a backup order, overtime, rerouting work). It re-arms when the action
  is over and fires again at once if its condition still holds.
- `Costs` price what a replication did after the warm-up: staff time, overtime, repairs,
  holding stock, stockouts, buffer places, late work and contingency activations (`twin.costs`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from twin.distributions import Dist, NonNegativeFloat, Positive

Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)]
STRESS_TARGETS = {  # what a stress kind acts on
    "supplier_outage": "materials", "lead_time": "materials",
    "equipment_down": "resources", "staff_absence": "resources", "failure_rate": "resources",
    "demand_surge": "arrivals",
}
NEEDS_FACTOR = ("demand_surge", "failure_rate", "lead_time")
NEEDS_UNITS = ("equipment_down", "staff_absence")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stress(_Spec):
    """One window [start, end) of a stress (see STRESS_TARGETS for what `target` names).

    supplier_outage: deliveries due in the window arrive at its end. equipment_down: units
    0..units-1 of the pool are failed in the window (their jobs are interrupted and resume
    afterwards). staff_absence: `units` fewer on duty (a busy unit finishes its job first).
    demand_surge: extra Poisson arrivals at (factor - 1) x the stream's rate. failure_rate:
    uptimes that begin in the window are `factor` times shorter. lead_time: orders placed
    in the window take `factor` times longer.
    """

    name: Name
    kind: Literal["supplier_outage", "equipment_down", "staff_absence", "demand_surge",
                  "failure_rate", "lead_time"]
    target: Name
    start: NonNegativeFloat
    end: Positive
    units: PositiveInt | None = None  # equipment_down, staff_absence; default: every unit
    factor: Positive | None = None  # demand_surge (> 1), failure_rate, lead_time
    # demand_surge: the classes of its extra arrivals (default: the stream's)
    classes: dict[Name, Annotated[float, Field(ge=0, le=1)]] | None = None
    # supplier_outage, lead_time: one of the material's `suppliers` (default: all of them)
    supplier: Name | None = None

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict:  # type: ignore[type-arg]
        data: dict = handler(self)  # type: ignore[type-arg]
        for key in ("classes", "supplier"):  # older specs keep their shape (and hash)
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Stress:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:g}) must be after start ({self.start:g})")
        if (self.factor is None) == (self.kind in NEEDS_FACTOR):
            raise ValueError(f"factor is {'required' if self.kind in NEEDS_FACTOR else 'not used'} "
                             f"for {self.kind}")
        if self.units is not None and self.kind not in NEEDS_UNITS:
            raise ValueError(f"units is not used for {self.kind}")
        if self.classes is not None and (self.kind != "demand_surge" or not self.classes
                                         or abs(sum(self.classes.values()) - 1.0) > 1e-9):
            raise ValueError("classes: the class probabilities of a demand_surge's extra arrivals, "
                             "summing to 1 (only for demand_surge)")
        if self.supplier is not None and self.kind not in ("supplier_outage", "lead_time"):
            raise ValueError("supplier is only for supplier_outage and lead_time")
        if self.kind == "demand_surge" and self.factor is not None and self.factor <= 1:
            raise ValueError("a demand_surge factor must exceed 1 (2 doubles the arrival rate)")
        return self


class StockBelow(_Spec):
    stock: Name
    below: PositiveInt


class QueueAbove(_Spec):
    queue: Name  # an activity: entities waiting there
    above: Annotated[int, Field(ge=0)]


class UnitsDown(_Spec):
    down: Name  # a pool with failures
    units: PositiveInt = 1
    for_: Annotated[float, Field(ge=0, allow_inf_nan=False, alias="for")]

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class BackupOrder(_Spec):
    material: Name
    quantity: PositiveInt
    lead_time: Dist  # drawn on stream `contingency.<rule>.lead_time`; no disruptions
    unit_cost: NonNegativeFloat = 0.0


class Overtime(_Spec):
    pool: Name  # off-shift units come on duty, up to the pool's capacity
    units: PositiveInt
    duration: Positive


class Reroute(_Spec):
    from_: Annotated[Name, Field(alias="from")]
    to: Name
    duration: Positive

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class Switch(_Spec):
    """For `duration`, the material's orders go to this one of its `suppliers` (a backup, say),
    whatever the primary's state or the shares."""

    material: Name
    supplier: Name
    duration: Positive


class Action(_Spec):
    """Exactly one of `order`, `overtime`, `reroute` or `switch`."""

    order: BackupOrder | None = None
    overtime: Overtime | None = None
    reroute: Reroute | None = None
    switch: Switch | None = None

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict:  # type: ignore[type-arg]
        data: dict = handler(self)  # type: ignore[type-arg]
        if self.switch is None:  # older specs keep their shape (and hash)
            data.pop("switch", None)
        return data

    @model_validator(mode="after")
    def _one(self) -> Action:
        if sum(x is not None for x in (self.order, self.overtime, self.reroute, self.switch)) != 1:
            raise ValueError("give exactly one of order, overtime, reroute or switch")
        return self

    @property
    def kind(self) -> str:
        return ("order" if self.order else "overtime" if self.overtime else "reroute" if self.reroute
                else "switch")


class Rule(_Spec):
    name: Name
    when: StockBelow | QueueAbove | UnitsDown
    delay: NonNegativeFloat = 0.0  # from firing to the action taking effect
    action: Action
    cost: NonNegativeFloat = 0.0  # per activation
    max_activations: PositiveInt | None = None

    @property
    def trigger(self) -> str:
        return {StockBelow: "stock", QueueAbove: "queue", UnitsDown: "down"}[type(self.when)]


class PoolCost(_Spec):
    per_time: NonNegativeFloat = 0.0  # per unit on duty per time unit
    overtime_per_time: NonNegativeFloat = 0.0  # extra per unit on overtime per time unit
    per_repair: NonNegativeFloat = 0.0


class MaterialCost(_Spec):
    holding: NonNegativeFloat = 0.0  # per unit on hand per time unit
    per_stockout: NonNegativeFloat = 0.0  # per request not served from stock on arrival
    per_order: NonNegativeFloat = 0.0  # per replenishment order placed (freight, handling)


class StepCost(_Spec):
    per_place: NonNegativeFloat = 0.0  # per waiting place (the step's queue_capacity) per time unit


class Costs(_Spec):
    resources: dict[Name, PoolCost] = {}
    materials: dict[Name, MaterialCost] = {}
    activities: dict[Name, StepCost] = {}  # a buffer's places: floor space, racks, pallets
    per_late: NonNegativeFloat = 0.0  # per entity leaving after its due time
    per_late_class: dict[Name, NonNegativeFloat] = {}  # a class's own cost of lateness (else per_late)
    currency: Annotated[str, Field(max_length=12)] = ""

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not data.get("activities"):  # unset: older hashes kept
            data.pop("activities", None)
        return data
