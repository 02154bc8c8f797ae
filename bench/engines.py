"""Engine speed: events per second of our engines against bare loops, in one process.

    python bench/engines.py [--horizon H] [--repeats N]

Prints events/s for a bare, idiomatic SimPy M/M/3 (written here), our SimPy engine on
the same M/M/3 twin, and our SimPy engine on each shipped example, with ratios. Events
are counted the same way everywhere: arrival + start + end per visit (plus failures,
repairs, shift changes, orders and deliveries in the examples).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import simpy

from twin import load_twin, loads_twin, simulate

ROOT = Path(__file__).resolve().parents[1]
MM3 = """
name: mm3
horizon: {horizon}
arrivals: [{{name: customers, interarrival: {{dist: exponential, mean: 0.37}}, route: serve}}]
activities: [{{name: serve, duration: {{dist: exponential, mean: 1.0}}, resources: {{clerk: 1}}}}]
resources: [{{name: clerk, capacity: 3}}]
"""


def bare_simpy_mm3(horizon: float, seed: int) -> int:
    """The textbook SimPy M/M/3: a source process and one process per customer."""
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=3)
    rng = np.random.default_rng(seed)
    events = 0

    def customer() -> simpy.events.ProcessGenerator:
        nonlocal events
        with clerks.request() as request:
            yield request
            events += 1
            yield env.timeout(rng.exponential(1.0))
        events += 1

    def source() -> simpy.events.ProcessGenerator:
        nonlocal events
        while True:
            yield env.timeout(rng.exponential(0.37))
            events += 1
            env.process(customer())

    env.process(source())
    env.run(until=horizon)
    return events


def rate(fn, repeats: int) -> float:
    """Best events/s over `repeats` calls of fn() -> events."""
    best = 0.0
    for r in range(repeats):
        started = time.perf_counter()
        events = fn(r)
        best = max(best, events / (time.perf_counter() - started))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=20000.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    mm3 = loads_twin(MM3.format(horizon=args.horizon))
    bare = rate(lambda r: bare_simpy_mm3(args.horizon, r), args.repeats)
    ours = rate(lambda r: simulate(mm3, 1, r).events, args.repeats)
    print(f"{'case':34} {'events/s':>12} {'ratio':>24}")
    print(f"{'M/M/3 bare SimPy loop':34} {bare:12,.0f} {'1.00 (baseline)':>24}")
    print(f"{'M/M/3 twin, SimPy engine':34} {ours:12,.0f} {ours / bare:10.2f} x bare SimPy")
    for path in sorted((ROOT / "scenarios" / "examples").glob("*.yaml")):
        twin = load_twin(path)
        speed = rate(lambda r, twin=twin: simulate(twin, 1, r).events, args.repeats)
        seconds = np.mean([simulate(twin, 1, r).sim_seconds for r in range(args.repeats)])
        print(f"{path.stem + ', SimPy engine':34} {speed:12,.0f} {seconds:10.3f} s/replication")


if __name__ == "__main__":
    main()
