"""Job leases: any number of servers (and their workers) share one database safely.

A dispatcher claims a queued job with one conditional UPDATE (`... WHERE status = 'queued'`):
on SQLite writers are serialized, on PostgreSQL the second UPDATE waits for the first's row
lock and then finds the status changed, so exactly one claim wins. The claim raises the
job's `lease_token` (its generation) and records a run (`job_runs`). The worker renews the
lease every third of `lease_seconds` (its heartbeat); a lease not renewed in time is taken
over by any server's dispatcher: the job is queued again and the next worker resumes from
the finished chunks.

Fencing: every write of a worker (progress, the final state) is conditional on its token
and on the job still running, so a worker whose lease was taken over (it hung, or its
server was cut off) changes nothing; its heartbeat finds the lease gone and the process
exits. Cancelling is a database state too (`cancelling`), so it reaches the worker wherever
it runs: its heartbeat or its next progress write sees it, and the worker marks the job
cancelled and exits. Leases compare the servers' clocks: keep them in sync (NTP) well
within `lease_seconds`.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction
from service.models import CalibrationRow, JobRun, OptimizationRow, StudyRow, now

Table = type[StudyRow] | type[CalibrationRow] | type[OptimizationRow]
KIND_TABLES: dict[str, Table] = {"study": StudyRow, "calibration": CalibrationRow,
                                 "optimization": OptimizationRow}


class LeaseLost(Exception):
    """This worker's lease is no longer the job's (taken over, or the job was cancelled)."""


@dataclass(frozen=True)
class Lease:
    """What a worker is given: the job, the lease generation it holds, how long a lease lasts."""

    kind: str  # study | calibration | optimization
    job_id: str
    token: int
    run_id: str
    seconds: float

    @property
    def table(self) -> Table:
        return KIND_TABLES[self.kind]


def server_id() -> str:
    """A lease owner id, unique to this server process: host, pid and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def kind_of(table: Table) -> str:
    return next(kind for kind, known in KIND_TABLES.items() if known is table)


def claim(session: Session, table: Table, job_id: str, owner: str, seconds: float) -> Lease | None:
    """Take a queued job for `owner` (None when another claim got it first) and record the run."""
    result = session.execute(
        update(table)
        .where(table.id == job_id, table.status == "queued")
        .values(status="running", started_at=now(), error=None, attempts=table.attempts + 1,
                lease_owner=owner, lease_expires=now() + timedelta(seconds=seconds),
                lease_token=table.lease_token + 1)
    )
    if not getattr(result, "rowcount", 0):
        return None
    token = int(session.scalar(select(table.lease_token).where(table.id == job_id)) or 0)
    run = JobRun(id=uuid.uuid4().hex, job_id=job_id, kind=kind_of(table), token=token, server=owner,
                 started_at=now())
    session.add(run)
    return Lease(kind_of(table), job_id, token, run.id, seconds)


def _held(lease: Lease, *statuses: str) -> Any:
    table = lease.table
    statuses = statuses or ("running",)
    return (table.id == lease.job_id, table.lease_token == lease.token, table.status.in_(statuses))


def renew(factory: sessionmaker[Session], lease: Lease) -> str:
    """The heartbeat: extend the lease. "ok", "cancel" (the job is being cancelled: stop and
    say so with `cancelled`) or "lost" (another run holds the job now, or it is gone)."""
    table = lease.table
    with transaction(factory) as session:
        result = session.execute(update(table).where(*_held(lease)).values(
            lease_expires=now() + timedelta(seconds=lease.seconds)))
        if getattr(result, "rowcount", 0):
            return "ok"
        status = session.scalar(select(table.status).where(*_held(lease, "cancelling")))
    return "cancel" if status == "cancelling" else "lost"


