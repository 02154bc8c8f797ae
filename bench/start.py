"""How quickly twin starts, as a user sees it: this checkout against a baseline revision.

    python bench/start.py [--baseline REV] [--rounds N] [--twin FILE] [--sizes 100,500]

Checks REV (default 4e87039, the commit before instant start) out into a temporary git
worktree. For each tree, with its bytecode written (as a first run writes it) and in fresh
processes with its own empty Numba cache directory:

- cold compile: every kernel a user can reach (once per tree; it takes a minute or two);
- then N rounds, the trees' order alternating (each runs its own copy of FILE where it has one,
  as that version's user would): a cached `twin run FILE --json` (whole
  command), `twin validate FILE`, `twin --help`, `twin study FILE --replications R --executor
  E --json --out NEW_FOLDER` for each size R and executor E (whole command, results written
  as a user gets them, nothing resumed), the same studies timed inside
  one process (after a two-replication study has loaded the kernel), and the M/M/3 fast
  engine's events per second (best of three one-replication runs, as bench/versions.py).

Prints each figure's median over the rounds with its spread (min..max), the ratio this/baseline,
each executor's speed-up over serial, a serial study's fixed cost (the line through the medians of
the smallest and largest size), and the load average at start and end: on a busy
machine the figures are the machine's, not the code's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTORS = ("serial", "processes", "dask")
COMPILE = """
import time
started = time.perf_counter()
from twin import engine_fast
engine_fast.prepare()  # both kernels on the baseline (parallel=True), the one kernel here
print(time.perf_counter() - started)
"""
IN_PROCESS = """
import json, sys, time
from pathlib import Path
from scenarios.loader import load_study
from scenarios.runner import run_study, settings_for
scenarios = load_study([Path(sys.argv[1])])
run_study(scenarios, settings_for(scenarios[0], 2, engine="fast"), "serial")  # load the kernel
out = {}
for n in map(int, sys.argv[2].split(",")):
    for executor in sys.argv[3].split(","):
        started = time.perf_counter()
        run_study(scenarios, settings_for(scenarios[0], n, engine="fast"), executor)
        out[f"{n}/{executor}"] = time.perf_counter() - started
print(json.dumps(out))
"""
RATE = """
from twin import loads_twin
from twin.engine_fast import prepare, simulate_fast, Packed
prepare()
twin = loads_twin('''
name: mm3
horizon: 200000
arrivals: [{name: customers, interarrival: {dist: exponential, mean: 0.37}, route: serve}]
activities: [{name: serve, duration: {dist: exponential, mean: 1.0}, resources: {clerk: 1}}]
resources: [{name: clerk, capacity: 3}]
''')
packed = Packed(twin)
rates = []
for r in range(3):
    rep = simulate_fast(twin, 1, r, compiled=packed)
    rates.append(rep.events / rep.sim_seconds)
