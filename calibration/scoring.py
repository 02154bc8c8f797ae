"""Validation scorecard: a calibrated twin and a replay baseline against a held-out log.

The twin simulates the test window `runs` times (replication r of `seed`): as many cases
as the test log has, starting at its first case start. The replay baseline takes the last
N train cases (N = test cases, or all train cases if fewer) and shifts them by whole weeks
so the first lands at or after the test start (deterministic: its CI has zero width).
Three protocols (`PROTOCOLS`), each applied alike to both:
- `cut` (the default, and validation's): both are cut where the test log ends: events
  ending after its last end are dropped, as the real log's recording stopped there (cases
  still open then are in the test log only up to that point, so a log of completed cases
  would overstate cycle times and span);
- `uncut`: every simulated case runs to completion and the replay is not cut (as Simod's
  published figures are computed);
- `finished`: every case that arrives in the test window [first start, last end] is
  simulated up to the window's end and kept, whole, only if it ended inside it (as the
  shared test logs were built: their cases all ended by then); the replay keeps the cases
  that end inside the window. Fewer cases than the test log's means the twin finishes less
  of its work inside the window (weekly throughput).
Distances come from `log-distance-measures` (an optional extra: `pip install
twin[scoring]`): NGD-3 (normalised), CAR, CED, CWD, RED, CTD, AED (Wasserstein, hours).
Manager metrics are signed relative errors: mean and p90 cycle time, events per case,
weekly throughput (completed cases per week of the test span).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calibration.simlog import simulate_log
from twin.spec import Twin

PROTOCOLS = ("cut", "uncut", "finished")
METRICS = ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed", "ct_mean_err", "ct_p90_err", "events_per_case")
WEEK = pd.Timedelta(days=7)


def require_scoring() -> None:
    try:
        import log_distance_measures  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "scoring needs the log-distance-measures package: "
            "pip install 'log-distance-measures==2.2.0' (or the twin[scoring] extra)"
        ) from None


def case_stats(log: pd.DataFrame) -> dict[str, float]:
    g = log.groupby("case_id")
    cycle = (g["end_time"].max() - g["start_time"].min()).dt.total_seconds() / 3600
    span_weeks = max((log["end_time"].max() - log["start_time"].min()) / WEEK, 1e-9)
    return {
        "cases": float(len(cycle)),
        "events_per_case": len(log) / len(cycle),
        "ct_mean": float(cycle.mean()),
        "ct_p90": float(cycle.quantile(0.9)),
        "weekly_throughput": len(cycle) / span_weeks,
    }


def distances(test: pd.DataFrame, sim: pd.DataFrame) -> dict[str, float]:
    require_scoring()
    from log_distance_measures.absolute_event_distribution import absolute_event_distribution_distance
    from log_distance_measures.case_arrival_distribution import case_arrival_distribution_distance
    from log_distance_measures.circadian_event_distribution import circadian_event_distribution_distance
    from log_distance_measures.circadian_workforce_distribution import (
        circadian_workforce_distribution_distance,
    )
    from log_distance_measures.config import EventLogIDs
    from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance
    from log_distance_measures.n_gram_distribution import n_gram_distribution_distance
    from log_distance_measures.relative_event_distribution import relative_event_distribution_distance

    ids = EventLogIDs(
        case="case_id", activity="activity", start_time="start_time", end_time="end_time", resource="resource"
    )
    args = (test, ids, sim, ids)
    return {
        "ngd3": n_gram_distribution_distance(*args, n=3),
        "car": case_arrival_distribution_distance(*args),
        "ced": circadian_event_distribution_distance(*args),
        "cwd": circadian_workforce_distribution_distance(*args),
        "red": relative_event_distribution_distance(*args),
        "ctd": cycle_time_distribution_distance(*args, bin_size=timedelta(hours=1)),
        "aed": absolute_event_distribution_distance(*args),
    }


def metrics(test: pd.DataFrame, sim: pd.DataFrame, reference: dict[str, float]) -> dict[str, float]:
    got = case_stats(sim)
    out = distances(test, sim)
    out["ct_mean_err"] = got["ct_mean"] / reference["ct_mean"] - 1
    out["ct_p90_err"] = got["ct_p90"] / reference["ct_p90"] - 1
    out["events_per_case"] = got["events_per_case"] / reference["events_per_case"] - 1
    out["weekly_throughput_err"] = got["weekly_throughput"] / reference["weekly_throughput"] - 1
    return out


def censor(log: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The events a log recorded up to `end` would hold (those ending by then)."""
    return log[log["end_time"] <= end].reset_index(drop=True)


