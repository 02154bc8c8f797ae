"""The dashboard's Forecast section in headless Chromium (Debian's): a forecast from the
pre-filled state with its jobs table and figures, a field-named error for a bad state, a
live twin fed one event and forecast from it, and a page that fits 1280 px."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.figures import available as viz_available
from service.testing import SMALL_TWIN, Server, client
from tests.test_service_browser import CHROMIUM, dashboard, snap

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "home") as running:
        yield running


def test_dashboard_forecasts_from_a_state_and_from_a_live_twin(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    key = server.key("editor")
    with client(server, key) as api:
        api.post("/twins", json={"spec": SMALL_TWIN}).raise_for_status()
    errors: list[str] = []
    with dashboard(server, key, errors) as page:
        page.wait_for_selector("#twins tbody tr[data-id]")
        waited = 0.0
        while "in_service" not in page.input_value("#fc-state") and waited < 30:  # no polled eval: the CSP
            page.wait_for_timeout(200)
            waited += 0.2
        state = json.loads(page.input_value("#fc-state"))
        assert [e["activity"] for e in state["entities"]] == ["serve", "serve"]  # the twin's first activity
        page.fill("#fc-reps", "30")
        page.click("#fc-add-change")
        page.fill("#fc-changes .change-path", "resources.clerk.capacity")
        page.wait_for_selector("#fc-changes .change-now:text-is('1')")
        page.fill("#fc-changes .change-value", "2")
        page.click("#fc-run")
        page.wait_for_selector("#fc-jobs tbody tr", timeout=120_000)
        jobs = page.locator("#fc-jobs tbody tr").all_inner_texts()
        assert len(jobs) == 2 and {j.split("\t")[0] for j in jobs} == {"job-1", "job-2"}
        assert "P(done by until)" in page.inner_text("#fc-jobs thead")
        assert "mm1-small (with 1 change)" in page.inner_text("#fc-headline")
        if viz_available():
            page.wait_for_selector("#fc-figures .fc-figure svg.main-svg", timeout=60_000)
            assert page.locator("#fc-figures .fc-figure").count() == 2
        snap(page, "dashboard-forecast")

        bad = {"time": 0, "entities": [{"activity": "nowhere", "state": "waiting", "since": -1}]}
        page.fill("#fc-state", json.dumps(bad))
        page.click("#fc-run")
        page.wait_for_selector("#fc-problems code.field")
        assert "state.entities[0].activity" in page.locator("#fc-problems code.field").all_inner_texts()
        page.fill("#fc-state", "{not json")
        page.click("#fc-run")
        page.wait_for_selector("#fc-problems li:has-text('not valid JSON')")
        assert page.locator("#fc-problems code.field").all_inner_texts() == ["state"]

        page.select_option("#fc-source", "live")
        page.click("#fc-new-live")
        page.wait_for_selector("#fc-live-events:not([hidden])")
        page.fill("#ev-case", "A")
        page.fill("#ev-start", "2026-12-03T08:00:00")  # no UTC offset: refused, naming why
        page.click("#ev-send")
        page.wait_for_selector("#ev-problems li:has-text('offset')")
        page.fill("#ev-start", "2026-12-03T08:00:00+00:00")
        page.click("#ev-send")
        page.wait_for_selector("#fc-cases tbody tr")
        assert page.inner_text("#fc-cases tbody").split("\t")[:3] == ["A", "serve", "in service"]
        page.fill("#fc-horizon", "6")
        page.click("#fc-run")
        page.wait_for_selector("#fc-jobs tbody tr:only-child", timeout=120_000)
        assert "A" in page.inner_text("#fc-jobs tbody")
        assert "now: 2026-12-03T08:00" in page.inner_text("#fc-result")
        snap(page, "dashboard-live-twin")

        for details in page.query_selector_all("details"):
            details.evaluate("d => d.open = true")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert errors == []
