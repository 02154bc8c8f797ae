"""Calibrations: check uploaded CSVs and queue a job; the job fits a twin and writes a report.

A calibration's folder (`TWIN_HOME/calibrations/ID/`) holds its uploads (`input/events.csv`
and, when given, `input/failures.csv`, `input/deliveries.csv`) and, once done, the
calibrated twin (`twin.yaml`) and the report (`report.html`, `report.json`), referenced
from the database. The twin is stored as a new twin, as `POST /twins` does.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from sqlalchemy.orm import Session, sessionmaker

from service import quotas
from service.db import fetch, newest_first, transaction
from service.errors import Conflict, Invalid, NotFound, TooLarge
from service.models import ApiKey, CalibrationRow, now
from service.schemas import CalibrationPublic, Progress
from service.settings import Settings
from service.uploads import Checks, scan_csv
from twin.spec import Twin

FILES = ("events", "failures", "deliveries")  # form fields; events is required
MAPPED = ("case_id", "activity", "resource", "start_time", "end_time")  # column mapping fields
STEPS = 4  # load, fit, check the twin, write the report (+ the validation's candidates)
OPTIONS = ("waits", "delays", "calendars", "capacity", "arrivals", "worktime", "routing", "processing",
           "pools", "history", "classes", "cancelled")
COLUMN_OPTIONS = ("classes", "cancelled")  # options naming a column of the events file
REPORT_JSON, REPORT_HTML, TWIN_YAML = "report.json", "report.html", "twin.yaml"


def submit(
    db: sessionmaker[Session],
    settings: Settings,
    uploads: dict[str, tuple[str, BinaryIO]],
    mapping: dict[str, str],
    options: dict[str, Any],
    checks: Checks,
    key: ApiKey,
) -> CalibrationRow:
    """Save the uploads (field -> (file name, stream)), scan each within the caps, check
    them with calibration's loaders in a child process (Invalid naming the field and the
    loader's reason), and queue the job."""
    calibration_id = uuid.uuid4().hex
    folder = settings.calibrations_dir / calibration_id
    inputs = folder / "input"
    inputs.mkdir(parents=True)
    try:
        names = {}
        for field, (filename, stream) in uploads.items():
            data = stream.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise TooLarge(
                    f"{field}: file exceeds the limit max_upload_bytes = {settings.max_upload_bytes} bytes"
                )
            scan_csv(data, field, settings.max_upload_columns, settings.max_upload_rows)
            (inputs / f"{field}.csv").write_bytes(data)
            names[field] = filename
        checks.run(check, inputs, mapping, _columns(options))
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = options.get("name") or _name_from(names["events"])
    row = CalibrationRow(
        id=calibration_id,
        status="queued",
        request={**options, "name": name, "mapping": mapping, "files": names},
        done=0,
        total=STEPS,
        attempts=0,
        folder=str(folder.relative_to(settings.home)),
        owner=key.id,
        workspace=key.workspace,
        bytes=quotas.folder_bytes(folder),
        created_at=now(),
    )
    try:
        with transaction(db) as session:
            quotas.admit_job(session, settings, key, row.bytes)
            session.add(row)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return row


def check(inputs: Path, mapping: dict[str, str], columns: dict[str, str] | None = None) -> None:
    """Load each upload as the job will; the first problem -> Invalid naming its field (the
    option's own field for a column it names that the events file lacks: `columns`)."""
    from calibration import failures, supply
    from calibration.loaders import CalibrationDataError, load_events, read_table

    for field in FILES:
        path = inputs / f"{field}.csv"
        if not path.exists():
            continue
        try:
            if field == "events":
                load_events(path, mapping)
                continue
            table, _ = read_table(path)
            if table.empty:
                raise CalibrationDataError("no rows")
            columns_seen = list(table.columns)
            if field == "failures":
                for what, aliases in failures.COLUMNS.items():
                    failures.pick(columns_seen, aliases, what)
            else:
                missing = [supply.DEFAULTS[c] for c in ("ordered", "scheduled", "delivered")]
                missing = [c for c in missing if c not in columns_seen]
                if missing:
                    raise CalibrationDataError(f"missing column(s) {missing}; columns are {columns_seen}")
        except CalibrationDataError as error:
            raise Invalid([(field, _unpath(str(error), path, field))]) from None
        except Exception as error:  # pandas' own errors (an empty file, a binary blob)
            raise Invalid([(field, f"cannot read as CSV: {type(error).__name__}: {error}")]) from None
    events = inputs / "events.csv"
    for option, column in (columns or {}).items():
        try:
            load_events(events, mapping, keep={column: option})
        except CalibrationDataError as error:
            raise Invalid([(option, _unpath(str(error), events, "events"))]) from None


