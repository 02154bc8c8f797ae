"""The optimiser against exact optima: plans simulated, replications and wall time.

    python bench/optimizer.py [--seeds 1 2 3] [--executor serial]

Two problems whose optimum is known exactly (tests/test_optimize.py checks the same):
a line of three M/M/c stations with a cost per server and a mean-wait target of 1 h per
station (the optimum is each station's Erlang C minimum, Burke), and an (s, S) policy
with Poisson demand, lead time 4, holding 1 and stockout 10 per unit (the exact cost
E[on hand] + 10 P(no stock)). For each seed it prints the plan found, its exact value
against the exact optimum (the ratio), the plans and replications simulated, and the wall
time beside exhaustive enumeration's plan count (the baseline a brute-force user pays).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from theory import mmc_mean_wait, sS_mean_on_hand, sS_stockout_probability  # noqa: E402

from optimize import load_problem, optimize  # noqa: E402

LINE = {"a": 2.4, "b": 1.5, "c": 0.8}


def line_cost(plan: dict[str, int]) -> float:
    """Servers in all (cost per hour), inf where a station's exact wait is over 1 h."""
    total = 0.0
    for station, es in LINE.items():
        c = plan[f"resources.p{station}.capacity"]
        if c <= es or mmc_mean_wait(c, 1.0, es) > 1.0:
            return float("inf")
        total += c
    return total


def sS_cost(plan: dict[str, int]) -> float:
    s, big_s = plan["materials.m.reorder.point"], plan["materials.m.reorder.up_to"]
    return sS_mean_on_hand(s, big_s, 1, 4) + 10 * sS_stockout_probability(s, big_s, 1, 4)


PROBLEMS = {
    "line": (
        {
            "name": "line3",
            "base": str(ROOT / "tests/twins/line3.yaml"),
            "decisions": {f"resources.p{s}.capacity": {"low": 1, "high": 8} for s in LINE},
            "targets": [f"activities.{s}.wait.mean <= 1" for s in LINE],
            "experiment": {"replications": 5, "max_replications": 20, "budget": 60},
        },
        line_cost,
        min(
            line_cost({f"resources.p{s}.capacity": c for s, c in zip(LINE, cs, strict=True)})
            for cs in [(a, b, c) for a in range(1, 9) for b in range(1, 9) for c in range(1, 9)]
        ),
    ),
    "sS": (
        {
            "name": "sS",
            "base": str(ROOT / "tests/twins/sS_costs.yaml"),
            "decisions": {
                "materials.m.reorder.point": {"low": 0, "high": 10},
                "materials.m.reorder.up_to": {"low": 1, "high": 20},
            },
            "experiment": {"replications": 5, "max_replications": 20, "budget": 80},
        },
        sS_cost,
        min(
            sS_cost({"materials.m.reorder.point": s, "materials.m.reorder.up_to": big_s})
            for s in range(11)
            for big_s in range(s + 1, 21)
        ),
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--executor", default="serial")
    args = parser.parse_args()
    print(f"load at start {os.getloadavg()[0]:.2f}")
    for name, (data, exact, optimum) in PROBLEMS.items():
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "problem.yaml"
                path.write_text(yaml.safe_dump(data | {"experiment": data["experiment"] | {"seed": seed}}))
                problem = load_problem(path)
                started = time.perf_counter()
                outcome = optimize(problem, executor=args.executor, out=Path(folder) / "out")
                wall = time.perf_counter() - started
            found = exact(outcome.best.plan)
            print(
                f"{name} seed {seed}: plan {list(outcome.best.plan.values())}, exact {found:.4f} vs optimum "
                f"{optimum:.4f} (x{found / optimum:.4f}), {len(outcome.visits)} of {problem.size} plans, "
                f"{outcome.replications} replications, {wall:.1f} s, "
                f"certified {outcome.best.estimate.certified}"
            )
    print(f"load at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
