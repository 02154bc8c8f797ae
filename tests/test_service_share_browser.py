"""Sharing from the dashboard, in headless Chromium (Debian's): an editor opens a finished
two-plan study (a target, a stress), watches one replication play back, makes a share link,
copies it and downloads the report as PDF; a browser with no key opens the link, sees the
report's figures drawn and its replay play, until the editor revokes the link. A viewer's
key lists the links but cannot make or revoke them, and is told so."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.figures import available as viz_available
from service.testing import SMALL_TWIN, Server, client, wait_for
from tests.test_service_browser import ARGS, CHROMIUM, snap
from viz.pdf import chromium

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not viz_available(), reason="a report (and so a share link) needs viz"),
]
in_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or chromium() is None,
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
)
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # as a browser asks
STRESS = {"name": "clerk-off", "kind": "staff_absence", "target": "clerk", "units": 1,
          "window": {"start": 200, "length": 100}}
TARGET = "activities.serve.wait.mean <= 10"
PLANS = [
    {"name": "two-clerks", "changes": {"resources.clerk.capacity": 2}, "stresses": [STRESS],
     "targets": [TARGET]},
    {"name": "faster-service", "changes": {"activities.serve.duration.mean": 0.5}, "targets": [TARGET]},
]
PLAY = ".updatemenu-button:has-text('1x')"  # the replay's "▶ 1x" button (plotly draws it in SVG)
CLOCK = "t = "  # the replay's title gives the clock of the frame shown


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home")) as running:
        yield running


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return {role: server.key(role) for role in ("viewer", "editor")}


@pytest.fixture(scope="module")
def study_id(server: Server, keys: dict[str, str]) -> str:
    with client(server, keys["editor"]) as api:
        twin = api.post("/twins", json={"spec": SMALL_TWIN}).raise_for_status().json()["id"]
        body = {"twin_id": twin, "replications": 3, "seed": 2, "scenarios": PLANS}
        submitted = api.post("/studies", json=body)
        assert submitted.status_code == 202, submitted.text
        study = wait_for(api, submitted.json()["id"], timeout=300)
    assert study["status"] == "done", study
    return str(study["id"])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def dashboard(browser: Any, server: Server, key: str, study_id: str, errors: list[str]) -> Iterator[Any]:
    """The dashboard logged in with `key` (a context of its own), the study's detail open."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    try:
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        page.fill("#key", key)
        page.click("#save-key")
        page.click(f"#studies tbody tr[data-id='{study_id}']")
        page.wait_for_selector("#detail-status[data-status='done']", timeout=60_000)
        page.wait_for_selector("#share:not([hidden])")
        yield page
    finally:
        context.close()


def clock(plot: Any) -> str:
    """The clock of the frame a replay shows, from its title."""
    title = plot.locator(".gtitle").text_content() or ""
    assert CLOCK in title, title
    return str(title.split(CLOCK, 1)[1])


def plays(page: Any, plot: Any, name: str | None = None) -> None:
    """Press the replay's play button and see its clock move on (a screenshot mid-play);
    then pause it, and see it stay."""
    first = clock(plot)
    plot.locator(PLAY).click()
    plot.locator(".gtitle").filter(has_not_text=first).wait_for(timeout=30_000)
    if name:
        page.wait_for_timeout(1500)  # some frames on, for the screenshot
        snap(page, name)
    later = clock(plot)
    assert hours(later) > hours(first)
    plot.locator(".updatemenu-button:has-text('pause')").click()
    page.wait_for_timeout(300)  # a frame already begun draws its clock
    paused = clock(plot)
    page.wait_for_timeout(1000)  # eight frames at 1x, were it still playing
    assert clock(plot) == paused and hours(paused) > hours(first)


def hours(shown: str) -> float:
    """The time of a clock as the replay shows it ('1,012.5 hours (Sat 10 Jan 04:30)')."""
    return float(shown.split()[0].replace(",", ""))


def make_link(page: Any, days: str = "7") -> str:
    page.fill("#share-days", days)
    page.click("#share-create")
    page.wait_for_selector("#share-made:not([hidden])")
    url = str(page.input_value("#share-url"))
    link_id = url.rsplit("/", 1)[1].split(".")[0]  # a token is ID.EXPIRES.SIGNATURE
    page.wait_for_selector(f"#shares tbody tr[data-id='{link_id}'][data-state='live']")
    return url


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@in_chromium
def test_an_editor_watches_the_replay_shares_the_report_and_downloads_its_pdf(
    browser: Any, server: Server, keys: dict[str, str], study_id: str, tmp_path: Path
) -> None:
    errors: list[str] = []
    with dashboard(browser, server, keys["editor"], study_id, errors) as page:
        assert page.is_visible("#download-pdf") and page.is_visible("#watch-replay")
        assert "No links yet" in page.inner_text("#share")
        options = page.locator("#figure-select option").all_inner_texts()
        assert "One replication, played back: Replication 0 of mm1-small" in options  # no clock in its name

        page.click("#watch-replay")
        replay = page.locator("#figure")
        replay.locator(PLAY).wait_for(timeout=60_000)
        assert page.input_value("#figure-select") == str(
            [o.startswith("One replication, played back") for o in options].index(True)
        )
        plays(page, replay, "dashboard-replay")

        url = make_link(page)
        assert url.startswith(f"{server.url}/shared/")
        (live,) = page.locator("#shares tbody tr").all()
        assert live.get_attribute("data-state") == "live" and live.locator("button.revoke").is_visible()
        assert "live" in live.inner_text()
        page.click("#share-copy")
        page.wait_for_selector("#share-copied:has-text('Copied')")
        assert page.evaluate("navigator.clipboard.readText()") == url
        page.locator("#share").scroll_into_view_if_needed()
        snap(page, "dashboard-share")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280

        page.fill("#share-days", "365")  # more than the API allows: said, and nothing made
        page.click("#share-create")
        assert "at most 90 days" in page.inner_text("#share-error")
        assert page.locator("#shares tbody tr").count() == 1

        with page.expect_download(timeout=300_000) as download:
            page.click("#download-pdf")
        assert download.value.suggested_filename == f"report-{study_id}.pdf"
        saved = tmp_path / "report.pdf"
        download.value.save_as(saved)
        pdf = saved.read_bytes()
        assert pdf[:5] == b"%PDF-" and pages(pdf) >= 3
        assert page.inner_text("#pdf-status") == ""
    assert errors == []


