"""Replications per second of the stress-test study on each executor.

    python bench/study.py [--replications 40] [--study stress|line]

Runs the four stress-test scenarios (no plan, backup supplier, subcontracting, regional
supplier: random outages and failure storms, contingency rules, costs) or the three
manufacturing what-if scenarios with every executor on the same seed: serial (1 core),
processes (all cores) and a Dask LocalCluster. Checks the tables are identical and prints
replications per second with the ratio to serial. Start-up (spawning processes, starting
the cluster) is included, as a user would see it; the fast engine's kernels come from
Numba's cache (a first run compiles them once, before the timings).
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
STUDIES = {
    "stress": [ROOT / f"stress_{n}.yaml" for n in ("baseline", "backup", "subcontract", "regional")],
    "line": [ROOT / f"manufacturing_{n}.yaml" for n in ("baseline", "reorder", "fifth_cnc")],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=40)
    parser.add_argument("--study", choices=sorted(STUDIES), default="stress")
    args = parser.parse_args()
    scenarios = load_study(list(STUDIES[args.study]))
    settings = settings_for(scenarios[0], args.replications)
    run_study(scenarios, settings_for(scenarios[0], 2), "serial")  # load (or compile) the kernels
    tables, rates = {}, {}
    for executor in ("serial", "processes", "dask"):
        started = time.perf_counter()
        tables[executor] = run_study(scenarios, settings, executor).table
        rates[executor] = len(tables[executor]) / (time.perf_counter() - started)
    for executor in ("processes", "dask"):
        pd.testing.assert_frame_equal(tables["serial"], tables[executor], check_exact=True)
    print(f"{args.study}: {len(scenarios)} scenarios x {args.replications} replications, "
          f"{os.cpu_count()} cores")
    for executor, rate in rates.items():
        print(f"{executor:>10}: {rate:6.2f} replications/s  ({rate / rates['serial']:.2f} x serial)")


if __name__ == "__main__":
    main()
