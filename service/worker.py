"""What a job's worker process does: run the study (or calibration) in its folder, record progress.

The study runs with the `scenarios` chunked store: each finished chunk of replications is
a Parquet file in `chunks/` at once, so a job re-queued after a crash reads them back and
runs only the rest. The worker exits when the server that started it dies.
"""

from __future__ import annotations

import os
import resource
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from service.db import make_engine, sessions, transaction
from service.models import CalibrationRow, StudyRow, now
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
    """Import what a study's or a calibration's worker runs, before its memory cap is set."""
    if target is execute_calibration:
        import calibration.calibrate  # noqa: F401
        return
    import service.figures  # noqa: F401


def memory_cap_error(memory_mb: int) -> str:
    return (f"MemoryError: the worker ran out of its memory cap worker_memory_mb = {memory_mb} "
            "(TWIN_WORKER_MEMORY_MB)")


def execute(study_id: str, url: str, home: str, dask: str | None = None) -> None:
    """Entry point of a worker process (spawned by service.jobs.Dispatcher)."""
    _exit_with_parent()
    factory = sessions(make_engine(url))
    with transaction(factory) as session:
        row = session.get(StudyRow, study_id)
        if row is None:
            return
        folder, replications, seed, engine = Path(home) / row.folder, row.replications, row.seed, row.engine
    try:
        values = run(
            folder, replications, seed, engine, lambda done, total: _progress(factory, study_id, done, total),
            dask,
        )
    except Exception as error:  # the job fails with the reason (a storage error too), the server goes on
        _finish(factory, study_id, status="failed", error=_describe(error))
        return
    _finish(factory, study_id, status="done", **values)


def run(folder: Path, replications: int, seed: int, engine: str, progress: Any,
        dask: str | None = None) -> dict[str, Any]:
    """Run the study in `folder` (on a Dask cluster when `dask` names one, else in this
    process); the values to record on its row."""
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
    write_outputs(folder, result, summarize_study(result))
    figures, problem = build(folder)
    return {
        "bytes": folder_bytes(folder),
        "resumed": result.resumed,
        "results_path": "results.parquet",
        "figures": figures,
        "error": problem,
    }


def execute_calibration(calibration_id: str, url: str, home: str) -> None:
    """Entry point of a calibration's worker process: fit, store the twin, write the report.

    The twin row and the `done` status are written in one transaction, so a calibration
    re-queued after a crash (it starts again from its uploaded files) never stores two twins.
    """
    from service import calibrations, twins

    _exit_with_parent()
    factory = sessions(make_engine(url))
    with transaction(factory) as session:
        row = session.get(CalibrationRow, calibration_id)
        if row is None:
            return
        folder, request = Path(home) / row.folder, dict(row.request)

    def progress(done: int, total: int) -> None:
        _progress(factory, calibration_id, done, total, CalibrationRow)

    try:
        twin, report = calibrations.run(folder, request, progress)
    except Exception as error:  # the job fails, the server goes on
        _finish(factory, calibration_id, CalibrationRow, status="failed", error=_describe(error))
        return
    with transaction(factory) as session:
        row = session.get(CalibrationRow, calibration_id)
        if row is None or row.status != "running":  # cancelled or deleted meanwhile
            return
        created = twins.create(session, twin, row.owner)
        session.flush()
        row.status, row.finished_at, row.twin_id = "done", now(), created.id
        row.done = row.total = max(row.total, calibrations.STEPS)  # validation adds steps
        row.report_path = str((folder / calibrations.REPORT_JSON).relative_to(home))
        row.report_html_path = str((folder / calibrations.REPORT_HTML).relative_to(home))
        row.warnings = [str(w) for w in report.get("warnings", [])]
        row.bytes = folder_bytes(folder)


def _progress(
    factory: sessionmaker[Session], job_id: str, done: int, total: int, table: Any = StudyRow
) -> None:
    with transaction(factory) as session:
        session.execute(
            update(table).where(table.id == job_id, table.status == "running").values(done=done, total=total)
        )


def _finish(factory: sessionmaker[Session], job_id: str, table: Any = StudyRow, **values: Any) -> None:
    with transaction(factory) as session:
        session.execute(
            update(table)
            .where(table.id == job_id, table.status == "running")
            .values(finished_at=now(), **values)
        )


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
