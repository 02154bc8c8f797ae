"""Worker memory under hostile studies: what a job's worker process grows to.

    .venv/bin/python bench/worker_memory.py [--replications 220]

Against one real `twin serve` (SQLite, one worker, default limits): every hostile scenario of
tests/test_service_hardening.py (a horizon of 1e12, arrivals every 1e-9, a capacity of 1e15,
each also as an uncertain or sensitivity value; before the work limits, each grew a worker to
gigabytes) is submitted and must be refused (422 naming the limit); then the largest studies
the limits accept (the M/M/1 at 97% of max_work with its baseline; the same with the pool at max_capacity and
ten times the arrivals) run, while every process below the server is polled for its peak
resident memory (VmHWM). Prints one JSON object: the refusals, each study's wall time and the
largest worker peak, beside the worker's address-space cap (worker_memory_mb).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_service_hardening import HOSTILE

from service.settings import Settings
from service.testing import SMALL_TWIN, Server, client, wait_for


def descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(status.parent.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid]
        found += children
        frontier += children
    return found


def peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Watch(threading.Thread):
    """The largest VmHWM of any process below `root` while it runs."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stop = root, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in descendants(self.root):
                self.peak = max(self.peak, peak_mb(pid))
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=220)
    args = parser.parse_args()
    out: dict[str, Any] = {"worker_memory_mb": Settings().worker_memory_mb, "refused": {}, "studies": {}}
    with tempfile.TemporaryDirectory() as home, Server(Path(home), workers="1") as server:
        assert server.process is not None
        with client(server, server.key("editor"), timeout=60) as api:
            twin_id = api.post("/twins", json={"spec": SMALL_TWIN}).json()["id"]
            for limit, scenarios in HOSTILE.items():
                for scenario in scenarios:
                    answer = api.post("/studies", json={"twin_id": twin_id, "replications": 10,
                                                         "scenarios": [scenario]})
                    named = limit in answer.text
                    label = f"{limit}-{scenario['name']}"
                    out["refused"][label] = f"{answer.status_code} (names {limit}: {named})"
            largest = {"horizon": 20_000}
            crowded = {**largest, "resources.clerk.capacity": 10_000, "arrivals.jobs.interarrival.mean": 0.1}
            for name, changes in (("largest accepted", largest), ("max capacity, 10x arrivals", crowded)):
                watch = Watch(server.process.pid)
                watch.start()
                started = time.perf_counter()
                answer = api.post("/studies", json={"twin_id": twin_id, "replications": args.replications,
                                                     "scenarios": [{"name": "big", "changes": changes}]})
                status = answer.text
                if answer.is_success:
                    status = wait_for(api, answer.json()["id"], timeout=1800)["status"]
                watch.stop.set()
                watch.join()
                out["studies"][name] = {"status": status, "wall_s": round(time.perf_counter() - started, 1),
                                        "worker_peak_mb": round(watch.peak, 1)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
