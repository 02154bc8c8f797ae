"""A twin's dotted spec paths with their current values, and its KPIs: what a scenario
can change (`changes`) and what a target can name, for the dashboard's plan builder.

Paths are those `scenarios.changes.walk` follows: mappings by key, list items by their
`name` (`resources.nurse.capacity`) or by position when unnamed (`resources.nurse.shifts.0.capacity`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scenarios import changes
from scenarios.loader import kpi_names
from service.errors import Invalid
from service.schemas import SpecPath, TwinPaths
from twin.loader import parse_twin


def leaves(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every value a scenario can set: numbers, text, booleans and lists of
    them (an empirical distribution's `values`). Item names are not listed: they identify."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key != "name" or isinstance(value, dict | list):
                yield from leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and any(isinstance(item, dict | list) for item in data):
        for i, item in enumerate(data):
            name = item.get("name") if isinstance(item, dict) else None
            yield from leaves(item, f"{prefix}.{name if isinstance(name, str) else i}")
    elif prefix:
        yield prefix, data


def kind(value: Any) -> str:
    """The JSON type of a value: boolean, integer, number, string, list or null."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "null"


def twin_paths(spec: dict[str, Any], prefix: str | None = None) -> TwinPaths:
    """The twin's paths (under `prefix`, a path of the twin, when given) and every KPI its
    replications record; Invalid naming `prefix` when it leads nowhere."""
    data: Any = spec
    if prefix:
        try:
            data = changes.walk(spec, prefix)
        except changes.PathError as error:
            raise Invalid([("prefix", str(error))]) from None
    found = [SpecPath(path=p, value=v, type=kind(v)) for p, v in leaves(data, prefix or "")]
    return TwinPaths(paths=found, kpis=kpi_names(parse_twin(spec)))
