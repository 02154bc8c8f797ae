"""What the replications of one plan say: its objective with a CI, and each target met,
missed or not yet known at a stated confidence.

A target over replications (`wait.mean <= 10`) is judged on a one-sided t bound of the
mean; a percentile target (`cycle_time.p95 <= 60`) as the chance constraint it is
(P(value > 60) <= 5%); a per-replication target by the Wilson bound on its miss share.
`violation` is the point estimate's distance past the line, scaled by the threshold, so
the optimiser can rank infeasible plans; a plan is feasible "by estimate" when none is
positive, and "certified" when every target is met at the confidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from optimize.spec import Objective
from scenarios.analysis import statistic, target_report, var_cvar, wilson
from scenarios.spec import Target

BOOTSTRAP = 400  # resamples for the CI of a percentile or risk objective


@dataclass(frozen=True)
class Check:
    target: Target
    status: str  # "met" or "missed" at the confidence, or "unsure"
    violation: float  # > 0: the estimate is on the wrong side of the line
    report: dict[str, Any]  # scenarios.analysis.target_report


@dataclass(frozen=True)
class Estimate:
    n: int
    objective: float
    half_width: float  # 95% CI half-width of the objective
    checks: tuple[Check, ...]
    p_miss_any: float  # share of replications missing some target
    cvar95: float  # of the objective KPI
    invalid: str | None = None  # why the plan is not a valid twin (then it was not simulated)

    @property
    def feasible(self) -> bool:
        return self.invalid is None and all(c.violation <= 0 for c in self.checks)

    @property
    def certified(self) -> bool:
        return all(c.status == "met" for c in self.checks)

    @property
    def ruled_out(self) -> bool:
        return self.invalid is not None or any(c.status == "missed" for c in self.checks)

    @property
    def unsure(self) -> bool:
        return any(c.status == "unsure" for c in self.checks)


def invalid(reason: str) -> Estimate:
    """A plan the twin's rules refuse (e.g. an order-up-to level below the reorder point)."""
    return Estimate(0, math.nan, math.inf, (), math.nan, math.nan, reason)


def estimate(
    kpis: dict[str, np.ndarray], objective: Objective, targets: list[Target], confidence: float
) -> Estimate:
    """`kpis`: each KPI over the plan's replications (replication order)."""
    x = _clean(kpis[objective.kpi])
    value, half = objective_value(x, objective.statistic)
    alpha = (1 - confidence) / max(1, len(targets))  # Bonferroni: every target at once
    checks = tuple(check(_clean(kpis[t.kpi]), t, alpha) for t in targets)
    n = len(kpis[objective.kpi])
    misses = np.zeros(n, dtype=bool)
    for t in targets:
        misses |= np.array([not (v == v and t.holds(v)) for v in kpis[t.kpi]], dtype=bool)
    return Estimate(
        int(x.size),
        value,
        half,
        checks,
        float(misses.mean()) if n else math.nan,
        var_cvar(x)[1] if x.size else math.nan,
    )


def objective_value(x: np.ndarray, name: str) -> tuple[float, float]:
    """The statistic of `x` and its 95% CI half-width (t for a mean, else a fixed-seed bootstrap)."""
    if x.size == 0:
        return math.nan, math.inf
    value = _statistic(x, name)
    if x.size < 2:
        return value, math.inf
    if name == "mean":
        return value, float(stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    rng = np.random.default_rng(0)
    resampled = [_statistic(rng.choice(x, x.size), name) for _ in range(BOOTSTRAP)]
    low, high = np.percentile(resampled, [2.5, 97.5])
    return value, float(high - low) / 2


def _statistic(x: np.ndarray, name: str) -> float:
    if name.startswith("cvar"):
        return var_cvar(x, float(name[4:]) / 100)[1]
    if name.startswith("var"):
        return var_cvar(x, float(name[3:]) / 100)[0]
    return statistic(x, name)


def check(x: np.ndarray, target: Target, alpha: float) -> Check:
    """Met, missed or unsure at one-sided level `alpha`."""
    report = target_report(x, target)
    scale = max(abs(target.threshold), 1e-9)
    sign = 1.0 if target.higher_is_worse else -1.0
    if x.size == 0:
        return Check(target, "unsure", math.inf, report)
    if target.statistic == "mean":
        mean = float(x.mean())
        violation = sign * (mean - target.threshold) / scale
        if x.size < 2:
            return Check(target, "unsure", violation, report)
        bound = stats.t.ppf(1 - alpha, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
        return Check(target, _side(sign * (mean - target.threshold), bound), violation, report)
    if target.statistic is not None:  # pNN <= t: P(a replication above t) <= 1 - NN/100
        limit = 1 - float(target.statistic[1:]) / 100
        violation = sign * (float(report["value"]) - target.threshold) / scale
    else:
        limit = target.max_miss
        violation = float(report["p_miss"]) - limit
    misses = round(float(report["p_miss"]) * x.size)
    low, high = wilson(misses, int(x.size), float(stats.norm.ppf(1 - alpha)))
    # Wilson's two-sided interval at z = z_(1 - alpha) has one-sided level 1 - alpha at each end
    status = "met" if high <= limit else "missed" if low > limit else "unsure"
    return Check(target, status, violation, report)


def _side(excess: float, bound: float) -> str:
    """`excess`: how far past the line the estimate is (negative: inside); `bound`: its margin."""
    if excess + bound <= 0:
        return "met"
    if excess - bound > 0:
        return "missed"
    return "unsure"


def _clean(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[~np.isnan(x)]
