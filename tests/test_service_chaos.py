"""Chaos against real servers (`twin serve` subprocesses) on a real PostgreSQL: a worker killed
with SIGKILL mid-study, two servers on one database (a stream of studies, one server killed,
a cancel through the other), an unwritable TWIN_HOME, a flood of submissions from one key,
and a hostile upload amid normal traffic. Each asserts that nothing finished is lost,
nothing runs twice (every study's runs are counted: `GET /studies/ID/runs`), and results
equal an undisturbed run with the same seed.

PostgreSQL comes from TWIN_TEST_POSTGRES_URL (.ci/run starts one with scripts/postgres.sh);
without it the two-server tests skip and the others run on SQLite.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import create_engine, make_url, text

from service.testing import SMALL_TWIN, Server, client, wait_for
from tests.test_service_hardening import ROOMY, SLOW_ROWS, HealthProbe, slow_events, upload_events

pytestmark = pytest.mark.slow

POSTGRES = os.environ.get("TWIN_TEST_POSTGRES_URL")
NO_POSTGRES = "TWIN_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL with scripts/postgres.sh)"
needs_postgres = pytest.mark.skipif(not POSTGRES, reason=NO_POSTGRES)

LONG_TWIN = {**SMALL_TWIN, "name": "chaos-long", "horizon": 10000}
LONG = {"replications": 60, "engine": "simpy", "seed": 7}  # 6 chunks of ~1 s on the SimPy engine
QUICK = {"replications": 4, "engine": "simpy", "seed": 7}  # well under a second
FAST = {"workers": "1", "lease_seconds": "3", "poll_seconds": "0.1"}  # a dead server's lease expires soon


def fresh_database() -> Iterator[str | None]:
    """A new PostgreSQL database (dropped after), or None (SQLite) without TWIN_TEST_POSTGRES_URL."""
    if not POSTGRES:
        yield None
        return
    name = f"chaos_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database() -> Iterator[str | None]:
    yield from fresh_database()


@pytest.fixture(scope="module")
def undisturbed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Results of the long and the quick study run once, with nothing going wrong."""
    with Server(tmp_path_factory.mktemp("undisturbed") / "home", workers="2") as server, \
            client(server, server.key("editor")) as api:
        long_twin, quick_twin = twin(api, LONG_TWIN), twin(api, SMALL_TWIN)
        ids = {"long": submit(api, long_twin, LONG), "quick": submit(api, quick_twin, QUICK)}
        return {name: finished(api, study_id) for name, study_id in ids.items()}


def twin(api: httpx.Client, spec: dict[str, object]) -> str:
    response = api.post("/twins", json={"spec": spec})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def submit(api: httpx.Client, twin_id: str, body: dict[str, object]) -> str:
    response = api.post("/studies", json={"twin_id": twin_id, **body})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def finished(api: httpx.Client, study_id: str, timeout: float = 240) -> pd.DataFrame:
    """The study's results once it is done (it must end done)."""
    study = wait_for(api, study_id, timeout=timeout)
    assert study["status"] == "done", study
    return pd.read_parquet(io.BytesIO(api.get(f"/studies/{study_id}/results.parquet").content))


def runs(api: httpx.Client, study_id: str) -> list[dict[str, object]]:
    answer: list[dict[str, object]] = api.get(f"/studies/{study_id}/runs").json()
    return answer


