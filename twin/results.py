"""From per-replication KPI records to the run summary of DESIGN.md."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from twin.tquantile import t975

TOP_LEVEL = ("throughput", "cycle_time", "wip")
GROUPS = ("activities", "resources", "materials", "classes", "contingency")
# KPIs that are shares in [0, 1]: their interval is a Wilson one (see share_interval)
SHARES = frozenset({"utilization", "availability", "fill_rate", "stockout_fraction", "on_time",
                    "abandoned", "lost", "balked"})


def is_share(kpi: str) -> bool:
    """Whether a KPI ('resources.clerk.utilization', 'on_time') is a share in [0, 1]."""
    return kpi.rsplit(".", 1)[-1] in SHARES


def readable(x: float | None, digits: int = 3, sign: bool = False) -> str:
    """`digits` significant digits, with thousands separators rather than exponents:
    0.0000655, 0.0716, 8.51, 5,960, -21,600, 732,000; '–' for a missing value."""
    if x is None or math.isnan(x):
        return "–"
    plus = "+" if sign else ""
    if 0 < abs(x) < 1e-3:  # where 'g' would switch to an exponent: fixed decimals instead
        return f"{x:{plus}.{digits - 1 - math.floor(math.log10(abs(x)))}f}"
    if x == 0 or abs(x) < 10 ** (digits - 1):  # no exponent below this, whole numbers above
        return f"{x:{plus},.{digits}g}"
    places = math.floor(math.log10(abs(x))) - digits + 1
    return f"{round(x, -places):{plus},.0f}"


def summarize(values: Sequence[float], share: bool = False) -> dict[str, Any]:
    """Mean with a 95% interval and percentiles over replications (NaNs dropped): a
    t-interval, or for a share (`share`, values in [0, 1]) `share_interval`, which stays in
    [0, 1] where a t-interval of a rare event's share would reach below zero."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return {"mean": None, "ci95": [None, None], "p5": None, "p50": None, "p95": None, "n": 0}
    mean = float(x.mean())
    if x.size > 1:
        t = t975(x.size - 1)
        half = t * float(x.std(ddof=1)) / math.sqrt(x.size)
        ci: list[float | None] = list(share_interval(x, t)) if share else [mean - half, mean + half]
    else:
        ci = [None, None]
    p5, p50, p95 = (float(v) for v in np.percentile(x, [5, 50, 95]))
    return {"mean": mean, "ci95": ci, "p5": p5, "p50": p50, "p95": p95, "n": int(x.size)}


def share_interval(x: np.ndarray, z: float) -> tuple[float, float]:
    """A 95% interval for the mean of per-replication shares that stays in [0, 1]: Wilson's
    score interval with the effective sample size n_eff = p (1 - p) / (s^2 / n) that the
    replications' spread implies (Korn and Graubard's device for proportions from clustered
    data), so it is as wide as the t-interval for a share near 1/2 and bends away from 0
    and 1 near the edges. All replications equal: the interval is that value."""
    p = min(1.0, max(0.0, float(x.mean())))
    var_mean = float(x.var(ddof=1)) / x.size
    if var_mean <= 0:  # no spread: nothing to bend
        return p, p
    if p in (0.0, 1.0):  # spread only by rounding past an edge (1.0000001): the t-interval, clipped
        return max(0.0, p - z * math.sqrt(var_mean)), min(1.0, p + z * math.sqrt(var_mean))
    n = p * (1 - p) / var_mean
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def nest(records: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Flat dotted records -> {"kpis": ..., "activities": {name: {kpi: S}}, ...}, with
    per-class KPIs of an activity one level down (activities.a.by_class.c.wait ->
    ["activities"]["a"]["by_class"]["c"]["wait"]); KPIs of no group (throughput, on_time,
    cost, cost.labour, ...) go under "kpis"."""
    keys = list(records[0]) if records else []
    out: dict[str, Any] = {"kpis": {}, **{g: {} for g in GROUPS}}
    for key in keys:
        summary = summarize([r[key] for r in records], share=is_share(key))
        parts = key.split(".")
        if len(parts) in (3, 5) and parts[0] in GROUPS:
            node = out[parts[0]]
            for part in parts[1:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = summary
        else:
            out["kpis"][key] = summary
    for optional in ("classes", "contingency"):
        if not out[optional]:
            del out[optional]
    return out


def flat_kpis(summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(readable name, S) for every KPI of a nested run summary, groups in order:
    'throughput', 'serve wait', 'serve urgent wait', 'clerk utilization', 'urgent cycle_time'."""
    rows = list(summary["kpis"].items())
    for group in ("activities", "resources", "materials", "classes"):
        for name, kpis in summary.get(group, {}).items():
            for kpi, s in kpis.items():
                if kpi == "by_class":
                    rows += [(f"{name} {c} {k}", v) for c, per in s.items() for k, v in per.items()]
                else:
                    rows.append((f"{name} {kpi}", s))
    return rows
