"""The job dispatcher: runs queued jobs (studies, calibrations, optimisations) in worker processes.

State lives in the database only, so a server killed at any moment loses nothing. Each job
runs under a lease (service.leases) that its worker renews: any number of servers may share
one PostgreSQL database, each claiming jobs atomically; a lease left to expire (its server
or worker died) is taken over by another, and the job resumes from the study's finished
chunks. On SQLite (one server) every job left running is queued again at start-up.
Cancelling is a database state, seen by the worker wherever it runs and by the dispatcher
that started it (chunks are written atomically, so a stopped worker leaves whole chunks or
none).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service import leases
from service.db import transaction
from service.leases import Lease
from service.models import FINISHED, CalibrationRow, JobRun, OptimizationRow, StudyRow, now
from service.settings import Settings
from service.worker import (
    MEMORY_EXIT,
    capped,
    execute,
    execute_calibration,
    execute_optimization,
    memory_cap_error,
)

log = logging.getLogger("twin.service.jobs")

LOOK_AHEAD = 200  # queued jobs read past the free workers, to skip keys at their running quota
Table = type[StudyRow] | type[CalibrationRow] | type[OptimizationRow]
# Each kind of job: its table (status, attempts, started_at, finished_at, error) and the
# worker entry point, called as target(lease, database url, home) in a spawned process.
Target = Callable[[Lease, str, str], None]
KINDS: tuple[tuple[Table, Target], ...] = (
    (StudyRow, execute),
    (CalibrationRow, execute_calibration),
    (OptimizationRow, execute_optimization),
)
TABLES: tuple[Table, ...] = tuple(table for table, _ in KINDS)
DASK: tuple[Table, ...] = (StudyRow, OptimizationRow)  # kinds whose replications may run on Dask


class Dispatcher:
    """Polls the database for work; at most `settings.workers` jobs run at once."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.running: dict[str, BaseProcess] = {}
        self.tables: dict[str, Table] = {}  # job id -> its table, while running
        self.started: dict[str, float] = {}  # job id -> when its worker started (monotonic)
        self.leases: dict[str, Lease] = {}  # job id -> the lease its worker holds
        self.owner = leases.server_id()  # this server, as the owner of its leases
        self._renewed = 0.0  # when _renew last ran (monotonic)
        self.problem: str | None = None  # why the last pass failed (storage), for /health
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="twin-dispatcher")
        self._context = get_context("spawn")

    def start(self) -> None:
        if self.settings.url.startswith("sqlite"):  # one server: whatever ran, its worker is gone
            requeue(self.factory)
        self._thread.start()

    def close(self) -> None:
        """Stop dispatching; stop this server's workers and queue their jobs again (for any
        server), so they need not wait for their leases to expire."""
        self._stop.set()
        self._thread.join(timeout=10)
        for process in self.running.values():
            process.terminate()
            process.join(timeout=5)
        self.running.clear()
        self.tables.clear()
        self.started.clear()
        self.leases.clear()
        leases.release(self.factory, TABLES, self.owner)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                self.problem = None
            except Exception as error:  # a database hiccup must not kill the dispatcher
                log.exception("dispatcher tick failed")
                self.problem = f"{type(error).__name__}: {str(error)[:300]}"  # /health reports it
            self._stop.wait(self.settings.poll_seconds)

    def tick(self) -> None:
        self._renew()
        leases.take_over(self.factory, TABLES, self.settings.max_attempts)
        self._expire()
        self._reap()
        self._cancel()
        self._launch()

    def _expire(self) -> None:
        """Stop a job's run after `job_seconds` and fail it naming the limit (not retried)."""
        for job_id, process in list(self.running.items()):
            if time.monotonic() - self.started[job_id] <= self.settings.job_seconds or not process.is_alive():
                continue
            process.terminate()
            process.join(timeout=10)
            with transaction(self.factory) as session:
                leases.finish(session, self.leases[job_id], status="failed",
                              error=f"stopped after {self.settings.job_seconds:g} s: the limit job_seconds "
                                    "(TWIN_JOB_SECONDS)")
            self._forget(job_id)

    def _renew(self) -> None:
        """Renew the leases of this server's live workers, every third of a lease: their own
        heartbeat starts only once the worker has loaded its libraries (seconds), and a
        lease must not expire meanwhile. A dead worker's lease is left to _reap."""
        if time.monotonic() - self._renewed < self.settings.lease_seconds / 3:
            return
        self._renewed = time.monotonic()
        for job_id, process in list(self.running.items()):
            if process.is_alive():
                leases.renew(self.factory, self.leases[job_id])

    def _forget(self, job_id: str) -> None:
        self.running.pop(job_id, None)
        self.tables.pop(job_id, None)
        self.started.pop(job_id, None)
        self.leases.pop(job_id, None)

    def _reap(self) -> None:
        """A worker that ended without finishing its job (killed, out of memory, crashed):
        queue the job again while it has attempts left (the next worker resumes from the
        finished chunks), else fail it with the reason. The process is forgotten only once
        that is written, so a database that cannot be written meanwhile loses no job."""
        for job_id, process in list(self.running.items()):
            if process.is_alive():
                continue
            process.join()
            table, lease = self.tables[job_id], self.leases[job_id]
            reason = f"worker process exited with code {process.exitcode}"
            with transaction(self.factory) as session:
                leases.end_run(session, lease.run_id, reason)
                attempts = session.scalar(select(table.attempts).where(table.id == job_id)) or 0
                retry = attempts < self.settings.max_attempts
                values = (
                    {"status": "queued", "error": f"{reason}; retried ({attempts} of "
                                                  f"{self.settings.max_attempts} attempts so far)"}
                    if retry else
                    {"status": "failed", "finished_at": now(),
                     "error": f"{reason}, after {attempts} attempts (TWIN_MAX_ATTEMPTS)"}
                )
                if process.exitcode == MEMORY_EXIT:  # over its cap: it would be again, so no retry
                    values = {"status": "failed", "finished_at": now(),
                              "error": memory_cap_error(self.settings.worker_memory_mb)}
                held = (table.id == job_id, table.status == "running", table.lease_token == lease.token)
                session.execute(
                    update(table).where(*held).values(lease_owner=None, lease_expires=None, **values))
            self._forget(job_id)

    def _cancel(self) -> None:
        """Stop this server's workers of jobs being cancelled (through any server); their
        worker's heartbeat would see it too, this is sooner. Others' are theirs to stop."""
        if not self.running:
            return
        with transaction(self.factory) as session:
            cancelling = {
                job_id for table, _ in KINDS
                for job_id in session.scalars(select(table.id).where(
                    table.status == "cancelling", table.id.in_(list(self.running))))
            }
        for job_id in cancelling:
            process, lease = self.running[job_id], self.leases[job_id]
            process.terminate()
            process.join(timeout=10)
            leases.cancelled(self.factory, lease)
            self._forget(job_id)

    def _launch(self) -> None:
        """Start the oldest queued jobs of every kind, while workers are free, at most
        `max_running_per_key` of one key's jobs at once (its others wait their turn)."""
        free = self.settings.workers - len(self.running)
        if free <= 0:
            return
        queued: list[tuple[object, str, str | None, Table, Target]] = []
        running: dict[str | None, int] = {}
        with transaction(self.factory) as session:
            for table, target in KINDS:
                query = select(table.id, table.created_at, table.owner).where(table.status == "queued")
                rows = session.execute(query.order_by(table.created_at).limit(free + LOOK_AHEAD))
                queued += [(created, job_id, owner, table, target) for job_id, created, owner in rows]
                counts = select(table.owner, func.count()).where(table.status.in_(("running", "cancelling")))
                for owner, count in session.execute(counts.group_by(table.owner)):
                    running[owner] = running.get(owner, 0) + count
        queued.sort(key=lambda item: str(item[0]))
        for _, job_id, owner, table, target in queued:
            if free <= 0:
                break
            if owner is not None and running.get(owner, 0) >= self.settings.max_running_per_key:
                continue
            lease = self._claim(table, job_id)
            if lease is not None:
                self._spawn(lease, table, target)
                running[owner] = running.get(owner, 0) + 1
                free -= 1

    def _spawn(self, lease: Lease, table: Table, target: Target) -> None:
        job_id = lease.job_id
        process = self._context.Process(
            target=capped,
            name=f"twin-job-{job_id[:8]}",
            daemon=True,
            args=(target, self.settings.worker_memory_mb, lease, self.settings.url, str(self.settings.home)),
            kwargs={"dask": self.settings.dask} if table in DASK and self.settings.dask else {},
        )
        process.start()
        self.running[job_id] = process
        self.tables[job_id] = table
        self.started[job_id] = time.monotonic()
        self.leases[job_id] = lease
        with transaction(self.factory) as session:  # the run's record names its process
            session.execute(update(JobRun).where(JobRun.id == lease.run_id).values(pid=process.pid))

    def _claim(self, table: Table, job_id: str) -> Lease | None:
        with transaction(self.factory) as session:
            return leases.claim(session, table, job_id, self.owner, self.settings.lease_seconds)


