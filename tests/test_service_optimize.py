"""`twin optimize` as a service job, against a real server (SQLite): the same answer as the
CLI's code path, fields named on bad bodies, work limits, workspaces, cancel, the plan."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from optimize import load_problem, optimize
from scenarios.loader import load_scenario
from service.figures import available as viz_available
from service.testing import Server, client

LINE = yaml.safe_load((Path(__file__).parent / "twins" / "line3.yaml").read_text())
TWIN = {**LINE, "name": "line3-short", "horizon": 300, "warmup": 20}
PROBLEM: dict[str, Any] = {
    "name": "line3-staffing",
    "decisions": {f"resources.p{s}.capacity": {"low": 1, "high": 6} for s in "abc"},
    "objective": {"kpi": "cost", "goal": "min"},
    "targets": [f"activities.{s}.wait.mean <= 1" for s in "abc"],
    "experiment": {"replications": 5, "max_replications": 10, "seed": 7, "budget": 8, "finalists": 3},
}
LIMITS = {"workers": "2", "max_work": "1000000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), **LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def editor_key(server: Server) -> str:
    return server.key("editor")


@pytest.fixture
def editor(server: Server, editor_key: str) -> Iterator[httpx.Client]:
    with client(server, editor_key) as api:
        yield api


@pytest.fixture(scope="module")
def twin_id(server: Server, editor_key: str) -> str:
    with client(server, editor_key) as api:
        response = api.post("/twins", json={"spec": TWIN})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def finished(server: Server, editor_key: str, twin_id: str) -> dict[str, Any]:
    """One optimisation run to the end (shared by the tests that read its results)."""
    with client(server, editor_key) as api:
        response = api.post("/optimizations", json={"twin_id": twin_id, **PROBLEM})
        assert response.status_code == 202, response.text
        job = response.json()
        assert job["status"] == "queued" and job["progress"]["total"] == 8
        return wait_for(api, job["id"])


def wait_for(api: httpx.Client, job_id: str, statuses: tuple[str, ...] = ("done", "failed", "cancelled"),
             timeout: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = api.get(f"/optimizations/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.2)
    raise TimeoutError(f"optimization {job_id} still {job.get('status')} after {timeout} s")


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [item["field"] for item in response.json()["detail"]]


def test_the_service_gives_the_clis_answer(finished: dict[str, Any], editor: httpx.Client,
                                           tmp_path: Path) -> None:
    assert finished["status"] == "done", finished["error"]
    (tmp_path / "twin.yaml").write_text(yaml.safe_dump(TWIN))
    (tmp_path / "problem.yaml").write_text(yaml.safe_dump({**PROBLEM, "base": "twin.yaml"}))
    outcome = optimize(load_problem(tmp_path / "problem.yaml"), executor="serial", out=tmp_path / "out")
    summary = editor.get(f"/optimizations/{finished['id']}/summary").json()
    assert summary["best"]["decisions"] == outcome.best.plan
    assert summary["evaluated"] == len([v for v in outcome.visits if v.estimate.invalid is None])
    assert finished["best"]["decisions"] == outcome.best.plan
    assert finished["best"]["statement"] == summary["best"]["statement"]
    assert finished["progress"]["done"] == finished["evaluated"] == summary["evaluated"]
    assert set(finished["best"]["targets"]) == {f"activities.{s}.wait.mean <= 1" for s in "abc"}
    listed = editor.get("/optimizations").json()
    assert finished["id"] in [job["id"] for job in listed]


def test_the_plan_is_a_scenario_that_loads(finished: dict[str, Any], editor: httpx.Client,
                                           tmp_path: Path) -> None:
    response = editor.get(f"/optimizations/{finished['id']}/plan")
    assert response.status_code == 200, response.text
    plan = yaml.safe_load(response.text)
    assert plan["base"] == "twin.yaml"
    (tmp_path / "twin.yaml").write_text(yaml.safe_dump(TWIN))
    (tmp_path / "best.scenario.yaml").write_text(response.text)
    scenario = load_scenario(tmp_path / "best.scenario.yaml")
    for path, value in finished["best"]["decisions"].items():
        pool = path.split(".")[1]
        assert next(r.capacity for r in scenario.twin.resources if r.name == pool) == value
    assert str(tmp_path) not in response.text and "optimizations/" not in response.text
    visited = editor.get(f"/optimizations/{finished['id']}/visited.csv")
    assert visited.status_code == 200 and visited.text.startswith("order,plan")


@pytest.mark.skipif(not viz_available(), reason="viz is not installed")
def test_figures_and_report(finished: dict[str, Any], editor: httpx.Client) -> None:
    assert [f["section"] for f in finished["figures"]] == ["frontier", "convergence"]
    for figure in finished["figures"]:
        drawn = editor.get(f"/optimizations/{finished['id']}/figures/{figure['index']}").json()
        assert "data" in drawn and "layout" in drawn
    assert editor.get(f"/optimizations/{finished['id']}/figures/9").status_code == 404
    report = editor.get(f"/optimizations/{finished['id']}/report")
    assert report.status_code == 200 and "<html" in report.text.lower()


def test_bad_bodies_name_the_field(editor: httpx.Client, twin_id: str) -> None:
    def post(**changes: Any) -> httpx.Response:
        return editor.post("/optimizations", json={"twin_id": twin_id, **PROBLEM, **changes})

    assert fields(post(decisions={"resources.x.capacity": {"low": 1, "high": 3}})) == [
        "decisions.resources.x.capacity"]
    reversed_range = fields(post(decisions={"resources.pa.capacity": {"low": 4, "high": 2}}))
    assert reversed_range and all(f.startswith("decisions.resources.pa.capacity") for f in reversed_range)
    assert "objective.kpi" in fields(post(objective={"kpi": "nothing"}))
    assert "experiment.replications" in fields(post(experiment={"replications": 1}))
    assert fields(post(twin_id="nope")) == ["twin_id"]
    assert fields(post(base="twin.yaml")) == ["base"]
    assert fields(post(decisions={})) == ["decisions"]
    too_much = post(experiment={"replications": 5, "max_replications": 500, "budget": 1000})
    assert fields(too_much) == ["experiment.budget"]
    assert "max_work" in too_much.text


def test_another_workspace_cannot_see_it(server: Server, finished: dict[str, Any]) -> None:
    with client(server, server.key("admin")) as admin:
        assert admin.post("/workspaces", json={"name": "other"}).status_code == 201
        other = admin.post("/keys", json={"role": "editor", "workspace": "other"}).json()["key"]
    with client(server, other) as theirs:
        for path in ("", "/summary", "/plan", "/report"):
            assert theirs.get(f"/optimizations/{finished['id']}{path}").status_code == 404
        assert theirs.post(f"/optimizations/{finished['id']}/cancel").status_code == 404
        assert theirs.delete(f"/optimizations/{finished['id']}").status_code == 404
        assert finished["id"] not in [job["id"] for job in theirs.get("/optimizations").json()]


def test_cancel_retry_and_delete(editor: httpx.Client, twin_id: str) -> None:
    bigger = {**PROBLEM["experiment"], "budget": 100, "replications": 10, "max_replications": 20}
    response = editor.post("/optimizations", json={"twin_id": twin_id, **PROBLEM, "experiment": bigger})
    assert response.status_code == 202, response.text
    job = response.json()
    assert editor.delete(f"/optimizations/{job['id']}").status_code == 409  # queued or running
    assert editor.get(f"/optimizations/{job['id']}/summary").status_code == 409
    cancelled = editor.post(f"/optimizations/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] in ("cancelled", "cancelling")
    assert wait_for(editor, job["id"])["status"] == "cancelled"
    assert editor.post(f"/optimizations/{job['id']}/cancel").status_code == 409
    retried = editor.post(f"/optimizations/{job['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    editor.post(f"/optimizations/{job['id']}/cancel")
    assert wait_for(editor, job["id"])["status"] == "cancelled"
    assert editor.delete(f"/optimizations/{job['id']}").status_code == 204
    assert editor.get(f"/optimizations/{job['id']}").status_code == 404


def test_a_killed_server_resumes_the_search_to_the_same_answer(
    tmp_path: Path, finished: dict[str, Any], editor: httpx.Client
) -> None:
    """SIGKILL the server mid-search; started again on the same home, the job is queued
    again, reads its finished replications back and recommends what the undisturbed run did."""
    first = Server(tmp_path / "home", **LIMITS).start()
    try:
        key = first.key("editor")
        with client(first, key) as api:
            twin = api.post("/twins", json={"spec": TWIN}).json()["id"]
            job = api.post("/optimizations", json={"twin_id": twin, **PROBLEM}).json()
            deadline = time.monotonic() + 300
            while api.get(f"/optimizations/{job['id']}").json()["progress"]["done"] == 0:
                assert time.monotonic() < deadline, "no progress"
                time.sleep(0.05)
    finally:
        first.kill()
    runs = tmp_path / "home" / "optimizations" / job["id"] / "runs"
    assert any(runs.rglob("*.parquet")), "no finished replications kept"
    with Server(tmp_path / "home", **LIMITS) as second, client(second, key) as api:
        again = wait_for(api, job["id"])
        assert again["status"] == "done", again["error"]
        assert again["best"]["decisions"] == finished["best"]["decisions"]
        assert len(api.get(f"/optimizations/{job['id']}/runs").json()) == 2
        assert api.get(f"/optimizations/{job['id']}/summary").json()["best"]["decisions"] == (
            editor.get(f"/optimizations/{finished['id']}/summary").json()["best"]["decisions"])
