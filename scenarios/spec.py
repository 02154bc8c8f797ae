"""The scenario file: typed plain data, validated once (pydantic, unknown keys are errors).

A scenario names a `base` (a twin YAML, or another scenario file it extends) and says
what differs: `changes` by dotted spec path, whole items to `add` or `remove`, `stresses`
(fixed or random windows), `contingency` rules and `costs` (as in the twin spec,
twin.policies), `targets`, `uncertain` inputs, `sensitivity` ranges and the `experiment`
settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from twin.distributions import Dist, NonNegativeFloat, Positive
from twin.policies import Stress

Path = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$", max_length=300)]
Probability = Annotated[float, Field(ge=0, le=1)]

_TARGET = re.compile(
    r"^\s*(?P<kpi>[A-Za-z_][\w\-]*(?:\.[\w\-]+)*)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)
_STATISTIC = re.compile(r"^(mean|p\d{1,2})$")


@dataclass(frozen=True)
class Target:
    """`KPI[.statistic] OP threshold`; without a statistic it is checked per replication."""

    text: str
    kpi: str
    statistic: str | None  # None, "mean" or "pNN": then it is checked over replications
    op: str
    threshold: float
    max_miss: float = 0.05  # per-replication targets: met when P(miss) <= max_miss

    def holds(self, value: float) -> bool:
        return {"<=": value <= self.threshold, ">=": value >= self.threshold,
                "<": value < self.threshold, ">": value > self.threshold}[self.op]

    @property
    def higher_is_worse(self) -> bool:
        return self.op in ("<=", "<")


def parse_target(text: str, max_miss: float = 0.05) -> Target:
    """'cycle_time.p95 <= 48' -> Target(kpi='cycle_time', statistic='p95', op='<=', 48)."""
    match = _TARGET.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a target: write KPI OP NUMBER, e.g. 'cycle_time.p95 <= 48'")
    kpi, _, last = match["kpi"].rpartition(".")
    statistic: str | None = last
    if not kpi or not _STATISTIC.match(last):
        kpi, statistic = match["kpi"], None
    return Target(text.strip(), kpi, statistic, match["op"], float(match["value"]), max_miss)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetSpec(_Spec):
    """A target; in a file either the bare text or `{target: TEXT, max_miss: P}`."""

    target: str
    max_miss: Probability = 0.05

    @model_validator(mode="before")
    @classmethod
    def _bare_text(cls, value: Any) -> Any:
        return {"target": value} if isinstance(value, str) else value

    @field_validator("target")
    @classmethod
    def _parses(cls, value: str) -> str:
        parse_target(value)
        return value


class Window(_Spec):
    start: NonNegativeFloat
    length: Positive


class RandomWindow(_Spec):
    """Occurs with `probability` in a replication, at a drawn start for a drawn length
    (all three drawn every replication from stream `stress.<name>`, occurring or not)."""

    probability: Probability
    start: Dist
    length: Dist


class ScenarioStress(_Spec):
    """A twin stress (twin.policies.Stress) with a fixed `window` or a `random` one."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)]
    kind: str
    target: str
    units: int | None = None
    factor: float | None = None
    classes: dict[str, float] | None = None  # demand_surge: the classes of its extra arrivals
    supplier: str | None = None  # supplier_outage, lead_time: one of the material's suppliers
    window: Window | None = None
    random: RandomWindow | None = None

    @model_validator(mode="after")
    def _one_window(self) -> ScenarioStress:
        if (self.window is None) == (self.random is None):
            raise ValueError("give exactly one of window {start, length} or random "
                             "{probability, start, length}")
        self.at(0.0, 1.0)  # the rest is a twin stress: check it as one
        return self

    def at(self, start: float, end: float) -> Stress:
        """The twin stress for a window [start, end)."""
        data = {"name": self.name, "kind": self.kind, "target": self.target, "start": start, "end": end,
                "units": self.units, "factor": self.factor, "classes": self.classes,
                "supplier": self.supplier}
        return Stress.model_validate({k: v for k, v in data.items() if v is not None})

    def fixed(self, start: float, end: float) -> dict[str, Any]:
        """The twin stress for a window [start, end), as plain data (validated)."""
        return self.at(start, end).model_dump(mode="json", exclude_none=True)


class Uncertain(_Spec):
    """Spec values drawn once per replication; paths as in `changes`."""

    method: Literal["monte_carlo", "lhs"] = "monte_carlo"
    params: Annotated[dict[Path, Dist], Field(min_length=1)]


class Relative(_Spec):
    relative: Annotated[float, Field(gt=0, lt=1)]  # low/high = value * (1 -/+ relative)


class Sensitivity(_Spec):
    """One-at-a-time low/high runs over spec paths, with common random numbers."""

    kpis: list[str] = []  # default: the target KPIs, else cycle_time
    params: Annotated[dict[Path, tuple[float, float] | Relative], Field(min_length=1)]

    @field_validator("params")
    @classmethod
    def _low_below_high(cls, value: dict[str, Any]) -> dict[str, Any]:
        for path, levels in value.items():
            if isinstance(levels, tuple) and levels[0] >= levels[1]:
                raise ValueError(f"{path}: low ({levels[0]:g}) must be below high ({levels[1]:g})")
        return value


class Precision(_Spec):
    """Sequential stopping: add replications until every scenario's CI is tight enough."""

    kpi: str = "cycle_time"
    relative_half_width: Annotated[float, Field(gt=0, lt=1)]
    max_replications: PositiveInt = 200


class Ranking(_Spec):
    """Select the best plan on the objective with Kim-Nelson's procedure (scenarios.ranking):
    replications are added until one plan is left or KN's bound is reached (or the cap)."""

    method: Literal["kn"] = "kn"
    indifference: Positive  # a difference in the objective KPI worth detecting
    confidence: Annotated[float, Field(ge=0.5, lt=1)] = 0.95
    first_stage: Annotated[int, Field(ge=5)] = 10
    max_replications: PositiveInt = 500


class Objective(_Spec):
    kpi: str = "cycle_time"
    goal: Literal["min", "max"] = "min"


class Experiment(_Spec):
    replications: Annotated[int, Field(ge=2)] = 10  # the first batch when `precision` is set
    seed: Annotated[int, Field(ge=0)] = 1
    engine: Literal["simpy", "fast"] = "fast"  # same numbers as simpy, compiled
    precision: Precision | None = None
    objective: Objective = Objective()
    ranking: Ranking | None = None
    risk: list[str] = []  # KPIs for VaR/CVaR (higher is worse); default: cycle_time and `<=` targets


class ScenarioFile(_Spec):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^|~]+$")]
    base: str
    description: str = ""
    changes: dict[Path, Any] = {}
    add: dict[Path, Annotated[list[dict[str, Any]], Field(min_length=1)]] = {}
    remove: dict[Path, Annotated[list[str | int], Field(min_length=1)]] = {}
    targets: list[TargetSpec] = []
    uncertain: Uncertain | None = None
    sensitivity: Sensitivity | None = None
    experiment: Experiment | None = None
    stresses: list[ScenarioStress] = []
    contingency: list[dict[str, Any]] = []  # twin contingency rules, added to the base's
    costs: dict[str, Any] | None = None  # the twin's costs, replacing the base's

    def parsed_targets(self) -> list[Target]:
        return [parse_target(t.target, t.max_miss) for t in self.targets]