def _columns(options: dict[str, Any]) -> dict[str, str]:
    """option -> the events column it names (classes "none" names none)."""
    return {k: str(options[k]) for k in COLUMN_OPTIONS if options.get(k) not in (None, "none")}


def _unpath(message: str, path: Path, field: str) -> str:
    """The loader's message without the server-side path ('events: missing column ...')."""
    message = message.replace(str(path), field)
    return message.removeprefix(f"{field}: ") if message.startswith(f"{field}: ") else message


def _name_from(filename: str) -> str:
    stem = filename.rsplit("/", 1)[-1].split(".")[0]
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", stem).strip("_-")[:100] or "calibrated"


def run(
    folder: Path, request: dict[str, Any], progress: Callable[[int, int], None], out: Path | None = None
) -> tuple[Twin, dict[str, Any]]:
    """The job (in a worker process): calibrate from the folder's uploads; write the twin
    YAML and the report files in `out` (default: the folder); return the checked twin and
    the report."""
    from calibration.cli import calibrate_with_options, load_for_calibration
    from calibration.loaders import read_table
    from calibration.report import write_report
    from twin.loader import parse_twin

    inputs = folder / "input"
    progress(0, STEPS)
    given = {k: request[k] for k in OPTIONS if request.get(k) is not None}
    validate = bool(request.get("validation"))
    mapping = request.get("mapping") or {}
    events, loaded = load_for_calibration(inputs / "events.csv", mapping, given, validate)
    extra = {
        field: read_table(inputs / f"{field}.csv")[0] if (inputs / f"{field}.csv").exists() else None
        for field in ("failures", "deliveries")
    }
    progress(1, STEPS)
    spec, report = calibrate_with_options(  # the selector's candidates count as steps of the job
        events, extra["failures"], extra["deliveries"], request["name"], given,
        validate, lambda done, total: progress(1 + done, STEPS + total), case_ends=loaded.case_ends,
    )
    total = STEPS + report.get("validation", {}).get("twins_scored", 0)
    data = loaded.as_dict()
    data["source"] = request.get("files", {}).get("events", "events.csv")
    report["data"] = data
    progress(total - 2, total)
    twin = parse_twin(spec, "calibrated twin")  # never store a twin that does not load
    out = out or folder
    out.mkdir(parents=True, exist_ok=True)
    (out / TWIN_YAML).write_text(
        yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    progress(total - 1, total)
    write_report(report, out / REPORT_HTML)  # and report.json beside it
    return twin, report


def get(session: Session, calibration_id: str, workspace: str | None) -> CalibrationRow:
    return fetch(session, CalibrationRow, calibration_id, "calibration", workspace)


def listing(session: Session, workspace: str, limit: int, offset: int) -> list[CalibrationRow]:
    return newest_first(session, CalibrationRow, workspace, limit, offset)


def report(settings: Settings, row: CalibrationRow, html: bool) -> Path:
    """The report file of a finished calibration (Conflict while it is not done)."""
    if row.status != "done":
        raise Conflict(f"calibration '{row.id}' is {row.status}, not done: its report is not there yet")
    relative = row.report_html_path if html else row.report_path
    path = settings.home / relative if relative else None
    if path is None or not path.is_file():
        raise NotFound(f"calibration '{row.id}' has no {'HTML' if html else 'JSON'} report")
    return path


def public(row: CalibrationRow) -> CalibrationPublic:
    total = max(row.total, 0)
    request = row.request or {}
    return CalibrationPublic(
        id=row.id,
        status=row.status,
        progress=Progress(done=row.done, total=total, fraction=row.done / total if total else 0.0),
        twin_id=row.twin_id,
        name=str(request.get("name", "")),
        files=dict(request.get("files", {})),
        mapping=dict(request.get("mapping", {})),
        waits=bool(request.get("waits", True)),
        calendars=request.get("calendars"),
        capacity=request.get("capacity"),
        arrivals=request.get("arrivals"),
        worktime=request.get("worktime"),
        routing=request.get("routing"),
        processing=request.get("processing"),
        delays=request.get("delays"),
        pools=request.get("pools"),
        history=request.get("history"),
        classes=request.get("classes"),
        cancelled=request.get("cancelled"),
        validation=bool(request.get("validation", False)),
        warnings=list(row.warnings or []),
        attempts=row.attempts,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
