"""Calibration speed: waits in working time as one `working_hours` step against the chain of
one-hour steps, on each shared event log, in one process.

    .venv/bin/python bench/worktime.py [DATASET ...] [--runs 3]

For each dataset and each way of replaying waits (`weighted`, `open`, `chain`): the time to
calibrate on the training log (no validation), the twin's size, and per simulated test
window (as `twin score` runs it, cut at the test log's end) the fast engine's events and
seconds; then the ratios to the chain. The validation split's own cost is in docs/calibration.md
(it calibrates and scores up to 18 candidates on part of the log).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from scorecard import DATA, DATASETS  # bench/ is the script's folder

from calibration.calibrate import calibrate
from calibration.loaders import load_events
from calibration.simlog import window
from twin.engine_fast import simulate_fast
from twin.loader import parse_twin

WAYS = ("weighted", "open", "chain")


def measure(train_path: Path, test_path: Path, runs: int) -> dict[str, dict[str, float]]:
    train, _ = load_events(train_path, {})
    test, _ = load_events(test_path, {})
    start, end = test["start_time"].min(), test["end_time"].max()
    out = {}
    for way in WAYS:
        began = time.perf_counter()
        spec, _ = calibrate(train, calendars=True, worktime=way)
        fitted = time.perf_counter() - began
        twin = window(parse_twin(spec), start.to_pydatetime(), (end - start).total_seconds() / 3600)
        simulate_fast(twin, 1, 0)  # compile / load the kernel outside the timing
        began, events = time.perf_counter(), 0
        for r in range(runs):
            events += simulate_fast(twin, 1, r).events
        seconds = (time.perf_counter() - began) / runs
        out[way] = {"fit_s": fitted, "steps": len(spec["activities"]), "events": events / runs,
                    "sim_s": seconds}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'dataset':12s}{'waits':>10s}{'fit s':>8s}{'steps':>7s}{'events/run':>12s}{'sim s/run':>11s}"
          f"{'events vs chain':>17s}{'sim vs chain':>14s}")
    for name in args.datasets:
        train, test = (DATA / f for f in DATASETS[name])
        rows = measure(train, test, args.runs)
        chain = rows["chain"]
        for way, m in rows.items():
            print(f"{name:12s}{way:>10s}{m['fit_s']:8.1f}{m['steps']:7d}{m['events']:12,.0f}{m['sim_s']:11.3f}"
                  f"{m['events'] / chain['events']:17.3f}{chain['sim_s'] / m['sim_s']:13.1f}x")


if __name__ == "__main__":
    main()