def replay(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """The last N train cases, shifted by whole weeks onto the test window's start."""
    starts = train.groupby("case_id")["start_time"].min().sort_values()
    n = min(test["case_id"].nunique(), len(starts))
    chosen = starts.index[-n:]
    log = train[train["case_id"].isin(chosen)].copy()
    weeks = math.ceil((test["start_time"].min() - starts.iloc[-n]) / WEEK)
    log["start_time"] += weeks * WEEK
    log["end_time"] += weeks * WEEK
    return log


def summarise(rows: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Mean and 95% t-interval over runs, per metric."""
    out = {}
    for key in rows[0]:
        values = np.array([r[key] for r in rows], dtype=float)
        mean = float(values.mean())
        half = (
            float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
            if len(values) > 1 and values.std() > 0
            else 0.0
        )
        out[key] = {"mean": mean, "ci95": [mean - half, mean + half]}
    return out


def finished(log: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """The cases of a log that ended by `end`, whole (a log of completed cases)."""
    last = log.groupby("case_id")["end_time"].transform("max")
    return log[last <= end].reset_index(drop=True)


def simulate_window(
    twin: Twin, test: pd.DataFrame, seed: int, replication: int, meta: dict[str, Any] | None,
    protocol: str = "cut",
) -> pd.DataFrame:
    """One simulated log of the test window under `protocol` (see the module's note)."""
    start = test["start_time"].min().to_pydatetime()
    cases, end = test["case_id"].nunique(), test["end_time"].max()
    if protocol == "cut":
        return censor(simulate_log(twin, start, cases, seed, replication, meta, until=end), end)
    if protocol == "uncut":
        return simulate_log(twin, start, cases, seed, replication, meta)
    if protocol == "finished":
        return simulate_log(twin, start, cases, seed, replication, meta, until=end, finished_only=True)
    raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not '{protocol}'")


def model_runs(
    twin: Twin, test: pd.DataFrame, runs: int, seed: int, meta: dict[str, Any] | None = None,
    protocol: str = "cut",
) -> list[dict[str, float]]:
    """Metrics of `runs` simulations of the test window (by default as many cases as it
    has, from its first start, each cut where the test log ends)."""
    reference = case_stats(test)
    return [
        metrics(test, simulate_window(twin, test, seed, r, meta, protocol), reference) for r in range(runs)
    ]


def replay_window(train: pd.DataFrame, test: pd.DataFrame, protocol: str = "cut") -> pd.DataFrame:
    """The replay baseline's log of the test window under `protocol`."""
    log, end = replay(train, test), test["end_time"].max()
    if protocol == "cut":
        return censor(log, end)
    return finished(log, end) if protocol == "finished" else log


def baseline_run(train: pd.DataFrame, test: pd.DataFrame, protocol: str = "cut") -> dict[str, float]:
    """Metrics of the replay baseline (by default cut where the test log ends)."""
    return metrics(test, replay_window(train, test, protocol), case_stats(test))


def score(
    twin: Twin,
    train: pd.DataFrame,
    test: pd.DataFrame,
    runs: int = 10,
    seed: int = 1,
    meta: dict[str, Any] | None = None,
    protocols: tuple[str, ...] = PROTOCOLS,
) -> dict[str, Any]:
    """{"protocols": {P: {"model": M, "baseline": M}} for each of `protocols`, "reference":
    test-log statistics}; "model" and "baseline" at the top are the first protocol's (the
    cut one by default), `baseline_uncut` the uncut replay where scored."""
    out: dict[str, Any] = {"protocols": {}}
    for protocol in protocols:
        model = model_runs(twin, test, runs, seed, meta, protocol)
        out["protocols"][protocol] = {
            "model": summarise(model),
            "baseline": summarise([baseline_run(train, test, protocol)] * runs),
        }
    first = out["protocols"][protocols[0]]
    out |= {"model": first["model"], "baseline": first["baseline"]}
    if "uncut" in out["protocols"]:
        out["baseline_uncut"] = out["protocols"]["uncut"]["baseline"]
    return out | {"reference": case_stats(test), "runs": runs, "seed": seed}
