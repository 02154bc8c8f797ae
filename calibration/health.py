"""Twin health: has the process moved away from what a calibrated twin learned?

A twin calibrated on last quarter's log ages as the process changes. `health` re-scores it on
a newer window with the distances and protocol of `twin score` and says whether it drifted.

Raw distances of two windows are not comparable (CAR and AED are in hours over the window, so
a longer window scores higher whatever the twin; CAR of a few hundred cases varies twofold by
chance alone), so each window is scored against a yardstick of its own (`window_score`). The
twin simulates the window as `twin score` simulates a test log (as many cases as it has, from
its first start, cut where it ends: the `cut` protocol) in `runs` runs, and its distance is
the mean over runs. Its *noise* is the mean distance between two of its own runs on the
same window (run i against run i + 1): what chance alone gives for a twin that is exactly
right, with this window's length, case count and calendar (a mean, not the largest, so that
it does not grow with the number of runs). A distance's *excess* is the
twin's distance over that noise, and its **drift** the excess on the new window over the
excess on the reference window. A distance is flagged when both the drift and the new excess
exceed the threshold (1.5 by default): the twin got that much worse than it was on its own
history, and is now farther from the data than chance explains. A twin's usual misfit (its
excess on the reference) is not held against it, and noise moves the twin's distance and
its yardstick alike. The cut protocol compares the shape of arrivals inside a window, not
their number, so the arrival rate is judged apart (`factor_row`): how many times off the
twin's cases started per day (a case starts with its first activity, in the data and in the
twin's runs alike, so the twin's weekly profile, the window's dates and a backlog at the twin's
pools all count) each window's are, new over reference; and so is the mean cycle time
(of the window's cases as recorded, the twin's against the data's), which a manager reads
directly. On the new window, `twin score`'s replay baseline (the reference log's last cases
moved by whole weeks onto it) is scored beside the twin, for context only: a replay of
another window is itself a noisy yardstick (one draw, its weeks shifted).

The reference window is the twin's own history: its training log (in sample, which makes the
reference stricter) or a later holdout it did well on. Beside the verdict, `changes` says in
plain terms what moved: arrivals per day (the twin's on the new window, the reference's, the
new window's) and the activities whose mean duration moved most from the reference window to
the new one (the twin's on the new window's cases beside them). A log that keeps only the cases completed
inside it (as both work-orders files do) is thinned towards its end, which lowers its
arrivals per day and shortens its cycle times; compare windows cut alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from calibration.scoring import case_stats, distances, replay_window, simulate_window
from calibration.validation import DISTANCES
from twin.spec import Twin

MIN_CASES = 20  # in a window
MIN_ACTIVITY = 20  # events an activity needs on both sides to compare its mean duration
MEASURES = {
    "ngd3": "order of activities (3-grams)",
    "car": "case arrivals (when work comes in)",
    "ced": "events by hour of the week",
    "cwd": "staff at work by hour of the week",
    "red": "timing of events within a case",
    "ctd": "cycle time (case durations)",
    "aed": "events over calendar time",
    "rate": "cases started per day (first activity)",
    "cycle": "mean cycle time (hours)",
}
HEALTHY, DRIFTED = "healthy", "drifted: recalibrate"


def default_runs(cases: int) -> int:
    """Enough runs for about 2,000 simulated cases, 3 to 10 (as validation)."""
    return min(10, max(3, math.ceil(2000 / max(cases, 1))))


class ThinWindow(ValueError):
    """Too few cases in a window to score it."""


def span(log: pd.DataFrame) -> dict[str, Any]:
    """A window's first start, last end and cases."""
    return {"start": log["start_time"].min().isoformat(), "end": log["end_time"].max().isoformat(),
            "cases": int(log["case_id"].nunique())}


