"""Service benchmark: p50/p99 latency of reads under concurrent clients against one real
`twin serve` and against two sharing one PostgreSQL database (with the ratio to the one
server, measured in the same run), submissions per second, executions of studies run
through both servers (duplicates must be 0), and /health latency while a hostile upload is
checked (with the ratio to /health alone).

    .venv/bin/python bench/service.py [--clients 50] [--reads 2000] [--submissions 200]
        [--studies 20] [--upload-rows 400000] [--database postgresql+psycopg://...]

A fresh TWIN_HOME in a temporary folder and a fresh database on the PostgreSQL server given
(TWIN_BENCH_DATABASE_URL or TWIN_TEST_POSTGRES_URL by default; without one, SQLite and no
two-server figures); one small finished study is read. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.testing import SMALL_TWIN, Server, client, wait_for

SMALL = {**SMALL_TWIN, "name": "bench-mm1"}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {
        "n": len(ordered),
        "p50_ms": round(at(0.50), 2),
        "p99_ms": round(at(0.99), 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


async def hammer(
    urls: list[str],
    key: str,
    paths: list[str],
    clients: int,
    total: int,
    method: str = "GET",
    body: dict[str, object] | None = None,
) -> tuple[list[float], float]:
    """`total` requests spread over `clients` concurrent clients, client i against server
    i mod len(urls); (latencies, wall seconds)."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(paths[i % len(paths)])
    per = max(1, clients // len(urls) + 1)
    limits = httpx.Limits(max_connections=per, max_keepalive_connections=per)
    apis = [httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits,
                              timeout=120) for url in urls]

    async def worker(api: httpx.AsyncClient) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            response = await api.request(method, path, json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(apis[i % len(apis)]) for i in range(clients)))
        return latencies, time.perf_counter() - started
    finally:
        for api in apis:
            await api.aclose()


def reads(urls: list[str], key: str, path: str, clients: int, total: int) -> dict[str, float]:
    latencies, wall = asyncio.run(hammer(urls, key, [path], clients, total))
    return {**percentiles(latencies), "per_second": round(len(latencies) / wall, 1)}


def ratio(measured: dict[str, float], baseline: dict[str, float]) -> dict[str, float]:
    """Each of p50, p99 and throughput as a multiple of the baseline's (same process, same run)."""
    return {k: round(measured[k] / baseline[k], 2) for k in ("p50_ms", "p99_ms", "per_second")
            if k in measured and baseline.get(k)}


def hostile_events(rows: int) -> bytes:
    """An event log within the caps whose timestamps are all unparsable: the loaders' check
    tries every format on each value (seconds of work, in a child process)."""
    lines = (f"c{i},a{i % 7},r{i % 5},2024-13-{i % 28}x,later{i}" for i in range(rows))
    return ("case_id,activity,resource,start_time,end_time\n" + "\n".join(lines) + "\n").encode()


def health_during_upload(server: Server, key: str, rows: int) -> dict[str, object]:
    """/health latency (one client polling) alone, then while a hostile upload is checked."""

    def poll(stop: threading.Event, out: list[float]) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as api:
            while not stop.is_set():
                started = time.perf_counter()
                api.get("/health").raise_for_status()
                out.append(time.perf_counter() - started)
                time.sleep(0.01)

    def measure(during: Any) -> tuple[list[float], Any]:
        stop, out = threading.Event(), list[float]()
        thread = threading.Thread(target=poll, args=(stop, out))
        thread.start()
        try:
            result = during()
        finally:
            stop.set()
            thread.join()
        return out, result

    idle, _ = measure(lambda: time.sleep(2))
    data = hostile_events(rows)
    files = {"events": ("events.csv", data, "text/csv")}
    with client(server, key, timeout=300) as api:
        busy, answer = measure(lambda: api.post("/calibrations", files=files))
    upload = {"bytes": len(data), "status": answer.status_code, "detail": answer.text[:160]}
    idle_stats, busy_stats = percentiles(idle), percentiles(busy)
    busy_stats["max_ms"] = round(max(busy) * 1000, 2)
    return {"idle": idle_stats, "during_upload": busy_stats, "upload": upload,
            "ratio_vs_idle": ratio(busy_stats, idle_stats)}


