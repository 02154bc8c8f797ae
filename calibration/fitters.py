"""Distribution fitting: candidate families by scipy MLE, chosen by AIC, checked by KS and AD.

`DurationFitter().fit(samples)` follows scikit-learn: it returns self and sets `family_`,
`params_` (the twin's parametrisation: a lognormal's mean and sd are those of the variable),
`aic_`, `bic_`, `gof_` (KS statistic and p-value, Anderson-Darling A²), `n_`, `candidates_`
(every family tried) and `warnings_`. `spec_` is the plain twin distribution mapping.

A family whose fitted tail lies far beyond the data is refused (`refused_`: family -> why),
however well it scores: a fitted mean more than `max_mean_ratio` times the observed mean, or
a fitted 99th percentile more than `max_tail_ratio` times the observed one (a lognormal of
sigma 4 on 40 values can fit them well and average 280 times their mean: a twin drawing from
it holds resources for hundreds of hours the data never showed). The next family by AIC
is taken, or the empirical distribution when none is left.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

FAMILIES = ("exponential", "gamma", "lognormal", "weibull", "normal")
THIN = 30  # fewer observations than this: a warning in the report
EMPIRICAL_POINTS = 200  # an empirical fallback keeps at most this many quantiles


@dataclass(frozen=True)
class _Family:
    scipy_name: str
    fixed: dict[str, float]  # arguments held fixed in the MLE (floc=0 for positive families)
    free: int  # number of free parameters (for AIC/BIC)


_SCIPY = {
    "exponential": _Family("expon", {"floc": 0.0}, 1),
    "gamma": _Family("gamma", {"floc": 0.0}, 2),
    "lognormal": _Family("lognorm", {"floc": 0.0}, 2),
    "weibull": _Family("weibull_min", {"floc": 0.0}, 2),
    "normal": _Family("norm", {}, 2),
}


def to_spec(family: str, args: tuple[float, ...]) -> dict[str, Any]:
    """scipy's fitted arguments -> the twin's distribution parameters."""
    dist = getattr(stats, _SCIPY[family].scipy_name)(*args)
    mean, sd = float(dist.mean()), float(dist.std())
    if family == "exponential":
        return {"dist": "exponential", "mean": _r(mean)}
    if family == "gamma":
        return {"dist": "gamma", "mean": _r(mean), "cv": _r(sd / mean)}
    if family == "lognormal":
        return {"dist": "lognormal", "mean": _r(mean), "sd": _r(sd)}
    if family == "weibull":
        return {"dist": "weibull", "shape": _r(args[0]), "scale": _r(args[-1])}
    return {"dist": "normal", "mean": _r(args[0]), "sd": _r(args[1])}


def _r(value: float) -> float:
    return float(f"{value:.6g}")


def empirical_spec(samples: np.ndarray) -> dict[str, Any]:
    """Equal-weight values; at most EMPIRICAL_POINTS mid-quantiles so the YAML stays small."""
    values = np.sort(samples)
    if len(values) > EMPIRICAL_POINTS:
        q = (np.arange(EMPIRICAL_POINTS) + 0.5) / EMPIRICAL_POINTS
        values = np.quantile(values, q)
    return {"dist": "empirical", "values": [_r(max(float(v), 0.0)) for v in values]}


def anderson_darling(samples: np.ndarray, cdf: Any) -> float:
    """A² of the sample against a fully specified CDF (no p-value: parameters were estimated)."""
    x = np.sort(samples)
    n = len(x)
    u = np.clip(cdf(x), 1e-12, 1 - 1e-12)
    i = np.arange(1, n + 1)
    return float(-n - np.mean((2 * i - 1) * (np.log(u) + np.log1p(-u[::-1]))))


def fit_family(family: str, samples: np.ndarray) -> dict[str, Any]:
    """MLE of one family; its log-likelihood, AIC, BIC, KS and AD against the sample."""
    spec = _SCIPY[family]
    dist = getattr(stats, spec.scipy_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        args = dist.fit(samples, **spec.fixed)
        frozen = dist(*args)
        loglik = float(np.sum(frozen.logpdf(samples)))
    n = len(samples)
    if not math.isfinite(loglik):
        return {"family": family, "ok": False}
    ks = stats.kstest(samples, frozen.cdf)
    return {
        "family": family,
        "ok": True,
        "scipy_args": [float(a) for a in args],
        "fitted_mean": float(frozen.mean()),
        "fitted_p99": float(frozen.ppf(0.99)),
        "loglik": loglik,
        "aic": 2 * spec.free - 2 * loglik,
        "bic": spec.free * math.log(n) - 2 * loglik,
        "ks_stat": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "ad_stat": anderson_darling(samples, frozen.cdf),
        "spec": to_spec(family, tuple(args)),
    }


class DurationFitter:
    """Fit a non-negative duration: parametric families by MLE, the best by AIC (or BIC).

    Falls back to the empirical distribution when the best family fails KS at level
    `min_pvalue` (with n >= `min_n_for_empirical`), when fewer than `min_n` observations
    exist, or when more than `max_zero_share` of the values are zero.
    """

    def __init__(
        self,
        families: tuple[str, ...] = FAMILIES,
        criterion: str = "aic",
        min_pvalue: float = 0.01,
        min_n: int = 8,
        max_zero_share: float = 0.05,
        allow_empirical: bool = True,
        max_mean_ratio: float = 3.0,
        max_tail_ratio: float = 5.0,
    ) -> None:
        self.families = families
        self.criterion = criterion
        self.min_pvalue = min_pvalue
        self.min_n = min_n
        self.max_zero_share = max_zero_share
        self.allow_empirical = allow_empirical
        self.max_mean_ratio = max_mean_ratio
        self.max_tail_ratio = max_tail_ratio

    def fit(self, samples: Any) -> DurationFitter:
        x = np.asarray(samples, dtype=float)
        x = x[np.isfinite(x)]
        if len(x) == 0:
            raise ValueError("no observations to fit")
        if np.any(x < 0):
            raise ValueError(f"{int(np.sum(x < 0))} negative value(s): durations must be >= 0")
        self.n_ = len(x)
        self.mean_, self.p90_ = float(x.mean()), float(np.quantile(x, 0.9))
        self.warnings_: list[str] = []
        if self.n_ < THIN:
            self.warnings_.append(f"thin data: n={self.n_} < {THIN}")
        positive = x[x > 0]
        self.candidates_ = (
            []
            if len(positive) < 2 or np.ptp(positive) == 0
            else [fit_family(f, positive) for f in self.families]
        )
        self.candidates_ = [c for c in self.candidates_ if c["ok"]]
        self.refused_ = {c["family"]: why for c in self.candidates_ if (why := self._implausible(c, x))}
        self._choose(x)
        return self

    def _choose(self, x: np.ndarray) -> None:
        zero_share = float(np.mean(x == 0))
        self.aic_ = self.bic_ = math.nan
        self.gof_: dict[str, float] = {}
        if np.ptp(x) == 0:
            self._set("constant", {"dist": "constant", "value": _r(float(x[0]))}, "all values equal")
            return
        plausible = [c for c in self.candidates_ if c["family"] not in self.refused_]
        if not plausible and self.candidates_ and not self.allow_empirical:
            plausible = self.candidates_  # nothing else to fall back on
        if plausible:
            best = min(plausible, key=lambda c: c[self.criterion])
            self.aic_, self.bic_ = best["aic"], best["bic"]
            self.gof_ = {k: best[k] for k in ("ks_stat", "ks_pvalue", "ad_stat")}
            reason = self._empirical_reason(best, zero_share)
            if reason is None or not self.allow_empirical:
                self._set(best["family"], best["spec"], None)
                return
        elif self.candidates_:
            reason = "every family's tail lies far beyond the data"
        else:
            reason = "fewer than two distinct positive values"
        self._set("empirical", empirical_spec(x), reason)

    def _implausible(self, candidate: dict[str, Any], x: np.ndarray) -> str | None:
        """Why a fitted family's tail lies too far beyond the sample `x`, or None."""
        mean_ratio = candidate["fitted_mean"] / max(self.mean_, 1e-300)
        if not mean_ratio <= self.max_mean_ratio:  # nan (no finite mean) is refused too
            return f"fitted mean {mean_ratio:.3g}x the observed one"
        tail_ratio = candidate["fitted_p99"] / max(float(np.quantile(x, 0.99)), 1e-300)
        if not tail_ratio <= self.max_tail_ratio:
            return f"fitted p99 {tail_ratio:.3g}x the observed one"
        return None

    def _empirical_reason(self, best: dict[str, Any], zero_share: float) -> str | None:
        if self.n_ < self.min_n:
            return f"n={self.n_} < {self.min_n}: too few to choose a family"
        if zero_share > self.max_zero_share:
            return f"{zero_share:.0%} of values are zero"
        if best["ks_pvalue"] < self.min_pvalue:
            return f"best family ({best['family']}) rejected by KS (p={best['ks_pvalue']:.2g})"
        return None

    def _set(self, family: str, spec: dict[str, Any], reason: str | None) -> None:
        self.family_, self.spec_ = family, spec
        self.params_ = {k: v for k, v in spec.items() if k not in ("dist", "values")}
        if family == "empirical":
            self.params_ = {"points": len(spec["values"])}
        self.fallback_reason_ = reason

    def summary(self) -> dict[str, Any]:
        """Plain data for the report."""
        return {
            "family": self.family_,
            "params": self.params_,
            "n": self.n_,
            "aic": _nan_none(self.aic_),
            "bic": _nan_none(self.bic_),
            "gof": self.gof_,
            "observed_mean": self.mean_,
            "observed_p90": self.p90_,
            "fallback": self.fallback_reason_,
            "refused": self.refused_,
            "warnings": self.warnings_,
            "candidates": [
                {k: c[k] for k in ("family", "aic", "bic", "ks_stat", "ks_pvalue", "ad_stat")}
                for c in self.candidates_
            ],
        }


