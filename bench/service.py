"""Service benchmark: p50/p99 latency of status and summary reads under concurrent
clients, and submissions per second, against a real `twin serve` on loopback.

    .venv/bin/python bench/service.py [--clients 50] [--reads 2000] [--submissions 200]

A fresh TWIN_HOME (SQLite) in a temporary folder; one small finished study is read.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

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
    url: str,
    key: str,
    paths: list[str],
    clients: int,
    total: int,
    method: str = "GET",
    body: dict[str, object] | None = None,
) -> tuple[list[float], float]:
    """`total` requests spread over `clients` concurrent clients; (latencies, wall seconds)."""
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(paths[i % len(paths)])
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=60
    ) as api:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await api.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--reads", type=int, default=2000, help="requests per read kind (bounded)")
    parser.add_argument("--submissions", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        Server(Path(os.environ.get("BENCH_HOME", scratch)), workers="1") as server,
    ):
        key = server.key("editor")
        with client(server, key) as api:
            twin_id = api.post("/twins", json={"spec": SMALL}).json()["id"]
            study_id = api.post("/studies", json={"twin_id": twin_id, "replications": 4}).json()["id"]
            assert wait_for(api, study_id)["status"] == "done"
        results: dict[str, object] = {"clients": args.clients}
        for name, path in (("status", f"/studies/{study_id}"), ("summary", f"/studies/{study_id}/summary")):
            latencies, wall = asyncio.run(hammer(server.url, key, [path], args.clients, args.reads))
            results[name] = {**percentiles(latencies), "per_second": round(len(latencies) / wall, 1)}
        body = {"twin_id": twin_id, "replications": 2}
        latencies, wall = asyncio.run(
            hammer(server.url, key, ["/studies"], args.clients, args.submissions, "POST", body)
        )
        results["submit"] = {**percentiles(latencies), "per_second": round(len(latencies) / wall, 1)}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
