"""Figures and the report of a finished study, drawn by `viz` when it is installed.

The worker builds them once, after the study: `figures/NNN.json` (plotly JSON) per
figure and `report.html`. Without viz a study has no figures and no report.
"""

from __future__ import annotations

import importlib.util
import re
from html import escape
from pathlib import Path
from typing import Any

FOLDER = "figures"
REPORT = "report.html"


def available() -> bool:
    """True when viz with its figure builders and report writer is importable."""
    try:
        return importlib.util.find_spec("viz.report") is not None
    except (ImportError, ValueError):
        return False


def build(folder: Path) -> tuple[list[dict[str, Any]], str | None]:
    """Write every figure and the report; (figure index, problem or None). Never raises."""
    if not available():
        return [], None
    try:
        from viz.data import load_study
        from viz.report import figures, render

        study = load_study(folder)
        index = _write_figures(folder / FOLDER, figures(study))
        (folder / REPORT).write_text(render(study), encoding="utf-8")
    except Exception as error:  # a figure bug must not fail a finished study
        return [], f"figures: {type(error).__name__}: {error}"
    return index, None


def _write_figures(out: Path, sections: list[Any]) -> list[dict[str, Any]]:
    out.mkdir(parents=True, exist_ok=True)
    index: list[dict[str, Any]] = []
    for section in sections:
        for figure in section.figures:
            n = len(index)
            (out / f"{n:03d}.json").write_text(figure.to_json(), encoding="utf-8")
            title = plain_title(figure.layout.title.text or section.title)
            index.append({"index": n, "section": section.title, "title": title})
    return index


def forecast_figures(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The forecast report's two figures (open jobs, WIP and completion fans) as plotly JSON
    objects, drawn from a forecast's summary; none without viz. Never raises: a figure bug
    must not lose the forecast (it is logged)."""
    if not available():
        return []
    import json
    import logging

    try:
        from viz.forecast import fan_figure, jobs_figure

        return [json.loads(figure.to_json()) for figure in (jobs_figure(summary), fan_figure(summary))]
    except Exception:
        logging.getLogger(__name__).exception("forecast figures")
        return []


def plain_title(title: str) -> str:
    """A figure title as text for the picker: line breaks as dashes, no other markup."""
    text = re.sub(r"<br\s*/?>", " — ", str(title))
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip(" —")


def figure_path(folder: Path, index: int) -> Path:
    return folder / FOLDER / f"{index:03d}.json"


def figure_html(figure_json: str, title: str) -> str:
    """A page drawing one figure with the plotly.js the app serves (no CDN). The figure is a
    JSON data block that /static/figure.js draws: no inline script, as the CSP requires."""
    data = figure_json.replace("</", "<\\/")
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
        "<script src='/static/plotly.min.js'></script></head><body>"
        "<div id='figure' style='width:100%;height:90vh'></div>"
        f"<script type='application/json' id='figure-data'>{data}</script>"
        "<script src='/static/figure.js'></script></body></html>"
    )


def plotly_js() -> Path | None:
    """plotly.min.js of the installed plotly package, or None without plotly."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None
