"""The fast engine's M/M/3 rate on this checkout against an earlier revision, interleaved.

    python bench/versions.py REV [--rounds N] [--horizon H]

Checks REV out into a temporary git worktree, compiles both kernels once, then runs N
rounds; each round measures, in a fresh process for each tree (tree order alternating),
the best of three one-replication runs of the M/M/3 twin of bench/engines.py. Prints each
tree's median events/s with its spread (min..max over rounds), the ratio of the medians,
and the machine's load average at start and end, so a busy machine shows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, time
from twin import loads_twin
from twin.engine_fast import prepare, simulate_fast, Packed
prepare()
twin = loads_twin('''
name: mm3
horizon: {horizon}
arrivals: [{{name: customers, interarrival: {{dist: exponential, mean: 0.37}}, route: serve}}]
activities: [{{name: serve, duration: {{dist: exponential, mean: 1.0}}, resources: {{clerk: 1}}}}]
resources: [{{name: clerk, capacity: 3}}]
''')
packed = Packed(twin)
rates = []
for r in range(3):
    rep = simulate_fast(twin, 1, r, compiled=packed)
    rates.append(rep.events / rep.sim_seconds)
print(max(rates))
"""


def rate(tree: Path, horizon: float) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD.format(horizon=horizon)], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("rev")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--horizon", type=float, default=200_000.0)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            trees = {"this checkout": ROOT, args.rev: old}
            for tree in trees.values():  # compile (and cache) each tree's kernels first
                rate(tree, 100.0)
            rates: dict[str, list[float]] = {name: [] for name in trees}
            for k in range(args.rounds):
                order = list(trees) if k % 2 == 0 else list(reversed(trees))
                for name in order:
                    rates[name].append(rate(trees[name], args.horizon))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    medians = {name: statistics.median(r) for name, r in rates.items()}
    for name, r in rates.items():
        print(f"{name:>16}: M/M/3 fast engine {medians[name] / 1e6:.2f}M events/s "
              f"(min {min(r) / 1e6:.2f}M, max {max(r) / 1e6:.2f}M, {len(r)} rounds)")
    ratio = medians["this checkout"] / medians[args.rev]
    end = os.getloadavg()[0]
    print(f"ratio this/{args.rev}: {ratio:.3f}; load average {load:.2f} at start, {end:.2f} at end")


if __name__ == "__main__":
    main()
