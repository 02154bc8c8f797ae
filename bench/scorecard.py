"""Scorecard of every shared event log: calibrate on train, score on test (ours vs replay).

    .venv/bin/python bench/scorecard.py [DATASET ...] [--runs 10] [--out artifacts/calibration]

Does what `twin calibrate` + `twin score --json` do, for each dataset in DATASETS, and prints
one table per dataset and protocol (`cut`, `uncut`, `finished`: see calibration.scoring) with
the issue's goal beside each metric (replay x 1.25 for the distances, the error bounds for the
manager metrics), the calibration time per dataset, and the markdown tables of docs/calibration.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from calibration.cli import calibrate_files, score_files

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATASETS = {
    "production": (
        "production-manufacturing/Production_train.csv.gz",
        "production-manufacturing/Production_test.csv.gz",
    ),
    "bpic12w": ("bpic2012-w/BPIC_2012_W_train.csv.gz", "bpic2012-w/BPIC_2012_W_test.csv.gz"),
    "work-orders": (
        "work-orders/work_orders_pre-drift_transformed.csv.gz",
        "work-orders/work_orders_post-drift_transformed.csv.gz",
    ),
}
DISTANCES = ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed")
BOUNDS = {"ct_mean_err": 0.15, "ct_p90_err": 0.25, "events_per_case": 0.10}


def table(side: dict) -> str:
    lines = [f"{'metric':22s}{'ours':>10s}{'replay':>10s}  goal (vs replay)"]
    for key, m in side["model"].items():
        ours, base = m["mean"], side["baseline"][key]["mean"]
        if key in DISTANCES:
            goal, ok = f"<= {1.25 * base:.4g}", ours <= 1.25 * base
        elif key in BOUNDS:
            goal, ok = f"|err| <= {BOUNDS[key]}", abs(ours) <= BOUNDS[key]
        else:
            goal, ok = "", True
        lines.append(f"{key:22s}{ours:10.4g}{base:10.4g}  {goal}{'' if ok else '  MISS'}")
    return "\n".join(lines)


def markdown(results: dict[str, dict], protocol: str) -> str:
    """One table for `protocol`, a column pair (ours | replay) per dataset, as in docs/calibration.md."""
    names = list(results)
    head = "| metric | " + " | ".join(f"{n} ours | {n} replay" for n in names) + " |"
    lines = [head, "|---" * (1 + 2 * len(names)) + "|"]
    sides = {n: results[n]["protocols"][protocol] for n in names}
    for key in sides[names[0]]["model"]:
        cells = [f"{sides[n][side][key]['mean']:.3g}" for n in names for side in ("model", "baseline")]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("artifacts/calibration"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.datasets:
        train, test = (DATA / f for f in DATASETS[name])
        twin = args.out / f"{name}.yaml"
        began = time.perf_counter()
        # the CLI defaults of `twin calibrate` (options chosen on a split of train)
        calibrate_files(train, None, None, {}, twin, args.out / f"{name}.json", validate=True)
        seconds = time.perf_counter() - began
        result = score_files(twin, train, test, args.runs, 1, {}) | {"calibration_seconds": seconds}
        (args.out / f"{name}.score.json").write_text(json.dumps(result, indent=1))
        results[name] = result
        print(f"## {name} (calibration {seconds:.0f} s)")
        for protocol, side in result["protocols"].items():
            print(f"### {protocol}\n{table(side)}\n", flush=True)
    for protocol in next(iter(results.values()))["protocols"]:
        print(f"### {protocol}\n{markdown(results, protocol)}\n")


if __name__ == "__main__":
    main()
