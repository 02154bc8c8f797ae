"""State over time: fan charts (p5/p25/p50/p75/p95 across replications) per scenario.

The series are those the engines record at the study's interval (`series.parquet`, see
`scenarios.series`): WIP and backlog, each activity's queue, each material's stock on
hand. A figure is a grid: one row per measure, one column per scenario (shared axes), the
time axis in calendar dates from the twin's `start`, the warm-up shaded grey.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.spec import Twin
from viz.clock import Clock
from viz.colors import color_of, tint

BANDS = ((5, 95, 0.15), (25, 75, 0.35))
PERCENTILES = (5, 25, 50, 75, 95)
MOST_QUEUES = 6  # queue rows at most: the longest queues of the baseline
SUBTITLE = "median line; bands p25–p75 and p5–p95 across replications; grey: warm-up"
HOVER = (
    "%{x|%a %d %b %H:%M}: median %{y:.3g} (p5 %{customdata[0]:.3g}, p95 %{customdata[1]:.3g})<extra></extra>"
)


def fan_values(series: pd.DataFrame, scenario: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(sample times, 5 x samples percentiles p5, p25, p50, p75, p95 across replications)."""
    part = series[series["scenario"] == scenario]
    grid = part.pivot(index="replication", columns="time", values=column)
    return grid.columns.to_numpy(float), np.percentile(grid.to_numpy(float), PERCENTILES, axis=0)


def state_fans(
    series: pd.DataFrame, twins: dict[str, Twin], scenarios: Sequence[str], colors: dict[str, str]
) -> list[go.Figure]:
    """WIP and backlog; the longest queues; stock on hand (when the twin has materials)."""
    base = twins[scenarios[0]]
    grid = functools.partial(_grid, series, twins, scenarios, colors)
    figs = [grid([("wip", "WIP"), ("backlog", "backlog")],
                 "Work in process and backlog (entities waiting to start anywhere)", "entities")]
    queues = _longest_queues(series, base, scenarios[0])
    if queues:
        left = sum(a.can_queue for a in base.activities) - len(queues)
        more = f"; {left} shorter queue(s) not shown" if left > 0 else ""
        figs.append(grid([(f"queue.{a}", f"{a} queue") for a in queues],
                         f"Queues: entities waiting at each activity{more}", "entities"))
    if base.materials:
        figs.append(grid([(f"stock.{m.name}", m.name) for m in base.materials], "Stock on hand", "units"))
    return figs


def _longest_queues(series: pd.DataFrame, twin: Twin, baseline: str) -> list[str]:
    """Activities that can queue, the MOST_QUEUES longest (mean over the baseline), in spec order."""
    names = [a.name for a in twin.activities if a.can_queue and f"queue.{a.name}" in series]
    part = series[series["scenario"] == baseline]
    means = {n: float(part[f"queue.{n}"].mean()) for n in names}
    keep = set(sorted(names, key=lambda n: -means[n])[:MOST_QUEUES])
    return [n for n in names if n in keep]


def _grid(
    series: pd.DataFrame,
    twins: dict[str, Twin],
    scenarios: Sequence[str],
    colors: dict[str, str],
    measures: list[tuple[str, str]],
    title: str,
    unit: str,
) -> go.Figure:
    clock = Clock.of(twins[scenarios[0]])
    fig = make_subplots(
        rows=len(measures),
        cols=len(scenarios),
        shared_xaxes="all",
        shared_yaxes=True,
        column_titles=list(scenarios),
        horizontal_spacing=0.03,
        vertical_spacing=min(0.08, 0.3 / len(measures)),
    )
    for col, name in enumerate(scenarios, start=1):
        twin = twins[name]
        for row, (column, label) in enumerate(measures, start=1):
            if column in series and series.loc[series["scenario"] == name, column].notna().any():
                times, bands = fan_values(series, name, column)
                _fan(fig, row, col, clock.epoch_ms(times), bands, color_of(name, colors), f"{name}: {label}")
            fig.add_vrect(
                x0=clock.date(0.0),
                x1=clock.date(twin.warmup),
                fillcolor="#999999",
                opacity=0.12,
                line_width=0,
                row=row,
                col=col,
            )
            if col == 1:
                fig.update_yaxes(title_text=f"{label} ({unit})", row=row, col=col)
    fig.update_xaxes(showgrid=True, gridcolor="#EEEEEE", type="date")
    fig.update_xaxes(title_text=clock.label, row=len(measures), col=1)  # once: columns are narrow
    fig.update_layout(
        title=f"{title}<br><sup>{SUBTITLE}</sup>",
        height=150 + 190 * len(measures),
        plot_bgcolor="white",
        showlegend=False,
        margin={"t": 110},
    )
    return fig


def _fan(fig: go.Figure, row: int, col: int, x: np.ndarray, bands: np.ndarray, color: str, name: str) -> None:
    p5, p25, p50, p75, p95 = bands
    for (lo, hi, alpha), (low, high) in zip(BANDS, ((p5, p95), (p25, p75)), strict=True):
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([high, low[::-1]]),
                fill="toself",
                fillcolor=tint(color, alpha),
                line={"width": 0},
                name=f"{name} p{lo}–p{hi}",
                hoverinfo="skip",
            ),
            row=row,
            col=col,
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=p50,
            mode="lines",
            name=f"{name} median",
            line={"color": color, "width": 1.5},
            customdata=np.column_stack([p5, p95]),
            hovertemplate=HOVER,
        ),
        row=row,
        col=col,
    )
