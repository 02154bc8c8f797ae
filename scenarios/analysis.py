"""Output analysis: pure functions over the tidy study table.

The table has one row per scenario x replication (`scenario`, `replication`, KPI columns).
It is pandas' DataFrame or a mapping of the same columns to numpy arrays (what a study
returns first: summarising it needs no pandas).

Conventions: CIs are two-sided 95%; risk measures treat higher values as worse (waits,
cycle times, costs), so VaR95 is the 95th percentile of the KPI over replications and
CVaR95 the mean of the worst 5% tail; paired differences are scenario minus baseline over
the same replication (common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from scenarios.spec import Target
from twin.results import is_share, summarize
from twin.tquantile import t975

Z95 = 1.959963984540054


class Table(Protocol):
    """Columns by name: a DataFrame, or a dict of numpy arrays."""

    def __getitem__(self, column: str) -> Any: ...

    def __contains__(self, column: object) -> bool: ...


def replications(table: Table, scenario: str) -> tuple[np.ndarray, np.ndarray]:
    """One scenario's replication indices, sorted, and where its rows are in that order."""
    rows = np.flatnonzero(np.asarray(table["scenario"]) == scenario)
    reps = np.asarray(table["replication"])[rows]
    order = np.argsort(reps, kind="stable")
    return reps[order], rows[order]


def values(table: Table, scenario: str, kpi: str) -> np.ndarray:
    """The KPI over replications of one scenario, in replication order (NaN kept)."""
    rows = replications(table, scenario)[1]
    return np.asarray(table[kpi], dtype=float)[rows] if kpi in table else np.full(rows.size, math.nan)


def kpi_summaries(table: Table, scenario: str, kpis: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each KPI as in the `twin run` contract: mean, 95% CI (Wilson-type for shares), p5/p50/p95, n."""
    return {kpi: summarize(values(table, scenario, kpi).tolist(), share=is_share(kpi)) for kpi in kpis}


def wilson(misses: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion misses/n."""
    if n == 0:
        return 0.0, 1.0
    p = misses / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def target_report(x: ArrayLike, target: Target) -> dict[str, Any]:
    """P(a replication misses the threshold) with its Wilson CI, and whether the target is met.

    Without a statistic the target is met when the miss probability is at most
    `max_miss`; with one (`mean`, `p95`) it is met when that statistic over replications
    satisfies the threshold, and the statistic is reported as `value`.
    """
    data = np.asarray(x, dtype=float)
    data = data[~np.isnan(data)]
    misses = int(sum(not target.holds(v) for v in data))
    p_miss = misses / data.size if data.size else None
    out: dict[str, Any] = {"p_miss": p_miss, "ci95": list(wilson(misses, data.size)), "n": int(data.size)}
    if target.statistic is None:
        out["met"] = p_miss is not None and p_miss <= target.max_miss
        return out
    value = statistic(data, target.statistic)
    out |= {"statistic": target.statistic, "value": value, "met": bool(data.size and target.holds(value))}
    return out


def statistic(x: np.ndarray, name: str) -> float:
    if name == "mean":
        return float(x.mean())
    return float(np.percentile(x, float(name[1:])))


def var_cvar(x: ArrayLike, alpha: float = 0.95) -> tuple[float, float]:
    """VaR and CVaR at `alpha`, higher is worse (Rockafellar-Uryasev, empirical distribution).

    VaR is the smallest v with at least `alpha` of the replications at or below v;
    CVaR = VaR + E[(X - VaR)+] / (1 - alpha), the mean of the worst (1 - alpha) tail.
    """
    data = np.sort(np.asarray(x, dtype=float))
    data = data[~np.isnan(data)]
    if data.size == 0:
        return math.nan, math.nan
    var = float(data[max(0, math.ceil(alpha * data.size - 1e-9) - 1)])
    cvar = var + float(np.mean(np.maximum(data - var, 0.0))) / (1 - alpha)
    return var, cvar


def mean_ci(d: np.ndarray) -> dict[str, Any]:
    """Mean and 95% t-interval (None when fewer than two values)."""
    d = d[~np.isnan(d)]
    if d.size == 0:
        return {"mean": None, "ci95": [None, None], "n": 0}
    mean = float(d.mean())
    if d.size < 2:
        return {"mean": mean, "ci95": [None, None], "n": 1}
    half = float(t975(d.size - 1) * d.std(ddof=1) / math.sqrt(d.size))
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": int(d.size)}


def paired_difference(table: Table, scenario: str, baseline: str, kpi: str) -> dict[str, Any]:
    """Mean of (scenario - baseline) over common replications, with a paired t-interval."""
    if kpi not in table:
        return mean_ci(np.array([]))
    (a_reps, a_rows), (b_reps, b_rows) = replications(table, scenario), replications(table, baseline)
    _, in_a, in_b = np.intersect1d(a_reps, b_reps, assume_unique=True, return_indices=True)
    column = np.asarray(table[kpi], dtype=float)
    return mean_ci(column[a_rows[in_a]] - column[b_rows[in_b]])


def select_best(table: Table, scenarios: Sequence[str], kpi: str, goal: str = "min",
                alpha: float = 0.05) -> dict[str, Any]:
    """Subset selection with paired Bonferroni t-bounds (common random numbers).

    Scenario i stays in the subset unless some j is better by more than its one-sided
    paired bound t(1 - alpha/(k-1), n-1) s_ij / sqrt(n). Under normality the subset holds
    the truly best scenario with probability >= 1 - alpha. `best` is the best sample mean
    among the subset: with complete pairs that is the best sample mean of all, which never
    leaves the subset; with missing values (NaN) the two could part, and a `best` outside
    the subset would contradict it. A scenario with no values at all is never in the subset.
    """
    sign = 1.0 if goal == "min" else -1.0
    x = {s: sign * values(table, s, kpi) for s in scenarios}
    k = len(scenarios)
    means = {s: float(np.nanmean(v)) if np.isfinite(v).any() else math.inf for s, v in x.items()}
    subset = []
    for i in scenarios:
        keep = True
        for j in scenarios:
            d = x[i] - x[j]
            d = d[~np.isnan(d)]
            if i == j or d.size < 2:
                continue
            from scipy.special import stdtrit  # stats.t.ppf's own function; only with pairs to compare

            bound = stdtrit(d.size - 1, 1 - alpha / max(1, k - 1)) * d.std(ddof=1) / math.sqrt(d.size)
            keep = keep and d.mean() <= bound
        if keep and means[i] < math.inf:
            subset.append(i)
    best = min(subset or scenarios, key=lambda s: means[s])
    return {"best": best, "subset": subset, "kpi": kpi, "goal": goal, "confidence": 1 - alpha,
            "method": "paired Bonferroni subset selection (Gupta-style, common random numbers)"}


def warmup_check(series: Sequence[Sequence[float]], horizon: float, warmup: float) -> dict[str, Any]:
    """MSER-5 on the replication-averaged WIP series (equal bins of [0, horizon]).

    Warns (`ok` false) when the truncation exceeds `warmup` by more than one batch of five
    bins, the resolution of the method.
    """
    from scenarios.warmup import mser

    if not series:
        return {"warmup": warmup, "mser5": None, "ok": True, "replications": 0}
    mean = np.mean(np.asarray(series, dtype=float), axis=0)
    width = horizon / mean.size
    cut = mser(mean) * width
    ok = bool(cut <= warmup + 5 * width)
    return {"warmup": warmup, "mser5": cut, "ok": ok, "replications": len(series)}