def window_score(
    twin: Twin, log: pd.DataFrame, runs: int | None = None, seed: int = 1,
    meta: dict[str, Any] | None = None, name: str = "log", history: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The twin on a window as `twin score` scores it on a test log (see the module).

    Returns {"twin": {D: mean over runs}, "noise": {D: value}, "replay": {D: value or None},
    "runs": n, "window": span} and, under "durations" and "cycle", mean durations per
    activity and mean cycle time (hours) of the window and of the twin's simulations of it.
    "noise" is the mean distance between two of the twin's own runs (run i against run
    i + 1, cyclically): what chance alone gives against a twin that is exactly right.
    "replay" is `twin score`'s baseline, `history` replayed onto the window (None without
    `history`, or where the replay misses the window)."""
    cases = log["case_id"].nunique()
    if cases < MIN_CASES:
        raise ThinWindow(f"{name}: {cases} case(s), need {MIN_CASES} (a longer window)")
    runs = max(runs or default_runs(cases), 2)
    sims = [simulate_window(twin, log, seed, r, meta) for r in range(runs)]
    scored = [distances(log, sim) for sim in sims]
    pairs = [distances(sims[i], sims[(i + 1) % runs]) for i in range(runs if runs > 2 else 1)]
    replayed = replay_window(history, log) if history is not None else pd.DataFrame()
    replay = distances(log, replayed) if not replayed.empty else dict.fromkeys(DISTANCES)
    return {
        "twin": {k: float(np.mean([s[k] for s in scored])) for k in DISTANCES},
        "noise": {k: float(np.mean([p[k] for p in pairs])) for k in DISTANCES},
        "replay": {k: None if v is None else float(v) for k, v in replay.items()},
        "runs": runs,
        "window": span(log),
        "durations": {"data": mean_durations(log), "twin": mean_durations(pd.concat(sims))},
        "cycle": {"twin": float(np.mean([case_stats(sim)["ct_mean"] for sim in sims])),
                  "data": case_stats(log)["ct_mean"]},
        "rate": {"twin": float(np.mean([arrivals_per_day(sim) for sim in sims])),
                 "data": arrivals_per_day(log)},
    }


def mean_durations(log: pd.DataFrame) -> dict[str, dict[str, float]]:
    """{activity: {"mean": hours, "n": events}}."""
    hours = (log["end_time"] - log["start_time"]).dt.total_seconds() / 3600
    grouped = hours.groupby(log["activity"])
    return {str(a): {"mean": float(m), "n": int(n)} for a, m, n in
            zip(grouped.mean().index, grouped.mean(), grouped.size(), strict=True)}


def arrivals_per_day(log: pd.DataFrame) -> float:
    """Cases started (first activity) per day between the window's first and last case start."""
    starts = log.groupby("case_id")["start_time"].min()
    days = (starts.max() - starts.min()).total_seconds() / 86400
    return float(len(starts) / days) if days > 0 else float("nan")


def _ratio(a: float, b: float) -> float:
    if b > 0:
        return a / b
    return math.inf if a > 0 else 1.0


def compare(reference: dict[str, Any], new: dict[str, Any], threshold: float) -> dict[str, dict[str, Any]]:
    """Per distance: both windows' twin, noise and replay values, the raw ratio new /
    reference of the twin's distance, each window's excess (twin / noise), the drift (new
    excess over reference excess) and the flag: both the drift and the new excess over
    `threshold` (the twin got worse, and is now farther from the data than chance explains)."""
    out = {}
    for key in DISTANCES:
        ref_excess = _ratio(reference["twin"][key], reference["noise"][key])
        new_excess = _ratio(new["twin"][key], new["noise"][key])
        drift = _ratio(new_excess, ref_excess)
        out[key] = {
            "measures": MEASURES[key],
            "reference": {k: reference[k][key] for k in ("twin", "noise", "replay")},
            "new": {k: new[k][key] for k in ("twin", "noise", "replay")},
            "ratio": _ratio(new["twin"][key], reference["twin"][key]),
            "excess": {"reference": ref_excess, "new": new_excess},
            "drift": drift,
            "flag": bool(drift > threshold and new_excess > threshold),
        }
    return out