print(max(rates))
"""


class Tree:
    """A checkout, run with its own sources first on the path and its own Numba cache."""

    def __init__(self, name: str, path: Path, cache: Path) -> None:
        self.name, self.path, self.cache = name, path, cache
        self.env = {**os.environ, "PYTHONPATH": str(path), "NUMBA_CACHE_DIR": str(cache)}

    def own(self, twin: Path) -> Path:
        """The tree's own copy of a twin in the checkout (as that version's user has it), else `twin`."""
        try:
            copy = self.path / twin.resolve().relative_to(ROOT)
        except ValueError:
            return twin.resolve()
        return copy if copy.exists() else twin.resolve()

    def wall(self, *args: str) -> float:
        """Seconds the command `python ARGS` takes, start-up included (it must succeed)."""
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=self.path, env=self.env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - started

    def output(self, *args: str) -> str:
        done = subprocess.run([sys.executable, *args], cwd=self.path, env=self.env, check=True,
                              capture_output=True, text=True)
        return done.stdout


def one_round(tree: Tree, twin: Path, sizes: str, scratch: Path) -> dict[str, float]:
    cli = ("-m", "twin.cli")
    figures = {
        "twin run (cached, whole command)": tree.wall(*cli, "run", str(twin), "--json"),
        "twin validate": tree.wall(*cli, "validate", str(twin)),
        "twin --help": tree.wall(*cli, "--help"),
    }
    for n in sizes.split(","):
        for executor in EXECUTORS:
            out = tempfile.mkdtemp(dir=scratch)  # a fresh folder: `twin study` resumes one it has written
            figures[f"study {n} reps, {executor} (whole command)"] = tree.wall(
                *cli, "study", str(twin), "--replications", n, "--executor", executor, "--json", "--out", out)
    inside = json.loads(tree.output("-c", IN_PROCESS, str(twin), sizes, ",".join(EXECUTORS)).splitlines()[-1])
    figures |= {f"study {key.replace('/', ' reps, ')} (in process)": value for key, value in inside.items()}
    figures["M/M/3 fast engine, M events/s"] = float(tree.output("-c", RATE).split()[-1]) / 1e6
    return figures


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):7.2f} ({min(values):.2f}..{max(values):.2f})"


def fixed_cost(figures: dict[str, list[float]], mode: str) -> str:
    """A serial study's fixed cost and time per replication: the line through the medians of
    its smallest and largest size."""
    sizes = sorted({int(k.split()[1]) for k in figures if k.startswith("study")})
    if len(sizes) < 2:
        return "needs two sizes"
    low, high = (statistics.median(figures[f"study {n} reps, serial ({mode})"])
                 for n in (sizes[0], sizes[-1]))
    per = (high - low) / (sizes[-1] - sizes[0])
    return f"{low - sizes[0] * per:.2f} s + {per * 1000:.1f} ms a replication"


def report(results: dict[str, dict[str, list[float]]], cold: dict[str, float], baseline: str) -> None:
    names = list(results)
    print(f"{'figure (seconds unless named)':<44}" + "".join(f"{n:>26}" for n in names) + "  this/base")
    rows = {k: [statistics.median(results[n][k]) for n in names] for k in results[names[0]]}
    print(f"{'cold compile (once)':<44}" + "".join(f"{cold[n]:>26.1f}" for n in names)
          + f"  {cold[names[0]] / cold[names[1]]:.2f}")
    for key in rows:
        cells = "".join(f"{spread(results[n][key]):>26}" for n in names)
        print(f"{key:<44}{cells}  {rows[key][0] / rows[key][1]:.2f}")
    for n in names:
        for mode in ("whole command", "in process"):
            for size in sorted({k.split()[1] for k in rows if k.startswith("study")}, key=int):
                serial = statistics.median(results[n][f"study {size} reps, serial ({mode})"])
                ratios = ", ".join(
                    f"{e} {serial / statistics.median(results[n][f'study {size} reps, {e} ({mode})']):.2f}x"
                    for e in EXECUTORS[1:])
                print(f"{n}: {size} reps ({mode}) speed-up over serial: {ratios}")
            print(f"{n}: study fixed cost ({mode}): {fixed_cost(results[n], mode)}")
    print(f"baseline: {baseline}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="4e87039")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--twin", type=Path, default=ROOT / "scenarios" / "examples" / "clinic.yaml")
    parser.add_argument("--sizes", default="100,500")
    args = parser.parse_args()
    start_load = os.getloadavg()
    print(f"load average at start: {start_load[0]:.2f} {start_load[1]:.2f} {start_load[2]:.2f} "
          f"({os.cpu_count()} cores)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "baseline"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.baseline], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            trees = [Tree("this checkout", ROOT, Path(tmp) / "cache-this"),
                     Tree(args.baseline, old, Path(tmp) / "cache-base")]
            for tree in trees:  # bytecode, as Python writes it on a first run (setup.sh writes ours)
                subprocess.run([sys.executable, "-m", "compileall", "-q", "twin", "scenarios"], cwd=tree.path,
                               check=True, capture_output=True)
            cold = {}
            for tree in trees:  # cold compile, each into its own empty cache
                cold[tree.name] = float(tree.output("-c", COMPILE).split()[-1])
                print(f"cold compile {tree.name}: {cold[tree.name]:.1f} s "
                      f"(load {os.getloadavg()[0]:.2f})", flush=True)
            results: dict[str, dict[str, list[float]]] = {t.name: {} for t in trees}
            for k in range(args.rounds):
                for tree in trees if k % 2 == 0 else trees[::-1]:
                    for key, value in one_round(tree, tree.own(args.twin), args.sizes, Path(tmp)).items():
                        results[tree.name].setdefault(key, []).append(value)
                print(f"round {k + 1} done (load {os.getloadavg()[0]:.2f})", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    report(results, cold, args.baseline)
    end_load = os.getloadavg()
    print(f"load average at start {start_load[0]:.2f}, at end {end_load[0]:.2f} "
          f"(1-minute; {os.cpu_count()} cores); twin {args.twin.name}; {args.rounds} rounds; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
