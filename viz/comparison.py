"""Scenario comparison: a forest plot of paired differences and a coloured risk table.

Differences are the study summary's `differences` (scenario − baseline over the same
replications, common random numbers) with paired 95% t-intervals; one panel per KPI, in
the KPI's own unit. The risk table gives, per scenario, each target's P(miss) with its
Wilson CI (green: met, red: missed) and VaR95 / CVaR95 of each risk KPI in one column
(green to red from the best to the worst scenario by VaR95; higher is worse).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from scenarios.spec import parse_target
from viz.colors import BAD, GOOD, NEUTRAL, color_of, tint
from viz.labels import SHORT, kpi_label, kpi_name, kpi_unit, number

Summary = dict[str, Any]


def _fmt(x: float | None) -> str:
    return number(x)


def forest(summary: Summary, kpis: Sequence[str], colors: dict[str, str], time_unit: str,
           currency: str = "") -> go.Figure:
    """Paired differences vs the baseline with 95% CIs, one panel per KPI."""
    options = list(summary["differences"])
    kpis = [k for k in kpis if any(k in summary["differences"][s] for s in options)]
    fig = make_subplots(
        rows=max(1, len(kpis)),
        cols=1,
        vertical_spacing=0.5 / max(1, len(kpis)),
        subplot_titles=[f"{kpi_label(k, time_unit, currency)}: change vs baseline" for k in kpis],
    )
    for row, kpi in enumerate(kpis, start=1):
        for name in options:
            d = summary["differences"][name].get(kpi)
            if not d or d["mean"] is None:
                continue
            lo, hi = d["ci95"]
            err = (
                {}
                if lo is None
                else {
                    "type": "data",
                    "symmetric": False,
                    "array": [hi - d["mean"]],
                    "arrayminus": [d["mean"] - lo],
                    "thickness": 2.5,
                    "width": 8,
                }
            )
            fig.add_trace(
                go.Scatter(
                    x=[d["mean"]],
                    y=[name],
                    mode="markers+text",
                    error_x=err,
                    showlegend=row == 1,
                    name=name,
                    legendgroup=name,
                    marker={"size": 11, "color": color_of(name, colors)},
                    text=[f"{number(d['mean'], sign=True)} [{_fmt(lo)}, {_fmt(hi)}]"],
                    textposition="top center",
                    textfont={"size": 11},
                    cliponaxis=False,
                    hovertemplate=f"{name}<br>{kpi}: %{{x:+.4g}} vs baseline<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.add_vline(x=0, line={"color": "#555555", "width": 1}, row=row, col=1)  # type: ignore[arg-type]
    fig.update_layout(
        title="Change vs the baseline (paired over the same replications, 95% CI)",
        height=150 + len(kpis) * (70 + 45 * len(options)),
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.05},
        margin={"t": 90},
    )
    fig.update_xaxes(gridcolor="#EEEEEE", zeroline=False)
    fig.update_yaxes(range=[len(options) - 0.5, -1.0])  # first plan on top, room for its label
    return fig


def risk_table(summary: Summary, colors: dict[str, str], time_unit: str, currency: str = "") -> go.Figure:
    """Targets (P(miss) with CI) and tail risk (VaR95, CVaR95) per scenario, coloured."""
    names = list(summary["scenarios"])
    header, columns, fills = ["scenario"], [names], [[tint(color_of(n, colors), 0.25) for n in names]]
    for text in summary["scenarios"][names[0]]["targets"]:
        reports = [summary["scenarios"][n]["targets"][text] for n in names]
        t = parse_target(text)
        stat = f" {t.statistic}" if t.statistic else ""
        header.append(f"P(miss)<br>{wrap(kpi_name(t.kpi) + stat)}<br>{t.op} {t.threshold:g}")
        columns.append([_target_cell(r) for r in reports])
        fills.append([GOOD if r["met"] else BAD for r in reports])
    for kpi in summary["scenarios"][names[0]]["var95"]:  # one column a KPI: fewer, wider columns
        var = [summary["scenarios"][n]["var95"].get(kpi) for n in names]
        cvar = [summary["scenarios"][n]["cvar95"].get(kpi) for n in names]
        unit = kpi_unit(kpi, time_unit, currency) if kpi.split(".")[0] == "cost" else ""
        if kpi in ("cycle_time", "tardiness") or kpi.endswith(".wait"):
            unit = SHORT[time_unit]
        unit = f" ({unit})" if unit else ""
        header.append(f"VaR95 / CVaR95<br>{wrap(kpi_name(kpi) + unit)}")
        columns.append([f"{_fmt(v)} / {_fmt(c)}" for v, c in zip(var, cvar, strict=True)])
        fills.append(_ranked_fills(var))
    met = [summary["scenarios"][n]["meets_targets"] for n in names]
    header.append("all targets met")
    columns.append(["yes" if m else "no" for m in met])
    fills.append([GOOD if m else BAD for m in met])
    first = summary["scenarios"][names[0]]["targets"]
    lines = 3 if any("statistic" in report for report in first.values()) else 2  # text lines a cell holds
    head = max(58, 16 * max(h.count("<br>") + 1 for h in header) + 10)
    fig = go.Figure(
        go.Table(
            columnwidth=[1.3] + [1.0] * (len(header) - 1),
            header={
                "values": [f"<b>{h}</b>" for h in header],
                "fill_color": "#34495E",
                "font": {"color": "white", "size": 11},
                "align": "center",
                "height": head,
            },
            cells={
                "values": columns,
                "fill_color": fills,
                "align": ["left"] + ["center"] * (len(header) - 1),
                "height": 18 * lines + 14,
                "font": {"size": 12},
            },
        )
    )
    fig.update_layout(
        title="Risk: probability of missing each target, and the worst 5% of runs",
        height=92 + head + (18 * lines + 14) * len(names),
        margin={"t": 50, "b": 10, "l": 10, "r": 10},
    )
    return fig


def wrap(text: str, width: int = 11) -> str:
    """Words on lines of about `width` characters ('<br>' between): a narrow table column
    shows a long KPI name whole instead of clipping it."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return "<br>".join(lines)


def _target_cell(report: dict[str, Any]) -> str:
    lo, hi = report["ci95"]
    text = f"{report['p_miss']:.0%}<br>[{lo:.0%}, {hi:.0%}]"
    if "statistic" in report:
        return f"{report['statistic']} = {number(report['value'])}<br>runs over: {text}"
    return text


def _ranked_fills(values: Sequence[float | None]) -> list[str]:
    """Green for the lowest value, red for the highest, neutral in between or when all equal."""
    known = [v for v in values if v is not None]
    if len(set(known)) < 2:
        return [NEUTRAL] * len(values)
    lo, hi = min(known), max(known)
    return [NEUTRAL if v is None else GOOD if v == lo else BAD if v == hi else NEUTRAL for v in values]
