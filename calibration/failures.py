"""Equipment failures: time between failures per component (and machine) from failure records.

`FailureFitter().fit(records)` takes rows of (time, machine, component) such as the Azure
PdM `PdM_failures.csv` (datetime, machineID, failure). Uptime = hours between consecutive
failures of the same machine and component (the time before a unit's first failure is
left-censored and not used). It fits one uptime distribution per component over all
machines (per machine there are only a handful of failures: counts are reported), and
checks it out of sample: fit on failures in the first `train_share` of the time span, then
KS, mean and p90 error on the rest. The records carry no repair durations, so no repair
distribution is fitted: the report says so, and a twin needs one from elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calibration.fitters import DurationFitter
from calibration.loaders import CalibrationDataError, parse_times

COLUMNS = {
    "time": ("datetime", "time", "timestamp"),
    "machine": ("machineid", "machine", "unit"),
    "component": ("failure", "comp", "component"),
}


def pick(columns: list[str], aliases: tuple[str, ...], what: str) -> str:
    lower = {c.lower(): c for c in columns}
    found = next((lower[a] for a in aliases if a in lower), None)
    if found is None:
        raise CalibrationDataError(f"no {what} column (tried {', '.join(aliases)}); columns are {columns}")
    return found


def holdout(samples: pd.Series, times: pd.Series, train_share: float) -> dict[str, Any]:
    """Fit on the samples dated in the first train_share of the span, check on the rest."""
    cut = times.min() + (times.max() - times.min()) * train_share
    train, test = samples[times <= cut].to_numpy(), samples[times > cut].to_numpy()
    if len(train) < 8 or len(test) < 8:
        return {"skipped": f"too few samples (train {len(train)}, test {len(test)})"}
    fit = DurationFitter(allow_empirical=False).fit(train)
    rng = np.random.default_rng(0)
    draws = _draw(fit.spec_, rng, 20000)
    return {
        "cut": cut.isoformat(),
        "n_train": len(train),
        "n_test": len(test),
        "family": fit.family_,
        "ks_pvalue": float(stats.ks_2samp(test, draws).pvalue),
        "mean_err": float(draws.mean() / test.mean() - 1),
        "p90_err": float(np.quantile(draws, 0.9) / np.quantile(test, 0.9) - 1),
    }


def _draw(spec: dict[str, Any], rng: np.random.Generator, n: int) -> np.ndarray:
    from pydantic import TypeAdapter

    from twin.distributions import Dist

    dist = TypeAdapter(Dist).validate_python(spec)
    return np.array([dist.sample(rng) for _ in range(n)])


class FailureFitter:
    def __init__(self, train_share: float = 0.7) -> None:
        self.train_share = train_share

    def fit(self, records: pd.DataFrame) -> FailureFitter:
        cols = list(records.columns)
        t, m, c = (pick(cols, COLUMNS[k], k) for k in ("time", "machine", "component"))
        df = pd.DataFrame(
            {
                "time": parse_times(records[t].astype(str).reset_index(drop=True), t, "failures"),
                "machine": records[m].astype(str).to_numpy(),
                "component": records[c].astype(str).to_numpy(),
            }
        ).sort_values("time")
        df["uptime"] = df.groupby(["machine", "component"])["time"].diff().dt.total_seconds() / 3600
        self.first_failures_dropped_ = int(df["uptime"].isna().sum())
        ups = df.dropna(subset=["uptime"])
        self.uptime_ = {comp: DurationFitter().fit(g["uptime"]) for comp, g in ups.groupby("component")}
        self.holdout_ = {
            comp: holdout(g["uptime"], g["time"], self.train_share) for comp, g in ups.groupby("component")
        }
        self.per_machine_ = df.groupby("machine").size().describe().to_dict()
        self.machines_ = int(df["machine"].nunique())
        self.warnings_ = ["no repair durations in the records: a twin's `repair` must come from elsewhere"]
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "machines": self.machines_,
            "failures_per_machine": self.per_machine_,
            "first_failures_not_used": self.first_failures_dropped_,
            "uptime_hours": {c: f.summary() | {"spec": f.spec_} for c, f in self.uptime_.items()},
            "holdout": self.holdout_,
            "warnings": self.warnings_,
        }
