"""Input uncertainty: spec values drawn once per replication.

Each uncertain path P has its own stream `twin.streams.stream(seed, r, "uncertain.P")`,
so the draws shift no engine stream and every scenario with the same P gets the same
value in replication r (common random numbers). A draw is the distribution's quantile of
a uniform u: plain Monte Carlo takes u from the stream; Latin hypercube takes
u = (pi(r) + v) / n with pi a permutation of the design's n strata drawn from the stream
`uncertain.P.lhs` (replication 0). Integer spec values (capacities, reorder points) are
rounded.
"""

from __future__ import annotations

import math
from typing import Any

from scenarios.changes import set_value, walk
from scenarios.spec import Uncertain
from twin import distributions as d
from twin.streams import stream


def quantile(dist: Any, u: float) -> float:
    """Inverse CDF of a contract distribution at u in [0, 1)."""
    from scipy import stats

    if isinstance(dist, d.Constant):
        return dist.value
    if isinstance(dist, d.Empirical):
        return sorted(dist.values)[min(int(u * len(dist.values)), len(dist.values) - 1)]
    if isinstance(dist, d.Uniform):
        return dist.low + u * (dist.high - dist.low)
    if isinstance(dist, d.Triangular):
        width = dist.high - dist.low
        return float(stats.triang.ppf(u, (dist.mode - dist.low) / width, dist.low, width))
    if isinstance(dist, d.Normal):
        if dist.sd == 0:
            return dist.mean
        return float(stats.truncnorm.ppf(u, -dist.mean / dist.sd, math.inf, dist.mean, dist.sd))
    if isinstance(dist, d.Lognormal):
        mu, sigma = dist.log_params
        return float(stats.lognorm.ppf(u, sigma, scale=math.exp(mu)))
    if isinstance(dist, d.Gamma):
        return float(stats.gamma.ppf(u, 1 / dist.cv**2, scale=dist.mean * dist.cv**2))
    if isinstance(dist, d.Exponential):
        return float(stats.expon.ppf(u, scale=dist.mean))
    if isinstance(dist, d.Weibull):
        return float(stats.weibull_min.ppf(u, dist.shape, scale=dist.scale))
    raise TypeError(f"no quantile for {type(dist).__name__}")


def source(path: str) -> str:
    return f"uncertain.{path}"


def uniforms(uncertain: Uncertain, path: str, seed: int, replications: list[int], design: int) -> list[float]:
    """The uniforms behind the draws of `path` in `replications` (LHS over `design` strata)."""
    own = [float(stream(seed, r, source(path)).random()) for r in replications]
    if uncertain.method == "monte_carlo":
        return own
    strata = stream(seed, 0, source(path) + ".lhs").permutation(design)
    return [(float(strata[r % design]) + v) / design for r, v in zip(replications, own, strict=True)]


def draws(
    uncertain: Uncertain | None, data: dict[str, Any], seed: int, replications: list[int], design: int
) -> list[dict[str, float]]:
    """Per replication, {path: value} to set on the twin's plain data."""
    out: list[dict[str, float]] = [{} for _ in replications]
    if uncertain is None:
        return out
    for path, dist in uncertain.params.items():
        integer = isinstance(walk(data, path), int)
        for row, u in zip(out, uniforms(uncertain, path, seed, replications, design), strict=True):
            value = quantile(dist, u)
            row[path] = float(round(value)) if integer else value
    return out


def applied(data: dict[str, Any], values: dict[str, float]) -> dict[str, Any]:
    """A copy of `data` with the drawn values set (integers stay integers)."""
    import copy

    out = copy.deepcopy(data)
    for path, value in values.items():
        set_value(out, path, int(value) if isinstance(walk(data, path), int) else value)
    return out
