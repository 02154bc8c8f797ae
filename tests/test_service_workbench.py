"""The dashboard as a workbench: a twin's paths and KPIs (`GET /twins/{id}/paths`), its YAML
(`GET /twins/{id}/yaml`), the YAML check (`POST /twins/validate`) as `twin validate` makes it;
then, in headless Chromium (Debian's), a study built from the plan form, the comparison of
its plans, the YAML editor's field-named problems and a page that fits 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from scenarios.changes import walk
from service.figures import available as viz_available
from service.paths import twin_paths
from service.testing import Server, client
from tests.test_service_api import SMALL
from tests.test_service_browser import CHROMIUM, dashboard, snap
from twin.errors import SpecError
from twin.loader import load_twin, loads_twin, twin_to_data

browser = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)"
)
EXAMPLES = Path(__file__).parent.parent / "scenarios" / "examples"
BAD = {**SMALL, "horizon": -5, "activities": [{**SMALL["activities"][0], "next": "nowhere"}]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), max_body_bytes="100000") as running:
        yield running


@pytest.fixture(scope="module")
def key(server: Server) -> str:
    return server.key("editor")


@pytest.fixture
def api(server: Server, key: str) -> Iterator[httpx.Client]:
    with client(server, key) as editor:
        yield editor


@pytest.fixture(scope="module")
def twin_id(server: Server, key: str) -> str:
    with client(server, key) as editor:
        return str(editor.post("/twins", json={"spec": SMALL}).raise_for_status().json()["id"])


def problems(response: httpx.Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.text
    return [(item["field"], item["msg"]) for item in response.json()["detail"]]


def test_paths_list_every_changeable_value_with_its_type(api: httpx.Client, twin_id: str) -> None:
    answer = api.get(f"/twins/{twin_id}/paths").raise_for_status().json()
    found = {p["path"]: (p["value"], p["type"]) for p in answer["paths"]}
    assert found["resources.clerk.capacity"] == (1, "integer")
    assert found["activities.serve.duration.mean"] == (0.7, "number")
    assert found["time_unit"] == ("hour", "string")
    assert not any(path.endswith(".name") for path in found)  # names identify; they are not settings
    spec = api.get(f"/twins/{twin_id}").json()["spec"]
    assert all(walk(spec, path) == value for path, (value, _) in found.items())  # as scenarios read them
    assert {"throughput", "cycle_time", "activities.serve.wait", "resources.clerk.utilization"} <= set(
        answer["kpis"]
    )
    under = api.get(f"/twins/{twin_id}/paths", params={"prefix": "resources.clerk"}).json()["paths"]
    assert [p["path"] for p in under] == ["resources.clerk.capacity"]


def test_paths_of_a_larger_twin_walk_back_to_their_values() -> None:
    """Unnamed items (shifts) by position, named ones by name, value lists whole."""
    spec = twin_to_data(load_twin(EXAMPLES / "clinic.yaml"))
    found = twin_paths(spec)
    assert all(walk(spec, p.path) == p.value for p in found.paths)
    types = {p.path: p.type for p in found.paths}
    assert types["resources.nurse.shifts.1.capacity"] == "integer"
    assert types["resources.nurse.shifts.0.days"] == "list"
    assert "materials.test_kits.reorder.point" in types and "activities.lab_test.wait" in found.kpis


def test_paths_need_a_key_and_a_viewer_may_read_them(server: Server, twin_id: str) -> None:
    with client(server, None) as anonymous:
        assert anonymous.get(f"/twins/{twin_id}/paths").status_code == 401
    with client(server, server.key("viewer")) as viewer:
        assert viewer.get(f"/twins/{twin_id}/paths").status_code == 200
        assert viewer.get(f"/twins/{twin_id}/yaml").status_code == 200


def test_paths_refuse_a_bad_prefix_naming_it(api: httpx.Client, twin_id: str) -> None:
    (nowhere,) = problems(api.get(f"/twins/{twin_id}/paths", params={"prefix": "resources.nurse"}))
    assert nowhere[0] == "prefix" and "no item named 'nurse'" in nowhere[1] and "clerk" in nowhere[1]
    (malformed,) = problems(api.get(f"/twins/{twin_id}/paths", params={"prefix": "a..b"}))
    assert malformed[0] == "prefix" and "pattern" in malformed[1]
    assert api.get("/twins/no-such-twin/paths").status_code == 404


def test_yaml_of_a_twin_parses_back_to_it(api: httpx.Client, twin_id: str) -> None:
    response = api.get(f"/twins/{twin_id}/yaml").raise_for_status()
    assert response.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(response.text) == api.get(f"/twins/{twin_id}").json()["spec"]


def test_validate_names_every_problem_as_twin_validate_does(api: httpx.Client) -> None:
    text = yaml.safe_dump(BAD)
    with pytest.raises(SpecError) as cli:  # what `twin validate FILE` reports
        loads_twin(text)
    found = problems(api.post("/twins/validate", json={"yaml": text}))
    assert len(found) >= 2
    assert found == [(f"yaml.{path}", reason) for path, reason in cli.value.problems]
    assert any(field == "yaml.horizon" for field, _ in found)
    assert any("nowhere" in reason for _, reason in found)
    (syntax,) = problems(api.post("/twins/validate", json={"yaml": "name: [unclosed"}))
    assert "not valid YAML" in syntax[1] and "line" in syntax[0]


def test_validate_keeps_the_body_limit(api: httpx.Client) -> None:
    response = api.post("/twins/validate", json={"yaml": "#" * 200_000})
    assert response.status_code == 413 and "max_body_bytes" in response.json()["detail"]


@browser
def test_workbench_builds_plans_compares_them_and_checks_yaml(
    server: Server, key: str, twin_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    errors: list[str] = []
    with dashboard(server, key, errors) as page:
        page.wait_for_selector("#twins tbody tr[data-id]")
        page.wait_for_selector("#twin-paths option[value='resources.clerk.capacity']", state="attached")
        page.fill("#study-reps", "3")
        page.click("#add-plan")
        page.fill("#plans .plan-name", "two-clerks")
        page.fill("#plans .change-path", "resources.clerk.capacity")
        page.wait_for_function("document.querySelector('#plans .change-now').textContent === '1'")
        page.fill("#plans .change-value", "2")
        page.click("#plans .add-stress")  # one clerk off for a while
        page.select_option("#plans .stress-kind", "staff_absence")
        page.select_option("#plans .stress-target", "clerk")
        page.fill("#plans .stress-amount", "1")
        page.fill("#plans .stress-start", "200")
        page.fill("#plans .stress-length", "100")
        second = page.locator("#plans .plan").nth(1)
        page.click("#add-plan")
        second.locator(".plan-name").fill("faster-service")
        second.locator(".change-path").fill("activities.serve.duration.mean")
        second.locator(".change-value").fill("0.5")
        second.locator(".add-rule").click()  # when 5 wait at serve, a clerk on overtime an hour later
        second.locator(".rule-when").select_option("queue")
        second.locator(".rule-watch").select_option("serve")
        second.locator(".rule-level").fill("5")
        second.locator(".rule-delay").fill("1")
        second.locator(".rule-action").select_option("overtime")
        second.locator(".rule-target").select_option("clerk")
        second.locator(".rule-amount").fill("1")
        second.locator(".rule-time").fill("8")
        page.click("#add-target")
        page.fill("#targets .target-kpi", "activities.serve.wait")
        page.select_option("#targets .target-stat", "mean")
        page.fill("#targets .target-value", "10")
        page.click("#start-study")
        page.wait_for_selector("#detail-status[data-status='done']", timeout=180_000)
        page.wait_for_selector("#compare-table")
        header = page.inner_text("#compare-table thead")
        assert "mm1-small" in header and "faster-service" in header
        assert "two-clerks" in page.inner_text("#compare-table th.best")
        assert "activities.serve.wait.mean <= 10" in page.inner_text("#compare-table")
        assert page.inner_text("#best-plan") == "Best plan: two-clerks"
        if viz_available():
            page.wait_for_selector("#compare-figures svg.main-svg", timeout=60_000)
        snap(page, "dashboard-compare")
        study_id = page.inner_text("#detail-id")

        page.click("#twins tbody tr[data-id] .edit-twin")
        page.wait_for_selector("#twin-check[data-state='valid']")
        page.fill("#twin-yaml", yaml.safe_dump(BAD))
        page.wait_for_selector("#twin-check[data-state='invalid']")
        named = page.locator("#twin-problems code.field").all_inner_texts()
        assert "horizon" in named and "activities[serve].next.nowhere" in named
        assert "no activity named 'nowhere'" in page.inner_text("#twin-problems")
        snap(page, "dashboard-yaml-editor")

        for details in page.query_selector_all("details"):
            details.evaluate("d => d.open = true")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        left = page.evaluate(
            "eta({status: 'running', started_at: '2026-01-01T00:00:00Z', progress: {fraction: 0.25}},"
            " Date.parse('2026-01-01T00:01:00Z'))"
        )
        assert left == "about 3 min left"  # a quarter in a minute: three minutes to go
        assert page.evaluate("eta({status: 'done', started_at: null, progress: {fraction: 1}})") == ""
    assert errors == []
    with client(server, key) as api:
        summary = api.get(f"/studies/{study_id}/summary").raise_for_status().json()
    assert "contingency.overtime-1.activations" in summary["scenarios"]["faster-service"]["kpis"]
    assert set(summary["scenarios"]) == {"mm1-small", "two-clerks", "faster-service"}


def test_plans_form_answers_field_named_errors(api: httpx.Client, twin_id: str) -> None:
    """What the form sends: a plan with a path the twin lacks is refused naming the plan's field."""
    plan = {
        "name": "p",
        "changes": {"resources.nurse.capacity": 2},
        "targets": ["activities.serve.wait.mean <= 1"],
    }
    found = problems(api.post("/studies", json={"twin_id": twin_id, "replications": 2, "scenarios": [plan]}))
    assert found[0][0] == "scenarios[0].changes.resources.nurse.capacity"
