"""Study jobs on a real Dask cluster when the service is configured with one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scenarios.executors import local_cluster
from service.testing import SMALL_TWIN as SMALL
from service.testing import Server, client, wait_for


@pytest.mark.slow
def test_study_jobs_run_on_the_configured_dask_cluster(tmp_path: Path) -> None:
    body = {"replications": 4, "seed": 3,
            "scenarios": [{"name": "faster", "changes": {"activities.serve.duration.mean": 0.5}}]}
    tables = {}
    with local_cluster(2) as cluster:
        for label, settings in (("dask", {"dask": cluster.scheduler_address}), ("local", {})):
            with Server(tmp_path / label, **settings) as server, \
                    client(server, server.key("editor")) as api:
                twin = api.post("/twins", json={"spec": SMALL})
                assert twin.status_code == 201, twin.text
                submitted = api.post("/studies", json={"twin_id": twin.json()["id"], **body})
                assert submitted.status_code == 202, submitted.text
                study = wait_for(api, submitted.json()["id"])
                assert study["status"] == "done", study
                tables[label] = pd.read_csv(f"{server.url}/studies/{study['id']}/results.csv",
                                            storage_options={"Authorization": api.headers["Authorization"]})
        ran = set(cluster.scheduler.task_prefixes)  # every kind of task the scheduler has seen
        assert any("chunk" in name for name in ran), ran  # the replications ran on the cluster
    pd.testing.assert_frame_equal(tables["dask"], tables["local"])  # same seed, same table
