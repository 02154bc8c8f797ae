"""Jobs under failure, against a real server: a worker killed mid-study is retried and
resumes from its finished chunks (up to TWIN_MAX_ATTEMPTS), a failed study is retried on
request, and storage errors fail the job with the reason and show in /health."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import httpx

from service.testing import SMALL_TWIN, Server, client, wait_for

REPLICATIONS = 80  # chunks of 10 replications, ~1 s each on the SimPy engine
LONG = {"replications": REPLICATIONS, "engine": "simpy"}


def workers(server: Server) -> list[int]:
    """Process ids of the server's job workers (spawned children; not the forkserver or
    the resource tracker)."""
    assert server.process is not None
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def kill_worker_after(api: httpx.Client, server: Server, study_id: str, done: int) -> None:
    deadline = time.monotonic() + 120
    while api.get(f"/studies/{study_id}").json()["progress"]["done"] < done or not workers(server):
        assert time.monotonic() < deadline, "the study made no progress"
        time.sleep(0.1)
    for pid in workers(server):
        os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_is_retried_then_failed_then_retried_on_request(tmp_path: Path) -> None:
    with Server(tmp_path / "home", workers="1", max_attempts="2") as server, \
            client(server, server.key("editor")) as api:
        twin = api.post("/twins", json={"spec": {**SMALL_TWIN, "horizon": 10000}}).json()["id"]
        study_id = api.post("/studies", json={"twin_id": twin, **LONG}).json()["id"]
        kill_worker_after(api, server, study_id, 20)
        study = wait_for(api, study_id)
        assert study["status"] == "done" and study["attempts"] == 2, study
        assert study["resumed"] >= 20  # the finished chunks were read back, not run again
        assert len(api.get(f"/studies/{study_id}/results.csv").text.strip().splitlines()) == 1 + REPLICATIONS

        doomed = api.post("/studies", json={"twin_id": twin, **LONG, "seed": 2}).json()["id"]
        kill_worker_after(api, server, doomed, 10)
        wait_for(api, doomed, ("running",))
        kill_worker_after(api, server, doomed, 30)
        failed = wait_for(api, doomed)
        assert failed["status"] == "failed" and "after 2 attempts (TWIN_MAX_ATTEMPTS)" in failed["error"]
        assert api.post(f"/studies/{study_id}/retry").status_code == 409  # done: nothing to retry
        retried = api.post(f"/studies/{doomed}/retry")
        assert retried.status_code == 200 and retried.json()["status"] == "queued"
        finished = wait_for(api, doomed)
        assert finished["status"] == "done" and finished["resumed"] >= 30, finished


def test_storage_errors_fail_the_job_with_the_reason_and_show_in_health(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Server(home, workers="1") as server, client(server, server.key("editor")) as api:
        twin = api.post("/twins", json={"spec": {**SMALL_TWIN, "horizon": 10000}}).json()["id"]
        study_id = api.post("/studies", json={"twin_id": twin, **LONG}).json()["id"]
        chunks = home / "studies" / study_id / "chunks"
        deadline = time.monotonic() + 60
        while not any(chunks.glob("*.parquet")):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        shutil.rmtree(chunks)
        chunks.write_text("not a folder")  # every later chunk write fails (root ignores chmod)
        failed = wait_for(api, study_id)
        assert failed["status"] == "failed" and "Error" in failed["error"], failed

        calibrations = home / "calibrations"
        shutil.rmtree(calibrations)
        calibrations.write_text("not a folder")
        health = api.get("/health").json()
        assert health["status"] == "degraded" and health["storage"].startswith("error: "), health
        studies = home / "studies"
        shutil.move(studies, tmp_path / "moved")
        studies.write_text("not a folder")
        refused = api.post("/studies", json={"twin_id": twin, "replications": 2})
        assert refused.status_code == 503, refused.text
        assert refused.json()["detail"].startswith("storage error")
        studies.unlink()
        shutil.move(tmp_path / "moved", studies)
        calibrations.unlink()
        calibrations.mkdir()
        assert api.get("/health").json()["status"] == "ok"


def test_a_job_over_its_time_or_memory_cap_fails_naming_the_cap(tmp_path: Path) -> None:
    for cap, setting in ((("job_seconds", "3"), "job_seconds (TWIN_JOB_SECONDS)"),
                         (("worker_memory_mb", "400"), "worker_memory_mb = 400 (TWIN_WORKER_MEMORY_MB)")):
        with Server(tmp_path / cap[0], workers="1", **dict([cap])) as server, \
                client(server, server.key("editor")) as api:
            twin = api.post("/twins", json={"spec": {**SMALL_TWIN, "horizon": 10000}}).json()["id"]
            failed = wait_for(api, api.post("/studies", json={"twin_id": twin, **LONG}).json()["id"])
            assert failed["status"] == "failed" and setting in failed["error"], failed["error"]
            assert failed["attempts"] == 1  # stopped for good, not retried
