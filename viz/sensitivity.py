"""Sensitivity: a tornado chart from a study's one-at-a-time low/high runs.

A study runs each sensitivity path of a scenario at its low and high value as a variant
named `SCENARIO~PATH=low|high`, on the same replications (common random numbers); the
summary's `sensitivity[SCENARIO][PATH][level]` holds the value and the paired effect on
each KPI (variant − scenario, with a 95% t-interval). Bars are those effects, widest swing
at the top; low is the light bar, high the solid one, in the scenario's colour.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from viz.colors import color_of, tint
from viz.labels import kpi_label

Rows = dict[str, dict[str, dict[str, Any]]]  # path -> level -> {"value", "effect": {kpi: S}}


def swing(levels: dict[str, dict[str, Any]], kpi: str) -> float:
    effects = [levels[lv]["effect"][kpi]["mean"] for lv in ("low", "high") if lv in levels]
    known = [e for e in effects if e is not None]
    return max(known) - min(known) if len(known) == 2 else abs(known[0]) if known else 0.0


def sensitivity_kpis(rows: Rows) -> list[str]:
    return list(dict.fromkeys(k for levels in rows.values() for lv in levels.values() for k in lv["effect"]))


def tornado(rows: Rows, kpi: str, scenario: str, colors: dict[str, str], time_unit: str) -> go.Figure:
    """Effects of each path's low and high value on `kpi`, sorted by swing (largest on top)."""
    paths = sorted(rows, key=lambda p: swing(rows[p], kpi))
    color = color_of(scenario, colors)
    fig = go.Figure()
    for level, fill in (("low", tint(color, 0.4)), ("high", color)):
        xs, ys, texts, errs, errs_minus = [], [], [], [], []
        for path in paths:
            entry = rows[path].get(level)
            effect = entry["effect"].get(kpi) if entry else None
            if not effect or effect["mean"] is None:
                continue
            lo, hi = effect["ci95"]
            xs.append(effect["mean"])
            ys.append(_label(path, rows[path]))
            texts.append(f"{level} = {entry['value']:g}: {effect['mean']:+.3g}")  # type: ignore[index]
            errs.append(0 if hi is None else hi - effect["mean"])
            errs_minus.append(0 if lo is None else effect["mean"] - lo)
        fig.add_trace(
            go.Bar(
                x=xs,
                y=ys,
                orientation="h",
                name=f"{level} value",
                marker={"color": fill},
                text=texts,
                textposition="none",
                hovertemplate="%{text}<extra></extra>",
                cliponaxis=False,
                error_x={
                    "type": "data",
                    "array": errs,
                    "arrayminus": errs_minus,
                    "color": "#555555",
                    "thickness": 1.2,
                },
            )
        )
    fig.add_vline(x=0, line={"color": "#333333", "width": 1})
    fig.update_layout(
        title=f"Sensitivity of {kpi_label(kpi, time_unit)} — {scenario} (paired effect, 95% CI)",
        barmode="overlay",
        plot_bgcolor="white",
        height=180 + 60 * len(paths),
        xaxis={"title": f"change in {kpi_label(kpi, time_unit)}", "gridcolor": "#EEEEEE"},
        legend={"orientation": "h", "y": -0.25},
        margin={"l": 260, "r": 80},
    )
    return fig


def _label(path: str, levels: dict[str, dict[str, Any]]) -> str:
    values = " / ".join(f"{levels[lv]['value']:g}" for lv in ("low", "high") if lv in levels)
    return f"{path}<br><span style='font-size:10px'>low / high: {values}</span>"