def _nan_none(value: float) -> float | None:
    return None if math.isnan(value) else value


def censored_fit(
    complete: np.ndarray, tails: np.ndarray, intervals: np.ndarray | None = None
) -> dict[str, Any]:
    """MLE of each positive family (location 0) with observations right-censored at `tails`
    (only known to exceed them) and, with `intervals` (rows of low, high), interval-censored
    (only known to lie in (low, high]); the best by AIC, as a twin distribution spec."""
    boxes = np.empty((0, 2)) if intervals is None else np.asarray(intervals, float).reshape(-1, 2)
    data = stats.CensoredData(uncensored=complete, right=tails[tails > 0], interval=boxes)
    best: dict[str, Any] = {}
    for family in ("exponential", "gamma", "lognormal", "weibull"):
        spec = _SCIPY[family]
        dist = getattr(stats, spec.scipy_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            args = dist.fit(data, **spec.fixed)
            mass = dist.cdf(boxes[:, 1], *args) - dist.cdf(boxes[:, 0], *args)
            ll = float(dist.logpdf(complete, *args).sum() + dist.logsf(tails[tails > 0], *args).sum()
                       + np.log(mass).sum())
        aic = 2 * spec.free - 2 * ll
        if math.isfinite(aic) and (not best or aic < best["aic"]):
            best = {"family": family, "spec": to_spec(family, args), "aic": aic,
                    "n": len(complete) + len(boxes), "censored": int((tails > 0).sum())}
            if len(boxes):
                best["interval_censored"] = len(boxes)
    return best
