"""Where a replication starts when it starts from a state (twin.state) instead of empty.

`begin(twin, state)` gives the twin to run from now on (its clock starts at the state's
time, no warm-up, the stock on hand as initial stock, arrivals at the state's levels, steps at
its pace) and the `Start` both engines take: the state's entities in the order they are put
back at t = 0, each as one row of floats (`ROW`). The order is: in service first (they hold
their units again), then waiting in order of `since` (the queue's order), then between
steps. Entities keep these numbers
(1, 2, ...); arrivals number on from there. An in-service entity's remaining duration is
drawn per replication, conditioned on the time it has already run (twin.remaining), from
its own named stream, so the two engines start from the same numbers.

Reference semantics (both engines): a waiting entity's wait counts from `since`, its
patience (if any) starts afresh now; an in-service entity takes its units again, consumes
no material and takes no set-up, and holds for its remaining duration (working time where
the step keeps working hours); an entity between steps is routed on from `after` as one
still open (the exit left out of its branches, the others renormalised: `Step.choose_open`),
its next wait counting from `since`. Cycle times count from `arrived` (else from `since`).

Steps the state names as `delays` (a calibrated twin's `wait_<activity>` steps: time between
the steps a log shows that is not queueing in the twin) run unseen: a case between steps that
goes on to one has been in it since `since`. Such an entity is routed per replication here,
from its own named stream (`ONWARD_SOURCE`): each branch out of `after` but the exit weighed
by how likely it is to be still under way after the time already waited (a delay's survival
at it; a step with units: 1, only queueing could hold it up), the entity then in service at
the delay chosen with what is left of it (drawn as an in-service entity's), or waiting at the
step chosen since `since`. Where no branch could have lasted that long (the twin has seen no
wait that long), the branches keep their own weights and the delay chosen starts afresh.
Elapsed times at a step with working hours count in its working time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from twin import streams
from twin.calendar import UNITS_PER_HOUR, site_zone
from twin.distributions import Exponential, scaled
from twin.errors import SpecError
from twin.remaining import Residual
from twin.spec import Twin, WeeklyRates
from twin.state import State, check_state

# One row per entity: kind, activity index, class index, since, born, due (nan: none),
# remaining duration (nan: not in service); times relative to now (t = 0). Then one float
# per unit of the twin (pools in order, units in order): the repair time left of a unit
# down now (nan: up); then one ORDER row per open order: material, its supplier (index
# among the material's), quantity, lead time left.
KIND, STEP, CLASS, SINCE, BORN, DUE, REMAINING, ROW = range(8)
WAITING, SERVING, BETWEEN = 0, 1, 2
MATERIAL, SUPPLIER, QUANTITY, LEAD, ORDER = range(5)
STATE_SOURCE = "state.remaining"  # the stream of the in-service entities' remaining durations
REPAIR_SOURCE = "state.repair"  # the stream of the down units' remaining repairs
ONWARD_SOURCE = "state.onward"  # the stream routing the entities between steps that may be in a delay


@dataclass(frozen=True)
class Onward:
    """Where the entity of start row `row`, between steps, may be now: per branch its step
    index, kind (SERVING: in a delay; WAITING: at a step with units), cumulative weight, and
    what is left of the delay (None at a step with units)."""

    row: int
    steps: list[int]
    kinds: list[int]
    cumulative: list[float]
    left: list[Residual | None]

    def draw(self, rows: np.ndarray, rng: np.random.Generator) -> None:
        x = float(rng.random()) * self.cumulative[-1]
        k = next((i for i, c in enumerate(self.cumulative) if x < c), len(self.cumulative) - 1)
        rows[self.row, KIND], rows[self.row, STEP] = self.kinds[k], self.steps[k]
        left = self.left[k]
        if left is not None:
            rows[self.row, REMAINING] = left.draw(rng)


@dataclass(frozen=True)
class Start:
    """A state resolved against a twin: `rows` (one per entity, in start order), `order[k]`
    the index in the state's `entities` of the entity numbered k + 1, and per in-service
    row and down unit what is left of its duration or repair (`Residual`)."""

    rows: np.ndarray
    order: list[int]
    serving: list[tuple[int, Residual]] = field(default_factory=list)
    units: int = 0  # how many units the twin has
    down: list[tuple[int, Residual]] = field(default_factory=list)  # (unit, repair time left)
    orders: np.ndarray = field(default_factory=lambda: np.zeros((0, ORDER)))
    onward: list[Onward] = field(default_factory=list)  # rows between steps that may be in a delay

    def __len__(self) -> int:
        return len(self.order)

    @property
    def empty(self) -> bool:
        """Nothing to start from: an empty start."""
        return not len(self.order) and not self.down and not len(self.orders)

    def draw(self, seed: int, replication: int) -> np.ndarray:
        """What replication `replication` starts from, flat (see ROW, ORDER), with the remaining
        durations and repairs drawn."""
        rows = self.rows.copy()
        if self.serving:
            rng = streams.stream(seed, replication, STATE_SOURCE)
            for row, left in self.serving:
                rows[row, REMAINING] = left.draw(rng)
        if self.onward:
            rng = streams.stream(seed, replication, ONWARD_SOURCE)
            for where in self.onward:
                where.draw(rows, rng)
        units = np.full(self.units, math.nan)
        if self.down:
            rng = streams.stream(seed, replication, REPAIR_SOURCE)
            for unit, left in self.down:
                units[unit] = left.draw(rng)
        return np.concatenate([rows.reshape(-1), units, self.orders.reshape(-1)])


def begin(twin: Twin, state: State) -> tuple[Twin, Start]:
    """The twin that runs from the state's time on, and where its replications start."""
    problems = check_state(state, twin) + _unsupported(twin, state)
    if problems:
        raise SpecError(problems, "state")
    start = wall_clock(state.clock, twin.timezone) if state.clock is not None else (
        twin.start + timedelta(hours=state.time / UNITS_PER_HOUR[twin.time_unit]))
    materials = [m.model_copy(update={"initial": round(state.stock[m.name])}) if m.name in state.stock
                 else m for m in twin.materials]
    arrivals = [a.model_copy(update=_scaled(a, state.arrivals[a.name])) if a.name in state.arrivals else a
                for a in twin.arrivals]
    activities = [_paced(a, state.pace[a.name]) if a.name in state.pace else a for a in twin.activities]
    now_twin = twin.model_copy(update={"start": start, "warmup": 0.0, "materials": materials,
                                       "arrivals": arrivals, "activities": activities})
    return now_twin, resolve(now_twin, state)