@in_chromium
def test_a_browser_without_a_key_opens_the_link_until_it_is_revoked(
    browser: Any, server: Server, keys: dict[str, str], study_id: str
) -> None:
    errors: list[str] = []
    with dashboard(browser, server, keys["editor"], study_id, errors) as page:
        url = make_link(page, "2")
        made = page.locator("#shares tbody tr").first  # the newest first
        assert made.get_attribute("data-state") == "live"
        link_id = made.get_attribute("data-id")

        stranger = browser.new_context(viewport={"width": 1280, "height": 900})  # no key, no cookies
        try:
            report = stranger.new_page()
            report.on("pageerror", lambda e: errors.append(str(e)))
            opened = report.goto(url)
            assert opened is not None and opened.status == 200
            assert "authorization" not in opened.request.all_headers()
            plots = report.locator(".js-plotly-plot")
            report.wait_for_function(
                "[...document.querySelectorAll('.js-plotly-plot')]"
                ".every((plot) => plot.querySelector('svg.main-svg'))",
                timeout=60_000,
            )
            assert plots.count() >= 8
            assert "two-clerks" in report.content() and "faster-service" in report.content()
            replay = report.locator(".js-plotly-plot", has=report.locator(PLAY))
            assert replay.count() == 1
            replay.scroll_into_view_if_needed()
            plays(report, replay)
            replay.scroll_into_view_if_needed()
            snap(report, "shared-report")
            shared_pdf = stranger.request.get(url + "/pdf", timeout=300_000)
            assert shared_pdf.status == 200 and shared_pdf.body()[:5] == b"%PDF-"

            made.locator("button.revoke").click()
            revoked = page.locator(f"#shares tbody tr[data-id='{link_id}'][data-state='revoked']")
            revoked.wait_for()
            assert "revoked" in revoked.inner_text() and not revoked.locator("button.revoke").is_visible()
            again = report.reload()
            assert again is not None and again.status == 410
            assert report.inner_text("h1") == "This link was revoked"  # in words, not JSON
            assert "revoked the link on" in report.inner_text("body")
            snap(report, "shared-revoked")
        finally:
            stranger.close()
    assert errors == []


@in_chromium
def test_a_viewer_lists_the_links_but_is_told_it_cannot_make_them(
    browser: Any, server: Server, keys: dict[str, str], study_id: str
) -> None:
    with client(server, keys["editor"]) as api:
        api.post(f"/studies/{study_id}/shares", json={"expires_in_hours": 1}).raise_for_status()
    errors: list[str] = []
    with dashboard(browser, server, keys["viewer"], study_id, errors) as page:
        page.wait_for_selector("#shares tbody tr")
        assert page.is_hidden("#share-form") and page.is_visible("#share-viewer")
        assert page.locator("#shares button.revoke:visible").count() == 0
        page.locator("#share").scroll_into_view_if_needed()
        snap(page, "dashboard-share-viewer")
        page.evaluate("document.getElementById('share-form').hidden = false")  # as if the form were there
        page.click("#share-create")
        page.wait_for_selector("#share-error:has-text('editor')")
        assert "this needs the editor role; the key is a viewer" in page.inner_text("#share-error")
        assert page.is_hidden("#share-made")
    assert errors == []


def test_a_link_that_opens_nothing_says_why_in_words_to_a_browser(
    server: Server, keys: dict[str, str], study_id: str
) -> None:
    """Gone or unknown: a page for a browser, the JSON error for any other client."""
    with client(server, keys["editor"]) as api:
        url = api.post(f"/studies/{study_id}/shares", json={"expires_in_hours": 1 / 3600}).json()["url"]
    time.sleep(2.1)  # expiry is kept in whole seconds
    expired, unknown = "This link has expired", "This link opens nothing here"
    for path, code, title in ((url, 410, expired), (url + "/pdf", 410, expired),
                              (f"{server.url}/shared/{'0' * 32}.1.x", 404, unknown)):
        page = httpx.get(path, headers=HTML, timeout=30)
        assert page.status_code == code and page.headers["content-type"].startswith("text/html"), path
        assert f"<h1>{title}</h1>" in page.text and page.headers["cache-control"] == "no-store"
        assert "expired on" in page.text or code == 404
        plain = httpx.get(path, timeout=30)
        assert plain.status_code == code and "detail" in plain.json()
