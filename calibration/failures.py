"""Equipment failures: time between failures per component (and machine) from failure records.

`FailureFitter().fit(records)` takes rows of (time, machine, component) such as the Azure
PdM `PdM_failures.csv` (datetime, machineID, failure). Uptime = hours between consecutive
failures of the same machine and component (the time before a unit's first failure is
left-censored and not used). It fits one uptime distribution per component over all
machines (per machine there are only a handful of failures: counts are reported).

A record window sees only the uptimes that end inside it, which are biased short (a long
uptime is more likely to run past the window's end): on a simulated renewal process with
mean 1,400 h the complete uptimes average 1,230 h. So the fit (`censored_`) is the MLE of
the positive families with each unit's last uptime right-censored at the window's end
(scipy's CensoredData), best by AIC; `uptime_` keeps the fit of complete uptimes alone,
with its goodness of fit. The out-of-sample check fits the same way on the first
`train_share` of the time span (censored at the cut) and compares the uptimes that ended
after the cut with those of the fitted process simulated from the same failures to the
same end, a unit's uptime running at the cut drawn given it outlasted the cut (the same
selection on both sides): KS, mean and p90 error. The records carry no
repair durations, so no repair distribution is fitted: the report says so, and a twin
needs one from elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from calibration.fitters import DurationFitter, censored_fit
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


def _hours(delta: pd.Series | pd.Timedelta) -> Any:
    return delta.dt.total_seconds() / 3600 if isinstance(delta, pd.Series) else delta.total_seconds() / 3600


def uptimes(times: pd.Series, units: pd.Series, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """(complete uptimes, each unit's last uptime censored at `end`), hours, from failures up to `end`."""
    frame = pd.DataFrame({"time": times.to_numpy(), "unit": units.to_numpy()})
    frame = frame[frame["time"] <= end].sort_values("time")
    complete = _hours(frame.groupby("unit")["time"].diff()).dropna().to_numpy()
    tails = _hours(end - frame.groupby("unit")["time"].max()).to_numpy()
    return complete, tails


def holdout(
    samples: pd.Series, times: pd.Series, train_share: float, end: pd.Timestamp | None = None,
    repeats: int = 10,
) -> dict[str, Any]:
    """Fit on the samples dated in the first train_share of the span, check on the rest
    (for samples that are no renewal process, such as lead times by order date).

    With `end`, when recording stopped, a sample dated t is seen only if it is at most
    end - t hours (a lead time shows once the order is delivered), which biases late-dated
    samples short; each check sample is then compared with `repeats` fitted draws
    conditioned the same way (by rejection)."""
    cut = times.min() + (times.max() - times.min()) * train_share
    train, test = samples[times <= cut].to_numpy(), samples[times > cut].to_numpy()
    if len(train) < 8 or len(test) < 8:
        return {"skipped": f"too few samples (train {len(train)}, test {len(test)})"}
    fit = DurationFitter(allow_empirical=False).fit(train)
    rng = np.random.default_rng(0)
    dist = _distribution(fit.spec_)
    if end is None:
        draws = np.array([dist.sample(rng) for _ in range(20000)])
    else:
        rooms = _hours(end - times[times > cut]).to_numpy()
        draws = np.array([x for room in rooms for x in _at_most(dist, rng, room, repeats)])
    return {
        "cut": cut.isoformat(),
        **({} if end is None else {"seen_until": end.isoformat()}),
        "n_train": len(train),
        "n_test": len(test),
        "family": fit.family_,
        "ks_pvalue": float(stats.ks_2samp(test, draws).pvalue),
        "mean_err": float(draws.mean() / test.mean() - 1),
        "p90_err": float(np.quantile(draws, 0.9) / np.quantile(test, 0.9) - 1),
    }


def renewal_holdout(
    times: pd.Series, units: pd.Series, train_share: float, rng: np.random.Generator, repeats: int = 50
) -> dict[str, Any]:
    """Fit on failures in the first `train_share` of the span (censored at the cut); compare
    the uptimes that ended after the cut with the fitted process run `repeats` times from
    each unit's last failure before the cut (its first uptime drawn given it outlasted the
    cut) or its first failure after it, to the same end."""
    start, end = times.min(), times.max()
    cut = start + (end - start) * train_share
    complete, tails = uptimes(times, units, cut)
    observed: list[float] = []
    origins: list[tuple[float, float]] = []  # (hours from the origin to the end, hours already up at the cut)
    frame = pd.DataFrame({"time": times.to_numpy(), "unit": units.to_numpy()}).sort_values("time")
    for _, group in frame.groupby("unit"):
        t = group["time"]
        before, after = t[t <= cut], t[t > cut]
        if before.empty and after.empty:
            continue
        origin = before.iloc[-1] if len(before) else after.iloc[0]
        points = pd.Series([origin, *after[after > origin]])
        observed += list(_hours(points.diff()).dropna())
        origins.append((_hours(end - origin), max(_hours(cut - origin), 0.0)))
    if len(complete) < 8 or len(observed) < 8:
        return {"skipped": f"too few uptimes (train {len(complete)}, test {len(observed)})"}
    fit = censored_fit(complete, tails)
    dist = _distribution(fit["spec"])
    sim = np.array([
        up for _ in range(repeats) for room, elapsed in origins for up in _renewals(dist, rng, room, elapsed)
    ])
    return {
        "cut": cut.isoformat(),
        "n_train": len(complete),
        "censored_at_cut": fit["censored"],
        "n_test": len(observed),
        "family": fit["family"],
        "ks_pvalue": float(stats.ks_2samp(observed, sim).pvalue),
        "mean_err": float(sim.mean() / np.mean(observed) - 1),
        "p90_err": float(np.quantile(sim, 0.9) / np.quantile(observed, 0.9) - 1),
    }


def _at_most(dist: Any, rng: np.random.Generator, room: float, n: int, tries: int = 10000) -> list[float]:
    """`n` draws of `dist` no longer than `room` (by rejection; none if that seems hopeless)."""
    out: list[float] = []
    for _ in range(tries):
        x = dist.sample(rng)
        if x <= room:
            out.append(x)
            if len(out) == n:
                break
    return out


def _renewals(
    dist: Any, rng: np.random.Generator, room: float, elapsed: float, tries: int = 10000
) -> list[float]:
    """The complete uptimes of a renewal process from a failure `room` hours before the end,
    its first uptime longer than `elapsed` (drawn by rejection; none if that seems hopeless)."""
    up = dist.sample(rng)
    for _ in range(tries):
        if up > elapsed:
            break
        up = dist.sample(rng)
    else:
        return []
    out: list[float] = []
    used = 0.0
    while used + up <= room:
        out.append(up)
        used += up
        up = dist.sample(rng)
    return out


def _distribution(spec: dict[str, Any]) -> Any:
    from pydantic import TypeAdapter

    from twin.distributions import Dist

    return TypeAdapter(Dist).validate_python(spec)


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
        end = df["time"].max()
        split = {comp: uptimes(g["time"], g["machine"], end) for comp, g in df.groupby("component")}
        self.first_failures_dropped_ = sum(len(tails) for _, tails in split.values())  # one per unit
        fitted = {comp: s for comp, s in split.items() if len(s[0])}  # a component with uptimes to fit
        self.uptime_ = {comp: DurationFitter().fit(complete) for comp, (complete, _) in fitted.items()}
        self.censored_ = {comp: censored_fit(*s) for comp, s in fitted.items()}
        rng = np.random.default_rng(0)
        self.holdout_ = {
            comp: renewal_holdout(g["time"], g["machine"], self.train_share, rng)
            for comp, g in df.groupby("component")
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
            "uptime_hours": {c: f.summary() | {"spec": self.censored_[c]["spec"]}
                             for c, f in self.uptime_.items()},
            "uptime_censored_fit": self.censored_,
            "holdout": self.holdout_,
            "warnings": self.warnings_,
        }
