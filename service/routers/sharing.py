"""Sharing a study's report: signed, expiring, revocable links (service.shares) and the
report as PDF (viz.pdf, Debian's chromium)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session, sessionmaker

from service import figures, shares, studies
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.errors import NotFound
from service.models import StudyRow
from service.settings import Settings

router = APIRouter(tags=["sharing"])
PDF: dict[int | str, dict[str, Any]] = {200: {"content": {"application/pdf": {}}}}
GONE: dict[int | str, dict[str, Any]] = {
    410: {"description": "The link has expired or was revoked (the reason is given)."},
    404: {"description": "Not a link of this server (forged, altered or unknown)."},
}  # as JSON {"detail": reason}; to a browser (Accept: text/html) as a page that says it in words
PRIVATE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}  # no copy outlives a revocation


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires_in_hours: float = Field(default=168, gt=0, le=24 * 90)  # a week by default, 90 days at most


class SharePublic(BaseModel):
    id: str
    study_id: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    url: str | None = None  # only when made: the link is the capability, shown once


@router.post("/studies/{study_id}/shares", status_code=status.HTTP_201_CREATED)
def create_share(study_id: str, body: ShareCreate, request: Request, db: Db, settings: SettingsDep,
                 key: Editor) -> SharePublic:
    """A link that opens the study's report in a browser, without a key, until it expires
    (`expires_in_hours`) or is revoked. Its URL is shown only now."""
    row = _row(db, study_id, key.workspace)
    studies.output(settings, row, figures.REPORT)  # 409 before done, 404 without a report
    link, token = shares.create(settings, study_id, body.expires_in_hours, key.id)
    return _public(link, str(request.base_url).rstrip("/") + f"/shared/{token}")


@router.get("/studies/{study_id}/shares")
def list_shares(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> list[SharePublic]:
    """The study's links (not their URLs), live, expired and revoked."""
    _row(db, study_id, key.workspace)
    return [_public(link) for link in shares.listing(settings, study_id)]


@router.delete("/studies/{study_id}/shares/{link_id}")
def revoke_share(study_id: str, link_id: str, db: Db, settings: SettingsDep, key: Editor) -> SharePublic:
    """Revoke a link: it answers 410 from now on."""
    _row(db, study_id, key.workspace)
    return _public(shares.revoke(settings, study_id, link_id))


@router.get("/studies/{study_id}/report.pdf", responses=PDF)
def study_report_pdf(study_id: str, db: Db, settings: SettingsDep, key: Viewer) -> Any:
    """The study's report as PDF, printed by chromium on first request (503 without it)."""
    return _pdf(settings, _row(db, study_id, key.workspace), f"report-{study_id}.pdf")


@router.get("/shared/{token}", responses={200: {"content": {"text/html": {}}}, **GONE})
def shared_report(token: str, request: Request, db: Db, settings: SettingsDep) -> Any:
    """Public: the report a share link stands for (no key; the link is the permission)."""
    link = _verify(settings, token, request)
    if not isinstance(link, shares.Link):
        return link
    path = studies.output(settings, _row(db, link.study_id, None), figures.REPORT)
    return FileResponse(path, media_type="text/html", headers=PRIVATE)


@router.get("/shared/{token}/pdf", responses={**PDF, **GONE})
def shared_report_pdf(token: str, request: Request, db: Db, settings: SettingsDep) -> Any:
    """Public: the shared report as PDF."""
    link = _verify(settings, token, request)
    if not isinstance(link, shares.Link):
        return link
    return _pdf(settings, _row(db, link.study_id, None), f"report-{link.study_id}.pdf", PRIVATE)


def _verify(settings: Settings, token: str, request: Request) -> shares.Link | HTMLResponse:
    """The live link; when it is gone or unknown, a page saying so in words to a browser (whoever
    opens a shared link reads no JSON), the JSON error (410, 404) to any other client."""
    browser = "text/html" in request.headers.get("accept", "")
    try:
        return shares.verify(settings, token)
    except shares.Gone as gone:
        if not browser:
            raise
        link = gone.link
        if link.revoked_at:
            revoked = _when(datetime.fromisoformat(link.revoked_at))
            return _page(410, "This link was revoked",
                         f"Whoever shared this study's report revoked the link on {revoked}, so it no longer "
                         "opens the report. Ask them for a new link if you still need it.")
        return _page(410, "This link has expired",
                     f"The link to this study's report expired on {_when(link.expires_at)}. "
                     "Ask whoever sent it for a new link if you still need it.")
    except NotFound:
        if not browser:
            raise
        return _page(404, "This link opens nothing here",
                     "It is not a link of this server, or part of it was lost when it was copied: "
                     "check that the whole link was pasted, or ask whoever sent it to send it again.")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y at %H:%M UTC").lstrip("0")


def _page(code: int, title: str, text: str) -> HTMLResponse:
    return HTMLResponse(
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
        "<style>body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; "
        "padding: 0 1rem; color: #222; } h1 { font-size: 1.4rem; }</style></head>"
        f"<body><h1>{escape(title)}</h1><p>{escape(text)}</p></body></html>",
        status_code=code, headers=PRIVATE)


def _pdf(settings: Settings, row: StudyRow, name: str, headers: dict[str, str] | None = None) -> Any:
    """The report's PDF, printed once and kept beside it (again when the report is newer)."""
    from viz.pdf import print_pdf

    html = studies.output(settings, row, figures.REPORT)
    pdf = html.with_name("report.pdf")
    if not pdf.is_file() or pdf.stat().st_mtime < html.stat().st_mtime:
        try:
            print_pdf(html, pdf)
        except RuntimeError as error:  # no chromium, or it failed: the service is fine otherwise
            return JSONResponse({"detail": str(error)}, status_code=503)
    return FileResponse(Path(pdf), media_type="application/pdf", filename=name, headers=headers)


def _public(link: shares.Link, url: str | None = None) -> SharePublic:
    revoked = datetime.fromisoformat(link.revoked_at) if link.revoked_at else None
    return SharePublic(id=link.id, study_id=link.study_id, created_at=datetime.fromisoformat(link.created_at),
                       created_by=link.created_by, expires_at=link.expires_at, revoked_at=revoked, url=url)


def _row(db: sessionmaker[Session], study_id: str, workspace: str | None) -> StudyRow:
    """The study in the key's workspace; any study for a share link (the link is the permission)."""
    with transaction(db) as session:
        return studies.get(session, study_id, workspace)
