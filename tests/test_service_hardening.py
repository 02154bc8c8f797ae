"""A hostile user against a real server: uploads, limits, quotas, and the smaller holes of
issue 15 (deep or non-UTF-8 YAML, formula injection, headers, logs, the OpenAPI document)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from service.testing import SMALL_TWIN, Server, client, wait_for

LIMITS = {"max_upload_checks": "1", "upload_check_seconds": "0.25", "workers": "1"}
# Room for an upload whose check runs for seconds on any machine, however fast: a check
# that merely takes longer than 0.25 s here would finish in time on a quicker one.
ROOMY = {**LIMITS, "max_upload_bytes": "20000000"}
SLOW_ROWS = 400_000  # ~15 MB: its check takes ~10 s here, far over the 0.25 s limit anywhere


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("hostile"), **LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("roomy"), **ROOMY) as running:
        yield running


@pytest.fixture
def roomy_editor(roomy: Server) -> Iterator[httpx.Client]:
    with client(roomy, roomy.key("editor")) as api:
        yield api


@pytest.fixture(scope="module")
def key(server: Server) -> str:
    return server.key("editor")


@pytest.fixture
def editor(server: Server, key: str) -> Iterator[httpx.Client]:
    with client(server, key) as api:
        yield api


def slow_events(rows: int) -> bytes:
    """An event log within the roomy caps whose timestamps are all unparsable: the loaders
    try each value twice (ISO, then every format), ~1.5 s for 55k rows (2 MB) here."""
    lines = (f"c{i},a{i % 7},r{i % 5},2024-13-{i % 28}x,later{i}" for i in range(rows))
    return ("case_id,activity,resource,start_time,end_time\n" + "\n".join(lines) + "\n").encode()


class HealthProbe:
    """Polls /health from a thread; the slowest answer while the probe ran."""

    def __init__(self, server: Server) -> None:
        self.server, self.failures = server, 0
        self.latencies: list[float] = []
        self.answered: list[float] = []  # when each answer came
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with client(self.server, None, timeout=30) as anonymous:
            while not self._stop.is_set():
                start = time.perf_counter()
                if anonymous.get("/health").status_code != 200:
                    self.failures += 1
                self.answered.append(time.perf_counter())
                self.latencies.append(self.answered[-1] - start)
                time.sleep(0.02)

    def answers_between(self, start: float, end: float) -> int:
        return sum(start < t < end for t in self.answered)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def upload_events(api: httpx.Client, data: bytes) -> httpx.Response:
    return api.post("/calibrations", files={"events": ("events.csv", data, "text/csv")})


def test_a_csv_of_commas_is_refused_at_once_naming_the_column_cap(editor: httpx.Client) -> None:
    response = upload_events(editor, b"," * 1_900_000 + b"\n1\n")  # was ~40 minutes: a quadratic header
    assert response.status_code == 422
    assert "max_upload_columns = 200" in response.json()["detail"][0]["msg"]
    many_rows = upload_events(editor, b"a\n" + b"1\n" * 1_000_001)
    assert many_rows.status_code == 413  # 2 MB: the body cap comes first
    latin1 = upload_events(editor, "case,activité\n1,é\n".encode("latin-1"))
    assert latin1.status_code == 422 and "not UTF-8" in latin1.json()["detail"][0]["msg"]


def test_health_answers_fast_while_a_hostile_upload_is_checked(roomy: Server,
                                                               roomy_editor: httpx.Client) -> None:
    """The loaders' check runs in a child process under a time limit: /health keeps answering
    while it runs (no latency bound here: bench/service.py measures that), and a check over
    `upload_check_seconds` is stopped and named."""
    data = slow_events(SLOW_ROWS)
    with HealthProbe(roomy) as probe:
        time.sleep(0.3)
        start = time.perf_counter()
        response = upload_events(roomy_editor, data)
        took = time.perf_counter() - start
        time.sleep(0.3)
    assert response.status_code == 422, response.text
    assert "upload_check_seconds" in response.json()["detail"][0]["msg"]
    assert probe.failures == 0
    assert probe.answers_between(start, start + took) >= 3, "health did not answer during the upload"


def test_concurrent_upload_checks_beyond_the_cap_get_429(roomy_editor: httpx.Client) -> None:
    data = slow_events(SLOW_ROWS)
    answers: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: answers.append(upload_events(roomy_editor, data)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(answer.status_code for answer in answers)
    assert 429 in codes and 422 in codes, codes
    busy = next(answer for answer in answers if answer.status_code == 429)
    assert "max_upload_checks = 1" in busy.json()["detail"]


def test_deep_or_non_utf8_yaml_gets_422_not_500(editor: httpx.Client) -> None:
    deep = "name: " + "[" * 600 + "]" * 600
    response = editor.post("/twins", json={"yaml": deep})
    assert response.status_code == 422 and "nested deeper than 64" in response.json()["detail"][0]["msg"]
    bomb = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(8)
    )
    response = editor.post("/twins", json={"yaml": bomb})
    assert response.status_code == 422 and "aliases expanded" in response.json()["detail"][0]["msg"]
    latin1 = editor.post("/twins/upload", files={"file": ("t.yaml", "name: café\n".encode("latin-1"))})
    assert latin1.status_code == 422 and latin1.json()["detail"][0]["field"] == "file"
    assert editor.post("/twins", json={"spec": SMALL_TWIN}).status_code == 201


def refused(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["detail"][0]["msg"])


@pytest.fixture(scope="module")
def twin_id(server: Server, key: str) -> str:
    with client(server, key) as api:
        return str(api.post("/twins", json={"spec": SMALL_TWIN}).json()["id"])


MEAN = "arrivals.jobs.interarrival.mean"
HOSTILE = {  # each within the twin's own limits, each a worker grown to gigabytes before
    "max_work": [
        {"name": "long", "changes": {"horizon": 1e12}},
        {"name": "unsure",
         "uncertain": {"params": {"horizon": {"dist": "uniform", "low": 1000, "high": 1e12}}}},
        {"name": "sens", "sensitivity": {"params": {"horizon": [1000, 1e12]}}},
    ],
    "max_arrivals": [
        {"name": "flood", "changes": {MEAN: 1e-9}},
        {"name": "sens", "sensitivity": {"params": {MEAN: [1e-9, 1]}}},
        {"name": "unsure", "uncertain": {"params": {MEAN: {"dist": "uniform", "low": 1e-9, "high": 1}}}},
        {"name": "surge", "stresses": [{"name": "rush", "kind": "demand_surge", "target": "jobs",
                                        "factor": 1e8,
                                        "random": {"probability": 0.1, "start": 0, "length": 1}}]},
        {"name": "profile", "changes": {"arrivals.jobs.interarrival": None,
                                        "arrivals.jobs.rate_profile": {"per_hour": [1e7] * 168}}},
    ],
    "max_events": [
        {"name": "loop", "changes": {"activities.serve.next": {"serve": 0.9999999, "exit": 0.0000001},
                                     "activities.serve.duration.mean": 1e-6}},
    ],
    "max_capacity": [
        {"name": "huge", "changes": {"resources.clerk.capacity": 10**15}},
        {"name": "sens", "sensitivity": {"params": {"resources.clerk.capacity": [1, 10**9]}}},
    ],
}


@pytest.mark.parametrize("limit,scenario", [(k, s) for k, v in HOSTILE.items() for s in v],
                         ids=[f"{k}-{s['name']}" for k, v in HOSTILE.items() for s in v])
def test_work_is_estimated_over_every_variant_and_refused_naming_the_limit(
    editor: httpx.Client, twin_id: str, limit: str, scenario: dict[str, object]
) -> None:
    message = refused(editor.post("/studies", json={"twin_id": twin_id, "replications": 2,
                                                    "scenarios": [scenario]}))
    assert f"{limit} = " in message and f"TWIN_{limit.upper()}" in message
    assert "'" in message  # the run named (the scenario or its variant)


def test_a_study_within_the_limits_is_accepted(editor: httpx.Client, twin_id: str) -> None:
    scenario = {"name": "busier", "changes": {MEAN: 0.8},
                "sensitivity": {"params": {"resources.clerk.capacity": [1, 3]}}}
    response = editor.post("/studies", json={"twin_id": twin_id, "replications": 2, "scenarios": [scenario]})
    assert response.status_code == 202, response.text
    editor.post(f"/studies/{response.json()['id']}/cancel")


QUOTAS = {"workers": "2", "max_queued_per_key": "2", "max_running_per_key": "1", "rate_per_minute": "20",
          "max_storage_per_key": "20000"}
LONG = {"replications": 900, "engine": "simpy"}  # runs for minutes: cancelled at the end


def test_per_key_quotas_and_rate_limit_answer_429_naming_the_limit(tmp_path: Path) -> None:
    with Server(tmp_path / "home", **QUOTAS) as quota_server, ExitStack() as stack:
        a, b, c, d = (stack.enter_context(client(quota_server, quota_server.key("editor"))) for _ in range(4))
        twin = a.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
        ids = [a.post("/studies", json={"twin_id": twin, **LONG}).json()["id"]]
        wait_for(a, ids[0], ("running",))
        ids += [a.post("/studies", json={"twin_id": twin, **LONG}).json()["id"] for _ in range(2)]
        flood = a.post("/studies", json={"twin_id": twin, **LONG})
        assert flood.status_code == 429 and "max_queued_per_key = 2" in flood.json()["detail"]
        other = b.post("/studies", json={"twin_id": twin, "replications": 2})  # a free worker, another key
        assert wait_for(b, other.json()["id"])["status"] == "done"
        studies = [a.get(f"/studies/{i}").json() for i in ids]
        statuses = [study["status"] for study in studies]
        assert statuses == ["running", "queued", "queued"], studies

        big = {**SMALL_TWIN, "activities": [{**SMALL_TWIN["activities"][0],  # type: ignore[dict-item]
                                             "duration": {"dist": "empirical", "values": [0.7] * 1000}}]}
        answers = [c.post("/twins", json={"spec": big}) for _ in range(6)]
        assert [r.status_code for r in answers][:4] == [201] * 4 and answers[-1].status_code == 429
        assert "max_storage_per_key = 20,000" in answers[-1].json()["detail"]

        rates = [d.post("/twins/validate", json={"spec": SMALL_TWIN}).status_code for _ in range(25)]
        assert rates[:20] == [200] * 20 and 429 in rates[20:]
        limited = d.post("/twins/validate", json={"spec": SMALL_TWIN})
        assert limited.status_code == 429 and "rate_per_minute = 20" in limited.json()["detail"]
        assert d.get("/twins").status_code == 200  # reads are not rate limited
        for study_id in ids:
            a.post(f"/studies/{study_id}/cancel")


def twin_cli(*args: str) -> tuple[int, str]:
    """Exit code and stderr (rich's line wrapping undone) of `twin ARGS`."""
    command = [sys.executable, "-m", "twin.cli", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    return done.returncode, " ".join(done.stderr.split())


def test_the_cli_names_bad_yaml_and_bad_outputs_without_a_traceback(tmp_path: Path) -> None:
    deep, latin1 = tmp_path / "deep.yaml", tmp_path / "latin1.yaml"
    deep.write_text("name: " + "[" * 600 + "]" * 600 + "\n")
    latin1.write_bytes("name: café\n".encode("latin-1"))
    for path, reason in ((deep, "nested deeper than 64 levels"), (latin1, "not UTF-8 text")):
        code, stderr = twin_cli("validate", str(path))
        assert code != 0 and reason in stderr and "Traceback" not in stderr, stderr
    events = str(Path(__file__).parent / "data" / "production_sample.csv")
    for output, reason in ((tmp_path / "missing" / "t.yaml", "does not exist"), (tmp_path, "is a folder")):
        code, stderr = twin_cli("calibrate", "--events", events, "-o", str(output), "--no-validate")
        assert code != 0 and reason in stderr and "Traceback" not in stderr, stderr


def test_a_formula_in_a_name_is_defused_in_results_csv(editor: httpx.Client) -> None:
    name = "=cmd|' /C calc'!A0"
    twin = editor.post("/twins", json={"spec": {**SMALL_TWIN, "name": name}})
    assert twin.status_code == 201, twin.text
    study = editor.post("/studies", json={"twin_id": twin.json()["id"], "replications": 2}).json()
    assert wait_for(editor, study["id"])["status"] == "done"
    table = list(csv.DictReader(io.StringIO(editor.get(f"/studies/{study['id']}/results.csv").text)))
    assert {row["scenario"] for row in table} == {"'" + name}  # a spreadsheet shows it as text
    assert all(float(row["cycle_time"]) > 0 for row in table)  # numbers stay numbers


def test_security_headers_no_cdn_and_no_key_in_the_access_log(server: Server, key: str) -> None:
    with client(server, None) as anonymous:
        page = anonymous.get("/")
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "script-src 'self';" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "cdn" not in page.text.lower()
        assert anonymous.get("/docs").status_code == 404 and anonymous.get("/redoc").status_code == 404
        report = anonymous.get("/studies/nope/report")  # reports (inline plotly) run sandboxed
        assert report.headers["content-security-policy"].startswith("sandbox allow-scripts")
        secret = "twin_secret-in-the-query-string"
        anonymous.get(f"/twins?api_key={secret}", headers={"Authorization": f"Bearer {key}"})
    time.sleep(0.5)
    log = server.log.read_text()
    assert secret not in log and "/twins?[query hidden]" in log


def test_timestamps_carry_their_offset(editor: httpx.Client, twin_id: str) -> None:
    for twin in editor.get("/twins").json():  # read back from SQLite, which stores no offset
        assert datetime.fromisoformat(twin["created_at"]).utcoffset() is not None, twin["created_at"]


def test_openapi_lists_every_status_code(server: Server) -> None:
    with client(server, None) as anonymous:
        paths = anonymous.get("/openapi.json").json()["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if path == "/health":
                continue
            expected = {"401", "403"} | ({"413", "429", "422"} if method in ("post", "delete") else set())
            expected |= {"404", "422"} if "{" in path else set()
            assert expected <= codes, (method, path, sorted(codes))
    assert "409" in paths["/studies/{study_id}/cancel"]["post"]["responses"]
    assert "409" in paths["/twins/{twin_id}"]["delete"]["responses"]
