"""Residual life (twin.remaining): what is left of a job that has run a while, drawn exactly
from its duration conditioned on having lasted that long, for every family."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from twin import distributions as d
from twin.remaining import Residual, frozen, mean_remaining, remaining

CONTINUOUS = [
    d.Gamma(mean=3, cv=0.5), d.Lognormal(mean=3, sd=2), d.Normal(mean=3, sd=1), d.Weibull(shape=2, scale=3),
    d.Uniform(low=1, high=5), d.Triangular(low=1, mode=2, high=6),
]


@pytest.mark.parametrize("dist", CONTINUOUS, ids=lambda x: x.dist)
@pytest.mark.parametrize("elapsed", [0.5, 2.5, 4.0])
def test_draws_follow_the_conditional_distribution(dist: d._Dist, elapsed: float) -> None:
    """Kolmogorov-Smirnov against P(X - a <= r | X > a) = 1 - sf(a + r) / sf(a); 4,000 draws."""
    model = frozen(dist)
    if model.sf(elapsed) <= 0:
        pytest.skip("nothing lasts that long")
    rng = np.random.default_rng(7)
    draws = np.array([remaining(dist, elapsed, rng) for _ in range(4000)])
    result = stats.kstest(draws, lambda r: 1 - model.sf(elapsed + np.asarray(r)) / model.sf(elapsed))
    assert result.pvalue > 0.001
    margin = 4 * draws.std() / math.sqrt(draws.size)
    assert draws.mean() == pytest.approx(mean_remaining(dist, elapsed), abs=margin)


def test_memoryless_constant_empirical_and_past_the_support() -> None:
    rng = np.random.default_rng(1)
    exp = np.array([remaining(d.Exponential(mean=2), 10, rng) for _ in range(4000)])
    assert exp.mean() == pytest.approx(2, rel=0.08)
    assert remaining(d.Constant(value=5), 3, rng) == 2 and remaining(d.Constant(value=5), 7, rng) == 0
    values = d.Empirical(values=[1, 2, 6, 8])
    assert {remaining(values, 5, rng) for _ in range(200)} == {1, 3}
    assert remaining(values, 9, rng) == 0 and remaining(d.Uniform(low=1, high=2), 3, rng) == 0
    assert mean_remaining(values, 5) == 2 and mean_remaining(d.Exponential(mean=2), 7) == 2
    assert mean_remaining(d.Uniform(low=0, high=4), 2) == pytest.approx(1)


@pytest.mark.parametrize(("dist", "elapsed", "survival"), [
    (d.Exponential(mean=2.0), 3.0, math.exp(-1.5)),
    (d.Empirical(values=[1.0, 5.0, 9.0]), 2.0, 2 / 3),
    (d.Constant(value=4.0), 3.0, 1.0),
    (d.Constant(value=4.0), 5.0, 0.0),
    (d.Normal(mean=4.0, sd=0.0), 5.0, 0.0),
    (d.Weibull(shape=1.5, scale=10.0), 4.0, math.exp(-(0.4 ** 1.5))),
])
def test_a_residual_knows_the_chance_it_is_still_running(dist: d._Dist, elapsed: float,
                                                         survival: float) -> None:
    assert Residual(dist, elapsed).survival == pytest.approx(survival, rel=1e-12)
