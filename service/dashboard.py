"""The dashboard page and its static files (plotly.js from the installed plotly package)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from service import figures

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
@router.get("/dashboard", response_class=HTMLResponse)
def page() -> HTMLResponse:
    """Public page; every call it makes sends the API key the user gives it once."""
    return HTMLResponse((STATIC / "dashboard.html").read_text(encoding="utf-8"))


@router.get("/static/dashboard.js")
def script() -> FileResponse:
    return FileResponse(STATIC / "dashboard.js", media_type="text/javascript")


@router.get("/static/workbench.js")
def workbench_script() -> FileResponse:
    return FileResponse(STATIC / "workbench.js", media_type="text/javascript")


@router.get("/static/forecast.js")
def forecast_script() -> FileResponse:
    return FileResponse(STATIC / "forecast.js", media_type="text/javascript")


@router.get("/static/figure.js")
def figure_script() -> FileResponse:
    return FileResponse(STATIC / "figure.js", media_type="text/javascript")


@router.get("/static/plotly.min.js")
def plotly() -> Response:
    path = figures.plotly_js()
    if path is None:
        return Response("/* plotly is not installed: figures are not drawn */", media_type="text/javascript")
    return FileResponse(path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})
