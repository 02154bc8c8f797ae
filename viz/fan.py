"""WIP over time: fan charts (p5/p25/p50/p75/p95 across replications) per scenario.

The series are the time-average WIP in equal bins of [0, horizon] of the traced
replications a study keeps for its warm-up check (WIP +1 at each `arrival`, -1 at each
`leave`). The warm-up period is shaded.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from viz.colors import color_of, tint
from viz.labels import time_label

BANDS = ((5, 95, 0.15), (25, 75, 0.35))


def wip_fan(
    wip: dict[str, np.ndarray], horizon: float, warmup: float, colors: dict[str, str], time_unit: str
) -> go.Figure:
    """One panel per scenario (shared axes): bands across replications and the median."""
    names = list(wip)
    fig = make_subplots(
        rows=max(1, len(names)),
        cols=1,
        shared_xaxes=True,
        shared_yaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[f"{n} ({len(wip[n])} replications)" for n in names],
    )
    for row, name in enumerate(names, start=1):
        series = np.asarray(wip[name], dtype=float)
        x = (np.arange(series.shape[1]) + 0.5) * horizon / series.shape[1]
        color = color_of(name, colors)
        for lo, hi, alpha in BANDS:
            low, high = np.percentile(series, [lo, hi], axis=0)
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([high, low[::-1]]),
                    fill="toself",
                    fillcolor=tint(color, alpha),
                    line={"width": 0},
                    name=f"{name} p{lo}–p{hi}",
                    hoverinfo="skip",
                    legendgroup=name,
                ),
                row=row,
                col=1,
            )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.median(series, axis=0),
                mode="lines",
                name=f"{name} median",
                line={"color": color, "width": 1.5},
                legendgroup=name,
            ),
            row=row,
            col=1,
        )
        fig.add_vrect(x0=0, x1=warmup, fillcolor="#999999", opacity=0.12, line_width=0, row=row, col=1)
        fig.update_yaxes(title_text="WIP (entities)", row=row, col=1)
    fig.update_xaxes(title_text=time_label(time_unit), row=len(names), col=1)
    fig.update_layout(
        title="Work in process over time (bands: p5–p95 and p25–p75 across replications; grey: warm-up)",
        height=140 + 220 * len(names),
        plot_bgcolor="white",
        showlegend=False,
    )
    return fig
