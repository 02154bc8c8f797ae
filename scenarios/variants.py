"""Run units: each scenario, plus its one-at-a-time sensitivity variants.

A variant sets one spec path of its scenario to the low or the high level and is named
`SCENARIO~PATH=low|high`; it runs the same replications with the same seed (CRN), so
its difference from the scenario is the path's effect (the data of a tornado chart).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from scenarios.changes import set_value, walk
from scenarios.loader import Scenario
from scenarios.spec import Relative, Uncertain
from twin.errors import SpecError
from twin.loader import parse_twin
from twin.spec import Twin


@dataclass(frozen=True)
class Unit:
    name: str
    twin: Twin
    data: dict[str, Any]
    uncertain: Uncertain | None
    of: str | None = None  # the scenario a sensitivity variant belongs to
    path: str | None = None
    level: str | None = None  # "low" or "high"
    value: float | None = None
    stresses: tuple[dict[str, Any], ...] = ()  # random stress windows (scenarios.stresses)


def units_of(scenarios: list[Scenario]) -> list[Unit]:
    units = [Unit(s.name, s.twin, s.data, s.uncertain, stresses=_random(s)) for s in scenarios]
    for s in scenarios:
        units += sensitivity_units(s)
    return units


def levels(base: float, spec: tuple[float, float] | Relative) -> tuple[float, float]:
    if isinstance(spec, Relative):
        return base * (1 - spec.relative), base * (1 + spec.relative)
    return spec


def sensitivity_units(scenario: Scenario) -> list[Unit]:
    if scenario.sensitivity is None:
        return []
    units = []
    for path, spec in scenario.sensitivity.params.items():
        base = walk(scenario.data, path)
        for level, value in zip(("low", "high"), levels(base, spec), strict=True):
            value = round(value) if isinstance(base, int) else value
            data = copy.deepcopy(scenario.data)
            set_value(data, path, value)
            try:
                twin = parse_twin(data, scenario.source)
            except SpecError as error:
                where = f"sensitivity.params.{path} ({level} = {value:g})"
                raise SpecError([(where, f"{p}: {r}") for p, r in error.problems], scenario.source) from None
            units.append(Unit(f"{scenario.name}~{path}={level}", twin, data, scenario.uncertain,
                              scenario.name, path, level, float(value), _random(scenario)))
    return units


def _random(scenario: Scenario) -> tuple[dict[str, Any], ...]:
    return tuple(s.model_dump(mode="json") for s in scenario.stresses)