def progressed(api: httpx.Client, study_id: str, done: int) -> dict[str, object]:
    """Wait until the study has `done` replications and a worker running it; its run."""
    deadline = time.monotonic() + 180
    while True:
        study = api.get(f"/studies/{study_id}").json()
        current = runs(api, study_id)
        working = study["status"] == "running" and current and current[-1]["pid"]
        if working and study["progress"]["done"] >= done:
            return current[-1]
        assert study["status"] in ("queued", "running"), study
        assert time.monotonic() < deadline, f"no progress: {study}"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    """A live process (a zombie, finished but not yet reaped by its server, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def holder(servers: list[Server], run: dict[str, object]) -> Server:
    """The server whose worker holds the run (its lease owner is host:pid:id)."""
    pid = int(str(run["server"]).split(":")[-2])
    return next(s for s in servers if s.process is not None and s.process.pid == pid)


def chunks(home: Path, study_id: str) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in (home / "studies" / study_id / "chunks").glob("*.parquet")}


@needs_postgres
def test_a_worker_killed_mid_study_resumes_and_ends_identical(
    database: str, tmp_path: Path, undisturbed: dict[str, pd.DataFrame]
) -> None:
    with Server(tmp_path / "home", database, **FAST) as server, client(server, server.key("editor")) as api:
        study_id = submit(api, twin(api, LONG_TWIN), LONG)
        run = progressed(api, study_id, 20)
        before = chunks(server.home, study_id)
        os.kill(int(str(run["pid"])), signal.SIGKILL)
        result = finished(api, study_id)
        study = api.get(f"/studies/{study_id}").json()
        assert study["attempts"] == 2 and study["resumed"] >= 20, study
        after = chunks(server.home, study_id)
        assert {name: after[name] for name in before} == before  # finished chunks never rewritten
        pd.testing.assert_frame_equal(result, undisturbed["long"])
        outcomes = [r["outcome"] for r in runs(api, study_id)]
        assert outcomes == ["worker process exited with code -9", "done"], outcomes


@needs_postgres
def test_two_servers_run_a_stream_once_each_and_take_over_a_killed_one(
    database: str, tmp_path: Path, undisturbed: dict[str, pd.DataFrame]
) -> None:
    home = tmp_path / "home"
    servers = [Server(home, database, **{**FAST, "workers": "2"}).start() for _ in range(2)]
    try:
        key = servers[0].key("editor")
        apis = [client(s, key) for s in servers]
        quick = twin(apis[0], SMALL_TWIN)
        stream = [submit(apis[i % 2], quick, QUICK) for i in range(8)]  # through both servers
        for i, study_id in enumerate(stream):
            pd.testing.assert_frame_equal(finished(apis[i % 2], study_id), undisturbed["quick"])
            assert len(runs(apis[0], study_id)) == 1, runs(apis[0], study_id)  # exactly once
        ran_on = {str(runs(apis[0], s)[0]["server"]) for s in stream}

        long = submit(apis[0], twin(apis[0], LONG_TWIN), LONG)
        run = progressed(apis[0], long, 20)
        dead = holder(servers, run)
        survivor = servers[1 - servers.index(dead)]
        dead.kill()  # its worker exits with it; its lease is left to expire
        api = apis[servers.index(survivor)]
        result = finished(api, long)
        pd.testing.assert_frame_equal(result, undisturbed["long"])
        study = api.get(f"/studies/{long}").json()
        assert study["attempts"] == 2 and study["resumed"] >= 20, study
        outcomes = [(r["outcome"], holder(servers, r) is survivor) for r in runs(api, long)]
        assert outcomes == [("its lease expired", False), ("done", True)], outcomes
        assert not alive(int(str(run["pid"])))
        print(f"stream of {len(stream)} studies ran on {len(ran_on)} server(s); duplicate executions: 0")
    finally:
        for api in apis:
            api.close()
        for server in servers:
            server.stop()


@needs_postgres
def test_a_cancel_through_the_other_server_stops_the_worker(database: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    servers = [Server(home, database, **FAST).start() for _ in range(2)]
    try:
        key = servers[0].key("editor")
        with client(servers[0], key) as first:
            study_id = submit(first, twin(first, LONG_TWIN), LONG)
            run = progressed(first, study_id, 10)
        other = next(s for s in servers if s is not holder(servers, run))
        with client(other, key) as api:
            answer = api.post(f"/studies/{study_id}/cancel")
            assert answer.status_code == 200 and answer.json()["status"] == "cancelling", answer.text
            study = wait_for(api, study_id, ("cancelled", "done", "failed"), timeout=30)
            assert study["status"] == "cancelled", study
            deadline = time.monotonic() + 10
            while alive(int(str(run["pid"]))):
                assert time.monotonic() < deadline, "the worker kept running after the cancel"
                time.sleep(0.1)
            before, done = chunks(home, study_id), study["progress"]
            time.sleep(1.5)
            assert chunks(home, study_id) == before
            assert api.get(f"/studies/{study_id}").json()["progress"] == done
            assert [r["outcome"] for r in runs(api, study_id)] == ["cancelled"]
    finally:
        for server in servers:
            server.stop()


def test_an_unwritable_home_fails_the_running_study_and_a_retry_ends_identical(
    database: str | None, tmp_path: Path, undisturbed: dict[str, pd.DataFrame]
) -> None:
    home = tmp_path / "home"
    with Server(home, database, **FAST) as server, client(server, server.key("editor")) as api:
        done_before = submit(api, twin(api, SMALL_TWIN), QUICK)
        finished(api, done_before)
        study_id = submit(api, twin(api, LONG_TWIN), LONG)
        progressed(api, study_id, 20)
        studies, moved = home / "studies", tmp_path / "moved"
        shutil.move(studies, moved)
        studies.write_text("not a folder")  # root ignores chmod: every write under it fails
        failed = wait_for(api, study_id)
        assert failed["status"] == "failed" and "Error" in str(failed["error"]), failed
        health = api.get("/health").json()
        assert health["status"] == "degraded" and health["storage"].startswith("error: "), health
        refused = api.post("/studies", json={"twin_id": failed["twin_id"], **QUICK})
        assert refused.status_code == 503 and refused.json()["detail"].startswith("storage error")
        studies.unlink()
        shutil.move(moved, studies)
        assert api.get("/health").json()["status"] == "ok"
        assert api.post(f"/studies/{study_id}/retry").status_code == 200
        pd.testing.assert_frame_equal(finished(api, study_id), undisturbed["long"])
        assert api.get(f"/studies/{study_id}").json()["resumed"] >= 20  # nothing finished was lost
        pd.testing.assert_frame_equal(finished(api, done_before), undisturbed["quick"])
        assert [r["outcome"] for r in runs(api, study_id)][-1] == "done" and len(runs(api, study_id)) == 2


def test_a_flood_from_one_key_is_refused_by_its_quotas_and_nothing_runs_twice(
    database: str | None, tmp_path: Path, undisturbed: dict[str, pd.DataFrame]
) -> None:
    limits = {**FAST, "workers": "2", "max_queued_per_key": "4", "rate_per_minute": "600"}
    with Server(tmp_path / "home", database, **limits) as server, \
            client(server, server.key("editor")) as flooder, client(server, server.key("editor")) as other:
        quick = twin(flooder, SMALL_TWIN)
        answers: list[httpx.Response] = []

        def flood() -> None:
            with client(server, flooder.headers["Authorization"].split()[1]) as api:
                answers.extend(api.post("/studies", json={"twin_id": quick, **QUICK}) for _ in range(8))

        threads = [threading.Thread(target=flood) for _ in range(6)]
        for thread in threads:
            thread.start()
        mine = submit(other, twin(other, SMALL_TWIN), QUICK)  # another key is served meanwhile
        for thread in threads:
            thread.join()
        codes = sorted({a.status_code for a in answers})
        assert set(codes) <= {202, 429}, [a.text for a in answers if a.status_code not in (202, 429)]
        refusals = [a.json()["detail"] for a in answers if a.status_code == 429]
        assert refusals and all("max_queued_per_key" in r or "rate_per_minute" in r for r in refusals)
        accepted = [a.json()["id"] for a in answers if a.status_code == 202]
        assert accepted
        for study_id in [*accepted, mine]:
            pd.testing.assert_frame_equal(finished(other if study_id == mine else flooder, study_id),
                                          undisturbed["quick"])
            api = other if study_id == mine else flooder
            assert len(runs(api, study_id)) == 1
        print(f"flood: {len(accepted)} accepted, {len(refusals)} refused with 429")


def test_a_hostile_upload_amid_normal_traffic_holds_nothing_up(
    database: str | None, tmp_path: Path, undisturbed: dict[str, pd.DataFrame]
) -> None:
    with Server(tmp_path / "home", database, **{**ROOMY, **FAST}) as server, \
            client(server, server.key("editor")) as api:
        study_id = submit(api, twin(api, SMALL_TWIN), QUICK)
        with HealthProbe(server) as probe:
            start = time.perf_counter()
            commas = upload_events(api, b"," * 1_900_000 + b"\n1\n")
            slow = upload_events(api, slow_events(SLOW_ROWS))
            took = time.perf_counter() - start
            reads = [api.get("/twins").status_code for _ in range(5)]
        assert commas.status_code == 422 and "max_upload_columns" in commas.json()["detail"][0]["msg"]
        assert slow.status_code == 422 and "upload_check_seconds" in slow.json()["detail"][0]["msg"]
        assert probe.failures == 0 and probe.answers_between(start, start + took) >= 3
        assert reads == [200] * 5
        pd.testing.assert_frame_equal(finished(api, study_id), undisturbed["quick"])
        assert len(runs(api, study_id)) == 1
        assert api.get("/calibrations").json() == []  # nothing of the refused uploads was kept
