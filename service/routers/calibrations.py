"""Calibration routes: upload CSVs (a job), status, report (HTML and JSON), list."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from service import calibrations, jobs, quotas
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.models import CalibrationRow
from service.schemas import CalibrationPublic

router = APIRouter(prefix="/calibrations", tags=["calibrations"])
Column = Annotated[
    str | None, Form(min_length=1, max_length=200, description="column name in the events file")
]


@router.post("", status_code=status.HTTP_202_ACCEPTED)
def create_calibration(
    request: Request,
    db: Db,
    settings: SettingsDep,
    key: Editor,
    events: Annotated[UploadFile, File(description="event log CSV: case, activity, resource, start, end")],
    failures: Annotated[
        UploadFile | None, File(description="failure records CSV (time, machine, component)")
    ] = None,
    deliveries: Annotated[UploadFile | None, File(description="delivery records CSV (SCMS columns)")] = None,
    name: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
    waits: Annotated[bool, Form()] = True,
    calendars: Annotated[bool | None, Form()] = None,
    capacity: Annotated[Literal["distinct", "peak"] | None, Form()] = None,
    arrivals: Annotated[Literal["auto", "profile", "stationary"] | None, Form()] = None,
    worktime: Annotated[Literal["weighted", "open", "chain"] | None, Form()] = None,
    routing: Annotated[int | None, Form(ge=1, le=2)] = None,
    processing: Annotated[Literal["clock", "working"] | None, Form()] = None,
    delays: Annotated[Literal["observed", "extraneous"] | None, Form()] = None,
    pools: Annotated[Literal["activity", "resource", "skills"] | None, Form()] = None,
    history: Annotated[float | None, Form(gt=0, le=1)] = None,
    classes: Annotated[str | None, Form(
        min_length=1, max_length=200,
        description="column of the events file whose values become entity classes, or none")] = None,
    cancelled: Annotated[str | None, Form(
        min_length=1, max_length=200,
        description="column whose non-empty value marks a cancelled case (measured in the report)")] = None,
    validation: Annotated[bool, Form()] = False,
    case_id: Column = None,
    activity: Column = None,
    resource: Column = None,
    start_time: Column = None,
    end_time: Column = None,
) -> CalibrationPublic:
    """Upload an event log (and optional failure and delivery records) as multipart CSV
    files, within `max_upload_bytes`; queue a job that fits a twin, stores it as a new
    twin and writes the calibration report. Columns are detected from common spellings or
    mapped with the `case_id`, `activity`, `resource`, `start_time`, `end_time` fields.
    Options left out take `twin calibrate`'s defaults, or with `validation` are chosen on a
    time split of the log (each candidate a step of the job's progress; `classes` among the
    columns that look like classes). `classes` and `cancelled` name columns of the events file.
    A file the loaders refuse gets 422 naming its field and the reason."""
    uploads = {
        field: (upload.filename or f"{field}.csv", upload.file)
        for field, upload in (("events", events), ("failures", failures), ("deliveries", deliveries))
        if upload is not None
    }
    given = dict(
        case_id=case_id, activity=activity, resource=resource, start_time=start_time, end_time=end_time
    )
    mapping = {k: v for k, v in given.items() if v is not None}
    options = {
        "name": name, "waits": waits, "calendars": calendars, "capacity": capacity, "arrivals": arrivals,
        "worktime": worktime, "routing": routing, "processing": processing, "pools": pools,
        "delays": delays, "history": history, "classes": classes, "cancelled": cancelled,
        "validation": validation,
    }
    checks = request.app.state.upload_checks
    return calibrations.public(calibrations.submit(db, settings, uploads, mapping, options, checks, key))


@router.get("")
def list_calibrations(
    db: Db,
    key: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[CalibrationPublic]:
    with transaction(db) as session:
        rows = calibrations.listing(session, key.workspace, limit, offset)
        return [calibrations.public(row) for row in rows]


@router.get("/{calibration_id}")
def get_calibration(calibration_id: str, db: Db, key: Viewer) -> CalibrationPublic:
    """Status, progress (steps) and, when done, the id of the twin it created."""
    return calibrations.public(_row(db, calibration_id, key.workspace))


@router.post("/{calibration_id}/retry")
def retry_calibration(calibration_id: str, db: Db, settings: SettingsDep, key: Editor) -> CalibrationPublic:
    """Queue a failed or cancelled calibration again (409 otherwise), from its uploads."""
    with transaction(db) as session:
        quotas.admit_job(session, settings, key)
        jobs.retry(session, CalibrationRow, calibration_id, "calibration", key.workspace)
        return calibrations.public(calibrations.get(session, calibration_id, key.workspace))


@router.get("/{calibration_id}/report", response_class=HTMLResponse)
def calibration_report(calibration_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The calibration report as one self-contained HTML page."""
    path = calibrations.report(settings, _row(db, calibration_id, key.workspace), html=True)
    return FileResponse(path, media_type="text/html", filename=f"calibration-{calibration_id}.html")


@router.get("/{calibration_id}/report.json", responses={200: {"content": {"application/json": {}}}})
def calibration_report_json(calibration_id: str, db: Db, settings: SettingsDep, key: Viewer) -> FileResponse:
    """The calibration report as JSON (fits, checks, warnings, rows dropped)."""
    path = calibrations.report(settings, _row(db, calibration_id, key.workspace), html=False)
    return FileResponse(path, media_type="application/json")


def _row(db: sessionmaker[Session], calibration_id: str, workspace: str) -> CalibrationRow:
    with transaction(db) as session:
        return calibrations.get(session, calibration_id, workspace)
