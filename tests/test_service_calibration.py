"""Calibration through the HTTP service: upload CSVs -> job -> a stored twin and a report."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.testing import Server, client

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("home"), workers="1", max_upload_bytes="150000") as running:
        yield running


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return {role: server.key(role) for role in ("viewer", "editor")}


@pytest.fixture
def editor(server: Server, keys: dict[str, str]) -> Iterator[httpx.Client]:
    with client(server, keys["editor"]) as api:
        yield api


def upload(name: str, text: str | None = None) -> tuple[str, bytes, str]:
    data = text.encode() if text is not None else (DATA / name).read_bytes()
    return name, data, "text/csv"


def wait_done(api: httpx.Client, calibration_id: str, timeout: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state: dict[str, object] = api.get(f"/calibrations/{calibration_id}").json()
        if state["status"] in ("done", "failed", "cancelled"):
            return state
        time.sleep(0.2)
    raise TimeoutError(f"calibration {calibration_id} still {state['status']} after {timeout} s")


def test_upload_runs_a_job_that_stores_a_twin_and_a_report(
    editor: httpx.Client, server: Server, keys: dict[str, str]
) -> None:
    files = {
        "events": upload("production_sample.csv"),
        "failures": upload("failures_sample.csv"),
        "deliveries": upload("deliveries_sample.csv"),
    }
    response = editor.post("/calibrations", files=files, data={"name": "production", "capacity": "peak"})
    assert response.status_code == 202, response.text
    queued = response.json()
    assert queued["status"] in ("queued", "running") and queued["twin_id"] is None
    assert queued["files"]["events"] == "production_sample.csv"
    done = wait_done(editor, queued["id"])
    assert done["status"] == "done", done["error"]
    assert done["progress"] == {"done": 4, "total": 4, "fraction": 1.0}
    twin = editor.get(f"/twins/{done['twin_id']}")
    assert twin.status_code == 200 and twin.json()["name"] == "production"
    assert editor.post("/twins/validate", json={"spec": twin.json()["spec"]}).json()["valid"]
    with client(server, keys["viewer"]) as viewer:  # viewers read
        assert [c["id"] for c in viewer.get("/calibrations").json()] == [queued["id"]]
        html = viewer.get(f"/calibrations/{queued['id']}/report")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert "<title>Calibration report" in html.text
        report = viewer.get(f"/calibrations/{queued['id']}/report.json").json()
    assert report["data"]["source"] == "production_sample.csv" and report["data"]["rows_kept"] > 0
    assert {"failures", "supply", "durations"} <= set(report)
    assert (server.home / "calibrations" / queued["id"] / "report.json").is_file()


def test_validation_chooses_the_open_options_as_steps_of_the_job(editor: httpx.Client) -> None:
    """`validation=true` scores the candidates on a time split of the upload; each is a
    step of the job's progress; what it chose is in the report and the twin."""
    pytest.importorskip("log_distance_measures")
    from test_calibration_validation import office_log

    text = office_log(weeks=6).to_csv(index=False)
    data = {"validation": "true", "calendars": "false", "capacity": "distinct", "routing": "1",
            "pools": "activity", "history": "1", "processing": "clock", "delays": "observed"}
    response = editor.post("/calibrations", files={"events": upload("office.csv", text)}, data=data)
    assert response.status_code == 202, response.text
    assert response.json()["validation"] is True and response.json()["calendars"] is False
    done = wait_done(editor, response.json()["id"], timeout=300)
    assert done["status"] == "done", done["error"]
    report = editor.get(f"/calibrations/{done['id']}/report.json").json()
    # Free: worktime (no effect without calendars) and arrivals: two distinct twins to score.
    assert report["validation"]["twins_scored"] == 2 and len(report["validation"]["candidates"]) == 3
    assert done["progress"] == {"done": 6, "total": 6, "fraction": 1.0}  # 4 steps + 2 twins
    chosen = report["validation"]["chosen"]
    assert chosen["calendars"] is False and chosen["arrivals"] == "profile"
    assert {k: report["options"][k] for k in chosen} == chosen
    assert "rate_profile" in editor.get(f"/twins/{done['twin_id']}").json()["spec"]["arrivals"][0]


def test_column_mapping_fields_map_the_events_columns(editor: httpx.Client) -> None:
    text = (DATA / "production_sample.csv").read_text().replace("start_time", "Begin", 1)
    files = {"events": upload("renamed.csv", text)}
    assert editor.post("/calibrations", files=files).status_code == 422  # Begin is not a known spelling
    response = editor.post("/calibrations", files=files, data={"start_time": "Begin", "waits": "false"})
    assert response.status_code == 202, response.text
    done = wait_done(editor, response.json()["id"])
    assert done["status"] == "done", done["error"]
    assert done["mapping"] == {"start_time": "Begin"} and done["name"] == "renamed"
    assert editor.delete(f"/twins/{done['twin_id']}").status_code == 204  # the calibration stays
    assert editor.get(f"/calibrations/{done['id']}").json()["twin_id"] is None


