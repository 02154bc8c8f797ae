"""Readable KPI names, their units in the twin's time unit, and readable numbers."""

from __future__ import annotations

import math

from scenarios.spec import parse_target
from twin.results import readable

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
    "on_time": "fraction",
    "tardiness": "{plural}",
    "late": "count",
    "activations": "count",
    "on_duty": "units",
    "overtime": "units",
    "repairs": "count",
    "stockouts": "count",
    "abandoned": "fraction of arrivals",
    "lost": "fraction of arrivals",
    "balked": "fraction of arrivals",
}

_NAMES = {
    "cycle_time": "cycle time",
    "wip": "WIP",
    "queue_length": "queue length",
    "fill_rate": "fill rate",
    "stockout_fraction": "stock-out time",
    "utilization": "utilisation",
    "on_time": "on-time rate",
    "late": "late orders",
    "abandoned": "abandoned",
    "lost": "lost",
    "balked": "balked",
}


def kpi_unit(kpi: str, time_unit: str, currency: str = "") -> str:
    """'activities.triage.wait', 'minute' -> 'minutes'; 'cost.labour' -> the currency."""
    if kpi == "cost" or kpi.startswith("cost."):
        return currency or "cost units"
    last = kpi.rsplit(".", 1)[-1]
    return _UNITS.get(last, "").format(unit=time_unit, plural=PLURAL.get(time_unit, time_unit))


def kpi_name(kpi: str) -> str:
    """'activities.triage.wait' -> 'triage wait'; 'cycle_time' -> 'cycle time';
    'cost.labour' -> 'labour cost'; 'activities.doctor.by_class.urgent.wait' -> 'doctor
    urgent wait'; 'classes.urgent.throughput' -> 'urgent throughput'."""
    parts = kpi.split(".")
    if parts[0] == "cost" and len(parts) == 2:
        return f"{parts[1]} cost"
    last = _NAMES.get(parts[-1], parts[-1].replace("_", " "))
    if len(parts) == 5 and parts[2] == "by_class":
        return f"{parts[1]} {parts[3]} {last}"
    return f"{parts[1]} {last}" if len(parts) == 3 else last


def target_text(text: str, time_unit: str, currency: str = "") -> str:
    """A target in words: 'activities.doctor.by_class.urgent.wait <= 30' -> 'doctor urgent
    wait ≤ 30 minutes'; 'on_time.mean >= 0.95' -> 'mean on-time rate ≥ 0.95'."""
    t = parse_target(text)
    unit = kpi_unit(t.kpi, time_unit, currency)
    unit = f" {unit}" if unit and unit in (PLURAL.get(time_unit, time_unit), currency) else ""
    stat = f"{t.statistic} " if t.statistic else ""
    op = {"<=": "≤", ">=": "≥"}.get(t.op, t.op)
    return f"{stat}{kpi_name(t.kpi)} {op} {t.threshold:g}{unit}"


def kpi_label(kpi: str, time_unit: str, currency: str = "") -> str:
    """An axis title: 'triage wait (minutes)', 'cost (EUR)'."""
    unit = kpi_unit(kpi, time_unit, currency)
    return f"{kpi_name(kpi)} ({unit})" if unit else kpi_name(kpi)


def number(x: float | None, sign: bool = False) -> str:
    """Three significant digits, with thousands separators rather than exponents:
    0.0716, 8.51, 5,960, -21,600, 732,000, 0.0000655; '–' for a missing value."""
    rounded = None if x is None or math.isnan(x) else float(f"{x:.3g}")
    if rounded and abs(rounded) < 1e-3:  # readable would write 6.55e-05
        places = 2 - math.floor(math.log10(abs(rounded)))
        return f"{rounded:{'+' if sign else ''}.{places}f}"
    return readable(x, 3, sign)


def time_label(time_unit: str) -> str:
    return f"simulated time ({PLURAL.get(time_unit, time_unit)})"
