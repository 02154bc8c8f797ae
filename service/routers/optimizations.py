"""Optimisation routes: submit (a job), status, cancel, retry, delete, summary, plan, figures, report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service import jobs, optimizations, quotas
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.errors import NotFound
from service.models import JobRun, OptimizationRow
from service.schemas import OptimizationCreate, OptimizationPublic, RunPublic

router = APIRouter(prefix="/optimizations", tags=["optimizations"])


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def submit_optimization(
    body: OptimizationCreate, db: Db, settings: SettingsDep, key: Editor
) -> OptimizationPublic:
    """Queue an optimisation of a twin (`twin optimize` as a job); poll its status by id.
    A bad field, or work over the service's limits, answers 422 naming the field."""
    return optimizations.public(optimizations.submit(db, settings, body, key))


@router.get("")
def list_optimizations(
    db: Db,
    key: Viewer,
    twin_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[OptimizationPublic]:
    with transaction(db) as session:
        rows = optimizations.listing(session, key.workspace, twin_id, limit, offset)
        return [optimizations.public(row) for row in rows]


@router.get("/{optimization_id}")
def get_optimization(optimization_id: str, db: Db, key: Viewer) -> OptimizationPublic:
    """Status, progress (plans simulated of the budget) and, when done, the recommended plan."""
    return optimizations.public(_row(db, optimization_id, key.workspace))


@router.post("/{optimization_id}/cancel")
def cancel_optimization(optimization_id: str, db: Db, key: Editor) -> OptimizationPublic:
    with transaction(db) as session:
        return optimizations.public(optimizations.cancel(session, optimization_id, key.workspace))


@router.post("/{optimization_id}/retry")
def retry_optimization(
    optimization_id: str, db: Db, settings: SettingsDep, key: Editor
) -> OptimizationPublic:
    """Queue a failed or cancelled optimisation again (409 otherwise); it resumes from its
    finished replications, with a fresh budget of `max_attempts`."""
    with transaction(db) as session:
        quotas.admit_job(session, settings, key)
        jobs.retry(session, OptimizationRow, optimization_id, "optimization", key.workspace)
        return optimizations.public(optimizations.get(session, optimization_id, key.workspace))


@router.get("/{optimization_id}/runs")
def optimization_runs(optimization_id: str, db: Db, key: Viewer) -> list[RunPublic]:
    """Each run of the optimisation, oldest first (one per claim of its lease)."""
    with transaction(db) as session:
        optimizations.get(session, optimization_id, key.workspace)
        rows = session.scalars(select(JobRun).where(JobRun.job_id == optimization_id).order_by(JobRun.token))
        return [RunPublic(token=r.token, server=r.server, pid=r.pid, started_at=r.started_at,
                          ended_at=r.ended_at, outcome=r.outcome) for r in rows]


@router.delete("/{optimization_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_optimization(optimization_id: str, db: Db, settings: SettingsDep, key: Editor) -> Response:
    """Delete a finished optimisation and its files (409 while it is queued or running)."""
    with transaction(db) as session:
        optimizations.delete(session, settings, optimization_id, key.workspace)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{optimization_id}/summary", responses={200: {"content": {"application/json": {}}}})
def optimization_summary(optimization_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The outcome (the `twin optimize --json` object)."""
    path = optimizations.output(settings, _row(db, optimization_id, key.workspace), optimizations.SUMMARY)
    return FileResponse(path, media_type="application/json")


@router.get("/{optimization_id}/plan", responses={200: {"content": {"application/yaml": {}}}})
def optimization_plan(optimization_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The recommended plan as a scenario file (its base: the twin saved as `twin.yaml`)."""
    path = optimizations.output(settings, _row(db, optimization_id, key.workspace), optimizations.PLAN)
    return FileResponse(path, media_type="application/yaml", filename=f"{optimization_id}.scenario.yaml")


@router.get("/{optimization_id}/visited.csv", responses={200: {"content": {"text/csv": {}}}})
def optimization_visited(optimization_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """Every plan the search simulated, one row each."""
    path = optimizations.output(settings, _row(db, optimization_id, key.workspace), optimizations.VISITED)
    return FileResponse(path, media_type="text/csv", filename=f"{optimization_id}-visited.csv")


@router.get("/{optimization_id}/figures/{index}", responses={200: {"content": {"application/json": {}}}})
def optimization_figure(
    optimization_id: str,
    index: Annotated[int, Path(ge=0, le=10_000)],
    db: Db,
    settings: SettingsDep,
    key: Viewer,
) -> FileResponse:
    """One figure (the cost-risk frontier, the convergence) as plotly JSON (`data`, `layout`)."""
    row = _row(db, optimization_id, key.workspace)
    listed = {f["index"] for f in (row.result or {}).get("figures") or []}
    if index not in listed:
        raise NotFound(f"optimization '{optimization_id}' has no figure {index} (it has {len(listed)})")
    path = optimizations.output(settings, row, f"{optimizations.FIGURES}/{index:03d}.json")
    return FileResponse(path, media_type="application/json")


@router.get("/{optimization_id}/report", response_class=HTMLResponse)
def optimization_report(optimization_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The optimisation report (self-contained HTML: the plan, the frontier, the convergence)."""
    path = optimizations.output(settings, _row(db, optimization_id, key.workspace), optimizations.REPORT)
    return FileResponse(path, media_type="text/html", filename=f"optimization-{optimization_id}.html")


def _row(db: sessionmaker[Session], optimization_id: str, workspace: str) -> OptimizationRow:
    with transaction(db) as session:
        return optimizations.get(session, optimization_id, workspace)
