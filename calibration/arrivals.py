"""Case arrivals: a stationary Poisson process or an hour-of-week rate profile.

`ArrivalFitter().fit(case_starts)` sets `interarrival_` (a fitted DurationFitter, in
hours), `profile_` (168 arrival rates per hour, Monday 00:00 first, averaged over the
observed weeks) and `preferred_` ("profile" or "stationary", by AIC of a Poisson model with
168 weekly rates against one constant rate), unless `form` names one ("profile" or
"stationary", as a validation split may choose; see `calibration.validation`). Optional
per-case `weights` (see `calibration.selection`) count each start that many times, for logs that kept only
completed cases. The stationary source is a Poisson process at the observed (weighted)
rate: the gaps of a log cut from a longer history are no renewal sample (cases already
running at its start show up as a burst of starts, selection thins its end), so the best
family for them (reported in `interarrival_`) is a fit to the cut, not to the process: on
Production a lognormal with cv 3 and a mean 25% off the observed one. `spec_` is
the arrival's source for the twin spec: `{"rate_profile": {"per_hour": [...]}}` when the
profile is preferred, else `{"interarrival": {"dist": "exponential", "mean": ...}}`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.fitters import DurationFitter

HOURS_PER_WEEK = 168


def hour_of_week(times: pd.Series) -> np.ndarray:
    return (times.dt.dayofweek * 24 + times.dt.hour).to_numpy()


def exposure_hours(first: pd.Timestamp, last: pd.Timestamp) -> np.ndarray:
    """How many hours of each hour-of-week slot the window [first, last] covers."""
    hours = pd.date_range(first.floor("h"), last.floor("h"), freq="h")
    return np.bincount(hour_of_week(pd.Series(hours)), minlength=HOURS_PER_WEEK).astype(float)


class ArrivalFitter:
    def __init__(self, fitter: DurationFitter | None = None, form: str = "auto") -> None:
        self.fitter = fitter
        self.form = form

    def fit(self, case_starts: pd.Series, weights: pd.Series | None = None) -> ArrivalFitter:
        order = np.argsort(pd.to_datetime(case_starts).to_numpy(), kind="stable")
        starts = pd.Series(pd.to_datetime(case_starts).to_numpy()[order])
        w = np.ones(len(starts)) if weights is None else np.asarray(weights, dtype=float)[order]
        if self.form not in ("auto", "profile", "stationary"):
            raise ValueError(f"arrivals must be 'auto', 'profile' or 'stationary', not '{self.form}'")
        if len(starts) < 2:
            raise ValueError("arrivals: need at least two cases")
        gaps = starts.diff().dropna().dt.total_seconds().to_numpy() / 3600
        self.rate_factor_ = float(w.sum() / len(w))
        self.interarrival_ = (self.fitter or DurationFitter()).fit(gaps / self.rate_factor_)
        self.stationary_spec_ = {"dist": "exponential", "mean": float(f"{self.interarrival_.mean_:.6g}")}
        counts = np.bincount(hour_of_week(starts), weights=w, minlength=HOURS_PER_WEEK)
        exposure = exposure_hours(starts.iloc[0], starts.iloc[-1])
        self.profile_ = np.divide(counts, exposure, out=np.zeros(HOURS_PER_WEEK), where=exposure > 0)
        self.n_ = float(w.sum())
        self.span_hours_ = float(exposure.sum())
        self.aic_stationary_, self.aic_profile_ = _poisson_aics(counts, exposure)
        self.preferred_ = "profile" if self.aic_profile_ < self.aic_stationary_ else "stationary"
        self.used_ = self.preferred_ if self.form == "auto" else self.form
        self.first_, self.last_ = starts.iloc[0], starts.iloc[-1]
        return self

    @property
    def spec_(self) -> dict[str, Any]:
        """The arrival's `rate_profile` (when preferred) or `interarrival`, as spec data."""
        if self.used_ == "profile":
            return {"rate_profile": {"per_hour": [round(float(r), 6) for r in self.profile_]}}
        return {"interarrival": self.stationary_spec_}

    def summary(self) -> dict[str, Any]:
        return {
            "cases": self.n_,
            "rate_factor": self.rate_factor_,
            "first": self.first_.isoformat(),
            "last": self.last_.isoformat(),
            "mean_rate_per_hour": self.n_ / max(self.span_hours_, 1e-9),
            "interarrival_hours": self.interarrival_.summary(),
            "stationary_spec": self.stationary_spec_,
            "hour_of_week_rate": [round(float(r), 6) for r in self.profile_],
            "aic_stationary_poisson": self.aic_stationary_,
            "aic_weekly_profile": self.aic_profile_,
            "preferred": self.preferred_,
            "form": self.form,
            "used_in_spec": (
                "weekly rate profile (rate_profile.per_hour)" if self.used_ == "profile"
                else "stationary Poisson arrivals at the observed rate"
            ),
        }


def _poisson_aics(counts: np.ndarray, exposure: np.ndarray) -> tuple[float, float]:
    """AIC of counts ~ Poisson(rate * exposure), one rate against one per hour of week."""
    used = exposure > 0
    k, e = counts[used], exposure[used]
    total_rate = k.sum() / e.sum()
    rates = k / e
    ll_one = float(np.sum(_poisson_ll(k, total_rate * e)))
    ll_many = float(np.sum(_poisson_ll(k, rates * e)))
    return 2 * 1 - 2 * ll_one, 2 * int(used.sum()) - 2 * ll_many


def _poisson_ll(k: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """log P(k | lam) without the k! term (it cancels between models)."""
    safe = np.where(lam > 0, lam, 1.0)
    return np.where(k > 0, k * np.log(safe), 0.0) - lam
