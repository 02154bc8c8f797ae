"""What a job's worker process does: run the study (or calibration) in its folder, record progress.

The study runs with the `scenarios` chunked store: each finished chunk of replications is
a Parquet file in `chunks/` at once, so a job re-queued after a crash reads them back and
runs only the rest. The worker exits when the server that started it dies.
"""

from __future__ import annotations

import os
import resource
import shutil
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service import leases
from service.db import make_engine, sessions, transaction
from service.leases import Lease, LeaseLost
from service.models import CalibrationRow, OptimizationRow, StudyRow, now
from service.quotas import folder_bytes

_MEMORY_MB: int | None = None  # this worker's memory cap, named when it is hit


def capped(target: Any, memory_mb: int, *args: Any, **kwargs: Any) -> None:
    """Run a job's entry point under an address-space cap: allocations beyond it raise
    MemoryError, which fails the job with the limit named (rather than the kernel's OOM
    killer taking the machine's other work with it)."""
    global _MEMORY_MB
    _MEMORY_MB = memory_mb
    _exit_with_parent()  # its thread's stack, and the libraries the job loads, before the cap:
    _preload(target)  # the cap is on the job's memory, and they could not even be mapped under it
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        target(*args, **kwargs)
    except MemoryError:  # even writing the failure ran out: the dispatcher names the cap
        os._exit(MEMORY_EXIT)


MEMORY_EXIT = 86  # the exit code of a worker that ran out of its memory cap


def _preload(target: Any) -> None:
    """Import what a job's worker runs (a study's, a calibration's, an optimisation's) before its
    memory cap is set."""
    if target is execute_calibration:
        import calibration.calibrate  # noqa: F401
        return
    if target is execute_optimization:
        import optuna  # noqa: F401

        import optimize.search  # noqa: F401
    import service.figures  # noqa: F401


def memory_cap_error(memory_mb: int) -> str:
    return (f"MemoryError: the worker ran out of its memory cap worker_memory_mb = {memory_mb} "
            "(TWIN_WORKER_MEMORY_MB)")


def execute(lease: Lease, url: str, home: str, dask: str | None = None) -> None:
    """Entry point of a worker process (spawned by service.jobs.Dispatcher) holding `lease`."""
    _exit_with_parent()
    factory = sessions(make_engine(url))
    with transaction(factory) as session:
        row = session.get(StudyRow, lease.job_id)
        if row is None:
            return
        folder, replications, seed, engine = Path(home) / row.folder, row.replications, row.seed, row.engine
    _heartbeat(factory, lease)
    try:
        values = run(folder, replications, seed, engine,
                     lambda done, total: _progress(factory, lease, done, total), dask,
                     publish=lambda: _still_held(factory, lease), stage=f"{lease.token}-{lease.run_id}")
    except LeaseLost:
        _stop(factory, lease)
        return
    except Exception as error:  # the job fails with the reason (a storage error too), the server goes on
        _finish(factory, lease, status="failed", error=_describe(error))
        return
    _finish(factory, lease, status="done", **values)


def run(folder: Path, replications: int, seed: int, engine: str, progress: Any,
        dask: str | None = None, publish: Any = None, stage: str | None = None) -> dict[str, Any]:
    """Run the study in `folder` (on a Dask cluster when `dask` names one, else in this
    process); the values to record on its row.

    The final files are written in a folder of this run's own (`.final-STAGE`, so two runs
    never share a temporary name), then, once `publish()` confirms the lease is still this
    run's, moved into place one by one with an atomic rename: a reader sees each file whole,
    old or new, and two runs of one study write the same bytes (same seed, same chunks)."""
    from scenarios.cli import write_outputs
    from scenarios.loader import load_study
    from scenarios.report import summarize_study
    from scenarios.runner import run_study, settings_for
    from service.figures import build
    from service.studies import input_files

    scenarios = load_study(input_files(folder))
    settings = settings_for(scenarios[0], replications, seed, engine)
    executor = "dask" if dask else "serial"
    result = run_study(scenarios, settings, executor, address=dask, out=folder, progress=progress)
    staging = folder / f".final-{stage or uuid.uuid4().hex}"
    shutil.rmtree(staging, ignore_errors=True)
    write_outputs(staging, result, summarize_study(result))
    figures, problem = build(staging)
    if publish is not None:
        publish()
    _move_into(staging, folder)
    return {
        "bytes": folder_bytes(folder),
        "resumed": result.resumed,
        "results_path": "results.parquet",
        "figures": figures,
        "error": problem,
    }


def _move_into(staging: Path, folder: Path) -> None:
    """Every file of `staging` to the same place under `folder` (atomic renames), then
    `staging` goes."""
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            target = folder / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
    shutil.rmtree(staging, ignore_errors=True)


move_into = _move_into