def wall_clock(clock: datetime, zone: str | None) -> datetime:
    """A state's clock as the twin's wall time: one with an offset is read in the twin's zone
    (14:00Z is 15:00 in Europe/Amsterdam in winter); without a zone, or an offset, as written."""
    if clock.tzinfo is None or zone is None:
        return clock.replace(tzinfo=None)
    return clock.astimezone(site_zone(zone)).replace(tzinfo=None)


def _scaled(arrival: Any, level: float) -> dict[str, Any]:
    """An arrival stream's fields at `level` times its rate (State.arrivals)."""
    if arrival.rate_profile is not None:
        rates = [r * level for r in arrival.rate_profile.hourly()]
        return {"rate_profile": WeeklyRates(per_hour=rates)}
    return {"interarrival": Exponential(mean=arrival.interarrival.mean / level)}  # _unsupported


def _paced(activity: Any, factor: float) -> Any:
    """An activity whose durations (its own, per class and per pool) take `factor` times as long
    (State.pace); its set-ups and patience as they were."""
    if factor == 1.0:
        return activity
    return activity.model_copy(update={
        "duration": scaled(activity.duration, factor),
        "durations": {k: scaled(v, factor) for k, v in activity.durations.items()},
        "class_durations": {k: scaled(v, factor) for k, v in activity.class_durations.items()}})


def _down(twin: Twin, state: State) -> list[tuple[int, Residual]]:
    """(unit, the repair time it has left) of each unit down now: a pool's first units."""
    out, first = [], 0
    for pool in twin.resources:
        since = state.down_since.get(pool.name, [])
        for k in range(state.down.get(pool.name, 0)):
            assert pool.failures is not None  # _unsupported
            elapsed = state.time - since[k] if k < len(since) else 0.0
            out.append((first + k, Residual(pool.failures.repair, elapsed)))
        first += pool.capacity
    return out


def _orders(twin: Twin, state: State) -> np.ndarray:
    """The open orders as ORDER rows (lead time left from now; one overdue comes now)."""
    materials = {m.name: (i, [name for name, _ in m.sources]) for i, m in enumerate(twin.materials)}
    rows = [(materials[o.material][0],
             materials[o.material][1].index(o.supplier) if o.supplier is not None else 0,
             o.quantity, max(0.0, o.due - state.time)) for o in state.orders]
    return np.asarray(rows, float).reshape(-1, ORDER)