def progress(factory: sessionmaker[Session], lease: Lease, done: int, total: int) -> None:
    """Record progress under the lease; it never goes backwards (a resumed run may report
    less than the row holds at first). LeaseLost when the lease is no longer this run's."""
    table = lease.table
    with transaction(factory) as session:
        result = session.execute(update(table).where(*_held(lease)).values(
            done=case((table.done < done, done), else_=table.done), total=total))
    if not getattr(result, "rowcount", 0):
        raise LeaseLost(f"{lease.kind} {lease.job_id}: lease {lease.token} is no longer held")


def finish(session: Session, lease: Lease, **values: Any) -> bool:
    """Write the job's final state if the lease is still this run's (True when written)."""
    table = lease.table
    result = session.execute(update(table).where(*_held(lease)).values(
        finished_at=now(), lease_owner=None, lease_expires=None, **values))
    written = bool(getattr(result, "rowcount", 0))
    end_run(session, lease.run_id, str(values.get("status")) if written else "lost its lease")
    return written


def cancelled(factory: sessionmaker[Session], lease: Lease) -> None:
    """The worker stopped on a cancel: the job is cancelled (if the lease is still this run's)."""
    table = lease.table
    with transaction(factory) as session:
        session.execute(update(table).where(*_held(lease, "cancelling")).values(
            status="cancelled", finished_at=now(), lease_owner=None, lease_expires=None))
        end_run(session, lease.run_id, "cancelled")


def end_run(session: Session, run_id: str, outcome: str) -> None:
    """Close a run's record (once: the first outcome written stands)."""
    session.execute(update(JobRun).where(JobRun.id == run_id, JobRun.ended_at.is_(None)).values(
        ended_at=now(), outcome=outcome[:300]))


def take_over(factory: sessionmaker[Session], tables: tuple[Table, ...], max_attempts: int) -> int:
    """Jobs whose lease expired (their server or worker died, or hung): queued again while
    attempts are left, else failed; an expired cancel is finished. The number taken over."""
    count = 0
    with transaction(factory) as session:
        for table in tables:
            expired = or_(table.lease_expires.is_(None), table.lease_expires < now())
            ids = list(session.scalars(select(table.id).where(table.status.in_(("running", "cancelling")),
                                                              expired)))
            if not ids:
                continue
            session.execute(update(JobRun).where(JobRun.job_id.in_(ids), JobRun.ended_at.is_(None)).values(
                ended_at=now(), outcome="its lease expired"))
            done = dict(finished_at=now(), lease_owner=None, lease_expires=None)
            session.execute(update(table).where(table.status == "cancelling", expired).values(
                status="cancelled", **done))
            retry = session.execute(update(table).where(
                table.status == "running", expired, table.attempts < max_attempts).values(
                status="queued", lease_owner=None, lease_expires=None,
                error="its lease expired (server or worker gone); resumed by another run"))
            session.execute(update(table).where(table.status == "running", expired).values(
                status="failed", error=f"its lease expired after {max_attempts} attempts (TWIN_MAX_ATTEMPTS)",
                **done))
            count += int(getattr(retry, "rowcount", 0))
    return count


def release(factory: sessionmaker[Session], tables: tuple[Table, ...], owner: str | None = None) -> int:
    """Queue again the running jobs of `owner` (a server stopping), or all (a single server
    starting on SQLite: no other server can hold them); finish pending cancels."""
    count = 0
    with transaction(factory) as session:
        for table in tables:
            mine = () if owner is None else (table.lease_owner == owner,)
            ids = list(session.scalars(select(table.id).where(table.status.in_(("running", "cancelling")),
                                                              *mine)))
            session.execute(update(JobRun).where(JobRun.job_id.in_(ids), JobRun.ended_at.is_(None)).values(
                ended_at=now(), outcome="its server stopped"))
            done = dict(lease_owner=None, lease_expires=None)
            session.execute(update(table).where(table.status == "cancelling", *mine).values(
                status="cancelled", finished_at=now(), **done))
            result = session.execute(update(table).where(table.status == "running", *mine).values(
                status="queued", **done))
            count += int(getattr(result, "rowcount", 0))
    return count
