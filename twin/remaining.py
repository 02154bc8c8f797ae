"""What is left of a duration that has already run for a while: the residual life.

A job in service for `elapsed` time units, whose duration X follows a spec distribution, has
R = X - elapsed left, drawn from X conditioned on X > elapsed, exactly, for every family:
- exponential: memoryless, R ~ X;
- constant: value - elapsed;
- empirical: one of the recorded values above `elapsed`, equally likely;
- the continuous families by inversion of the conditional survival function:
  X = isf(U * sf(elapsed)) with U uniform on (0, 1] (scipy's isf keeps the far tail exact).
Where the distribution allows nothing above `elapsed` (a job running longer than its spec
says it can), R is 0: it ends now. Used where a live twin starts from a state.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from twin import distributions as d


def frozen(dist: Any) -> Any:
    """A scipy.stats frozen distribution equal to a twin spec distribution (continuous ones)."""
    from scipy import stats

    if isinstance(dist, d.Exponential):
        return stats.expon(scale=dist.mean)
    if isinstance(dist, d.Gamma):
        return stats.gamma(1 / dist.cv**2, scale=dist.mean * dist.cv**2)
    if isinstance(dist, d.Lognormal):
        mu, sigma = dist.log_params
        return stats.lognorm(sigma, scale=math.exp(mu))
    if isinstance(dist, d.Normal):
        return stats.truncnorm(-dist.mean / dist.sd, math.inf, loc=dist.mean, scale=dist.sd)
    if isinstance(dist, d.Weibull):
        return stats.weibull_min(dist.shape, scale=dist.scale)
    if isinstance(dist, d.Uniform):
        return stats.uniform(dist.low, dist.high - dist.low)
    if isinstance(dist, d.Triangular):
        width = dist.high - dist.low
        return stats.triang((dist.mode - dist.low) / width, loc=dist.low, scale=width)
    if hasattr(dist, "ppf") and hasattr(dist, "pdf"):
        return dist
    raise ValueError(f"no density for {type(dist).__name__}: use a continuous distribution")


class Residual:
    """What is left of a duration `dist` that has run `elapsed` already: `draw(rng)` draws it,
    and `survival` is P(the duration exceeds `elapsed`) (both computed once, so many
    replications draw cheaply)."""

    def __init__(self, dist: Any, elapsed: float) -> None:
        self.dist, self.elapsed = dist, max(0.0, float(elapsed))
        self.model: Any = None
        if isinstance(dist, d.Exponential):
            self.survival = math.exp(-self.elapsed / dist.mean)
        elif isinstance(dist, d.Empirical):
            self.survival = sum(v > self.elapsed for v in dist.values) / len(dist.values)
        elif isinstance(dist, d.Constant) or not _spread(dist):  # one value: left or not
            self.survival = 1.0 if _value(dist) > self.elapsed else 0.0
        else:
            self.model = frozen(dist)
            self.survival = float(self.model.sf(self.elapsed))

    def draw(self, rng: np.random.Generator) -> float:
        dist, elapsed = self.dist, self.elapsed
        if isinstance(dist, d.Exponential):
            return float(rng.exponential(dist.mean))
        if isinstance(dist, d.Empirical):
            above = [v for v in dist.values if v > elapsed]
            return above[int(rng.random() * len(above))] - elapsed if above else 0.0
        if self.model is None:  # one value: a constant, or a normal or uniform of no spread
            return max(0.0, _value(dist) - elapsed)
        if self.survival <= 0.0:
            return 0.0
        u = 1.0 - float(rng.random())  # in (0, 1]
        return max(0.0, float(self.model.isf(u * self.survival)) - elapsed)


def _spread(dist: Any) -> bool:
    return not ((isinstance(dist, d.Normal) and dist.sd == 0) or (isinstance(dist, d.Uniform)
                                                                 and dist.high == dist.low))


def _value(dist: Any) -> float:
    return float(dist.value if isinstance(dist, d.Constant) else dist.mean if isinstance(dist, d.Normal)
                 else dist.low)


def remaining(dist: Any, elapsed: float, rng: np.random.Generator) -> float:
    """A draw of what is left of a duration `dist` that has run `elapsed` already."""
    return Residual(dist, elapsed).draw(rng)


def mean_remaining(dist: Any, elapsed: float) -> float:
    """E[X - elapsed | X > elapsed] (for checks and reports): the integral of the survival
    function beyond `elapsed`, divided by the survival there."""
    from scipy import integrate

    elapsed = max(0.0, float(elapsed))
    if isinstance(dist, d.Exponential):
        return dist.mean
    if isinstance(dist, d.Constant):
        return max(0.0, dist.value - elapsed)
    if isinstance(dist, d.Empirical):
        above = [v - elapsed for v in dist.values if v > elapsed]
        return sum(above) / len(above) if above else 0.0
    if isinstance(dist, d.Uniform) and dist.high == dist.low:
        return max(0.0, dist.low - elapsed)
    model = frozen(dist)
    survival = float(model.sf(elapsed))
    if survival <= 0.0:
        return 0.0
    area, _ = integrate.quad(model.sf, elapsed, math.inf, limit=200)
    return float(area / survival)