def test_bad_csv_gets_422_naming_the_field_and_the_reason(editor: httpx.Client) -> None:
    def problem(files: dict[str, tuple[str, bytes, str]]) -> dict[str, str]:
        response = editor.post("/calibrations", files=files)
        assert response.status_code == 422, response.text
        (item,) = response.json()["detail"]
        return {"field": item["field"], "msg": item["msg"]}

    no_column = problem({"events": upload("e.csv", "case,activity,start\nc1,a,2024-01-01T00:00\n")})
    assert no_column["field"] == "events" and "missing column(s) end_time" in no_column["msg"]
    assert "/" not in no_column["msg"].split(";")[0]  # no server path in the message
    bad_time = problem({"events": upload("e.csv", "case_id,activity,start_time,end_time\nc1,a,soon,later\n")})
    assert bad_time["field"] == "events" and "unparsable timestamp" in bad_time["msg"]
    bad_failures = problem(
        {"events": upload("production_sample.csv"), "failures": upload("f.csv", "when,what\nx,y\n")}
    )
    assert bad_failures["field"] == "failures" and "column" in bad_failures["msg"]
    empty = problem({"events": upload("e.csv", "")})
    assert empty["field"] == "events"
    missing = editor.post("/calibrations", data={"name": "x"})
    assert missing.status_code == 422 and "events" in [d["field"] for d in missing.json()["detail"]]


def test_roles_and_limits(server: Server, keys: dict[str, str], editor: httpx.Client) -> None:
    files = {"events": upload("production_sample.csv")}
    with client(server, keys["viewer"]) as viewer:
        refused = viewer.post("/calibrations", files=files)
        assert refused.status_code == 403 and "editor" in refused.json()["detail"]
    with client(server, None) as anonymous:
        assert anonymous.get("/calibrations").status_code == 401
    big = {"events": upload("big.csv", "x" * 200_000)}
    too_large = editor.post("/calibrations", files=big)
    assert too_large.status_code == 413 and "max_upload_bytes" in too_large.json()["detail"]
    assert editor.get("/calibrations/nope").status_code == 404


def test_the_form_offers_the_options_calibrate_accepts(editor: httpx.Client) -> None:
    """The API's choices for each option are calibrate's (CHOICES), read off the OpenAPI schema."""
    from calibration.calibrate import CHOICES

    schema = editor.get("/openapi.json").json()["components"]["schemas"]
    form = next(s for name, s in schema.items() if name.startswith("Body_create_calibration"))["properties"]
    for option in ("capacity", "arrivals", "worktime", "processing", "pools"):
        field = form[option]
        offered = next((a["enum"] for a in field.get("anyOf", [field]) if "enum" in a), None)
        assert offered is not None and set(offered) == set(CHOICES[option]), option


def test_the_form_takes_the_column_options_as_free_text(editor: httpx.Client) -> None:
    """`classes` and `cancelled` name columns of the events file (no fixed choices), and the
    form offers every option `calibrate` takes."""
    import inspect

    from calibration.calibrate import calibrate

    schema = editor.get("/openapi.json").json()["components"]["schemas"]
    form = next(s for name, s in schema.items() if name.startswith("Body_create_calibration"))["properties"]
    for option in ("classes", "cancelled"):
        assert {a.get("type") for a in form[option]["anyOf"]} == {"string", "null"}, option
    internal = {"events", "failures", "deliveries", "case_ends", "horizon"}  # not options of a calibration
    options = set(inspect.signature(calibrate).parameters) - internal
    assert options <= set(form)


def _tiered_log(cases: int = 300) -> str:
    """Two activities; `gold` cases (30%) take three times as long at B; every tenth case is
    cancelled after A (`gone`)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(4)
    rows = []
    for i in range(cases):
        t = pd.Timestamp("2026-01-05") + pd.Timedelta(hours=float(i * 0.7))
        tier = "gold" if rng.random() < 0.3 else "plain"
        a_end = t + pd.Timedelta(hours=float(rng.exponential(0.3)))
        gone = "customer" if i % 10 == 0 else ""
        rows.append((f"c{i}", "A", "ann", t, a_end, tier, gone))
        if not gone:
            b_end = a_end + pd.Timedelta(hours=float(rng.exponential(1.5 if tier == "gold" else 0.5)))
            rows.append((f"c{i}", "B", "bob", a_end, b_end, tier, ""))
    frame = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time", "tier",
                                        "gone"])
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S")


def test_classes_and_cancelled_fields_reach_the_calibration(editor: httpx.Client) -> None:
    files = {"events": upload("tiered.csv", _tiered_log())}
    data = {"classes": "tier", "cancelled": "gone", "waits": "false", "calendars": "false"}
    response = editor.post("/calibrations", files=files, data=data)
    assert response.status_code == 202, response.text
    assert response.json()["classes"] == "tier" and response.json()["cancelled"] == "gone"
    done = wait_done(editor, response.json()["id"])
    assert done["status"] == "done", done["error"]
    report = editor.get(f"/calibrations/{done['id']}/report.json").json()
    assert report["options"]["classes"] == "tier" and report["classes"]["in_twin"] is True
    assert report["abandonment"]["cancelled_cases"] == 30
    assert report["abandonment"]["last_activity"]["A"]["share_of_cancelled_cases"] == 1.0
    spec = editor.get(f"/twins/{done['twin_id']}").json()["spec"]
    assert set(spec["arrivals"][0]["classes"]) == {"gold", "plain"}
    b = next(a for a in spec["activities"] if a["name"] == "B")
    assert set(b["class_durations"]) == {"gold"}


def test_a_column_option_naming_no_column_gets_422_on_its_field(editor: httpx.Client) -> None:
    files = {"events": upload("tiered.csv", _tiered_log(50))}
    for option in ("classes", "cancelled"):
        response = editor.post("/calibrations", files=files, data={option: "nope"})
        assert response.status_code == 422, response.text
        (item,) = response.json()["detail"]
        assert item["field"] == option and f"column 'nope' ({option}) not found" in item["msg"]
        assert "/" not in item["msg"].split(";")[0]
