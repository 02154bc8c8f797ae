"""Replications per second of the manufacturing what-if study on each executor.

    python bench/study.py [--replications 20]

Runs the three manufacturing scenarios (baseline, reorder-300, fifth-cnc) with every
executor on the same seed, checks the tables are identical, and prints replications per
second with the ratio to serial. Start-up (spawning processes, starting a Dask
LocalCluster) is included, as a user would see it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from scenarios.loader import load_study
from scenarios.runner import run_study, settings_for

ROOT = Path(__file__).resolve().parents[1] / "scenarios" / "examples"
FILES = [ROOT / f"manufacturing_{n}.yaml" for n in ("baseline", "reorder", "fifth_cnc")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=20)
    args = parser.parse_args()
    scenarios = load_study(list(FILES))
    settings = settings_for(scenarios[0], args.replications)
    tables, rates = {}, {}
    for executor in ("serial", "processes", "dask"):
        started = time.perf_counter()
        tables[executor] = run_study(scenarios, settings, executor).table
        rates[executor] = len(tables[executor]) / (time.perf_counter() - started)
    for executor in ("processes", "dask"):
        pd.testing.assert_frame_equal(tables["serial"], tables[executor], check_exact=True)
    print(f"{len(scenarios)} scenarios x {args.replications} replications, {os.cpu_count()} cores")
    for executor, rate in rates.items():
        print(f"{executor:>10}: {rate:6.2f} replications/s  ({rate / rates['serial']:.2f} x serial)")


if __name__ == "__main__":
    main()
