"""Readable KPI names and their units in the twin's time unit."""

from __future__ import annotations

PLURAL = {"minute": "minutes", "hour": "hours", "day": "days"}
SHORT = {"minute": "min", "hour": "h", "day": "day"}
_UNITS = {
    "cycle_time": "{plural}",
    "wait": "{plural}",
    "throughput": "per {unit}",
    "wip": "entities",
    "queue_length": "entities",
    "completed": "count",
    "utilization": "fraction",
    "availability": "fraction",
    "inventory": "units in stock",
    "fill_rate": "fraction",
    "stockout_fraction": "fraction of time",
}
_NAMES = {
    "cycle_time": "cycle time",
    "wip": "WIP",
    "queue_length": "queue length",
    "fill_rate": "fill rate",
    "stockout_fraction": "stock-out time",
    "utilization": "utilisation",
}


def kpi_unit(kpi: str, time_unit: str) -> str:
    """'activities.triage.wait', 'minute' -> 'minutes'."""
    last = kpi.rsplit(".", 1)[-1]
    return _UNITS.get(last, "").format(unit=time_unit, plural=PLURAL.get(time_unit, time_unit))


def kpi_name(kpi: str) -> str:
    """'activities.triage.wait' -> 'triage wait'; 'cycle_time' -> 'cycle time'."""
    parts = kpi.split(".")
    last = _NAMES.get(parts[-1], parts[-1].replace("_", " "))
    return f"{parts[1]} {last}" if len(parts) == 3 else last


def kpi_label(kpi: str, time_unit: str) -> str:
    """An axis title: 'triage wait (minutes)'."""
    unit = kpi_unit(kpi, time_unit)
    return f"{kpi_name(kpi)} ({unit})" if unit else kpi_name(kpi)


def time_label(time_unit: str) -> str:
    return f"simulated time ({PLURAL.get(time_unit, time_unit)})"