def _unsupported(twin: Twin, state: State) -> list[tuple[str, str]]:
    """What a state says that this twin cannot start from, as (field, reason)."""
    batch = {a.name for a in twin.activities if a.batch is not None}
    problems = [(f"entities[{i}].state", f"in service at '{e.activity}', a batch step: give the batch's "
                 "members as waiting, or as between steps once it is done")
                for i, e in enumerate(state.entities) if e.state == "in_service" and e.activity in batch]
    pools = {r.name: r for r in twin.resources}
    for name, units in state.down.items():
        if units and name in pools and pools[name].failures is None:
            problems.append((f"down.{name}", "the pool has no failures, so no repair time to finish: "
                             "give it failures (uptime, repair)"))
    for name, since in state.down_since.items():
        if len(since) > (down := state.down.get(name, 0)):
            problems.append((f"down_since.{name}", f"{len(since)} times for {down} units down"))
        if any(t > state.time for t in since):
            problems.append((f"down_since.{name}", "a unit went down after the state's time"))
    activities = {a.name: a for a in twin.activities}
    for name in state.delays:
        act = activities.get(name)
        if act is not None and (act.can_queue or act.batch is not None):
            problems.append((f"delays.{name}", "a delay takes no units, materials or batches: "
                             "work that waits for them is a step the log shows"))
    for name in state.arrivals:
        stream = next((a for a in twin.arrivals if a.name == name), None)
        if stream is None:
            problems.append((f"arrivals.{name}", "no arrival stream of that name"))
        elif stream.rate_profile is None and not isinstance(stream.interarrival, Exponential):
            problems.append((f"arrivals.{name}", "a level scales a rate profile or exponential "
                             "interarrivals (Poisson arrivals)"))
    materials = {m.name: m for m in twin.materials}
    for i, o in enumerate(state.orders):
        m = materials.get(o.material)
        if m is not None and not m.sources:
            problems.append((f"orders[{i}].material", f"'{o.material}' has no supplier: nothing is on order"))
        elif m is not None and o.supplier is not None and o.supplier not in [name for name, _ in m.sources]:
            problems.append((f"orders[{i}].supplier", f"'{o.material}' has no supplier named '{o.supplier}'"))
        if o.quantity != round(o.quantity):
            problems.append((f"orders[{i}].quantity", "a whole number of units"))
    return problems


def resolve(twin: Twin, state: State) -> Start:
    """The state's entities as start rows (see the module docstring for the order)."""
    activities = {a.name: (i, a) for i, a in enumerate(twin.activities)}
    classes = twin.classes
    kinds = {"in_service": SERVING, "waiting": WAITING, "between": BETWEEN}
    order = sorted(range(len(state.entities)),
                   key=lambda i: (kinds[state.entities[i].state] != SERVING,
                                  kinds[state.entities[i].state], state.entities[i].since))
    rows = np.full((len(order), ROW), math.nan)
    serving, onward, delays = [], [], set(state.delays)
    for k, i in enumerate(order):
        e = state.entities[i]
        kind = kinds[e.state]
        step, activity = activities[e.after if kind == BETWEEN else e.activity]  # type: ignore[index]
        klass = classes.index(e.class_) if e.class_ in classes else _default_class(twin, activity.name)
        rows[k, :REMAINING] = (kind, step, klass, e.since - state.time,
                               (e.arrived if e.arrived is not None else e.since) - state.time,
                               math.nan if e.due is None else e.due - state.time)
        if kind == SERVING:
            serving.append((k, Residual(_duration(activity, classes[klass], e.resource),
                                        _elapsed(twin, activity, e.since - state.time))))
        elif kind == BETWEEN and delays:
            where = _onward(twin, activities, delays, k, activity, classes[klass], e.since - state.time)
            if where is not None:
                onward.append(where)
    return Start(rows, order, serving, sum(r.capacity for r in twin.resources), _down(twin, state),
                 _orders(twin, state), onward)


def _elapsed(twin: Twin, activity: Any, since: float) -> float:
    """Time spent at `activity` from `since` (before now, t = 0) to now: working time where the
    step keeps working hours (the twin's clock starts now)."""
    hours = twin.working_time(activity)
    return -since if hours is None else hours.mass(since, 0.0)


def _onward(twin: Twin, activities: dict[str, tuple[int, Any]], delays: set[str], row: int, after: Any,
            klass: str, since: float) -> Onward | None:
    """The branches out of `after` of an entity between steps since `since`, weighed by the time
    it has waited (module docstring); None where none of them is a delay (the engines route it)."""
    branches = [(activities[name], p) for name, p in after.successors_of(klass).items() if name in activities]
    if not any(a.name in delays for (_, a), _ in branches):
        return None
    steps, kinds, weights, prior = [], [], [], []
    left: list[Residual | None] = []
    for (i, activity), p in branches:
        steps.append(i)
        prior.append(p)
        if activity.name in delays:
            residual = Residual(_duration(activity, klass), _elapsed(twin, activity, since))
            kinds.append(SERVING)
            left.append(residual)
            weights.append(p * residual.survival)
        else:
            kinds.append(WAITING)
            left.append(None)
            weights.append(p)
    if sum(weights) <= 0.0:  # waited longer than any branch allows: each delay starts afresh
        weights = prior
        left = [None if x is None else Residual(x.dist, 0.0) for x in left]
    return Onward(row, steps, kinds, np.cumsum(weights).tolist(), left)


def _duration(activity: Any, klass: str, resource: str | None = None) -> Any:
    """The duration a job at `activity` is drawn from: the pool's own where the state names the
    unit's (`resource`), else its class's, else the step's."""
    if resource is not None and resource in activity.durations:
        return activity.durations[resource]
    return activity.class_durations.get(klass) or activity.duration


def _default_class(twin: Twin, activity: str) -> int:
    """An entity of no stated class: the class of the first stream whose route starts at its
    activity, else the first stream's."""
    stream = next((a for a in twin.arrivals if a.route == activity), twin.arrivals[0])
    return twin.classes.index(stream.class_names[0])
