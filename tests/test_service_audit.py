"""The audit trail: who (which key, in which workspace) created, ran, changed or deleted
what and when; kept when the objects go; readable by admins only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.testing import SMALL_TWIN, Server, client, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("audit") / "home", workers="1") as running:
        yield running


def test_every_change_is_recorded_with_its_key_and_kept_after_deletion(server: Server) -> None:
    with client(server, server.key("editor")) as editor, client(server, server.key("admin")) as admin:
        me = editor.get("/keys/me").json()
        assert editor.post("/twins/validate", json={"spec": SMALL_TWIN}).status_code == 200  # a check only
        twin_id = editor.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
        study_id = editor.post("/studies", json={"twin_id": twin_id, "replications": 2}).json()["id"]
        assert wait_for(editor, study_id)["status"] == "done"
        deleted = editor.delete(f"/twins/{twin_id}")
        assert deleted.status_code == 204, deleted.text
        refused = editor.post("/studies", json={"twin_id": twin_id, "replications": 2})
        assert refused.status_code == 422  # a refusal changes nothing: not in the trail

        assert editor.get("/audit").status_code == 403
        mine = admin.get("/audit", params={"key_id": me["id"]}).json()
        done = [(e["action"], e["kind"], e["target"]) for e in reversed(mine)]
        assert done == [("create", "twins", twin_id), ("create", "studies", study_id),
                        ("delete", "twins", twin_id)]
        assert all(e["key_name"] == me["name"] and e["workspace"] == me["workspace_id"] for e in mine)
        assert {e["role"] for e in mine} == {"editor"}
        runs = admin.get("/audit", params={"target": study_id}).json()
        assert [e["action"] for e in runs].count("run") == 1 and runs[0]["at"] >= runs[-1]["at"]
        assert next(e for e in runs if e["action"] == "run")["outcome"] == "done"
        assert admin.get("/audit", params={"workspace": "default"}).json()
        nowhere = admin.get("/audit", params={"workspace": "nowhere"})
        assert nowhere.status_code == 422 and nowhere.json()["detail"][0]["field"] == "workspace"
