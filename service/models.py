"""Database tables: workspaces, twins, studies and calibrations (one job each), their runs,
and API keys.

Every twin, study, calibration and key belongs to one workspace; a key sees only its own
workspace's objects. A job's lease (`lease_owner`, `lease_expires`, `lease_token`) says which
server's worker runs it and until when: see service.leases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DEFAULT_WORKSPACE = "default"  # the id (and name) of the workspace existing data moved into
STATUSES = ("queued", "running", "cancelling", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")


def now() -> datetime:
    return datetime.now(UTC)


class When(TypeDecorator[datetime]):
    """A UTC timestamp that comes back with its offset (SQLite stores none)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Workspace(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(When, default=now)


def workspace_column() -> Mapped[str]:
    """The workspace a row belongs to (checked in code: no foreign key, so SQLite can add the
    column to existing tables in place, with existing rows in the default workspace)."""
    return mapped_column(String(32), index=True, default=DEFAULT_WORKSPACE, server_default=DEFAULT_WORKSPACE)


class TwinRow(Base):
    __tablename__ = "twins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)  # the key's id
    workspace: Mapped[str] = workspace_column()
    created_at: Mapped[datetime] = mapped_column(When, default=now)


class JobColumns:
    """What every job table holds: identity, state, progress, its folder, timestamps."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    folder: Mapped[str] = mapped_column(String(500))  # relative to TWIN_HOME
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)  # the key's id
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # its folder on disk, for the quota
    workspace: Mapped[str] = workspace_column()
    # The lease of the run now in progress: which server holds it, until when (renewed by the
    # worker's heartbeat), and its generation, raised by every claim: a worker writes only
    # while the token it was given is still the row's (fencing).
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires: Mapped[datetime | None] = mapped_column(When, nullable=True, index=True)
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(When, default=now)
    started_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(When, nullable=True)


class StudyRow(JobColumns, Base):
    """A study and its job: state and progress are written by the worker process."""

    __tablename__ = "studies"

    twin_id: Mapped[str] = mapped_column(ForeignKey("twins.id"), index=True)
    scenarios: Mapped[list[str]] = mapped_column(JSON)
    replications: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(16))
    resumed: Mapped[int] = mapped_column(Integer, default=0)  # replications read back after a restart
    results_path: Mapped[str | None] = mapped_column(String(500), nullable=True)  # Parquet, relative
    figures: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class CalibrationRow(JobColumns, Base):
    """A calibration and its job: uploaded CSVs in its folder -> a new twin and a report.
    `request` holds options, column mapping and file names; `done` counts steps."""

    __tablename__ = "calibrations"

    twin_id: Mapped[str | None] = mapped_column(
        ForeignKey("twins.id", ondelete="SET NULL"), index=True, nullable=True
    )  # the twin it created
    report_path: Mapped[str | None] = mapped_column(String(500), nullable=True)  # JSON, relative
    report_html_path: Mapped[str | None] = mapped_column(String(500), nullable=True)  # HTML, relative
    warnings: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class OptimizationRow(JobColumns, Base):
    """An optimisation and its job: the twin and the problem in its folder -> the recommended
    plan. `done` counts plans simulated of `total` (the budget); `result` holds, once done, the
    recommended plan (decisions, changes, statement, targets' status), the plans simulated,
    why the search stopped and the figures' index."""

    __tablename__ = "optimizations"

    twin_id: Mapped[str] = mapped_column(String(32), index=True)  # its copy is in the folder
    name: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int] = mapped_column(Integer)
    budget: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class LiveRow(Base):
    """A live twin: a twin fed with the operation's events as they happen (service.live)."""

    __tablename__ = "live_twins"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    twin_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    workspace: Mapped[str] = workspace_column()
    events: Mapped[int] = mapped_column(Integer, default=0)
    latest: Mapped[datetime | None] = mapped_column(When, nullable=True)  # the latest time an event gave
    created_at: Mapped[datetime] = mapped_column(When, default=now)


class LiveEventRow(Base):
    """One step of one case, as the operation recorded it; `end` None while it runs."""

    __tablename__ = "live_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    live_id: Mapped[str] = mapped_column(String(32), index=True)
    case: Mapped[str] = mapped_column(String(200))
    activity: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str | None] = mapped_column(String(200), nullable=True)
    start: Mapped[datetime] = mapped_column(When)
    end: Mapped[datetime | None] = mapped_column(When, nullable=True)
    closes: Mapped[bool] = mapped_column(Boolean, default=False)  # the case is over after this step


class JobRun(Base):
    """One run of a job: a claim of its lease, by one server's worker (for audits and to
    count executions: a job resumed after a crash has a run per claim, each doing the rest)."""

    __tablename__ = "job_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # study | calibration | optimization
    token: Mapped[int] = mapped_column(Integer)  # the lease generation it ran under
    server: Mapped[str] = mapped_column(String(100))  # the lease owner: host, pid, id of the server
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # its worker process
    started_at: Mapped[datetime] = mapped_column(When, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(When, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(300), nullable=True)  # done, failed, lost, ...


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = workspace_column()
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(When, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(When, nullable=True)


class AuditRow(Base):
    """One change made through the API: who (the key, its name and role, its workspace), what
    (method, path, the object's id), when, and the answer's status. Kept when the object is
    deleted; readable by admins (`GET /audit`)."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(When, default=now, index=True)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    key_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    workspace: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(32))  # create, delete, cancel, retry, ...
    kind: Mapped[str] = mapped_column(String(32))  # twins, studies, calibrations, optimizations, keys, ...
    target: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # the object's id
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int] = mapped_column(Integer)

