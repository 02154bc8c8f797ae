"""Probability distributions of the twin spec: validated parameters and sampling.

Every family is parametrised by moments of the variable itself (a lognormal's `mean` is
its mean, not the mean of its logarithm). Sampling uses only `numpy.random.Generator`
methods that Numba reproduces bit for bit, so the fast engine draws the same numbers.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveFloat, model_validator

NonNegativeFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Positive = Annotated[PositiveFloat, Field(allow_inf_nan=False)]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def sample(self, rng: np.random.Generator) -> float:
        raise NotImplementedError

    @property
    def mean_value(self) -> float:
        raise NotImplementedError


class Exponential(_Dist):
    dist: Literal["exponential"] = "exponential"
    mean: Positive

    def sample(self, rng: np.random.Generator) -> float:
        return rng.exponential(self.mean)

    @property
    def mean_value(self) -> float:
        return self.mean


class Gamma(_Dist):
    dist: Literal["gamma"] = "gamma"
    mean: Positive
    cv: Positive

    def sample(self, rng: np.random.Generator) -> float:
        return rng.gamma(1.0 / self.cv**2, self.mean * self.cv**2)

    @property
    def mean_value(self) -> float:
        return self.mean


class Lognormal(_Dist):
    dist: Literal["lognormal"] = "lognormal"
    mean: Positive
    sd: Positive

    @property
    def log_params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal."""
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        return math.log(self.mean) - sigma2 / 2, math.sqrt(sigma2)

    def sample(self, rng: np.random.Generator) -> float:
        mu, sigma = self.log_params
        return rng.lognormal(mu, sigma)

    @property
    def mean_value(self) -> float:
        return self.mean


class Normal(_Dist):
    """Normal truncated at 0 by rejection: negative draws are drawn again."""

    dist: Literal["normal"] = "normal"
    mean: Positive
    sd: NonNegativeFloat

    def sample(self, rng: np.random.Generator) -> float:
        while True:
            x = rng.normal(self.mean, self.sd)
            if x >= 0.0:
                return x

    @property
    def mean_value(self) -> float:
        if self.sd == 0:
            return self.mean
        a = self.mean / self.sd  # mean of the normal truncated below at 0
        pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
        return self.mean + self.sd * pdf / (0.5 * math.erfc(-a / math.sqrt(2)))


class Weibull(_Dist):
    dist: Literal["weibull"] = "weibull"
    shape: Positive
    scale: Positive

    def sample(self, rng: np.random.Generator) -> float:
        return self.scale * rng.weibull(self.shape)

    @property
    def mean_value(self) -> float:
        return self.scale * math.gamma(1 + 1 / self.shape)


class Uniform(_Dist):
    dist: Literal["uniform"] = "uniform"
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return rng.uniform(self.low, self.high)

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2


class Triangular(_Dist):
    dist: Literal["triangular"] = "triangular"
    low: NonNegativeFloat
    mode: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def sample(self, rng: np.random.Generator) -> float:
        return rng.triangular(self.low, self.mode, self.high)

    @property
    def mean_value(self) -> float:
        return (self.low + self.mode + self.high) / 3


class Constant(_Dist):
    dist: Literal["constant"] = "constant"
    value: NonNegativeFloat

    def sample(self, rng: np.random.Generator) -> float:
        return self.value

    @property
    def mean_value(self) -> float:
        return self.value


class Empirical(_Dist):
    """Resamples the observed values with equal weight."""

    dist: Literal["empirical"] = "empirical"
    values: Annotated[list[NonNegativeFloat], Field(min_length=1)]

    def sample(self, rng: np.random.Generator) -> float:
        # floor(u * n) rather than rng.integers: trivially identical in Numba.
        return self.values[int(rng.random() * len(self.values))]

    @property
    def mean_value(self) -> float:
        return sum(self.values) / len(self.values)


Distribution = Annotated[
    Exponential | Gamma | Lognormal | Normal | Weibull | Uniform | Triangular | Constant | Empirical,
    Field(discriminator="dist"),
]

DIST_NAMES = (
    "exponential", "gamma", "lognormal", "normal", "weibull",
    "uniform", "triangular", "constant", "empirical",
)


def as_distribution_input(value: Any) -> Any:
    """A bare number means a constant."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return {"dist": "constant", "value": value}
    return value


Dist = Annotated[Distribution, BeforeValidator(as_distribution_input)]
"""A distribution field: a mapping with `dist`, or a bare number meaning a constant."""


SCALE_FIELDS = {"exponential": ("mean",), "gamma": ("mean",), "lognormal": ("mean", "sd"),
                "normal": ("mean", "sd"), "weibull": ("scale",), "uniform": ("low", "high"),
                "triangular": ("low", "mode", "high"), "constant": ("value",)}


def scaled(dist: Any, factor: float) -> Any:
    """`dist` of `factor` times the variable (same family and shape): X -> factor * X exactly,
    a truncated normal's truncation at 0 included."""
    if not factor > 0 or not math.isfinite(factor):
        raise ValueError(f"a scale factor is positive and finite, not {factor!r}")
    if isinstance(dist, Empirical):
        return Empirical(values=[v * factor for v in dist.values])
    fields = SCALE_FIELDS[dist.dist]
    return type(dist).model_validate(dist.model_dump() | {k: getattr(dist, k) * factor for k in fields})
