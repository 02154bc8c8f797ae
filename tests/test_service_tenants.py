"""Workspaces: a key sees and changes only its workspace's twins, studies, calibrations and
share links (another's ids answer 404, as unknown ones do); admins manage workspaces and
keys through the API and `twin keys`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from service.testing import SMALL_TWIN, Server, client, wait_for
from twin.cli import app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("tenants") / "home", workers="1") as running:
        yield running


def test_keys_see_only_their_workspace(server: Server) -> None:
    with client(server, server.key("admin")) as admin:
        created = admin.post("/workspaces", json={"name": "acme"})
        assert created.status_code == 201, created.text
        acme = created.json()
        other = admin.post("/keys", json={"role": "editor", "name": "acme ops", "workspace": "acme"}).json()
        assert (other["workspace"], other["workspace_id"]) == ("acme", acme["id"])
    with client(server, server.key("editor")) as mine, client(server, other["key"]) as theirs:
        assert mine.get("/keys/me").json()["workspace"] == "default"
        assert theirs.get("/keys/me").json()["workspace"] == "acme"
        twin_id = mine.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
        study_id = mine.post("/studies", json={"twin_id": twin_id, "replications": 2}).json()["id"]
        assert wait_for(mine, study_id)["status"] == "done"

        assert theirs.get("/twins").json() == [] and theirs.get("/studies").json() == []
        for call in (
            theirs.get(f"/twins/{twin_id}"),
            theirs.delete(f"/twins/{twin_id}"),
            theirs.get(f"/studies/{study_id}"),
            theirs.get(f"/studies/{study_id}/summary"),
            theirs.post(f"/studies/{study_id}/cancel"),
            theirs.post(f"/studies/{study_id}/retry"),
            theirs.get(f"/studies/{study_id}/shares"),
            theirs.post(f"/studies/{study_id}/shares", json={}),
        ):
            assert call.status_code == 404, (call.request.url, call.text)
        # another workspace's id reads exactly as an unknown one
        assert theirs.get(f"/studies/{study_id}").json() == {"detail": f"no study with id '{study_id}'"}
        refused = theirs.post("/studies", json={"twin_id": twin_id, "replications": 2})
        assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "twin_id"
        assert mine.get(f"/studies/{study_id}").json()["status"] == "done"  # untouched
        assert [t["id"] for t in mine.get("/twins").json()] == [twin_id]


def test_admins_manage_workspaces_with_reasons(server: Server) -> None:
    with client(server, server.key("admin")) as admin, client(server, server.key("editor")) as editor:
        assert editor.post("/workspaces", json={"name": "x"}).status_code == 403
        bad = admin.post("/workspaces", json={"name": "no spaces"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "name"
        assert admin.post("/workspaces", json={"name": "dup"}).status_code == 201
        taken = admin.post("/workspaces", json={"name": "dup"})
        assert taken.status_code == 409 and "dup" in taken.json()["detail"]
        unknown = admin.post("/keys", json={"role": "viewer", "workspace": "nowhere"})
        assert unknown.status_code == 422 and unknown.json()["detail"][0]["field"] == "workspace"
        spaces = {w["name"]: w for w in admin.get("/workspaces").json()}
        held = admin.delete(f"/workspaces/{spaces['default']['id']}")
        assert held.status_code == 409 and "keys" in held.json()["detail"]
        assert admin.delete(f"/workspaces/{spaces['dup']['id']}").status_code == 204
        assert admin.delete(f"/workspaces/{spaces['dup']['id']}").status_code == 404


def test_keys_cli_makes_workspaces_and_their_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    made = runner.invoke(app, ["keys", "workspace", "acme"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["keys", "workspace", "acme"]).exit_code == 2  # taken
    created = runner.invoke(app, ["keys", "create", "--role", "editor", "--workspace", "acme"])
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["keys", "list"])
    assert "acme" in listed.output
    spaces = runner.invoke(app, ["keys", "workspaces"])
    assert "acme" in spaces.output and "default" in spaces.output
    missing = runner.invoke(app, ["keys", "create", "--role", "editor", "--workspace", "nowhere"])
    assert missing.exit_code == 2 and "--workspace" in missing.output and "nowhere" in missing.output


def test_the_dashboard_shows_the_workspace(server: Server) -> None:
    script = httpx.get(f"{server.url}/static/dashboard.js").text
    page = httpx.get(f"{server.url}/").text
    assert 'id="workspace"' in page and "me.workspace" in script
