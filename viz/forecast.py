"""The forecast report: from the state now, when each open job finishes, and WIP and
completions ahead (fans), per plan; drawn from `twin forecast --json`'s summary (no
simulation here)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz.colors import scenario_colors
from viz.report import CONFIG, page, write_page

Summary = dict[str, Any]
JOBS_SHOWN = 40  # open jobs drawn, the ones with the least chance of finishing first


def plans(summary: Summary) -> list[Summary]:
    return [summary, *summary.get("what_if", [])]


def fan_figure(summary: Summary) -> go.Figure:
    """WIP and completions since now over time: median and the p5-p95 and p25-p75 bands, per plan."""
    colors = scenario_colors([p["twin"] for p in plans(summary)])
    fig = make_subplots(rows=1, cols=2, subplot_titles=("work in progress", "completions since now"))
    for plan in plans(summary):
        x, color = plan["fan"]["time"], colors[plan["twin"]]
        for col, key in ((1, "wip"), (2, "completions")):
            bands = plan["fan"][key]
            for lo, hi, alpha in (("p5", "p95", 0.15), ("p25", "p75", 0.3)):
                fig.add_trace(go.Scatter(x=x + x[::-1], y=bands[hi] + bands[lo][::-1], fill="toself",
                                         fillcolor=_alpha(color, alpha), line={"width": 0}, hoverinfo="skip",
                                         showlegend=False, legendgroup=plan["twin"]), row=1, col=col)
            fig.add_trace(go.Scatter(x=x, y=bands["p50"], name=plan["twin"], line={"color": color},
                                     legendgroup=plan["twin"], showlegend=col == 1), row=1, col=col)
    fig.update_xaxes(title_text="time")
    fig.update_layout(title="Ahead of now: median, 50% and 90% bands over replications", height=420,
                      margin={"t": 80})
    return fig


def jobs_figure(summary: Summary) -> go.Figure:
    """Each open job's finishing time (p10, median, p90) and P(done by until), least likely first."""
    entities = summary["entities"]
    order = sorted(range(len(entities)), key=lambda k: entities[k]["p_done"])
    shown = order[:JOBS_SHOWN]
    labels = [_label(entities[k], k) for k in shown]

    def at(q: str) -> list[float]:  # not by until: drawn at until
        return [summary["until"] if entities[k][q] is None else entities[k][q] for k in shown]

    lo, mid, hi = at("finish_p10"), at("finish_p50"), at("finish_p90")
    fig = go.Figure(go.Scatter(
        x=mid, y=labels, mode="markers", marker={"size": 9, "color": [entities[k]["p_done"] for k in shown],
                                                 "colorscale": "RdYlGn", "cmin": 0, "cmax": 1,
                                                 "colorbar": {"title": "P(done)"}},
        error_x={"type": "data", "symmetric": False, "array": [h - m for h, m in zip(hi, mid, strict=True)],
                 "arrayminus": [m - low for m, low in zip(mid, lo, strict=True)]},
        text=[f"P(done by {summary['until']:g}) = {entities[k]['p_done']:.0%}" for k in shown],
        hovertemplate="%{y}: median %{x:.4g}<br>%{text}<extra></extra>"))
    fig.add_vline(x=summary["until"], line_dash="dot", annotation_text="until")
    fig.update_layout(title=f"Open jobs: when each finishes (p10-p90), the {len(shown)} least sure first",
                      xaxis_title="time", height=max(300, 26 * len(shown) + 120), margin={"l": 200})
    fig.update_yaxes(autorange="reversed")
    return fig


def render(summary: Summary) -> str:
    """The report as one HTML page that opens anywhere (plotly inlined)."""
    rows = "".join(
        f"<tr><td>{escape(p['twin'])}</td><td>{_num(p['drain_time'])}</td><td>{p['p_drained']:.0%}</td>"
        f"<td>{_num(p['fan']['wip']['p50'][-1])}</td><td>{_num(p['fan']['completions']['p50'][-1])}</td></tr>"
        for p in plans(summary))
    late = [e for e in summary["entities"] if "p_on_time" in e and e["p_on_time"] < 0.5]
    stock = "".join(f"<li>{escape(name)}: P(stockout) {s['p_stockout']:.0%}</li>"
                    for name, s in summary["stockouts"].items() if s["p_stockout"] > 0)
    figures = "".join(fig.to_html(include_plotlyjs=False, full_html=False, div_id=f"fig{i}", config=CONFIG)
                      for i, fig in enumerate((jobs_figure(summary), fan_figure(summary))))
    title = f"Forecast: {escape(summary['twin'])} from t = {summary['time']:g} to {summary['until']:g}"
    body = (
        f"<section class='summary'><h2>From where we are now</h2>"
        f"<p>{len(summary['entities'])} open jobs; {summary['replications']} replications from the state, "
        f"arrivals going on as the twin says.</p>"
        f"<table><tr><th>plan</th><th>all open jobs done after (mean)</th><th>P(all done by until)</th>"
        f"<th>WIP at until (median)</th><th>completions by until (median)</th></tr>{rows}</table>"
        + (f"<p>{len(late)} jobs with a due date are more likely late than not.</p>" if late else "")
        + (f"<h3>Stock ahead</h3><ul>{stock}</ul>" if stock else "")
        + f"</section><section><h2>Jobs and what lies ahead</h2>{figures}</section>"
    )
    return page(title, body)


def write_forecast_report(summary: Summary, out: str | Path) -> Path:
    return write_page(render(summary), out)


def _label(entity: Summary, k: int) -> str:
    where = entity["activity"] or ""
    return f"{entity['case'] or f'job {k + 1}'} ({where}, {entity['state'].replace('_', ' ')})"


def _num(x: float | None) -> str:
    return "not by then" if x is None else f"{x:.4g}"


def _alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"
