"""The state of an operation at a moment: where a live twin starts from (DESIGN.md).

    {"time": 0, "clock": "2012-02-20T08:00:00",
     "entities": [{"activity": "serve", "state": "waiting", "since": -2.5},
                  {"activity": "serve", "state": "in_service", "since": -6.0, "class": "urgent"},
                  {"state": "between", "after": "cut", "since": -1.0, "case": "Case7"}],
     "down": {"press": 1},
     "stock": {"blanks": 40},
     "orders": [{"material": "blanks", "quantity": 200, "due": 30}],
     "delays": ["wait_serve"], "arrivals": {"jobs": 0.8}, "pace": {"wait_serve": 0.5}}

Times are model time in the twin's unit; `time` is now and `since` is when an entity began
to wait or its service began (at or before `time`). `clock` is the calendar time of `time`,
so the twin's calendars line up. An entity `between` steps has finished `after` and is yet
to be routed on (a log shows no step for it at `time`). `history` is its route so far, `due`
its due date where known, `arrived` when it entered the operation. `down` counts units of a
pool out of action now (`down_since`: when each went down), `stock` what is on hand, `orders`
what is on its way. `delays` names the steps that run unseen between the steps a log shows
(a calibrated twin's `wait_` steps): an entity between steps may be in one already, since
`since` (twin.starting). `arrivals` sets the level each named stream arrives at from now on, as
a factor of the twin's rate (the recent level the log shows, calibration.state). `pace` sets
how long each named step takes from now on, as a factor of the twin's durations (0.5: twice as
fast; the recent pace the log shows, calibration.state): an entity in service there has what is
left of the scaled duration.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    ValidationError,
    model_validator,
)

from twin.errors import SpecError, from_validation_error
from twin.spec import Twin

Factor = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Entity(_State):
    state: Literal["waiting", "in_service", "between"]
    activity: str | None = None  # where it waits or is served (None: between steps)
    since: float
    after: str | None = None  # the step it finished last (between steps: required)
    class_: str | None = Field(default=None, alias="class")
    case: str | None = None  # the case id in the operation's own records
    resource: str | None = None  # the unit serving it, as the records name it
    due: float | None = None
    arrived: float | None = None  # when it entered the operation (its case's first record)
    history: list[str] = []

    @model_validator(mode="after")
    def _where(self) -> Entity:
        if self.state == "between" and self.after is None:
            raise ValueError("an entity between steps needs after (the step it finished last)")
        if self.state != "between" and self.activity is None:
            raise ValueError(f"an entity {self.state.replace('_', ' ')} needs its activity")
        if self.arrived is not None and self.arrived > self.since:
            raise ValueError("arrived must be at or before since")
        return self


class Order(_State):
    material: str
    quantity: Annotated[float, Field(gt=0)]
    due: float  # when it arrives (model time)
    supplier: str | None = None


class State(_State):
    time: float = 0.0
    clock: datetime | None = None
    entities: list[Entity] = []
    down: dict[str, NonNegativeInt] = {}
    down_since: dict[str, list[float]] = {}
    stock: dict[str, NonNegativeFloat] = {}
    orders: list[Order] = []
    delays: list[str] = []  # steps a log does not show: a case between steps may be in one
    arrivals: dict[str, PositiveFloat] = {}  # a stream's level from now on, times the twin's rate
    pace: dict[str, Factor] = {}  # a step's durations from now on, times the twin's

    @model_validator(mode="after")
    def _in_the_past(self) -> State:
        late = [i for i, e in enumerate(self.entities) if e.since > self.time]
        if late:
            raise ValueError(
                f"entities {late[:5]} began after time ({self.time:g}): since must be at or before it"
            )
        return self

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"time": self.time}


def check_state(state: State, twin: Twin) -> list[tuple[str, str]]:
    """Every reference of `state` that `twin` does not have, as (field path, reason)."""
    activities = {a.name for a in twin.activities}
    pools = {r.name: r for r in twin.resources}
    materials = {m.name for m in twin.materials}
    problems = []
    for i, e in enumerate(state.entities):
        for field, name in (("activity", e.activity), ("after", e.after)):
            if name is not None and name not in activities:
                problems.append((f"entities[{i}].{field}", f"no activity named '{name}'"))
        if e.class_ is not None and twin.classes and e.class_ not in twin.classes:
            problems.append(
                (f"entities[{i}].class", f"no class named '{e.class_}' ({', '.join(twin.classes)})")
            )
    problems += [(f"delays.{name}", f"no activity named '{name}'") for name in state.delays
                 if name not in activities]
    problems += [(f"pace.{name}", f"no activity named '{name}'") for name in state.pace
                 if name not in activities]
    for pool, units in state.down.items():
        if pool not in pools:
            problems.append((f"down.{pool}", f"no resource named '{pool}'"))
        elif units > pools[pool].capacity:
            problems.append((f"down.{pool}", f"{units} down of a pool of {pools[pool].capacity}"))
    problems += [(f"stock.{m}", f"no material named '{m}'") for m in state.stock if m not in materials]
    problems += [
        (f"orders[{i}].material", f"no material named '{o.material}'")
        for i, o in enumerate(state.orders)
        if o.material not in materials
    ]
    return problems


def load_state(path: str | Path, twin: Twin | None = None) -> State:
    """A state file, checked against `twin` where given; SpecError names every bad field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SpecError([("", f"cannot read a state: {error}")], str(path)) from None
    try:
        state = State.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data, str(path)) from None
    problems = check_state(state, twin) if twin is not None else []
    if problems:
        raise SpecError(problems, str(path))
    return state
