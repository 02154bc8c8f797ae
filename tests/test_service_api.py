"""The HTTP service against a real uvicorn server on loopback (SQLite default storage)."""

from __future__ import annotations

import inspect
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from service.figures import available as viz_available
from service.testing import SMALL_TWIN, Server, client, wait_for
from twin.cli import run_command

SMALL = SMALL_TWIN
LIMITS = {"max_body_bytes": "200000", "max_upload_bytes": "50000", "max_work": "1900000", "workers": "2"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), **LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return {role: server.key(role) for role in ("viewer", "editor", "admin")}


@pytest.fixture
def editor(server: Server, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with client(server, keys["editor"]) as api:
        yield api


@pytest.fixture(scope="module")
def twin_id(server: Server, keys: dict[str, str]) -> str:
    with client(server, keys["editor"]) as api:
        response = api.post("/twins", json={"spec": SMALL})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [item["field"] for item in response.json()["detail"]]


def test_public_endpoints_need_no_key(server: Server) -> None:
    with client(server, None) as anonymous:
        health = anonymous.get("/health")
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert anonymous.get("/openapi.json").json()["info"]["title"] == "twin"
        assert anonymous.get("/docs").status_code == 404  # Swagger UI would load from a CDN
        assert "twin dashboard" in anonymous.get("/").text
        for path in ("/twins", "/studies", "/keys", "/keys/me"):
            response = anonymous.get(path)
            assert response.status_code == 401 and "API key" in response.json()["detail"]


def test_roles_are_enforced(server: Server, keys: dict[str, str], twin_id: str) -> None:
    with client(server, "twin_not-a-real-key") as stranger:
        assert stranger.get("/twins").status_code == 401
    with client(server, keys["viewer"]) as viewer:
        assert viewer.get("/twins").status_code == 200
        assert viewer.get("/keys/me").json()["role"] == "viewer"
        refused = viewer.post("/twins", json={"spec": SMALL})
        assert refused.status_code == 403 and "editor" in refused.json()["detail"]
        assert viewer.post("/studies", json={"twin_id": twin_id}).status_code == 403
    with client(server, keys["editor"]) as editor:
        assert editor.get("/keys").status_code == 403
    with client(server, keys["admin"]) as admin:
        made = admin.post("/keys", json={"role": "viewer", "name": "temp"})
        assert made.status_code == 201
        new_key, new_id = made.json()["key"], made.json()["id"]
        assert new_key not in admin.get("/keys").text  # only the hash is kept
        with client(server, new_key) as temp:
            assert temp.get("/twins").status_code == 200
            assert admin.delete(f"/keys/{new_id}").status_code == 204
            assert temp.get("/twins").status_code == 401


def test_twin_crud_from_yaml_and_json(editor: httpx.Client) -> None:
    from_yaml = editor.post("/twins", json={"yaml": yaml.safe_dump({**SMALL, "name": "from-yaml"})})
    assert from_yaml.status_code == 201, from_yaml.text
    twin = from_yaml.json()
    assert (twin["name"], twin["activities"], twin["time_unit"]) == ("from-yaml", 1, "hour")
    detail = editor.get(f"/twins/{twin['id']}").json()
    assert detail["spec"]["activities"][0]["name"] == "serve"
    assert twin["id"] in [t["id"] for t in editor.get("/twins").json()]
    upload = editor.post("/twins/upload", files={"file": ("t.yaml", yaml.safe_dump({**SMALL, "name": "up"}))})
    assert upload.status_code == 201 and upload.json()["name"] == "up"
    assert editor.post("/twins/validate", json={"spec": SMALL}).json()["valid"] is True
    assert editor.delete(f"/twins/{twin['id']}").status_code == 204
    assert editor.get(f"/twins/{twin['id']}").status_code == 404


def test_bad_bodies_get_422_naming_the_field(editor: httpx.Client, twin_id: str) -> None:
    bad = {
        **SMALL,
        "activities": [
            {**SMALL["activities"][0], "resorces": {}, "duration": {"dist": "exponential", "mean": -1}}
        ],
    }
    assert set(fields(editor.post("/twins", json={"spec": bad}))) == {
        "spec.activities[serve].resorces",
        "spec.activities[serve].duration.mean",
    }
    assert fields(editor.post("/twins", json={"yaml": "name: [unclosed"}))[0].startswith("yaml.line 1")
    assert fields(editor.post("/twins", json={})) == [""]  # neither spec nor yaml: the body itself
    assert fields(editor.post("/twins", json={"spec": SMALL, "colour": 1})) == ["colour"]
    assert fields(editor.post("/studies", json={"twin_id": twin_id, "replications": "many"})) == [
        "replications"
    ]
    assert fields(editor.post("/studies", json={"twin_id": "nope"})) == ["twin_id"]
    changed = {"name": "faster", "changes": {"activities.serve.duration.meen": 0.5}}
    assert fields(editor.post("/studies", json={"twin_id": twin_id, "scenarios": [changed]})) == [
        "scenarios[0].changes.activities.serve.duration.meen"
    ]
    assert fields(
        editor.post("/studies", json={"twin_id": twin_id, "scenarios": [{"name": "x", "base": "a"}]})
    ) == ["scenarios[0].base"]


def test_yaml_is_loaded_safely(editor: httpx.Client, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"!!python/object/apply:os.system ['touch {marker}']\n"
    assert fields(editor.post("/twins", json={"yaml": text}))[0].startswith("yaml")
    assert not marker.exists()


def test_limits_answer_4xx_naming_the_limit(editor: httpx.Client, twin_id: str) -> None:
    huge = editor.post("/twins", json={"yaml": "#" * 300_000})
    assert huge.status_code == 413 and "max_body_bytes" in huge.json()["detail"]
    streamed = editor.post(
        "/twins", content=iter([b"{", b" " * 300_000, b"}"]), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and "max_body_bytes" in streamed.json()["detail"]
    upload = editor.post("/twins/upload", files={"file": ("t.yaml", "#" * 60_000)})
    assert upload.status_code == 413 and "max_upload_bytes" in upload.json()["detail"]
    work = editor.post("/studies", json={"twin_id": twin_id, "replications": 1000})
    assert fields(work) == ["replications"] and "max_work" in work.json()["detail"][0]["msg"]


def test_study_runs_to_done_with_summary_tables_and_figures(editor: httpx.Client, twin_id: str) -> None:
    body = {
        "twin_id": twin_id,
        "replications": 4,
        "seed": 3,
        "scenarios": [{"name": "faster", "changes": {"activities.serve.duration.mean": 0.5}}],
    }
    submitted = editor.post("/studies", json=body)
    assert submitted.status_code == 202, submitted.text
    study = wait_for(editor, submitted.json()["id"])
    assert study["status"] == "done", study
    assert study["progress"] == {"done": 8, "total": 8, "fraction": 1.0}
    summary = editor.get(f"/studies/{study['id']}/summary").json()
    assert list(summary["scenarios"]) == ["mm1-small", "faster"]
    csv = pd.read_csv(io.StringIO(editor.get(f"/studies/{study['id']}/results.csv").text))
    parquet = pd.read_parquet(io.BytesIO(editor.get(f"/studies/{study['id']}/results.parquet").content))
    assert len(csv) == len(parquet) == 8
    assert csv["cycle_time"].tolist() == pytest.approx(parquet["cycle_time"].tolist())
    if viz_available():
        assert study["figures"], "viz is installed: the study should have figures"
        first = editor.get(f"/studies/{study['id']}/figures/0").json()
        assert "data" in first and "layout" in first
        page = editor.get(f"/studies/{study['id']}/figures/0/html").text
        assert "/static/plotly.min.js" in page and "cdn" not in page.lower()
        report = editor.get(f"/studies/{study['id']}/report")
        assert report.status_code == 200 and "<html" in report.text[:200]
    assert editor.get(f"/studies/{study['id']}/figures/999").status_code == 404


def test_studies_default_to_the_engine_of_twin_run(editor: httpx.Client, twin_id: str) -> None:
    """The API and the dashboard's form start a study on the CLI's default engine (fast)."""
    cli_default = inspect.signature(run_command).parameters["engine"].default
    assert cli_default == "fast"
    submitted = editor.post("/studies", json={"twin_id": twin_id, "replications": 2})
    assert submitted.status_code == 202, submitted.text
    study = wait_for(editor, submitted.json()["id"])
    assert study["status"] == "done" and study["engine"] == cli_default, study
    schema = editor.get("/openapi.json").json()["components"]["schemas"]["StudyCreate"]
    assert schema["properties"]["engine"]["default"] == cli_default
    form = re.search(r'<select id="study-engine">(.*?)</select>', editor.get("/").text, flags=re.S)
    assert form is not None
    assert re.findall(r"<option selected>(\w+)</option>", form.group(1)) == [cli_default]
    assert form.group(1).startswith(f"<option selected>{cli_default}<")  # first, too


def test_cancel_stops_queued_and_running_studies(editor: httpx.Client, twin_id: str) -> None:
    long = {"twin_id": twin_id, "replications": 900, "seed": 1, "engine": "simpy"}  # slow enough to cancel
    ids = [editor.post("/studies", json=long).json()["id"] for _ in range(3)]  # 2 workers: one waits
    wait_for(editor, ids[0], ("running",))
    for study_id in ids:
        assert editor.post(f"/studies/{study_id}/cancel").status_code == 200
    for study_id in ids:
        study = wait_for(editor, study_id, timeout=30)
        assert study["status"] == "cancelled" and study["progress"]["done"] < 900
    again = editor.post(f"/studies/{ids[0]}/cancel")
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    assert editor.get(f"/studies/{ids[0]}/summary").status_code == 409


def test_delete_twin_refused_while_its_study_runs(editor: httpx.Client) -> None:
    twin = editor.post("/twins", json={"spec": {**SMALL, "name": "busy"}}).json()
    long = {"twin_id": twin["id"], "replications": 900, "engine": "simpy"}  # still running at the delete
    study = editor.post("/studies", json=long).json()
    assert editor.delete(f"/twins/{twin['id']}").status_code == 409
    editor.post(f"/studies/{study['id']}/cancel")
    wait_for(editor, study["id"], timeout=30)
    assert editor.delete(f"/twins/{twin['id']}").status_code == 204
    assert editor.get(f"/studies/{study['id']}").status_code == 404


def test_dashboard_serves_plotly_from_the_package(server: Server) -> None:
    with client(server, None) as anonymous:
        script = anonymous.get("/static/plotly.min.js")
        assert script.status_code == 200 and len(script.content) > 1_000_000
        assert "cdn" not in anonymous.get("/").text.lower()


def test_a_stress_plan_with_contingency_and_costs_runs_over_http(editor: httpx.Client, twin_id: str) -> None:
    plan = {
        "name": "outage-plan",
        "stresses": [{"name": "absent", "kind": "staff_absence", "target": "clerk",
                      "random": {"probability": 1.0, "start": {"dist": "uniform", "low": 200, "high": 800},
                                 "length": 48}}],
        "contingency": [{"name": "cover", "when": {"queue": "serve", "above": 3},
                         "action": {"overtime": {"pool": "clerk", "units": 1, "duration": 8}}, "cost": 50}],
        "costs": {"resources": {"clerk": {"per_time": 30}}},
    }
    wrong_pool = {"overtime": {"pool": "clrk", "units": 1, "duration": 8}}
    bad = {**plan, "contingency": [{**plan["contingency"][0], "action": wrong_pool}]}
    assert fields(editor.post("/studies", json={"twin_id": twin_id, "scenarios": [bad]})) == [
        "scenarios[0].contingency[cover].action.overtime.pool"
    ]
    submitted = editor.post("/studies", json={"twin_id": twin_id, "replications": 3, "scenarios": [plan]})
    assert submitted.status_code == 202, submitted.text
    study = wait_for(editor, submitted.json()["id"])
    assert study["status"] == "done", study
    table = pd.read_parquet(io.BytesIO(editor.get(f"/studies/{study['id']}/results.parquet").content))
    rows = table[table.scenario == "outage-plan"]
    assert (rows["input.stress.absent.occurred"] == 1).all()
    assert (rows["cost"] > 0).all() and "contingency.cover.activations" in rows


def test_a_twin_with_classes_and_patience_runs_as_a_study(editor: httpx.Client) -> None:
    """The service takes the new vocabulary as it is: per-class and leaving KPIs in the
    summary and the tables, a change addressing a class's priority."""
    text = (Path(__file__).resolve().parents[1] / "scenarios" / "examples" / "call_centre.yaml").read_text()
    created = editor.post("/twins", json={"yaml": text})
    assert created.status_code in (200, 201), created.text
    twin_id = created.json()["id"]
    body = {"twin_id": twin_id, "replications": 2, "seed": 1,
            "scenarios": [{"name": "more-lines", "changes": {"activities.answer.queue_capacity": 10}}]}
    submitted = editor.post("/studies", json=body)
    assert submitted.status_code == 202, submitted.text
    study = wait_for(editor, submitted.json()["id"])
    assert study["status"] == "done", study
    csv = pd.read_csv(io.StringIO(editor.get(f"/studies/{study['id']}/results.csv").text))
    assert {"activities.answer.abandoned", "classes.premium.throughput"} <= set(csv.columns)
    summary = editor.get(f"/studies/{study['id']}/summary").json()
    assert summary["scenarios"]
