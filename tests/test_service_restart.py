"""Kill the server (SIGKILL) mid-study, start it again: no finished replication is lost."""

from __future__ import annotations

import time
from pathlib import Path

from service.testing import Server, client, wait_for
from tests.test_service_api import SMALL

REPLICATIONS = 80  # 1 worker: chunks of 10 replications, ~1 s each on the SimPy engine (the
# fast engine, the default, would finish the study before the server is killed)


def chunk_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Finished chunk files with (inode, mtime) to show they are never rewritten."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (folder / "chunks").glob("*.parquet")}


def replications_in(files: dict[str, tuple[int, int]]) -> int:
    """Replications held by chunk files named KEY-FIRST-LAST.parquet."""
    spans = (name.removesuffix(".parquet").split("-")[1:] for name in files)
    return sum(int(last) - int(first) + 1 for first, last in spans)


def test_killed_server_resumes_and_loses_no_finished_replication(tmp_path: Path) -> None:
    home = tmp_path / "home"
    twin = {**SMALL, "horizon": 10000}
    server = Server(home, workers="1").start()
    key = server.key("editor")
    with client(server, key) as api:
        twin_id = api.post("/twins", json={"spec": twin}).json()["id"]
        body = {"twin_id": twin_id, "replications": REPLICATIONS, "engine": "simpy"}
        study_id = api.post("/studies", json=body).json()["id"]
        deadline = time.monotonic() + 120
        while api.get(f"/studies/{study_id}").json()["progress"]["done"] < 20:
            assert time.monotonic() < deadline, "the study made no progress"
            time.sleep(0.1)
    server.kill()
    time.sleep(1.0)  # the orphaned worker notices its parent is gone and exits
    folder = home / "studies" / study_id
    before = chunk_files(folder)
    time.sleep(1.5)
    assert chunk_files(folder) == before, "the worker kept running after the server died"
    assert 2 <= len(before) < REPLICATIONS // 10, "kill the server mid-study"

    with Server(home, workers="1") as restarted, client(restarted, key) as api:
        study = wait_for(api, study_id)
        assert study["status"] == "done", study
        assert study["attempts"] == 2
        assert study["resumed"] == replications_in(before)  # read back, not run again
        after = chunk_files(folder)
        assert {name: after[name] for name in before} == before  # finished chunks untouched
        table = api.get(f"/studies/{study_id}/results.csv").text.strip().splitlines()
        assert len(table) == 1 + REPLICATIONS
        outcomes = [run["outcome"] for run in api.get(f"/studies/{study_id}/runs").json()]
        assert outcomes == ["its server stopped", "done"]  # two runs, the second only the rest
