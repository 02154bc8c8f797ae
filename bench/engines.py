"""Engine speed: events per second of our engines against bare loops, in one process.

    python bench/engines.py [--horizon H] [--repeats N] [--replications R] [--no-compile]

Prints events/s for a bare, idiomatic SimPy M/M/3 and a bare Numba heap-event-loop M/M/3
(both written here), our SimPy and fast engines on the same M/M/3 twin, on it as three
one-person pools with the skill (`one_of`, against the one pool of three), and on each
shipped example, with ratios; the fast engine's JIT compile time cold (a fresh process with an empty
Numba cache) and cached (a fresh process loading it); and replications per second of R
replications of one simulated year of the manufacturing example on one core and on all
cores. Events are counted the same way everywhere: arrival + start + end per visit (plus
failures, repairs, shift changes, orders and deliveries in the examples).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import simpy
from numba import njit

from twin import load_twin, loads_twin, simulate
from twin.engine_fast import Packed, prepare, simulate_fast, simulate_many_fast

ROOT = Path(__file__).resolve().parents[1]
MM3 = """
name: mm3
horizon: {horizon}
arrivals: [{{name: customers, interarrival: {{dist: exponential, mean: 0.37}}, route: serve}}]
activities: [{{name: serve, duration: {{dist: exponential, mean: 1.0}}, resources: {{clerk: 1}}}}]
resources: [{{name: clerk, capacity: 3}}]
"""
MM3_SKILLS = """
name: mm3-skills
horizon: {horizon}
arrivals: [{{name: customers, interarrival: {{dist: exponential, mean: 0.37}}, route: serve}}]
activities: [{{name: serve, duration: {{dist: exponential, mean: 1.0}}, one_of: [ann, bo, cy]}}]
resources: [{{name: ann, capacity: 1}}, {{name: bo, capacity: 1}}, {{name: cy, capacity: 1}}]
"""
YEAR_HOURS = 8760.0


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


@njit(cache=True)
def _heap_push(times, kinds, n, t, kind):
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if times[parent] <= t:
            break
        times[i], kinds[i] = times[parent], kinds[parent]
        i = parent
    times[i], kinds[i] = t, kind
    return n + 1


@njit(cache=True)
def _heap_pop(times, kinds, n):
    t, kind = times[0], kinds[0]
    n -= 1
    last_t, last_k = times[n], kinds[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and times[c + 1] < times[c]:
            c += 1
        if last_t <= times[c]:
            break
        times[i], kinds[i] = times[c], kinds[c]
        i = c
    if n > 0:
        times[i], kinds[i] = last_t, last_k
    return t, kind, n


@njit(cache=True)
def bare_numba_mm3(horizon, rng):
    """A hand-written M/M/3 event loop: a binary heap of (time, kind), three servers and a
    FIFO line of arrival times, measuring the mean wait (the least a kernel must do to
    answer anything). Kind 0 is an arrival, 1 the end of a service."""
    times, kinds = np.empty(16), np.empty(16, np.int64)
    line = np.empty(1024)  # arrival times of those waiting, a ring buffer
    head, size = 0, 0
    n = _heap_push(times, kinds, 0, rng.exponential(0.37), 0)
    free, events, waits, total_wait = 3, 0, 0, 0.0
    while n > 0 and times[0] < horizon:
        t, kind, n = _heap_pop(times, kinds, n)
        events += 1  # the arrival, or the end of a service
        if kind == 0:
            n = _heap_push(times, kinds, n, t + rng.exponential(0.37), 0)
            if free > 0:
                free -= 1
                events += 1  # start
                waits += 1
                n = _heap_push(times, kinds, n, t + rng.exponential(1.0), 1)
            else:
                if size == line.size:  # grow: unroll the ring into a bigger one
                    line = np.concatenate((line[head:], line[:head], np.empty(line.size)))
                    head = 0
                line[(head + size) % line.size] = t
                size += 1
        elif size > 0:
            total_wait += t - line[head]
            head = (head + 1) % line.size
            size -= 1
            waits += 1
            events += 1  # start of the next in line
            n = _heap_push(times, kinds, n, t + rng.exponential(1.0), 1)
        else:
            free += 1
    return events if total_wait / max(waits, 1) >= 0 else -1  # keep the wait computed


def rate(fn, repeats: int) -> float:
    """Best events/s over `repeats` calls of fn(r) -> events."""
    best = 0.0
    for r in range(repeats):
        started = time.perf_counter()
        events = fn(r)
        best = max(best, events / (time.perf_counter() - started))
    return best


def compile_times() -> tuple[float, float]:
    """Seconds to make the fast engine ready in a fresh process: with an empty Numba cache
    (cold: compiles every kernel) and then with the cache that run wrote (cached start)."""
    code = ("import time; t = time.perf_counter(); from twin.engine_fast import prepare; prepare(); "
            "print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        seconds = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                        check=True).stdout) for _ in range(2)]
    return seconds[0], seconds[1]


def year_of_manufacturing() -> Packed:
    twin = load_twin(ROOT / "scenarios" / "examples" / "manufacturing.yaml")
    assert twin.time_unit == "hour"
    return Packed(twin.model_copy(update={"horizon": YEAR_HOURS}))


def replications_per_second(packed: Packed, replications: int, threads: int) -> tuple[float, float]:
    """Replications/s and events/s of `replications` years, on `threads` threads."""
    started = time.perf_counter()
    reps = simulate_many_fast(packed.twin, 1, range(replications), packed, workers=threads)
    seconds = time.perf_counter() - started
    return replications / seconds, sum(r.events for r in reps) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=20000.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--no-compile", action="store_true", help="skip the cold/cached compile timing")
    args = parser.parse_args()
    if not args.no_compile:
        cold, cached = compile_times()
        print(f"fast engine JIT: cold compile {cold:.1f} s, cached start {cached:.2f} s (fresh processes)")
    prepare()
    bare_numba_mm3(10.0, np.random.default_rng(0))
    mm3 = loads_twin(MM3.format(horizon=args.horizon))
    packed = Packed(mm3)
    bare = rate(lambda r: bare_simpy_mm3(args.horizon, r), args.repeats)
    bare_nb = rate(lambda r: bare_numba_mm3(args.horizon, np.random.default_rng(r)), args.repeats)
    ours = rate(lambda r: simulate(mm3, 1, r).events, args.repeats)
    fast = rate(lambda r: simulate_fast(mm3, 1, r, compiled=packed).events, args.repeats)
    print(f"{'case':34} {'events/s':>12} {'ratio':>30}")
    print(f"{'M/M/3 bare SimPy loop':34} {bare:12,.0f} {'1.00 (baseline)':>30}")
    print(f"{'M/M/3 bare Numba heap loop':34} {bare_nb:12,.0f} {bare_nb / bare:12.1f} x bare SimPy")
    print(f"{'M/M/3 twin, SimPy engine':34} {ours:12,.0f} {ours / bare:12.2f} x bare SimPy")
    print(f"{'M/M/3 twin, fast engine':34} {fast:12,.0f} {fast / bare:12.1f} x bare SimPy, "
          f"{fast / bare_nb:.2f} x bare Numba")
    skills = loads_twin(MM3_SKILLS.format(horizon=args.horizon))
    packed_skills = Packed(skills)
    ours_skills = rate(lambda r: simulate(skills, 1, r).events, args.repeats)
    fast_skills = rate(lambda r: simulate_fast(skills, 1, r, compiled=packed_skills).events, args.repeats)
    print(f"{'M/M/3, 3 skilled pools, SimPy':34} {ours_skills:12,.0f} {ours_skills / ours:12.2f} x one pool")
    print(f"{'M/M/3, 3 skilled pools, fast':34} {fast_skills:12,.0f} {fast_skills / fast:12.2f} x one pool")
    for path in (ROOT / "scenarios" / "examples" / f"{name}.yaml" for name in ("clinic", "manufacturing")):
        twin = load_twin(path)
        example = Packed(twin)
        speed = rate(lambda r, twin=twin: simulate(twin, 1, r).events, args.repeats)
        speed_fast = rate(lambda r, twin=twin, p=example: simulate_fast(twin, 1, r, compiled=p).events,
                          max(args.repeats, 5))
        print(f"{path.stem + ', SimPy engine':34} {speed:12,.0f} {'':>30}")
        print(f"{path.stem + ', fast engine':34} {speed_fast:12,.0f} {speed_fast / speed:12.1f} x our SimPy")
    year = year_of_manufacturing()
    simulate_many_fast(year.twin, 1, [0], year)
    cores = os.cpu_count() or 1
    for threads in sorted({1, cores}):
        per_s, events = replications_per_second(year, args.replications, threads)
        print(f"manufacturing, {args.replications} x 1 year, {threads} thread(s): "
              f"{per_s:,.1f} replications/s ({events:,.0f} events/s, random streams included)")


if __name__ == "__main__":
    main()
