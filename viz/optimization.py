"""The optimisation report: the recommended plan, the cost-risk frontier and the search's
convergence, drawn from `twin optimize --json`'s summary (no simulation here)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go

from viz.colors import BAD, GOOD, NEUTRAL
from viz.report import CONFIG, page, write_page

Summary = dict[str, Any]


def frontier_figure(summary: Summary) -> go.Figure:
    """Every plan simulated by objective and P(missing some target); the frontier joined."""
    visited, front = summary["visited"], summary["frontier"]
    kpi = summary["objective"]["kpi"]
    fig = go.Figure()
    for meets, colour, label in (
        (True, GOOD, "meets the targets (estimate)"),
        (False, BAD, "misses a target"),
    ):
        plans = [v for v in visited if v["meets_targets"] is meets and v["objective"] is not None]
        fig.add_trace(
            go.Scatter(
                x=[v["objective"] for v in plans],
                y=[v["p_miss"] for v in plans],
                mode="markers",
                name=label,
                marker={"color": colour, "size": 7, "opacity": 0.7},
                text=[_decisions(v["decisions"]) for v in plans],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[v["objective"] for v in front],
            y=[v["p_miss"] for v in front],
            mode="lines",
            name="frontier",
            line={"color": NEUTRAL, "dash": "dot"},
        )
    )
    best = summary["best"]
    fig.add_trace(
        go.Scatter(
            x=[best["objective"]["value"]],
            y=[_p_miss(summary)],
            mode="markers",
            name="recommended",
            marker={"symbol": "star", "size": 16, "color": "black"},
        )
    )
    fig.update_layout(
        title="Plans simulated: objective against the risk of missing a target",
        xaxis_title=f"{kpi} ({summary['objective']['goal']})",
        yaxis_title="P(a replication misses some target)",
        yaxis_range=[-0.02, 1.02],
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 60},
    )
    return fig


def convergence_figure(summary: Summary) -> go.Figure:
    """The best objective among plans meeting the targets, after each plan simulated."""
    values = summary["convergence"]
    fig = go.Figure(
        go.Scatter(
            x=list(range(1, len(values) + 1)),
            y=values,
            mode="lines+markers",
            line={"shape": "hv", "color": GOOD},
            connectgaps=False,
        )
    )
    fig.update_layout(
        title="Convergence: best plan meeting the targets so far",
        xaxis_title="plans simulated",
        yaxis_title=summary["objective"]["kpi"],
        margin={"t": 60},
    )
    return fig


def _p_miss(summary: Summary) -> float | None:
    plan = summary["best"]["plan"]
    return next((v["p_miss"] for v in summary["visited"] if v["plan"] == plan), None)


def _decisions(decisions: dict[str, Any]) -> str:
    return "<br>".join(f"{escape(p)} = {escape(str(v))}" for p, v in decisions.items())


def render(summary: Summary) -> str:
    """The report as one HTML page that opens anywhere (plotly inlined)."""
    best = summary["best"]
    rows = (
        "".join(
            f"<tr><td>{escape(p)}</td><td>{escape(str(c['from']))}</td><td>{escape(str(c['to']))}</td></tr>"
            for p, c in best["changes"].items()
        )
        or "<tr><td colspan='3'>none: the base is best</td></tr>"
    )
    targets = "".join(
        f"<tr><td>{escape(t)}</td><td>{escape(str(c['status']))}</td></tr>"
        for t, c in best["targets"].items()
    )
    figures = "".join(
        fig.to_html(include_plotlyjs=False, full_html=False, div_id=f"fig{i}", config=CONFIG)
        for i, fig in enumerate((frontier_figure(summary), convergence_figure(summary)))
    )
    title = f"Optimisation report: {escape(summary['name'])}"
    body = (
        f"<section class='summary'><h2>Recommendation</h2><p class='question'>{escape(best['statement'])}</p>"
        f"<h3>Changes against the base ({escape(summary['base'])})</h3>"
        f"<table><tr><th>decision</th><th>base</th><th>plan</th></tr>{rows}</table>"
        f"<h3>Targets</h3><table><tr><th>target</th><th>status</th></tr>{targets}</table>"
        f"<p>{summary['evaluated']} of {summary['space']} plans simulated, {summary['replications']} "
        f"replications; the search stopped on its {escape(summary['stopped'])}.</p></section>"
        f"<section><h2>Frontier and convergence</h2>{figures}</section>"
    )
    return page(title, body)


def write_optimization_report(summary: Summary, out: str | Path) -> Path:
    return write_page(render(summary), out)
