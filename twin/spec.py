"""The twin spec: typed plain data, validated once, with build-time wiring checks."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from twin.calendar import (
    DAYS,
    DEFAULT_START,
    HOURS_PER_WEEK,
    UNITS_PER_HOUR,
    RateProfile,
    WeeklyCalendar,
    build_calendar,
    build_rate_profile,
    build_working_time,
    hours_of_week,
    model_time,
    parse_clock,
    site_zone,
    weekly_times,
)
from twin.distributions import Dist, NonNegativeFloat, Positive
from twin.errors import SpecError
from twin.policies import STRESS_TARGETS, Costs, Rule, Stress
from twin.rules import LabourRules, breaches

EXIT = "exit"
Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)]
Probability = Annotated[float, Field(ge=0, le=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeeklyRates(_Spec):
    """Arrivals per hour by hour of the week (clock time), repeating weekly: `per_hour`, 168
    values from Monday 00:00, or `hours`, {"<days> HH:00-HH:00": rate} with days `mon`,
    `mon-fri`, `sat,sun` or `daily`; hours no entry covers have rate 0, overlaps add."""

    per_hour: list[NonNegativeFloat] | None = None
    hours: dict[str, NonNegativeFloat] | None = None

    @field_validator("per_hour")
    @classmethod
    def _week_long(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and len(value) != HOURS_PER_WEEK:
            raise ValueError(f"needs {HOURS_PER_WEEK} values (one per hour, Monday 00:00 first), "
                             f"got {len(value)}")
        return value

    @field_validator("hours")
    @classmethod
    def _keys(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for key in value or {}:
            parse_hours_key(key)
        return value

    @model_validator(mode="after")
    def _one_form(self) -> WeeklyRates:
        if (self.per_hour is None) == (self.hours is None):
            raise ValueError("give exactly one of per_hour (168 values) or hours")
        if not any(r > 0 for r in self.hourly()):
            raise ValueError("at least one hour of the week needs a positive rate")
        return self

    def hourly(self) -> list[float]:
        """The 168 arrivals-per-hour values, Monday 00:00 first."""
        if self.per_hour is not None:
            return list(self.per_hour)
        out = [0.0] * HOURS_PER_WEEK
        for key, rate in (self.hours or {}).items():
            days, begin, end = parse_hours_key(key)
            for slot in hours_of_week(days, begin, end):
                out[slot] += rate
        return out


class WorkingHours(WeeklyRates):
    """The share of each clock hour of the week that counts as working time, repeating
    weekly (0: closed, 1: open, between: work advances at that pace), as `per_hour` or
    `hours`. A step with `working_hours` measures its duration in working time: it
    pauses while closed and ends when that much working time has passed."""

    @model_validator(mode="after")
    def _shares(self) -> WorkingHours:
        if any(share > 1 for share in self.hourly()):
            raise ValueError("each hour's working share is at most 1 (one hour of work per clock hour)")
        return self


def parse_hours_key(key: str) -> tuple[list[str], float, float]:
    """'mon-fri 08:00-17:00' -> (days, 8, 17); whole hours only; end <= start: overnight."""
    parts = key.split()
    span = parts[1].split("-") if len(parts) == 2 else []
    if len(span) != 2:
        raise ValueError(f"'{key}': expected '<days> HH:00-HH:00', e.g. 'mon-fri 08:00-17:00'")
    begin, end = parse_clock(span[0]), parse_clock(span[1])
    if begin != int(begin) or end != int(end) or begin >= 24:
        raise ValueError(f"'{key}': rates are per whole hour: use HH:00 times, start before 24:00")
    return parse_days(parts[0], key), begin, end


def parse_days(text: str, key: str) -> list[str]:
    """'mon', 'mon-fri', 'sat,sun' or 'daily' -> day names (`key`: the entry, for errors)."""
    days: list[str] = []
    for item in text.lower().split(","):
        if item == "daily":
            days += DAYS
            continue
        ends = item.split("-")
        if len(ends) > 2 or any(d not in DAYS for d in ends):
            raise ValueError(f"'{key}': '{item}' is not a day (mon..sun), a range (mon-fri) or daily")
        first, last = DAYS.index(ends[0]), DAYS.index(ends[-1])
        days += [DAYS[(first + i) % 7] for i in range((last - first) % 7 + 1)]
    return days


class Arrival(_Spec):
    """Renewal arrivals (`interarrival`), or a weekly non-homogeneous Poisson process
    (`rate_profile`); exactly one is given, and only that one is serialized."""

    name: Name
    interarrival: Dist | None = None
    rate_profile: WeeklyRates | None = None
    route: Name
    due: Positive | None = None  # each entity is due this long after it arrives
    # Entity classes: each entity's class is drawn with these probabilities (stream
    # "arrival.<name>.class"); without them every entity is of one class named after the stream.
    classes: dict[Name, Probability] = {}
    class_due: dict[Name, Positive] = {}  # a class's own due allowance (overrides `due`)

    @field_validator("classes")
    @classmethod
    def _class_shares(cls, value: dict[str, float]) -> dict[str, float]:
        if value and not math.isclose(sum(value.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"class probabilities sum to {sum(value.values()):g}, not 1")
        return value

    @model_validator(mode="after")
    def _due_classes(self) -> Arrival:
        if stray := sorted(set(self.class_due) - set(self.class_names)):
            known = ", ".join(self.class_names)
            raise ValueError(f"class_due.{stray[0]}: not a class of this stream ({known})")
        return self

    @property
    def class_names(self) -> list[str]:
        """The classes this stream brings: `classes`, or one named after the stream."""
        return list(self.classes) or [self.name]

    def due_of(self, klass: str) -> float | None:
        return self.class_due.get(klass, self.due)

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        given = isinstance(data, dict) and [data.get(k) is not None for k in ("interarrival", "rate_profile")]
        if given and given[0] == given[1]:
            raise ValueError("give exactly one of interarrival or rate_profile")
        return data

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        data.pop("interarrival" if self.rate_profile is not None else "rate_profile", None)
        for key in ("due", "classes", "class_due"):  # older specs keep their shape (and hash)
            if not data.get(key):
                data.pop(key, None)
        return data


class Batch(_Spec):
    """Work waits at the step until `size` have gathered; the batch then takes the step's units
    once, takes one duration draw, and its members move on together, each on its own branch.
    With `timeout`, a partial batch of at least `min_size` leaves that long after its first
    member came (or, if it had fewer then, as soon as it has `min_size`)."""

    size: PositiveInt
    min_size: PositiveInt | None = None
    timeout: Positive | None = None

    @model_validator(mode="after")
    def _partial(self) -> Batch:
        if self.min_size is not None and self.timeout is None:
            raise ValueError("min_size needs timeout (a batch smaller than size leaves only after it)")
        if self.min_size is not None and self.min_size > self.size:
            raise ValueError(f"min_size ({self.min_size}) exceeds size ({self.size})")
        return self

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_empty(handler(self), ("min_size", "timeout"))

    @property
    def smallest(self) -> int:
        """The fewest members a batch leaves with (after its timeout)."""
        return self.min_size if self.min_size is not None else (1 if self.timeout is not None else self.size)


class Activity(_Spec):
    name: Name
    duration: Dist
    resources: dict[Name, PositiveInt] = {}
    # Skills: one unit of whichever of these pools can serve first (see twin.allocation);
    # `durations` gives a pool its own duration (the others take `duration`).
    one_of: list[Name] = []
    durations: dict[Name, Dist] = {}
    consumes: dict[Name, PositiveInt] = {}
    produces: dict[Name, PositiveInt] = {}  # stock added when the step ends (parts for a later step)
    next: dict[str, Probability] = {}  # omitted: leave the system
    working_hours: WorkingHours | None = None  # duration in working time (see WorkingHours)
    # Classes (see twin.queueing): per-class durations and branches, priority levels,
    # patience (reneging), a finite waiting room and balking, and where those who leave go.
    class_durations: dict[Name, Dist] = {}
    class_next: dict[Name, dict[str, Probability]] = {}
    priority: dict[Name, NonNegativeInt] = {}
    preempt: bool = False
    patience: Dist | None = None
    class_patience: dict[Name, Dist] = {}
    abandon_to: Name | None = None
    queue_capacity: NonNegativeInt | None = None
    when_full: Literal["lose", "block"] = "lose"  # block: work ahead waits where it is, holding its units
    join: list[Probability] = []
    lost_to: Name | None = None
    batch: Batch | None = None
    # Set-ups: when a unit it takes last served another class, the job first takes a set-up
    # (the class's own, else `setup`), inside its hold.
    setup: Dist | None = None
    class_setups: dict[Name, Dist] = {}

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in OPTIONAL_ACTIVITY_KEYS:  # older specs keep their shape (and hash)
            value = data.get(key)
            if value is None or value is False or value == {} or value == [] or value == "lose":
                data.pop(key, None)
        return data

    @field_validator("class_next", mode="before")
    @classmethod
    def _class_single_successor(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: {v: 1.0} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("class_next")
    @classmethod
    def _class_sums(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for klass, branches in value.items():
            total = sum(branches.values())
            if not branches or not math.isclose(total, 1.0, abs_tol=1e-9):
                raise ValueError(f"{klass}: branch probabilities sum to {total:g}, not 1")
        return value

    @model_validator(mode="after")
    def _queueing(self) -> Activity:
        waits_for_units = bool(self.resources or self.one_of)
        if self.durations and self.class_durations:
            raise ValueError("give durations per pool (durations) or per class (class_durations), not both")
        if self.reneges and not self.can_queue:
            raise ValueError("patience needs something to wait for: resources, one_of or consumes")
        if (self.queue_capacity is not None or self.join) and not waits_for_units:
            raise ValueError("queue_capacity and join need resources or one_of (the check is made "
                             "when the entity asks for units)")
        if self.abandon_to is not None and not self.reneges:
            raise ValueError("abandon_to needs patience or class_patience")
        if self.lost_to is not None and self.queue_capacity is None and not self.join:
            raise ValueError("lost_to needs queue_capacity or join")
        if self.when_full == "block" and (self.queue_capacity is None or self.lost_to is not None):
            raise ValueError("when_full: block needs queue_capacity and no lost_to (work ahead waits "
                             "where it is until there is room)")
        if self.preempt and not (waits_for_units and self.priority):
            raise ValueError("preempt needs priority and resources or one_of (a higher class takes the "
                             "units of a lower one in service)")
        if self.preempt and self.working_hours is not None:
            raise ValueError("preempt does not go with working_hours (time left would need two clocks)")
        if (self.setup is not None or self.class_setups) and not waits_for_units:
            raise ValueError("setup needs resources or one_of (a set-up is of the units a job takes)")
        if self.batch is not None:
            clash = [k for k in BATCH_EXCLUDES if getattr(self, k) not in (None, False, {}, [], "lose")]
            if clash:
                raise ValueError(f"batch does not go with {clash[0]} (a batch waits and is served as one)")
        return self

    def setup_of(self, klass: str) -> Dist | None:
        """The set-up a unit switching to this class takes here (None: none)."""
        return self.class_setups.get(klass, self.setup)

    def patience_of(self, klass: str) -> Dist | None:
        """How long an entity of this class waits here before it leaves (None: for ever)."""
        return self.class_patience.get(klass, self.patience)

    def successors_of(self, klass: str) -> dict[str, float]:
        return self.class_next.get(klass) or self.successors

    def level_of(self, klass: str) -> int:
        """The priority level of a class here (lower first); unlisted classes come last."""
        if not self.priority:
            return 0
        return self.priority.get(klass, max(self.priority.values()) + 1)

    @property
    def reneges(self) -> bool:
        """Whether some class waiting here may give up (patience)."""
        return self.patience is not None or bool(self.class_patience)

    @property
    def leaving(self) -> tuple[str, ...]:
        """The KPIs of those leaving here unserved, where it lets them: abandoned (patience),
        lost (a waiting room), balked (join)."""
        kinds = (("abandoned", self.reneges), ("lost", self.queue_capacity is not None),
                 ("balked", bool(self.join)))
        return tuple(kind for kind, happens in kinds if happens)

    @property
    def turns_away(self) -> bool:
        """Whether an entity that would have to wait may be turned away (full, or balks)."""
        return self.queue_capacity is not None or bool(self.join)

    @property
    def exits(self) -> list[str]:
        """Where work may go from here: its successors, per-class branches, those who leave."""
        names = [*self.successors, *(t for b in self.class_next.values() for t in b)]
        names += [t for t in (self.abandon_to, self.lost_to) if t is not None]
        return list(dict.fromkeys(names))

    @model_validator(mode="after")
    def _skills(self) -> Activity:
        if len(set(self.one_of)) < len(self.one_of):
            raise ValueError("one_of lists a pool twice")
        if both := sorted(set(self.one_of) & set(self.resources)):
            raise ValueError(f"pool '{both[0]}' is in both resources and one_of")
        if stray := sorted(set(self.durations) - set(self.one_of)):
            raise ValueError(f"durations.{stray[0]}: not a pool in one_of")
        return self

    @field_validator("next", mode="before")
    @classmethod
    def _single_successor(cls, value: object) -> object:
        return {value: 1.0} if isinstance(value, str) else value

    @field_validator("next")
    @classmethod
    def _sums_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if value and not math.isclose(sum(value.values()), 1.0, abs_tol=1e-9):
            raise ValueError(f"branch probabilities sum to {sum(value.values()):g}, not 1")
        return value

    @property
    def can_queue(self) -> bool:
        """Whether work can wait here: for resource units or materials."""
        return bool(self.resources or self.one_of or self.consumes)

    @property
    def pools(self) -> list[str]:
        """Every pool this step may hold: those it always needs, then its skilled ones."""
        return [*self.resources, *self.one_of]

    @property
    def successors(self) -> dict[str, float]:
        return self.next or {EXIT: 1.0}


OPTIONAL_ACTIVITY_KEYS = ("working_hours", "one_of", "durations", "class_durations", "class_next", "priority",
                          "preempt", "patience", "class_patience", "abandon_to", "queue_capacity", "join",
                          "lost_to", "when_full", "batch", "produces", "setup", "class_setups")
BATCH_EXCLUDES = ("consumes", "produces", "class_durations", "priority", "preempt", "patience",
                  "class_patience", "queue_capacity", "join", "when_full", "setup", "class_setups")


class Shift(_Spec):
    days: Annotated[list[Day], Field(min_length=1)] = list(DAYS)  # type: ignore[arg-type]  # every day
    start: str
    end: str
    capacity: PositiveInt

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value

    @model_validator(mode="after")
    def _starts_within_day(self) -> Shift:
        if parse_clock(self.start) >= 24:
            raise ValueError("start must be before 24:00 (an end at or before the start runs overnight)")
        return self


def _drop_empty(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """Leave out optional keys that are unset: older specs keep their shape (and hash)."""
    for key in keys:
        if data.get(key) in (None, False, {}, []):
            data.pop(key, None)
    return data


class Failures(_Spec):
    """Breakdowns of each unit: `uptime` in calendar time since its last renewal (a repair or a
    planned maintenance), then `repair`. With `crew`, a repair first waits for those units (of
    other pools, e.g. fitters) and holds them while it lasts; it queues for them like any
    request, at level 0, or ahead of all production work when `urgent`."""

    uptime: Dist
    repair: Dist
    crew: dict[Name, PositiveInt] = {}
    urgent: bool = False

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_empty(handler(self), ("crew", "urgent"))


class Maintenance(_Spec):
    """Planned (preventive) maintenance of each unit: the unit goes down on purpose for
    `duration` (its job pauses and resumes afterwards, as after a failure) and comes back as good
    as new. `every`: when its age, the time since its last repair or maintenance, reaches this
    (age-based replacement); `weekly`: at these clock times each week ("sun 06:00", "mon,thu
    22:00"), unless it is down then; with both, whichever comes first. `crew` (default: the
    failures' crew) and `urgent` as for repairs."""

    duration: Dist
    every: Positive | None = None
    weekly: list[str] = []
    crew: dict[Name, PositiveInt] | None = None
    urgent: bool = False

    @field_validator("weekly")
    @classmethod
    def _times(cls, value: list[str]) -> list[str]:
        for key in value:
            parse_weekly_time(key)
        return value

    @model_validator(mode="after")
    def _when(self) -> Maintenance:
        if self.every is None and not self.weekly:
            raise ValueError("give every (an age) or weekly (clock times), or both")
        return self

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_empty(handler(self), ("every", "weekly", "crew", "urgent"))


def parse_weekly_time(key: str) -> tuple[list[str], float]:
    """'sun 06:00' -> (days, 6.0); days as in rate profiles (mon, mon-fri, sat,sun, daily)."""
    parts = key.split()
    if len(parts) != 2:
        raise ValueError(f"'{key}': expected '<days> HH:MM', e.g. 'sun 06:00'")
    hour = parse_clock(parts[1])
    if hour >= 24:
        raise ValueError(f"'{key}': the time must be before 24:00")
    return parse_days(parts[0], key), hour


class Resource(_Spec):
    name: Name
    capacity: PositiveInt
    shifts: list[Shift] | None = None  # None: always `capacity` on duty
    failures: Failures | None = None
    maintenance: Maintenance | None = None
    # How a unit ages for `failures.uptime` and `maintenance.every`: all the time (calendar),
    # only while it works (operating: holding a job and up), or by jobs done (jobs: both count
    # jobs, the unit going down when a job ends that reaches them). Weekly maintenance keeps the clock.
    wear: Literal["calendar", "operating", "jobs"] = "calendar"

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = _drop_empty(handler(self), ("maintenance",))
        if data.get("wear") == "calendar":
            data.pop("wear")
        return data

    @model_validator(mode="after")
    def _wears(self) -> Resource:
        aged = self.maintenance is not None and self.maintenance.every is not None
        by_use = self.failures is not None or aged
        if self.wear != "calendar" and not by_use:
            raise ValueError(f"wear: {self.wear} needs failures or maintenance.every (what wears out)")
        return self

    @property
    def crews(self) -> list[tuple[str, dict[str, int], bool]]:
        """(kind, crew, urgent) of the work on its units that needs a crew: 'repair', 'maintenance'."""
        out = []
        if self.failures is not None and self.failures.crew:
            out.append(("repair", self.failures.crew, self.failures.urgent))
        if self.maintenance is not None:
            crew = self.maintenance.crew
            crew = crew if crew is not None else (self.failures.crew if self.failures else {})
            if crew:
                out.append(("maintenance", crew, self.maintenance.urgent))
        return out


class Reorder(_Spec):
    """Continuous review (the default): (s, S) with `point` and `up_to`, or (r, Q) with `point`
    and `quantity`, reviewed at t = 0 and whenever a request is made. Periodic review
    (`review`: every R, from `first_review`, default 0): order up to `up_to`; with `point`,
    only when the position is at or below it ((R, s, S))."""

    point: NonNegativeInt | None = None
    up_to: PositiveInt | None = None
    quantity: PositiveInt | None = None
    review: Positive | None = None  # periodic review: the time between reviews
    first_review: NonNegativeFloat | None = None  # periodic review: the time of the first one

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("review", "first_review", "point"):  # continuous-review specs keep their shape
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @model_validator(mode="after")
    def _one_policy(self) -> Reorder:
        if self.review is None:
            if self.point is None:
                raise ValueError("continuous review needs point (or give review: R for periodic review)")
            if (self.up_to is None) == (self.quantity is None):
                raise ValueError("give exactly one of up_to (s,S) or quantity (r,Q)")
            if self.first_review is not None:
                raise ValueError("first_review needs review (periodic review)")
        elif self.up_to is None or self.quantity is not None:
            raise ValueError("periodic review (review) orders up to up_to: give up_to, not quantity")
        if self.up_to is not None and self.point is not None and self.up_to <= self.point:
            raise ValueError(f"up_to ({self.up_to}) must exceed point ({self.point})")
        return self

    @property
    def periodic(self) -> bool:
        return self.review is not None

    def review_time(self, k: int) -> float:
        """The time of periodic review k (0, 1, ...), computed absolutely, not summed."""
        assert self.review is not None
        return (self.first_review or 0.0) + k * self.review


class Disruptions(_Spec):
    every: Dist  # time from the end of one disruption to the start of the next
    duration: Dist


class Closure(_Spec):
    """A closure in calendar dates, [from, to): a plant shut-down or a public holiday (on the
    twin: no pool with shifts has anyone on duty) or a supplier's (no delivery arrives: those
    due then arrive when it ends)."""

    name: Name
    from_: Annotated[datetime, Field(alias="from")]
    to: datetime

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    @model_validator(mode="after")
    def _order(self) -> Closure:
        if self.to <= self.from_:
            raise ValueError(f"to ({self.to}) must be after from ({self.from_})")
        return self


class Supplier(_Spec):
    lead_time: Dist
    disruptions: Disruptions | None = None
    closures: list[Closure] = []

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _drop_empty(handler(self), ("closures",))


class NamedSupplier(Supplier):
    """One of a material's `suppliers`. Without shares the first is the primary and the others
    are backups, in order: an order goes to the first one not disrupted when it is placed (all
    disrupted: the primary). With `share` on every one, each order is drawn by share (stream
    `material.<m>.supplier_choice`)."""

    name: Name
    share: Probability | None = None

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("share") is None:
            data.pop("share", None)
        return data


class Material(_Spec):
    name: Name
    initial: Annotated[int, Field(ge=0)]
    reorder: Reorder | None = None
    supplier: Supplier | None = None
    suppliers: list[NamedSupplier] = []  # several: a primary and backups, or a split by share
    # What a request that finds too little on hand does: waits for stock (backorder), or
    # leaves unserved (lose: a lost sale; the inventory position does not drop).
    shortage: Literal["backorder", "lose"] = "backorder"

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("shortage") == "backorder":  # older specs keep their shape (and hash)
            data.pop("shortage", None)
        if not data.get("suppliers"):
            data.pop("suppliers", None)
        return data

    @model_validator(mode="after")
    def _policy_needs_supplier(self) -> Material:
        if self.supplier is not None and self.suppliers:
            raise ValueError("give supplier (one) or suppliers (several), not both")
        if (self.reorder is None) != (self.supplier is None and not self.suppliers):
            raise ValueError("reorder and supplier go together: give both or neither")
        names = [s.name for s in self.suppliers]
        if len(set(names)) < len(names):
            raise ValueError("suppliers: two suppliers have the same name")
        shares = [s.share for s in self.suppliers if s.share is not None]
        if shares and len(shares) < len(self.suppliers):
            raise ValueError("suppliers: give a share to every supplier (a split) or to none (primary "
                             "and backups)")
        if shares and not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
            raise ValueError(f"suppliers: shares sum to {sum(shares):g}, not 1")
        return self

    @property
    def sources(self) -> list[tuple[str, Supplier]]:
        """(name, supplier) of each supplier: `suppliers`, or the one `supplier` (named
        'supplier'), or none."""
        if self.supplier is not None:
            return [("supplier", self.supplier)]
        return [(s.name, s) for s in self.suppliers]

    @property
    def split(self) -> bool:
        """Whether orders are split by share (else: the primary, or the first backup up)."""
        return bool(self.suppliers) and self.suppliers[0].share is not None

    @property
    def loses(self) -> bool:
        """Whether a request finding too little on hand is lost (else it waits)."""
        return self.shortage == "lose"


class Twin(_Spec):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    time_unit: Literal["minute", "hour", "day"] = "hour"
    horizon: Positive
    warmup: NonNegativeFloat = 0.0
    start: datetime = DEFAULT_START
    # The site's IANA zone (Europe/Amsterdam): `start`, shifts, calendars and closures are wall
    # times there; a state clock with an offset is read in it (twin.starting). None: wall times
    # as written.
    timezone: str | None = None
    arrivals: Annotated[list[Arrival], Field(min_length=1)]
    activities: Annotated[list[Activity], Field(min_length=1)]
    resources: list[Resource] = []
    materials: list[Material] = []
    stresses: list[Stress] = []
    contingency: list[Rule] = []
    costs: Costs | None = None
    closures: list[Closure] = []  # plant shut-downs and public holidays: every pool with shifts off
    rules: LabourRules | None = None  # working-time rules the shifts must respect (twin.rules)

    @model_serializer(mode="wrap")
    def _drop_unused(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        unset_kept_out = ("stresses", "contingency", "costs", "closures", "rules", "timezone")  # older hashes
        for key in unset_kept_out:
            if not data.get(key):
                data.pop(key, None)
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str | None) -> str | None:
        if zone is not None:
            site_zone(zone)
        return zone

    @property
    def has_setups(self) -> bool:
        """Whether some step takes set-ups: then every unit remembers the class it last served."""
        return any(a.setup is not None or a.class_setups for a in self.activities)

    @property
    def has_due_dates(self) -> bool:
        """Whether any arrival stream is due: then on_time, tardiness and late are KPIs."""
        return any(a.due is not None or a.class_due for a in self.arrivals)

    @property
    def classes(self) -> list[str]:
        """Every entity class, in the order the arrival streams name them."""
        return list(dict.fromkeys(c for a in self.arrivals for c in a.class_names))

    @property
    def uses_classes(self) -> bool:
        """Whether the twin distinguishes classes: then per-class KPIs are reported."""
        return (any(a.classes for a in self.arrivals)
                or any(x.priority or x.class_durations or x.class_next or x.class_patience or x.class_setups
                       for x in self.activities)
                or bool(self.costs is not None and self.costs.per_late_class)
                or any(s.classes for s in self.stresses))

    @model_validator(mode="after")
    def _wiring(self, info: ValidationInfo) -> Twin:
        if info.context and info.context.get("wiring") is False:  # twin.problems checks a repaired copy
            return self
        problems = check_wiring(self)
        if problems:
            raise SpecError(problems)
        return self

    def activity(self, name: str) -> Activity:
        return next(a for a in self.activities if a.name == name)

    def calendar(self, resource: Resource) -> WeeklyCalendar | None:
        if resource.shifts is None:
            return None
        shifts = [(s.days, parse_clock(s.start), parse_clock(s.end), s.capacity) for s in resource.shifts]
        return build_calendar(shifts, self.time_unit, self.start)

    def pools_that_go_down(self) -> set[str]:
        """Pools whose units can go down: with `failures` or `maintenance`, or the target of an
        equipment_down."""
        return ({r.name for r in self.resources if r.failures is not None or r.maintenance is not None}
                | {s.target for s in self.stresses if s.kind == "equipment_down"})

    @property
    def windows(self) -> list[Stress]:
        """What the engines run as stress windows: `stresses`, then the closures as windows of
        their own: a twin closure as a staff_absence of every unit of each pool with shifts, a
        supplier's as a supplier_outage of that supplier (clipped to [0, horizon])."""
        out: list[Stress | None] = list(self.stresses)
        for closure in self.closures:
            out += [self._closed(closure, "staff_absence", r.name, f"{closure.name}-{r.name}",
                                 units=r.capacity) for r in self.resources if r.shifts is not None]
        for m in self.materials:
            for name, supplier in m.sources:
                one = m.supplier is not None  # the one `supplier`: a window on all of it
                for closure in supplier.closures:
                    label = f"{closure.name}-{m.name}" + ("" if one else f"-{name}")
                    out.append(self._closed(closure, "supplier_outage", m.name, label,
                                            supplier=None if one else name))
        return [w for w in out if w is not None]

    def _closed(self, closure: Closure, kind: str, target: str, label: str, **extra: Any) -> Stress | None:
        """The closure as a stress window within [0, horizon]; None if it misses the horizon."""
        start, end = (max(0.0, min(self.horizon, model_time(t, self.start, self.time_unit)))
                      for t in (closure.from_, closure.to))
        if end <= start:
            return None
        return Stress.model_validate({"name": f"closure-{label}"[:64], "kind": kind, "target": target,
                                      "start": start, "end": end, **extra})

    def maintenance_times(self, resource: Resource) -> list[float]:
        """The model times in (0, horizon] of the resource's weekly planned maintenance, sorted."""
        if resource.maintenance is None or not resource.maintenance.weekly:
            return []
        entries = [parse_weekly_time(key) for key in resource.maintenance.weekly]
        return weekly_times(entries, self.time_unit, self.start, self.horizon)

    def mean_interarrival(self, arrival: Arrival) -> float:
        """Long-run mean gap between arrivals of a stream, in this twin's time unit."""
        if arrival.rate_profile is None:
            assert arrival.interarrival is not None
            return arrival.interarrival.mean_value
        per_week = sum(arrival.rate_profile.hourly())
        return HOURS_PER_WEEK / per_week * UNITS_PER_HOUR[self.time_unit]

    def rate_profile(self, arrival: Arrival) -> RateProfile | None:
        if arrival.rate_profile is None:
            return None
        return build_rate_profile(arrival.rate_profile.hourly(), self.time_unit, self.start)

    def working_time(self, activity: Activity) -> RateProfile | None:
        """The activity's working hours as a profile of working time per time unit: its
        `next_arrival(now, d, horizon)` is when d of working time started at `now` ends."""
        if activity.working_hours is None:
            return None
        return build_working_time(activity.working_hours.hourly(), self.time_unit, self.start)


def check_wiring(twin: Twin, flow: bool = True) -> list[tuple[str, str]]:
    """Cross-field checks, each problem as (field path, reason). The flow checks (every
    activity reachable, work able to leave) follow the names, so they run when every name
    is unique and every reference resolves, whatever else is wrong, and when `flow`."""
    problems: list[tuple[str, str]] = []
    if twin.warmup >= twin.horizon:
        problems.append(("warmup", f"must be less than horizon ({twin.horizon:g})"))
    names: list[tuple[str, str]] = []
    for kind in ("arrivals", "activities", "resources", "materials", "stresses", "contingency"):
        names += _unique_names(kind, [item.name for item in getattr(twin, kind)])
    problems += names
    problems += _zero_time_sources(twin)
    problems += (references := _references(twin))
    problems += _capacities(twin)
    problems += _crews(twin)
    problems += (policies := _policy_references(twin))
    problems += _working_hours(twin)
    problems += breaches(twin)
    if flow and not (names or references or policies):
        problems += _flow(twin)
    return problems


def _unique_names(kind: str, names: list[str]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append((f"{kind}[{name}].name", "duplicate name"))
        if name == EXIT:
            problems.append((f"{kind}[{name}].name", f"'{EXIT}' is reserved for leaving"))
        seen.add(name)
    return problems


def _zero_time_sources(twin: Twin) -> list[tuple[str, str]]:
    """Renewal processes with zero mean would schedule infinitely many events."""
    items: list[tuple[str, Any]] = [
        (f"arrivals[{a.name}].interarrival", a.interarrival)
        for a in twin.arrivals if a.interarrival is not None
    ]
    for r in twin.resources:
        if r.failures:
            items.append((f"resources[{r.name}].failures.uptime", r.failures.uptime))
    for m in twin.materials:
        if m.supplier and m.supplier.disruptions:
            items.append((f"materials[{m.name}].supplier.disruptions.every", m.supplier.disruptions.every))
        items += [(f"materials[{m.name}].suppliers[{s.name}].disruptions.every", s.disruptions.every)
                  for s in m.suppliers if s.disruptions]
    return [(path, "mean must be positive") for path, dist in items if dist.mean_value <= 0]


def _references(twin: Twin) -> list[tuple[str, str]]:
    activities = {a.name for a in twin.activities}
    resources = {r.name for r in twin.resources}
    materials = {m.name for m in twin.materials}
    problems = []
    for a in twin.arrivals:
        if a.route not in activities:
            problems.append((f"arrivals[{a.name}].route", f"no activity named '{a.route}'"))
    for act in twin.activities:
        base = f"activities[{act.name}]"
        for target in act.next:
            if target != EXIT and target not in activities:
                problems.append((f"{base}.next.{target}", f"no activity named '{target}'"))
        for pool in act.resources:
            if pool not in resources:
                problems.append((f"{base}.resources.{pool}", f"no resource named '{pool}'"))
        for k, pool in enumerate(act.one_of):
            if pool not in resources:
                problems.append((f"{base}.one_of[{k}]", f"no resource named '{pool}'"))
        for field in ("consumes", "produces"):
            for material in getattr(act, field):
                if material not in materials:
                    problems.append((f"{base}.{field}.{material}", f"no material named '{material}'"))
        problems += _class_references(twin, act, activities)
    return problems


def _class_references(twin: Twin, act: Activity, activities: set[str]) -> list[tuple[str, str]]:
    """Per-class fields must name classes some stream brings; those who leave go somewhere."""
    base = f"activities[{act.name}]"
    known = twin.classes
    problems = [
        (f"{base}.{field}.{klass}", f"no class named '{klass}' (classes: {', '.join(known)})")
        for field in ("class_durations", "class_next", "priority", "class_patience", "class_setups")
        for klass in getattr(act, field) if klass not in known
    ]
    for klass, branches in act.class_next.items():
        problems += [(f"{base}.class_next.{klass}.{target}", f"no activity named '{target}'")
                     for target in branches if target != EXIT and target not in activities]
    for field in ("abandon_to", "lost_to"):
        target = getattr(act, field)
        if target is not None and target not in activities:
            problems.append((f"{base}.{field}", f"no activity named '{target}'"))
    return problems


def _working_hours(twin: Twin) -> list[tuple[str, str]]:
    """A job that pauses off hours and is also interrupted by failures would need two clocks."""
    down = twin.pools_that_go_down()
    return [
        (f"activities[{act.name}].working_hours", f"not on a step whose pool can go down ('{pool}')")
        for act in twin.activities if act.working_hours is not None
        for pool in act.pools if pool in down
    ]


def _capacities(twin: Twin) -> list[tuple[str, str]]:
    """A request larger than a pool's peak on-duty capacity could never be served."""
    peak = {}
    problems = []
    for r in twin.resources:
        peak[r.name] = r.capacity
        calendar = twin.calendar(r) if r.shifts else None
        if calendar is not None:
            most = int(calendar.levels.max())
            if most > r.capacity:
                problems.append((f"resources[{r.name}].shifts", f"{most} units on duty at once, "
                                 f"more than capacity {r.capacity}"))
            peak[r.name] = min(most, r.capacity)
    for act in twin.activities:
        for pool, units in act.resources.items():
            if pool in peak and units > peak[pool]:
                problems.append((f"activities[{act.name}].resources.{pool}",
                                 f"needs {units} units but at most {peak[pool]} are ever on duty"))
    return problems


def _crews(twin: Twin) -> list[tuple[str, str]]:
    """A crew is units of other pools that never go down themselves (a repair waiting for a
    broken fitter would need a repair of its own), and no more than the pool ever has."""
    pools = {r.name: r for r in twin.resources}
    down = twin.pools_that_go_down()
    problems = []
    for r in twin.resources:
        for field, obj in (("failures", r.failures), ("maintenance", r.maintenance)):
            for pool, units in (getattr(obj, "crew", None) or {}).items():
                path = f"resources[{r.name}].{field}.crew.{pool}"
                if pool not in pools:
                    problems.append((path, f"no resource named '{pool}'"))
                elif pool == r.name:
                    problems.append((path, "a pool cannot be its own crew"))
                elif pool in down:
                    problems.append((path, f"'{pool}' can go down itself: a crew must not fail"))
                elif units > (most := _peak_on_duty(twin, pools[pool])):
                    problems.append((path, f"needs {units} units but '{pool}' has at most {most} on duty"))
    return problems


def _peak_on_duty(twin: Twin, resource: Resource) -> int:
    calendar = twin.calendar(resource)
    return resource.capacity if calendar is None else min(resource.capacity, int(calendar.levels.max()))


def flow_graph(twin: Twin) -> nx.DiGraph:
    """Arrivals -> activities -> exit, edges weighted by branch probability."""
    graph = nx.DiGraph()
    for a in twin.arrivals:
        graph.add_edge(f"arrival:{a.name}", a.route, probability=1.0)
    for act in twin.activities:
        graph.add_node(act.name)
        for target, p in act.successors.items():
            if p > 0:
                graph.add_edge(act.name, target, probability=p)
        for target in act.exits:  # per-class branches and where those who leave go
            if not graph.has_edge(act.name, target):
                graph.add_edge(act.name, target, probability=0.0)
        leaves = (act.reneges and act.abandon_to is None) or (act.turns_away and act.lost_to is None)
        if leaves and not graph.has_edge(act.name, EXIT):
            graph.add_edge(act.name, EXIT, probability=0.0)
    for rule in twin.contingency:  # work for `from` may be sent to `to`
        if rule.action.reroute is not None:
            graph.add_edge(rule.action.reroute.from_, rule.action.reroute.to, probability=0.0)
    return graph


def class_flow_graph(twin: Twin, klass: str) -> nx.DiGraph:
    """The flow graph of one class: its streams, each activity's branches for it, where it
    goes when it reneges or is turned away, and rerouting."""
    graph = nx.DiGraph()
    for a in twin.arrivals:
        if klass in a.class_names:
            graph.add_edge(f"arrival:{a.name}", a.route)
    for act in twin.activities:
        graph.add_node(act.name)
        graph.add_edges_from((act.name, t) for t, p in act.successors_of(klass).items() if p > 0)
        if act.patience_of(klass) is not None:
            graph.add_edge(act.name, act.abandon_to or EXIT)
        if act.turns_away and act.when_full == "lose":
            graph.add_edge(act.name, act.lost_to or EXIT)
    for rule in twin.contingency:
        if rule.action.reroute is not None:
            graph.add_edge(rule.action.reroute.from_, rule.action.reroute.to)
    return graph


def _class_loops(twin: Twin) -> list[tuple[str, str]]:
    """With per-class branches, each class on its own must always be able to leave."""
    problems = []
    for klass in twin.classes:
        graph = class_flow_graph(twin, klass)
        sources = [n for n in graph if str(n).startswith("arrival:")]
        reached = set().union(*(nx.descendants(graph, s) for s in sources)) if sources else set()
        for act in twin.activities:
            if act.name in reached and EXIT not in nx.descendants(graph, act.name):
                problems.append((f"activities[{act.name}].class_next", f"work of class '{klass}' here can "
                                 "never leave: its branches loop without an exit"))
    return problems


def _flow(twin: Twin) -> list[tuple[str, str]]:
    graph = flow_graph(twin)
    sources = [f"arrival:{a.name}" for a in twin.arrivals]
    reached = set().union(*(nx.descendants(graph, s) for s in sources))
    problems = []
    for act in twin.activities:
        if act.name not in reached:
            problems.append((f"activities[{act.name}]", "not reachable from any arrival"))
        elif EXIT not in nx.descendants(graph, act.name):
            problems.append((f"activities[{act.name}].next", "work here can never leave: "
                             "every path loops without an exit"))
    if not problems and any(a.class_next for a in twin.activities):
        problems += _class_loops(twin)
    turned = nx.DiGraph([(a.name, a.lost_to) for a in twin.activities if a.lost_to is not None])
    for cycle in nx.simple_cycles(turned):  # turned away from each in turn, at one instant, for ever
        problems.append((f"activities[{cycle[0]}].lost_to", "entities turned away would go round "
                         f"{' -> '.join([*cycle, cycle[0]])} for ever at one instant"))
    for rule in twin.contingency:  # rerouted work must not come back to be rerouted again
        reroute = rule.action.reroute
        if reroute is not None and reroute.from_ in nx.descendants(graph, reroute.to) | {reroute.to}:
            problems.append((f"contingency[{rule.name}].action.reroute.to", f"'{reroute.to}' leads back "
                             f"to '{reroute.from_}': rerouted work would loop"))
    return problems


SINGULAR = {"arrivals": "arrival", "activities": "activity", "resources": "resource", "materials": "material"}


def _policy_references(twin: Twin) -> list[tuple[str, str]]:
    """Stresses, contingency rules and costs must name things the twin has."""
    names = {kind: {x.name: x for x in getattr(twin, kind)}
             for kind in ("arrivals", "activities", "resources", "materials")}
    problems = []
    for s in twin.stresses:
        kind = STRESS_TARGETS[s.kind]
        item = names[kind].get(s.target)
        if item is None:
            problems.append((f"stresses[{s.name}].target", f"{s.kind} acts on {kind}: no {SINGULAR[kind]} "
                             f"named '{s.target}'"))
        elif s.units is not None and s.units > item.capacity:
            problems.append((f"stresses[{s.name}].units", f"{s.units} exceeds the capacity ({item.capacity}) "
                             f"of '{s.target}'"))
        elif s.kind in ("supplier_outage", "lead_time") and not item.sources:
            problems.append((f"stresses[{s.name}].target", f"material '{s.target}' has no supplier"))
        elif s.supplier is not None and s.supplier not in [n for n, _ in item.sources if item.suppliers]:
            problems.append((f"stresses[{s.name}].supplier", f"material '{s.target}' has no supplier named "
                             f"'{s.supplier}' in its suppliers"))
        problems += [(f"stresses[{s.name}].classes.{c}", f"no class named '{c}'")
                     for c in s.classes or {} if c not in twin.classes]
    for rule in twin.contingency:
        problems += _rule_references(rule, names)
    if twin.costs is not None:
        for kind in ("resources", "materials", "activities"):
            problems += [(f"costs.{kind}.{n}", f"no {SINGULAR[kind]} named '{n}'")
                         for n in getattr(twin.costs, kind) if n not in names[kind]]
        steps = names["activities"]
        problems += [(f"costs.activities.{n}.per_place", f"activity '{n}' has no queue_capacity: an "
                      "unlimited queue has no places to price (give it one, or drop this cost)")
                     for n, price in twin.costs.activities.items()
                     if n in steps and price.per_place and steps[n].queue_capacity is None]
        known = ", ".join(twin.classes)
        problems += [(f"costs.per_late_class.{c}", f"no class named '{c}' (classes: {known})")
                     for c in twin.costs.per_late_class if c not in twin.classes]
    return problems


def _rule_references(rule: Rule, names: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    base = f"contingency[{rule.name}]"
    wanted = [(f"{base}.when.{field}", kind, getattr(rule.when, field))
              for field, kind in (("stock", "materials"), ("queue", "activities"), ("down", "resources"))
              if hasattr(rule.when, field)]
    action = rule.action
    if action.order:
        wanted.append((f"{base}.action.order.material", "materials", action.order.material))
    if action.overtime:
        wanted.append((f"{base}.action.overtime.pool", "resources", action.overtime.pool))
    if action.reroute:
        wanted += [(f"{base}.action.reroute.from", "activities", action.reroute.from_),
                   (f"{base}.action.reroute.to", "activities", action.reroute.to)]
    if action.switch:
        wanted.append((f"{base}.action.switch.material", "materials", action.switch.material))
    problems = [(path, f"no {SINGULAR[kind]} named '{name}'") for path, kind, name in wanted
                if name not in names[kind]]
    switch = action.switch
    if (switch and switch.material in names["materials"]
            and switch.supplier not in [s.name for s in names["materials"][switch.material].suppliers]):
        problems.append((f"{base}.action.switch.supplier", f"material '{switch.material}' has no "
                         f"supplier named '{switch.supplier}' in its suppliers"))
    if action.reroute and action.reroute.from_ == action.reroute.to:
        problems.append((f"{base}.action.reroute.to", "must differ from `from`"))
    down = getattr(rule.when, "down", None)
    if down in names["resources"] and rule.when.units > names["resources"][down].capacity:  # type: ignore[union-attr]
        problems.append((f"{base}.when.units", f"exceeds the capacity of '{down}'"))
    return problems
