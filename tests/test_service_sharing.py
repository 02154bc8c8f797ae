"""Sharing a study's report over a real server: signed, expiring, revocable links that open
without a key, and the report as PDF printed by Debian's chromium (the API and the CLI)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.figures import available as viz_available
from service.testing import SMALL_TWIN, Server, client, wait_for
from viz.pdf import ARGS, BUDGET_MS, chromium

pytestmark = pytest.mark.skipif(not viz_available(), reason="a report needs viz")
NO_CHROMIUM = "needs Debian's chromium (apt-get install chromium, or scripts/setup.sh) to print a PDF"
TWIN_CLI = Path(sys.executable).parent / "twin"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), workers="2") as running:
        yield running


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return {role: server.key(role) for role in ("viewer", "editor")}


@pytest.fixture(scope="module")
def study_id(server: Server, keys: dict[str, str]) -> str:
    with client(server, keys["editor"]) as api:
        twin = api.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
        submitted = api.post("/studies", json={"twin_id": twin, "replications": 3, "seed": 5})
        assert submitted.status_code == 202, submitted.text
        study = wait_for(api, submitted.json()["id"])
    assert study["status"] == "done", study
    return str(study["id"])


def share(server: Server, key: str, study_id: str, hours: float = 24) -> httpx.Response:
    with client(server, key) as api:
        return api.post(f"/studies/{study_id}/shares", json={"expires_in_hours": hours})


def test_an_editor_makes_a_link_that_opens_without_a_key(server: Server, keys: dict[str, str],
                                                         study_id: str) -> None:
    assert share(server, keys["viewer"], study_id).status_code == 403  # viewers read, editors share
    made = share(server, keys["editor"], study_id)
    assert made.status_code == 201, made.text
    link = made.json()
    assert link["url"].startswith(f"{server.url}/shared/") and link["revoked_at"] is None
    with httpx.Client(timeout=30) as browser:  # no Authorization header at all
        page = browser.get(link["url"])
    assert page.status_code == 200 and "<html" in page.text[:300]
    assert page.headers["content-type"].startswith("text/html")
    assert "sandbox" in page.headers["content-security-policy"]  # its scripts in an origin of their own
    assert page.headers["cache-control"] == "no-store"
    with client(server, keys["viewer"]) as viewer:
        listed = viewer.get(f"/studies/{study_id}/shares").json()
    assert [x["id"] for x in listed] == [link["id"]] and listed[0]["url"] is None  # the URL is shown once


def test_a_forged_or_altered_link_is_refused(server: Server, keys: dict[str, str], study_id: str) -> None:
    url = share(server, keys["editor"], study_id).json()["url"]
    token = url.rsplit("/", 1)[1]
    link_id, expires, signature = token.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    later = str(int(expires) + 86_400)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        for bad in (f"{link_id}.{expires}.{flipped}", f"{link_id}.{later}.{signature}",
                    f"{'0' * 32}.{expires}.{signature}", "../../share.key", "x"):
            answer = browser.get(f"/shared/{bad}")
            assert answer.status_code == 404, bad
            assert "<html" not in answer.text
        assert browser.get(f"/shared/{token}").status_code == 200


def test_links_are_signed_with_the_server_secret(server: Server, keys: dict[str, str], study_id: str) -> None:
    """The secret lives in TWIN_HOME, readable by the server's user only; a new secret voids
    every link signed with the old one."""
    url = share(server, keys["editor"], study_id).json()["url"]
    secret = server.home / "share.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    old = secret.read_text()
    try:
        secret.write_text(os.urandom(32).hex())
        assert httpx.get(url, timeout=30).status_code == 404
    finally:
        secret.write_text(old)
    assert httpx.get(url, timeout=30).status_code == 200


def test_a_revoked_link_is_gone(server: Server, keys: dict[str, str], study_id: str) -> None:
    link = share(server, keys["editor"], study_id).json()
    with client(server, keys["viewer"]) as viewer:
        assert viewer.delete(f"/studies/{study_id}/shares/{link['id']}").status_code == 403
    with client(server, keys["editor"]) as editor:
        revoked = editor.delete(f"/studies/{study_id}/shares/{link['id']}")
        assert editor.delete(f"/studies/{study_id}/shares/{'f' * 32}").status_code == 404
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    gone = httpx.get(link["url"], timeout=30)
    assert gone.status_code == 410 and "revoked" in gone.json()["detail"]
    assert httpx.get(link["url"] + "/pdf", timeout=30).status_code == 410


def test_an_expired_link_is_gone(server: Server, keys: dict[str, str], study_id: str) -> None:
    link = share(server, keys["editor"], study_id, hours=1 / 3600).json()  # one second
    time.sleep(2.1)  # expiry is kept in whole seconds
    gone = httpx.get(link["url"], timeout=30)
    assert gone.status_code == 410 and "expired" in gone.json()["detail"]
    too_long = share(server, keys["editor"], study_id, hours=24 * 91)
    assert too_long.status_code == 422


def test_a_study_that_is_not_done_cannot_be_shared(server: Server, keys: dict[str, str]) -> None:
    with client(server, keys["editor"]) as api:
        twin = api.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
        long = {"twin_id": twin, "replications": 500, "seed": 1}
        study = api.post("/studies", json=long).json()["id"]
        api.post(f"/studies/{study}/cancel")
        assert wait_for(api, study, timeout=60)["status"] == "cancelled"
        refused = api.post(f"/studies/{study}/shares", json={})
        assert refused.status_code == 409 and "not done" in refused.json()["detail"]
        assert api.post("/studies/no-such-study/shares", json={}).status_code == 404


@pytest.mark.skipif(chromium() is None, reason=NO_CHROMIUM)
def test_the_report_as_pdf_over_the_api_and_a_link(server: Server, keys: dict[str, str],
                                                   study_id: str) -> None:
    with client(server, keys["viewer"], timeout=300) as viewer:
        pdf = viewer.get(f"/studies/{study_id}/report.pdf")
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    assert _pages(pdf.content) >= 3
    url = share(server, keys["editor"], study_id).json()["url"]
    shared = httpx.get(url + "/pdf", timeout=300)
    assert shared.status_code == 200 and shared.content == pdf.content  # printed once, kept


@pytest.mark.skipif(chromium() is None, reason=NO_CHROMIUM)
def test_twin_report_pdf_prints_every_figure(tmp_path: Path) -> None:
    """`twin report --pdf` writes the PDF beside the HTML; under the same flags chromium has
    drawn every plotly figure by the time it prints (its DOM then holds their SVGs)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from viz_study import make_study

    folder = make_study(tmp_path / "study")
    done = subprocess.run([TWIN_CLI, "report", str(folder), "--pdf"], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    pdf = folder / "report.pdf"
    assert f"pdf: {pdf}" in done.stdout and pdf.read_bytes()[:5] == b"%PDF-" and _pages(pdf.read_bytes()) >= 3
    command = [str(chromium()), *ARGS, f"--user-data-dir={tmp_path / 'profile'}",
               f"--virtual-time-budget={BUDGET_MS}", "--dump-dom", (folder / "report.html").as_uri()]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True).stdout
    plots = dom.split('class="plotly-graph-div')[1:]  # each from its div to the next one's
    assert len(plots) >= 10 and all('class="main-svg"' in plot for plot in plots)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))
