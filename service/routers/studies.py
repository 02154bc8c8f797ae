"""Study routes: submit (a job), status, cancel, summary, results, figures, report."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service import figures, jobs, quotas, studies
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.errors import NotFound
from service.models import JobRun, StudyRow
from service.schemas import RunPublic, StudyCreate, StudyPublic
from service.settings import Settings

router = APIRouter(prefix="/studies", tags=["studies"])
FILE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/octet-stream": {}}}}


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def submit_study(body: StudyCreate, db: Db, settings: SettingsDep, key: Editor) -> StudyPublic:
    """Queue a study of a twin (and optional scenarios); poll its status by id."""
    return studies.public(studies.submit(db, settings, body, key))


@router.get("")
def list_studies(
    db: Db,
    key: Viewer,
    twin_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[StudyPublic]:
    with transaction(db) as session:
        rows = studies.listing(session, key.workspace, twin_id, limit, offset)
        return [studies.public(row) for row in rows]


@router.get("/{study_id}")
def get_study(study_id: str, db: Db, key: Viewer) -> StudyPublic:
    """Status and progress (replications done of all to run)."""
    return studies.public(_row(db, study_id, key.workspace))


@router.post("/{study_id}/cancel")
def cancel_study(study_id: str, db: Db, key: Editor) -> StudyPublic:
    with transaction(db) as session:
        return studies.public(studies.cancel(session, study_id, key.workspace))


@router.post("/{study_id}/retry")
def retry_study(study_id: str, db: Db, settings: SettingsDep, key: Editor) -> StudyPublic:
    """Queue a failed or cancelled study again (409 otherwise); it resumes from its finished
    chunks, with a fresh budget of `max_attempts`. Counts against the key's queued quota."""
    with transaction(db) as session:
        quotas.admit_job(session, settings, key)
        jobs.retry(session, StudyRow, study_id, "study", key.workspace)
        return studies.public(studies.get(session, study_id, key.workspace))


@router.get("/{study_id}/runs")
def study_runs(study_id: str, db: Db, key: Viewer) -> list[RunPublic]:
    """Each run of the study, oldest first: which server's worker ran it and how it ended
    (a study resumed after a crash has one per claim, each running only what was left)."""
    with transaction(db) as session:
        studies.get(session, study_id, key.workspace)
        rows = session.scalars(select(JobRun).where(JobRun.job_id == study_id).order_by(JobRun.token))
        return [RunPublic(token=r.token, server=r.server, pid=r.pid, started_at=r.started_at,
                          ended_at=r.ended_at, outcome=r.outcome) for r in rows]


@router.get("/{study_id}/summary", responses={200: {"content": {"application/json": {}}}})
def study_summary(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The study summary (the `twin study --json` object)."""
    path = studies.output(settings, _row(db, study_id, key.workspace), "summary.json")
    return FileResponse(path, media_type="application/json")


@router.get("/{study_id}/results.csv", responses={200: {"content": {"text/csv": {}}}})
def study_results_csv(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> Response:
    """One row per scenario x replication."""
    text = studies.results_csv(settings, _row(db, study_id, key.workspace))
    return Response(
        text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{study_id}.csv"'}
    )


@router.get("/{study_id}/results.parquet", responses=FILE)
def study_results_parquet(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    path = studies.output(settings, _row(db, study_id, key.workspace), "results.parquet")
    return FileResponse(path, media_type="application/octet-stream", filename=f"{study_id}.parquet")


@router.get("/{study_id}/figures/{index}", responses={200: {"content": {"application/json": {}}}})
def study_figure(
    study_id: str,
    index: Annotated[int, Path(ge=0, le=10_000)],
    db: Db,
    settings: SettingsDep,
    key: Viewer,
) -> FileResponse:
    """One figure as plotly JSON (`data`, `layout`)."""
    path = _figure(settings, db, study_id, index, key.workspace)[0]
    return FileResponse(path, media_type="application/json")


@router.get("/{study_id}/figures/{index}/html", response_class=HTMLResponse)
def study_figure_html(
    study_id: str,
    index: Annotated[int, Path(ge=0, le=10_000)],
    db: Db,
    settings: SettingsDep,
    key: Viewer,
) -> HTMLResponse:
    """One figure as an HTML page (plotly.js served by this app)."""
    path, title = _figure(settings, db, study_id, index, key.workspace)
    return HTMLResponse(figures.figure_html(path.read_text(encoding="utf-8"), title))


@router.get("/{study_id}/report", response_class=HTMLResponse)
def study_report(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The self-contained HTML report of the study (download)."""
    path = studies.output(settings, _row(db, study_id, key.workspace), figures.REPORT)
    return FileResponse(path, media_type="text/html", filename=f"report-{study_id}.html")


def _figure(
    settings: Settings, db: sessionmaker[Session], study_id: str, index: int, workspace: str
) -> tuple[FilePath, str]:
    row = _row(db, study_id, workspace)
    listed = {f["index"]: f for f in row.figures or []}
    if index not in listed:
        raise NotFound(f"study '{study_id}' has no figure {index} (it has {len(listed)})")
    path = studies.output(settings, row, f"{figures.FOLDER}/{index:03d}.json")
    return path, str(listed[index]["title"])


def _row(db: sessionmaker[Session], study_id: str, workspace: str) -> StudyRow:
    """The workspace's study, read in a transaction of its own (NotFound -> 404)."""
    with transaction(db) as session:
        return studies.get(session, study_id, workspace)