def factor_row(
    key: str, reference: dict[str, float], new: dict[str, float], threshold: float
) -> dict[str, Any]:
    """A plain measure (`reference` and `new`: {"twin": value, "data": value}) as a row like
    the distances': each window's excess is how many times off the twin is (either way, >= 1),
    the drift the new excess over the reference's."""
    ref_excess, new_excess = _factor(reference), _factor(new)
    drift = _ratio(new_excess, ref_excess)
    return {
        "measures": MEASURES[key],
        "reference": reference,
        "new": new,
        "ratio": _ratio(new["data"], reference["data"]),
        "excess": {"reference": ref_excess, "new": new_excess},
        "drift": drift,
        "flag": bool(drift > threshold),
    }


def _factor(side: dict[str, float]) -> float:
    return max(_ratio(side["data"], side["twin"]), _ratio(side["twin"], side["data"]))


def verdict(rows: dict[str, dict[str, Any]], worst: int = 3) -> dict[str, Any]:
    """"healthy", or "drifted: recalibrate" with the flagged distances, worst first."""
    flagged = sorted((k for k, r in rows.items() if r["flag"]), key=lambda k: -rows[k]["drift"])
    if not flagged:
        return {"verdict": HEALTHY, "flagged": [],
                "message": "healthy: no distance drifted past the threshold"}
    names = ", ".join(f"{k.upper()} ({MEASURES[k]}, x{rows[k]['drift']:.2f})" for k in flagged[:worst])
    return {"verdict": DRIFTED, "flagged": flagged,
            "message": f"drifted: recalibrate; worst: {names}"}


def duration_changes(reference: dict[str, Any], new: dict[str, Any], top: int = 5) -> list[dict[str, Any]]:
    """The `top` activities whose mean duration moved most (by factor) from the reference
    window to the new one (the later cases of each, `MIN_ACTIVITY` events on both sides),
    with the twin's mean on the new window's cases beside them."""
    old, now, model = reference["data"], new["data"], new["twin"]
    rows = []
    for activity, d in now.items():
        r = old.get(activity)
        if r is None or min(d["n"], r["n"]) < MIN_ACTIVITY or d["mean"] <= 0 or r["mean"] <= 0:
            continue
        twin_mean = model[activity]["mean"] if activity in model else None
        rows.append({"activity": activity, "reference_hours": r["mean"], "new_hours": d["mean"],
                     "twin_hours": twin_mean, "change": d["mean"] / r["mean"] - 1, "events": d["n"]})
    rows.sort(key=lambda r: -abs(math.log1p(r["change"])))
    return rows[:top]


def health(
    twin: Twin,
    new_log: pd.DataFrame,
    reference_log: pd.DataFrame,
    threshold: float = 1.5,
    runs: int | None = None,
    seed: int = 1,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The twin's health on `new_log` against its score on `reference_log` (an older window:
    its training log or a holdout), both scored by `window_score`. Plain data out: verdict,
    per-distance comparison, and what changed in plain terms."""
    if not threshold > 0:
        raise ValueError(f"threshold: must be a positive ratio, not {threshold}")
    reference = window_score(twin, reference_log, runs, seed, meta, name="reference log")
    new = window_score(twin, new_log, runs, seed, meta, name="new log", history=reference_log)
    rows = compare(reference, new, threshold)
    plain = {key: factor_row(key, reference[key], new[key], threshold) for key in ("rate", "cycle")}
    per_day = {"twin": new["rate"]["twin"], "reference": reference["rate"]["data"],
               "new": new["rate"]["data"]}
    return verdict(rows | plain) | {
        "threshold": threshold,
        "rule": "excess = twin's distance to the data / the mean distance between two of its own runs; "
                "drift = new excess / reference excess; flag when both drift and new excess exceed the "
                "threshold (rate and cycle: how many times off the twin's arrivals per day and mean cycle "
                "time each window is, new over reference)",
        "distances": rows,
        "plain": plain,
        "reference": reference["window"] | {"runs": reference["runs"]},
        "new": new["window"] | {"runs": new["runs"]},
        "changes": {"arrivals_per_day": per_day,
                    "durations": duration_changes(reference["durations"], new["durations"])},
        "seed": seed,
    }
