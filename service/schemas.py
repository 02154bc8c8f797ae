"""Request and response bodies: the TwinCreate / TwinPublic families."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Role = Literal["viewer", "editor", "admin"]
Engine = Literal["simpy", "fast"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TwinCreate(_Body):
    """A twin spec, either as plain data (`spec`) or as YAML text (`yaml`): exactly one."""

    spec: dict[str, Any] | None = None
    yaml: str | None = Field(default=None, max_length=1_000_000)

    @model_validator(mode="after")
    def _exactly_one(self) -> TwinCreate:
        if (self.spec is None) == (self.yaml is None):
            raise ValueError("give exactly one of `spec` (plain data) or `yaml` (text)")
        return self


class TwinPublic(BaseModel):
    id: str
    name: str
    sha256: str
    time_unit: str
    horizon: float
    activities: int
    resources: int
    materials: int
    created_at: datetime


class TwinDetail(TwinPublic):
    spec: dict[str, Any]


class SpecPath(BaseModel):
    """A dotted spec path of a twin (as a scenario's `changes` names it) and its value now."""

    path: str
    value: Any
    type: str  # boolean, integer, number, string, list or null


class TwinPaths(BaseModel):
    paths: list[SpecPath]
    kpis: list[str]  # every KPI a replication records: what targets and objectives can name


class Validation(BaseModel):
    valid: bool
    name: str
    activities: int
    resources: int
    materials: int


class StudyCreate(_Body):
    """Run a twin (the baseline) and optional scenarios on it, with common random numbers.

    Each scenario is a scenario mapping as in a scenario file (`name`, `changes`, `add`,
    `remove`, `targets`, `uncertain`, `sensitivity`), without `base`: the base is the twin.
    """

    twin_id: str = Field(min_length=1, max_length=64)
    replications: int = Field(default=10, ge=2)
    seed: int = Field(default=1, ge=0, le=2**32 - 1)
    engine: Engine = "fast"  # as the CLI's `twin run`
    scenarios: list[dict[str, Any]] = Field(default_factory=list)


class Progress(BaseModel):
    done: int
    total: int
    fraction: float


class FigureInfo(BaseModel):
    index: int
    section: str
    title: str


class StudyPublic(BaseModel):
    id: str
    twin_id: str
    status: str
    progress: Progress
    replications: int
    seed: int
    engine: str
    scenarios: list[str]
    resumed: int
    attempts: int
    error: str | None
    figures: list[FigureInfo]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class CalibrationPublic(BaseModel):
    """A calibration job: progress in steps (load, fit, check, report); the twin it created."""

    id: str
    status: str
    progress: Progress
    twin_id: str | None
    name: str
    files: dict[str, str]  # form field -> uploaded file name
    mapping: dict[str, str]  # canonical column -> column in the events file
    waits: bool
    # None: chosen on a validation split (`validation`), else the CLI's default; the report's
    # `options` holds what was used
    calendars: bool | None
    capacity: str | None
    arrivals: str | None
    worktime: str | None
    routing: int | None
    processing: str | None  # None: chosen by validation (clock where there is none)
    delays: str | None  # None: chosen by validation (observed where there is none)
    pools: str | None
    history: float | None
    classes: str | None  # a column of the events file whose values become classes, or "none"
    cancelled: str | None  # a column whose non-empty value marks a cancelled case (measured)
    validation: bool
    warnings: list[str]
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class KeyCreate(_Body):
    role: Role
    name: str = Field(default="", max_length=200)
    workspace: str | None = Field(default=None, max_length=200)  # its name; default: the admin's own


class KeyPublic(BaseModel):
    id: str
    name: str
    role: str
    workspace: str  # its name
    workspace_id: str
    created_at: datetime
    revoked: bool


class RunPublic(BaseModel):
    """One run of a job: a claim of its lease by a server's worker."""

    token: int  # the lease generation it ran under
    server: str  # host:pid:id of the server that ran it
    pid: int | None  # its worker process
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None  # done, failed, cancelled, lost its lease, its lease expired, worker ... exited


class WorkspaceCreate(_Body):
    name: str = Field(min_length=1, max_length=100)


class WorkspacePublic(BaseModel):
    id: str
    name: str
    created_at: datetime
    keys: int  # live keys
    twins: int
    studies: int
    calibrations: int
    optimizations: int


class KeyCreated(KeyPublic):
    key: str  # shown once


class Health(BaseModel):
    status: str  # ok, or degraded when any check below is not ok
    database: str  # reachable and writable
    storage: str  # TWIN_HOME's data folders writable
    jobs: str  # the dispatcher's last pass (it writes job states)
    version: str
    viz: bool


class OptimizationCreate(_Body):
    """An optimisation file's fields (as `twin optimize` reads them), with `twin_id` in place
    of `base`: the decisions (dotted spec paths of the twin), the objective, the targets
    (added to the twin's own) and the experiment (replications, budget, seed). Checked as the
    CLI checks its file: a bad field answers 422 naming it (`decisions.resources.x.capacity`)."""

    twin_id: str = Field(min_length=1, max_length=64)
    name: str = Field(default="optimization", min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    decisions: dict[str, Any] = Field(min_length=1, max_length=100)
    objective: dict[str, Any] | None = None
    targets: list[Any] = Field(default_factory=list, max_length=100)
    experiment: dict[str, Any] = Field(default_factory=dict)


class OptimizationBest(BaseModel):
    """The recommended plan: its decisions, its changes against the twin, what it is worth."""

    plan: str
    decisions: dict[str, Any]
    changes: dict[str, Any]  # path -> {from, to}
    meets_targets: bool
    certified: bool
    statement: str
    objective: dict[str, Any]  # value, ci95
    targets: dict[str, Any]  # target text -> its check, with status met / missed / unsure
    replications: int


class OptimizationPublic(BaseModel):
    """An optimisation job: progress in plans simulated of the budget; the best plan when done."""

    id: str
    twin_id: str
    name: str
    status: str
    progress: Progress
    seed: int
    budget: int
    best: OptimizationBest | None
    evaluated: int | None  # plans simulated, when done
    stopped: str | None  # why the search stopped (budget, time, space), when done
    figures: list[FigureInfo]
    attempts: int
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


# -- forecasts and live twins (service.live) -------------------------------------------------
class ForecastCreate(_Body):
    """A forecast from a state (DESIGN.md's STATE) up to `until` (model time, the state's frame);
    `changes` (dotted spec paths -> values) is a what-if from now on."""

    state: dict[str, Any]
    until: float
    replications: int = Field(default=200, ge=1)
    seed: int = Field(default=1, ge=0)
    changes: dict[str, Any] = {}


class LiveCreate(_Body):
    twin_id: str = Field(max_length=32)
    name: str | None = Field(default=None, max_length=200)


class LiveEvent(_Body):
    """One step of one case: started at `start`, ended at `end` (None: still running). Sent
    again with its `end` once it ends (same case, activity and start); `closes`: the case is
    over with this step (until then it is open, between steps when none runs)."""

    case: str = Field(min_length=1, max_length=200)
    activity: str = Field(min_length=1, max_length=200)
    resource: str | None = Field(default=None, max_length=200)
    start: datetime
    end: datetime | None = None
    closes: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> LiveEvent:
        if self.start.tzinfo is None or (self.end is not None and self.end.tzinfo is None):
            raise ValueError("times need their UTC offset (2026-12-03T08:00:00+01:00)")
        if self.end is not None and self.end < self.start:
            raise ValueError("end is before start")
        return self


class LiveEvents(_Body):
    events: list[LiveEvent] = Field(min_length=1, max_length=10_000)


class LivePublic(BaseModel):
    id: str
    twin_id: str
    name: str
    events: int
    latest: datetime | None
    created_at: datetime


class LiveForecast(_Body):
    """A forecast of a live twin from its state now (its latest event, or `at`), `horizon`
    time units of the twin ahead."""

    horizon: float = Field(gt=0, allow_inf_nan=False)
    at: datetime | None = None
    replications: int = Field(default=200, ge=1)
    seed: int = Field(default=1, ge=0)
    changes: dict[str, Any] = {}