def duplicates(servers: list[Server], key: str, twin_id: str, studies: int) -> dict[str, int]:
    """Studies submitted alternately through each server; runs recorded per study beyond one."""
    apis = [client(s, key) for s in servers]
    try:
        ids = [apis[i % len(apis)].post("/studies", json={"twin_id": twin_id, "replications": 2,
                                                          "engine": "simpy"}).json()["id"]
               for i in range(studies)]
        statuses = [wait_for(apis[0], study_id, timeout=600)["status"] for study_id in ids]
        runs = [apis[0].get(f"/studies/{study_id}/runs").json() for study_id in ids]
        counts = [len(r) for r in runs]
        servers_used = {run["server"] for r in runs for run in r}
    finally:
        for api in apis:
            api.close()
    return {"studies": studies, "done": statuses.count("done"), "runs": sum(counts),
            "duplicate_executions": sum(c - 1 for c in counts), "servers_that_ran_studies": len(servers_used)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reads", type=int, default=2000, help="requests per read kind (bounded)")
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--studies", type=int, default=20, help="studies run through two servers")
    parser.add_argument("--upload-rows", type=int, default=400_000, help="rows of the hostile upload")
    parser.add_argument("--database", default=os.environ.get("TWIN_BENCH_DATABASE_URL",
                                                            os.environ.get("TWIN_TEST_POSTGRES_URL")),
                        help="a PostgreSQL URL (default TWIN_BENCH_DATABASE_URL or TWIN_TEST_POSTGRES_URL; "
                             "without one, SQLite and no two-server figures)")
    args = parser.parse_args()
    database = fresh(args.database) if args.database else None
    roomy = {"max_upload_bytes": "50000000", "upload_check_seconds": "20", "max_queued_per_key": "1000",
             "rate_per_minute": "100000", "max_running_per_key": "100"}
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(os.environ.get("BENCH_HOME", scratch))
        one = Server(home, database, workers="1", **roomy).start()
        servers = [one]
        try:
            key = one.key("editor")
            with client(one, key) as api:
                twin_id = api.post("/twins", json={"spec": SMALL}).json()["id"]
                body = {"twin_id": twin_id, "replications": 4, "engine": "simpy"}
                study_id = api.post("/studies", json=body).json()["id"]
                assert wait_for(api, study_id)["status"] == "done"
            status, summary = f"/studies/{study_id}", f"/studies/{study_id}/summary"
            kind = "postgresql" if database else "sqlite"
            results: dict[str, Any] = {"clients": args.clients, "database": kind}
            # Reads first, with no job running, so both figures see the same quiet machine.
            baseline = reads([one.url], key, status, args.clients, args.reads)
            results["one_server"] = {"status": baseline,
                                     "summary": reads([one.url], key, summary, args.clients, args.reads)}
            if database:
                servers.append(Server(home, database, workers="1", **roomy).start())
                two = reads([s.url for s in servers], key, status, args.clients, args.reads)
                results["two_servers"] = {"status": two, "ratio_vs_one_server": ratio(two, baseline)}
            else:
                results["two_servers"] = "skipped: needs a PostgreSQL URL (--database)"
            results["health"] = health_during_upload(one, key, args.upload_rows)
            latencies, wall = asyncio.run(hammer([one.url], key, ["/studies"], args.clients, args.submissions,
                                                 "POST", {"twin_id": twin_id, "replications": 2}))
            results["one_server"]["submit"] = {
                **percentiles(latencies), "per_second": round(len(latencies) / wall, 1)}
            if database:
                results["two_servers"]["executions"] = duplicates(servers, key, twin_id, args.studies)
        finally:
            for server in servers:
                server.stop()
            if database:
                drop(args.database, database)
    print(json.dumps(results))


def fresh(url: str) -> str:
    """A new database on the server of `url` (dropped at the end), so runs do not mix."""
    from sqlalchemy import create_engine, make_url, text

    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop(url: str, database: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(database).database}" WITH (FORCE)'))
    admin.dispose()


if __name__ == "__main__":
    main()
