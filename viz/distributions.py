"""KPI distributions over replications: one ECDF per scenario, the target and P(miss).

For a per-replication target (`activities.triage.wait <= 3.5`) the chart shades the
miss region and writes each scenario's probability of missing with its Wilson 95% CI,
as the study summary reports it. For a target on a statistic (`cycle_time.p95 <= 60`) it
marks each scenario's statistic on its curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scenarios.spec import Target
from viz.colors import TARGET, color_of
from viz.labels import kpi_label, kpi_name, target_text


def ecdf(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values (NaN dropped) and the fraction of replications at or below each."""
    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    return x, np.arange(1, x.size + 1) / max(x.size, 1)


def miss_text(report: dict[str, Any]) -> str:
    """'P(miss) 45% [26%, 66%]' or, for a statistic target, 'p95 = 54.2'."""
    if "statistic" in report:
        return f"{report['statistic']} = {report['value']:.4g}"
    lo, hi = report["ci95"]
    return f"P(miss) {report['p_miss']:.0%} [{lo:.0%}, {hi:.0%}]"


def kpi_ecdf(
    table: pd.DataFrame,
    kpi: str,
    scenarios: Sequence[str],
    colors: dict[str, str],
    time_unit: str,
    target: Target | None = None,
    reports: dict[str, dict[str, Any]] | None = None,
    currency: str = "",
) -> go.Figure:
    """ECDF of `kpi` over replications for each scenario, with `target` and its miss reports."""
    fig = go.Figure()
    lines = []
    for name in scenarios:
        x, y = ecdf(table.loc[table["scenario"] == name, kpi])
        report = (reports or {}).get(name)
        suffix = f" — {miss_text(report)}" if report else ""
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                line_shape="hv",
                name=f"{name}{suffix}",
                line={"color": color_of(name, colors), "width": 2.5},
                marker={"size": 5},
                hovertemplate=f"{name}<br>%{{x:.4g}}: %{{y:.0%}} of runs at or below<extra></extra>",
            )
        )
        if report:
            met = "met" if report["met"] else "missed"
            lines.append(
                f"<span style='color:{color_of(name, colors)}'>■</span> {name}: "
                f"{miss_text(report)} — <b>{met}</b>"
            )
        if target is not None and target.statistic and report and x.size:
            fig.add_trace(
                go.Scatter(
                    x=[report["value"]],
                    y=[_level(target.statistic)],
                    mode="markers",
                    marker={"symbol": "x", "size": 12, "color": color_of(name, colors)},
                    name=f"{name} {target.statistic}",
                    showlegend=False,
                )
            )
    if target is not None:
        _draw_target(fig, target, table[kpi], target_text(target.text, time_unit, currency))
    title = f"{kpi_name(kpi)} over replications"
    if lines:
        fig.add_annotation(
            xref="paper",
            yref="paper",
            x=0.0,
            y=-0.2,
            xanchor="left",
            yanchor="top",
            align="left",
            showarrow=False,
            text="<br>".join(lines),
            bgcolor="rgba(255,255,255,0.85)",
            bordercolor="#CCCCCC",
            borderwidth=1,
            font={"size": 12},
        )
    fig.update_layout(
        title=title,
        xaxis_title=kpi_label(kpi, time_unit, currency),
        plot_bgcolor="white",
        yaxis={
            "title": "share of replications at or below",
            "tickformat": ".0%",
            "range": [0, 1.04],
            "gridcolor": "#EEEEEE",
        },
        legend={"orientation": "h", "y": -0.22},
        margin={"t": 60, "b": 90 + 18 * len(lines)},
        height=430 + 18 * len(lines),
        showlegend=not lines,
    )
    fig.update_xaxes(gridcolor="#EEEEEE")
    return fig


def _level(statistic: str) -> float:
    return 0.5 if statistic == "mean" else float(statistic[1:]) / 100


def _draw_target(fig: go.Figure, target: Target, values: pd.Series, words: str) -> None:
    fig.add_vline(
        x=target.threshold,
        line={"color": TARGET, "width": 2, "dash": "dash"},
        annotation={"text": f"target: {words}", "font": {"color": TARGET}},
        annotation_position="top right",
    )
    if target.statistic is None:
        t = target.threshold
        lo, hi = (
            (t, max(float(np.nanmax(values)), t))
            if target.higher_is_worse
            else (min(float(np.nanmin(values)), t), t)
        )
        if hi > lo:  # only where some replication lies
            fig.add_vrect(x0=lo, x1=hi, fillcolor=TARGET, opacity=0.07, line_width=0, layer="below")
    else:
        fig.add_hline(y=_level(target.statistic), line={"color": "#999999", "width": 1, "dash": "dot"})
