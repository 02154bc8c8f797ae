"""The optimisation file: what may change, what to minimise, which targets must hold.

    name: staff-line
    base: line.yaml                    # a twin or a scenario, as in a study
    decisions:                         # dotted spec paths
      resources.a.capacity: {low: 1, high: 10}           # integers, step 1 by default
      materials.blanks.reorder.point: {low: 100, high: 600, step: 50}
      resources.a.discipline: {choices: [fifo, spt]}     # or any listed values
    objective: {kpi: cost, goal: min}  # statistic: mean (default), pNN, var95 or cvar95
    targets: [activities.a.wait.mean <= 0.5]              # added to the base's targets
    experiment: {replications: 10, seed: 1, budget: 300}  # budget: most plans simulated

Targets are constraints as in a study: a statistic over replications (`wait.mean <= 10`,
`cycle_time.p95 <= 60`) or, without one, a chance constraint per replication
(`P(miss) <= max_miss`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from scenarios.spec import Path, TargetSpec

_STATISTIC = re.compile(r"^(mean|p\d{1,2}|var\d{1,2}|cvar\d{1,2})$")


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Spec):
    """Integers low, low + step, ..., up to high."""

    low: int
    high: int
    step: PositiveInt = 1

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
        return self

    @property
    def values(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))


class Choices(_Spec):
    """Any of the listed values (numbers, names, or whole mappings such as a distribution)."""

    choices: Annotated[list[Any], Field(min_length=1)]


Decision = Range | Choices


class Objective(_Spec):
    kpi: str = "cost"
    goal: Literal["min", "max"] = "min"
    statistic: str = "mean"  # over replications: mean, pNN (percentile), varNN or cvarNN (risk)

    @model_validator(mode="after")
    def _known_statistic(self) -> Objective:
        if not _STATISTIC.match(self.statistic):
            raise ValueError(
                f"statistic '{self.statistic}' is not one of mean, pNN, varNN, cvarNN (e.g. p95, cvar95)"
            )
        return self

    @property
    def text(self) -> str:
        return self.kpi if self.statistic == "mean" else f"{self.statistic}({self.kpi})"


class Experiment(_Spec):
    replications: Annotated[int, Field(ge=3)] = 10  # every plan's first replications
    max_replications: Annotated[int, Field(ge=3)] = 40  # a plan close to the best or a target's line
    final_replications: Annotated[int, Field(ge=3)] | None = None  # finalists' (default: max_replications)
    seed: Annotated[int, Field(ge=0)] = 1
    engine: Literal["simpy", "fast"] = "fast"
    budget: PositiveInt = 100  # most plans simulated in the search
    time: Annotated[float, Field(gt=0)] | None = None  # seconds: no new plans after this
    startup: PositiveInt = 10  # plans sampled at random before the optimiser models the space
    batch: PositiveInt | None = None  # plans simulated together in a round (default 4, on any executor)
    finalists: PositiveInt = 5  # best plans re-simulated at the end
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95  # of the final statement
    indifference: Annotated[float, Field(gt=0)] | None = None  # objective difference worth telling apart

    @model_validator(mode="after")
    def _enough(self) -> Experiment:
        if self.max_replications < self.replications:
            raise ValueError(
                f"max_replications ({self.max_replications}) must be at least "
                f"replications ({self.replications})"
            )
        if self.final_replications is not None and self.final_replications < self.max_replications:
            raise ValueError(
                f"final_replications ({self.final_replications}) must be at least "
                f"max_replications ({self.max_replications})"
            )
        return self

    @property
    def final(self) -> int:
        """Replications of each finalist: certifying a chance target at 95% takes ~60-100."""
        return self.final_replications or self.max_replications


class OptimizationFile(_Spec):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^|~]+$")]
    base: str
    description: str = ""
    decisions: Annotated[dict[Path, Decision], Field(min_length=1)]
    objective: Objective = Objective()
    targets: list[TargetSpec] = []
    experiment: Experiment = Experiment()