def retry(session: Session, table: Table, job_id: str, noun: str, workspace: str) -> None:
    """Queue a failed or cancelled job again, with a fresh budget of attempts; its worker
    resumes from what is on disk (a study's finished chunks). Conflict in any other state."""
    from service.db import fetch
    from service.errors import Conflict

    row = fetch(session, table, job_id, noun, workspace)
    if row.status not in ("failed", "cancelled"):
        raise Conflict(f"{noun} '{job_id}' is {row.status}: only a failed or cancelled one is retried")
    row.status, row.error, row.finished_at, row.attempts = "queued", None, None, 0


def cancel(session: Session, table: Table, job_id: str, noun: str, workspace: str) -> Any:
    """Queued -> cancelled now; running -> cancelling: its worker, on whichever server, sees
    it in the database, stops and marks the job cancelled (service.leases). Conflict once
    finished. Returns the row."""
    from service.db import fetch
    from service.errors import Conflict

    row = fetch(session, table, job_id, noun, workspace)
    if row.status in FINISHED:
        raise Conflict(f"{noun} '{job_id}' is already {row.status}")
    if row.status == "queued":
        row.status, row.finished_at = "cancelled", now()
    elif row.status == "running":
        row.status = "cancelling"
    return row


def requeue(factory: sessionmaker[Session]) -> int:
    """Queue again every job left running (its worker is gone); finish pending cancels.
    Only where no other server can hold a lease: SQLite, or a command-line repair."""
    return leases.release(factory, TABLES)

