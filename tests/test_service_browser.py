"""The dashboard driven in headless Chromium (Debian's, never a downloaded one): give the
key once, start a study, watch it finish, see its KPIs and a figure drawn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from service.figures import available as viz_available
from service.testing import Server, client
from tests.test_service_api import SMALL

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)


def snap(page: Any, name: str) -> None:
    """With TWIN_SCREENSHOTS=FOLDER, a full-page screenshot FOLDER/NAME.png (to look at the pages)."""
    folder = os.environ.get("TWIN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "home") as running:
        yield running


@contextmanager
def dashboard(server: Server, key: str, errors: list[str]) -> Iterator[Any]:
    """A Chromium page on the dashboard, logged in with `key`; page errors go to `errors`."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/")
            page.fill("#key", key)
            page.click("#save-key")
            yield page
        finally:
            browser.close()


def test_dashboard_starts_a_study_and_shows_it_finished(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    key = server.key("editor")
    with client(server, key) as api:
        api.post("/twins", json={"spec": SMALL}).raise_for_status()
    errors: list[str] = []
    with dashboard(server, key, errors) as page:
        page.wait_for_selector("#twins tbody tr[data-id]")
        page.fill("#study-reps", "3")
        page.click("#start-study")
        page.wait_for_selector("#detail-status[data-status='done']", timeout=120_000)
        page.wait_for_selector("#compare-table")
        kpis = page.inner_text("#compare-table")
        if viz_available():
            page.wait_for_selector("#figure svg.main-svg", timeout=60_000)
            assert page.is_visible("#download-report")
            with page.expect_download() as download:
                page.click("#download-report")
            assert download.value.suggested_filename.startswith("report-")
        page.reload()  # the key is remembered: no second prompt
        page.wait_for_selector("#studies tbody tr[data-id]")
        assert page.is_hidden("#login")
    assert "mm1-small" in kpis
    assert errors == []


def test_dashboard_uploads_a_log_and_calibrates_with_validation(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload form with 'choose options by validation' ticked: the job runs the
    validation split, the table shows it done with its Report button."""
    pytest.importorskip("log_distance_measures")
    from tests.test_calibration_validation import office_log

    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    events = tmp_path / "office.csv"
    office_log(weeks=6).to_csv(events, index=False)
    key = server.key("editor")
    errors: list[str] = []
    with dashboard(server, key, errors) as page:
        page.click("summary:has-text('Calibrate a twin')")
        page.set_input_files("#cal-events", str(events))
        page.check("#cal-validation")
        page.click("#start-calibration")
        page.wait_for_selector("#calibrations tbody tr button:visible", timeout=300_000)
        assert "done" in page.inner_text("#calibrations")
    assert errors == []
    with client(server, key) as api:
        (done,) = api.get("/calibrations").json()
        report = api.get(f"/calibrations/{done['id']}/report.json").json()
    assert done["validation"] is True and report["validation"]["chosen"]["arrivals"] == "profile"


def test_dashboard_starts_an_optimisation_and_shows_the_plan(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Optimise form: a decision (its current value shown), a target, a small budget;
    the job finishes and the recommended plan, its targets and its figures appear."""
    from tests.test_service_optimize import TWIN

    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    key = server.key("editor")
    with client(server, key) as api:
        api.post("/twins", json={"spec": TWIN}).raise_for_status()
    errors: list[str] = []
    with dashboard(server, key, errors) as page:
        page.wait_for_selector("#twins tbody tr[data-id]")
        page.fill("#opt-decisions .opt-path", "resources.pa.capacity")
        page.wait_for_function("document.querySelector('#opt-decisions .opt-now').textContent === '6'")
        page.fill("#opt-decisions .opt-low", "3")
        page.fill("#opt-decisions .opt-high", "6")
        page.fill("#opt-targets", "activities.a.wait.mean <= 1")
        page.fill("#opt-budget", "4")
        page.fill("#opt-max-reps", "5")
        page.click("#start-optimization")
        page.wait_for_selector("#opt-status[data-status='done']", timeout=180_000)
        page.wait_for_selector("#opt-plan:not([hidden])")
        assert page.inner_text("#opt-statement")
        assert "activities.a.wait.mean <= 1" in page.inner_text("#opt-target-status")
        changes = page.inner_text("#opt-changes")
        assert "resources.pa.capacity" in changes or "base is best" in changes
        if viz_available():
            page.wait_for_selector("#opt-frontier svg.main-svg", timeout=60_000)
            page.wait_for_selector("#opt-convergence svg.main-svg", timeout=60_000)
        snap(page, "dashboard-optimise")
        assert page.inner_text("#optimizations tbody")
    assert errors == []
