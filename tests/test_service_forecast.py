"""Forecasts and live twins against a real server (SQLite): the library's numbers, fields named
on bad bodies, the work limit, a live feed that follows the events sent and survives a restart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from service.figures import available as viz_available
from service.testing import SMALL_TWIN, Server, client
from twin.forecast import forecast
from twin.loader import parse_twin
from twin.state import State

STATE = {"time": 0, "entities": [
    {"activity": "serve", "state": "waiting", "since": -2.5},
    {"activity": "serve", "state": "in_service", "since": -6.0, "due": 3},
]}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), max_forecast_events="200000") as running:
        yield running


@pytest.fixture(scope="module")
def editor_key(server: Server) -> str:
    return server.key("editor")


@pytest.fixture
def api(server: Server, editor_key: str) -> Iterator[httpx.Client]:
    with client(server, editor_key) as http:
        yield http


@pytest.fixture(scope="module")
def twin_id(server: Server, editor_key: str) -> str:
    with client(server, editor_key) as http:
        response = http.post("/twins", json={"spec": SMALL_TWIN})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_a_forecast_is_the_librarys(api: httpx.Client, twin_id: str) -> None:
    response = api.post(f"/twins/{twin_id}/forecast", json={"state": STATE, "until": 12, "replications": 50})
    assert response.status_code == 200, response.text
    got = response.json()
    expected = forecast(parse_twin(SMALL_TWIN), State.model_validate(STATE), 12.0, 50, 1).summary()
    assert got["entities"] == expected["entities"] and got["drain_time"] == expected["drain_time"]
    assert got["twin"] == SMALL_TWIN["name"] and "p_on_time" in got["entities"][1]


def test_a_what_if_changes_the_forecast(api: httpx.Client, twin_id: str) -> None:
    body: dict[str, Any] = {"state": STATE, "until": 12, "replications": 50}
    base = api.post(f"/twins/{twin_id}/forecast", json=body).json()
    more = api.post(f"/twins/{twin_id}/forecast",
                    json=body | {"changes": {"resources.clerk.capacity": 2}}).json()
    assert more["entities"][0]["finish"] < base["entities"][0]["finish"]  # the waiting job starts at once
    bad = api.post(f"/twins/{twin_id}/forecast", json=body | {"changes": {"resources.nobody.capacity": 2}})
    assert bad.status_code == 422 and "changes.resources.nobody.capacity" in bad.text


@pytest.mark.parametrize(("change", "field"), [
    ({"state": {"entities": [{"activity": "nowhere", "state": "waiting", "since": -1}]}},
     "state.entities[0].activity"),
    ({"state": {"entities": [{"state": "waiting", "since": -1}]}}, "state.entities.0"),
    ({"until": -1}, "until"),
    ({"until": 1e6}, "max_forecast_events"),
    ({"replications": 100_000}, "replications"),
])
def test_bad_forecast_bodies_name_the_field(api: httpx.Client, twin_id: str, change: dict[str, Any],
                                            field: str) -> None:
    response = api.post(f"/twins/{twin_id}/forecast", json={"state": STATE, "until": 12} | change)
    assert response.status_code == 422 and field in response.text, response.text


def test_a_live_twin_follows_its_events_and_survives_a_restart(server: Server, editor_key: str,
                                                                 twin_id: str) -> None:
    with client(server, editor_key) as api:
        made = api.post("/live", json={"twin_id": twin_id})
        assert made.status_code == 201, made.text
        live = made.json()["id"]
        first = api.post(f"/live/{live}/events", json={"events": [
            {"case": "A", "activity": "serve", "resource": "clerk 1", "start": "2026-12-03T08:00:00+00:00"},
            {"case": "B", "activity": "serve", "start": "2026-12-03T07:00:00+00:00",
             "end": "2026-12-03T07:40:00+00:00"},
            {"case": "B", "activity": "serve", "start": "2026-12-03T08:10:00+00:00"},
        ]})
        assert first.status_code == 200, first.text
        state = first.json()["state"]
        assert first.json()["added"] == 3 and state["clock"].startswith("2026-12-03T08:10")
        assert sorted((e["case"], e["state"]) for e in state["entities"]) == [("A", "in_service"),
                                                                             ("B", "in_service")]
        ended = api.post(f"/live/{live}/events", json={"events": [
            {"case": "A", "activity": "serve", "start": "2026-12-03T08:00:00+00:00",
             "end": "2026-12-03T08:30:00+00:00"}]})
        assert ended.json()["added"] == 0  # the same step, now ended
        cases = {e["case"]: e for e in ended.json()["state"]["entities"]}
        assert cases["A"]["state"] == "between" and cases["B"]["state"] == "in_service"
        answer = api.post(f"/live/{live}/forecast", json={"horizon": 8, "replications": 40})
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["entities"]) == 2 and answer.json()["clock"].startswith("2026-12-03T08:30")
    server.kill()
    server.start()
    with client(server, editor_key) as api:
        again = api.get(f"/live/{live}/state")
        assert again.status_code == 200 and again.json() == ended.json()["state"]
        assert api.get(f"/live/{live}").json()["events"] == 3
        repeat = api.post(f"/live/{live}/forecast", json={"horizon": 8, "replications": 40})
        assert repeat.json() == answer.json()  # the same events, seed and horizon: the same answer


def test_live_twin_bad_input_names_the_field(api: httpx.Client, twin_id: str) -> None:
    assert "twin_id" in api.post("/live", json={"twin_id": "nope"}).text
    live = api.post("/live", json={"twin_id": twin_id}).json()["id"]
    empty = api.post(f"/live/{live}/forecast", json={"horizon": 8})
    assert empty.status_code == 422 and "events" in empty.text
    naive = api.post(f"/live/{live}/events", json={"events": [
        {"case": "A", "activity": "serve", "start": "2026-12-03T08:00:00"}]})
    assert naive.status_code == 422 and "offset" in naive.text
    backwards = api.post(f"/live/{live}/events", json={"events": [
        {"case": "A", "activity": "serve", "start": "2026-12-03T08:00:00Z", "end": "2026-12-03T07:00:00Z"}]})
    assert backwards.status_code == 422 and "end is before start" in backwards.text
    assert api.delete(f"/live/{live}").status_code == 204
    assert api.get(f"/live/{live}").status_code == 404


def test_figures_are_added_on_request_and_the_answer_stays(api: httpx.Client, twin_id: str) -> None:
    """`?figures=true` adds the report's two figures (plotly JSON, with viz); the rest is unchanged."""
    body = {"state": STATE, "until": 12, "replications": 30}
    plain = api.post(f"/twins/{twin_id}/forecast", json=body).json()
    drawn = api.post(f"/twins/{twin_id}/forecast", params={"figures": "true"}, json=body)
    assert drawn.status_code == 200, drawn.text
    got = drawn.json()
    assert "figures" not in plain and {k: v for k, v in got.items() if k != "figures"} == plain
    if viz_available():
        jobs, fans = got["figures"]
        assert "Open jobs" in jobs["layout"]["title"]["text"] and jobs["data"][0]["type"] == "scatter"
        assert len(jobs["data"][0]["y"]) == len(STATE["entities"])
        assert "Ahead of now" in fans["layout"]["title"]["text"]
    else:
        assert got["figures"] == []


def test_a_live_forecast_adds_figures_on_request(api: httpx.Client, twin_id: str) -> None:
    live = api.post("/live", json={"twin_id": twin_id}).json()["id"]
    api.post(f"/live/{live}/events", json={"events": [
        {"case": "A", "activity": "serve", "start": "2026-12-03T08:00:00+00:00"}]}).raise_for_status()
    body = {"horizon": 6, "replications": 20}
    plain = api.post(f"/live/{live}/forecast", json=body).json()
    drawn = api.post(f"/live/{live}/forecast", params={"figures": True}, json=body).json()
    assert {k: v for k, v in drawn.items() if k != "figures"} == plain and "clock" in drawn
    assert len(drawn["figures"]) == (2 if viz_available() else 0)


def test_the_dashboard_serves_its_forecast_section(server: Server) -> None:
    page = httpx.get(f"{server.url}/").text
    script = httpx.get(f"{server.url}/static/forecast.js")
    assert 'id="fc-run"' in page and '<script src="/static/forecast.js">' in page
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "?figures=true" in script.text and "http" not in script.text  # nothing fetched from elsewhere