def execute_optimization(lease: Lease, url: str, home: str, dask: str | None = None) -> None:
    """Entry point of an optimisation's worker process: search on the service's executor
    (Dask when `dask` names a cluster, else this process), resuming from the folder's
    finished replications; progress is plans simulated of the budget."""
    from service import optimizations

    _exit_with_parent()
    factory = sessions(make_engine(url))
    with transaction(factory) as session:
        row = session.get(OptimizationRow, lease.job_id)
        if row is None:
            return
        folder = Path(home) / row.folder
    _heartbeat(factory, lease)
    try:
        values = optimizations.run(
            folder, "dask" if dask else "serial", dask,
            lambda done, total, _what: _progress(factory, lease, done, total),
            publish=lambda: _still_held(factory, lease), stage=f"{lease.token}-{lease.run_id}")
    except LeaseLost:
        _stop(factory, lease)
        return
    except Exception as error:  # the job fails with the reason, the server goes on
        _finish(factory, lease, status="failed", error=_describe(error))
        return
    _finish(factory, lease, status="done", **values)


def execute_calibration(lease: Lease, url: str, home: str) -> None:
    """Entry point of a calibration's worker process: fit, store the twin, write the report.

    The twin row and the `done` status are written in one transaction, so a calibration
    re-queued after a crash (it starts again from its uploaded files) never stores two twins.
    """
    from service import calibrations, twins

    _exit_with_parent()
    factory = sessions(make_engine(url))
    with transaction(factory) as session:
        row = session.get(CalibrationRow, lease.job_id)
        if row is None:
            return
        folder, request = Path(home) / row.folder, dict(row.request)
    _heartbeat(factory, lease)

    def progress(done: int, total: int) -> None:
        _progress(factory, lease, done, total)

    try:
        staging = folder / f".final-{lease.token}-{lease.run_id}"  # this run's own, as a study's
        twin, report = calibrations.run(folder, request, progress, staging)
        _still_held(factory, lease)
        _move_into(staging, folder)
    except LeaseLost:
        _stop(factory, lease)
        return
    except Exception as error:  # the job fails, the server goes on
        _finish(factory, lease, status="failed", error=_describe(error))
        return
    with transaction(factory) as session:
        row = session.get(CalibrationRow, lease.job_id)
        if row is None or row.status != "running" or row.lease_token != lease.token:
            leases.end_run(session, lease.run_id, "lost its lease")  # cancelled, taken over or deleted
            return
        created = twins.create(session, twin, row.owner, row.workspace)
        session.flush()
        leases.end_run(session, lease.run_id, "done")
        row.lease_owner, row.lease_expires = None, None
        row.status, row.finished_at, row.twin_id = "done", now(), created.id
        row.done = row.total = max(row.total, calibrations.STEPS)  # validation adds steps
        row.report_path = str((folder / calibrations.REPORT_JSON).relative_to(home))
        row.report_html_path = str((folder / calibrations.REPORT_HTML).relative_to(home))
        row.warnings = [str(w) for w in report.get("warnings", [])]
        row.bytes = folder_bytes(folder)


def _progress(factory: sessionmaker[Session], lease: Lease, done: int, total: int) -> None:
    leases.progress(factory, lease, done, total)  # LeaseLost stops the run


def _still_held(factory: sessionmaker[Session], lease: Lease) -> None:
    """Fencing before the final files: LeaseLost unless the lease is still this run's."""
    if leases.renew(factory, lease) != "ok":
        raise LeaseLost(f"{lease.kind} {lease.job_id}: lease {lease.token} is no longer held")


def _finish(factory: sessionmaker[Session], lease: Lease, **values: Any) -> None:
    with transaction(factory) as session:
        leases.finish(session, lease, **values)


def _stop(factory: sessionmaker[Session], lease: Lease) -> None:
    """The run stopped on a lost lease: mark a cancel done, else leave the job to its new run."""
    if leases.renew(factory, lease) == "cancel":
        leases.cancelled(factory, lease)
    else:
        with transaction(factory) as session:
            leases.end_run(session, lease.run_id, "lost its lease")


LOST_EXIT = 87  # the exit code of a worker that lost its lease or was cancelled


def _heartbeat(factory: sessionmaker[Session], lease: Lease) -> None:
    """Renew the lease every third of its length in a thread; exit the process at once when
    the job is cancelled (marking it so) or the lease was taken over: the fencing that keeps
    one live worker per job. A database error skips a beat (the lease may then expire)."""

    def beat() -> None:
        while True:
            time.sleep(lease.seconds / 3)
            try:
                state = leases.renew(factory, lease)
                if state == "cancel":
                    leases.cancelled(factory, lease)
                elif state == "lost":
                    with transaction(factory) as session:
                        leases.end_run(session, lease.run_id, "lost its lease")
            except Exception:
                continue
            if state != "ok":
                os._exit(LOST_EXIT)

    threading.Thread(target=beat, daemon=True, name="lease-heartbeat").start()


def _describe(error: Exception) -> str:
    out_of_space = isinstance(error, OSError | ImportError) and "failed to map segment" in str(error)
    if isinstance(error, MemoryError) or (out_of_space and _MEMORY_MB is not None):
        return memory_cap_error(_MEMORY_MB or 0)
    lines = traceback.format_exception_only(error)
    return "".join(lines).strip()[-2000:]


_WATCHING = False  # the parent-watch thread runs


def _exit_with_parent(interval: float = 0.2) -> None:
    """Exit as soon as the process that started this one is gone (a killed server); once."""
    global _WATCHING
    if _WATCHING:
        return
    _WATCHING = True
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(3)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
