"""The report opened in headless Chromium (Debian's, never a downloaded one): no console
errors, every plot rendered, a screenshot saved to artifacts/ for a person to look at."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from viz.report import write_report

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes
from viz_study import make_classed_study, make_stressed_study, make_study

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
RENDERED = ("() => { const d = [...document.querySelectorAll('.plotly-graph-div')];"
            " return d.length > 0 && d.every(x => x.querySelector('svg.main-svg')); }")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/setup.sh)")


@pytest.mark.parametrize(("make", "shot"), [(make_study, "report-screenshot.png"),
                                           (make_stressed_study, "report-stressed-screenshot.png"),
                                           (make_classed_study, "report-classed-screenshot.png")])
def test_report_renders_in_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: object,
                                    shot: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    report = write_report(make(tmp_path / "study"), tmp_path / "report.html")  # type: ignore[operator]
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            started = time.perf_counter()
            page.goto(report.as_uri())
            page.wait_for_function(RENDERED, timeout=60_000)
            seconds = time.perf_counter() - started
            plots = page.evaluate("document.querySelectorAll('.plotly-graph-div').length")
            drawn = page.evaluate("document.querySelectorAll('.plotly-graph-div svg.main-svg').length")
            page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert plots >= 10 and drawn >= plots  # each plot div holds at least one svg.main-svg
    assert report.read_text().count('class="plotly-graph-div"') == plots
    print(f"report {report.stat().st_size / 1e6:.1f} MB rendered in {seconds:.1f} s")
