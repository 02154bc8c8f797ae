"""Calibration views: a fitted distribution over the data's histogram, and a QQ plot.

The model is any scipy.stats frozen distribution, or a distribution of the twin spec
(twin/distributions.py), converted with `frozen()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from pydantic import BaseModel
from scipy import stats

from twin.remaining import frozen
from viz.colors import PALETTE, TARGET


def describe(model: Any) -> str:
    """'lognorm(0.47, scale=2.7)' for a scipy frozen distribution."""
    args = ", ".join(f"{a:.3g}" for a in model.args)
    kwds = ", ".join(f"{k}={v:.3g}" for k, v in model.kwds.items())
    return f"{model.dist.name}({', '.join(p for p in (args, kwds) if p)})"


def spec_text(dist: Any) -> str:
    """'lognormal(mean 1, sd 0.3)': a spec distribution as the twin file writes it."""
    fields = {k: v for k, v in dist.model_dump().items() if k != "dist"}
    if "values" in fields:
        return f"empirical({len(fields['values'])} values)"
    return f"{dist.dist}(" + ", ".join(f"{k} {v:.3g}" for k, v in fields.items()) + ")"


def qq_points(data: Sequence[float], model: Any) -> tuple[np.ndarray, np.ndarray]:
    """(model quantiles, sorted data) at plotting positions (i - 0.5) / n."""
    x = np.sort(np.asarray(data, dtype=float))
    x = x[~np.isnan(x)]
    p = (np.arange(1, x.size + 1) - 0.5) / x.size
    return np.asarray(model.ppf(p), dtype=float), x


def fit_plot(data: Sequence[float], dist: Any, label: str, unit: str,
             heading: str = "Calibration") -> go.Figure:
    """Left: histogram of `data` (density) with the model's pdf; right: QQ plot with y = x.
    `dist` is a twin spec distribution (named by its spec parameters) or a scipy frozen one."""
    model = frozen(dist)
    x = np.asarray(data, dtype=float)
    x = x[~np.isnan(x)]
    ks = stats.kstest(x, model.cdf)
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.6, 0.4], subplot_titles=[f"{label}: data and model", "QQ plot"]
    )
    fig.add_trace(
        go.Histogram(
            x=x,
            histnorm="probability density",
            name=f"data (n = {x.size})",
            marker={"color": "#BBCCDD", "line": {"color": "white", "width": 1}},
        ),
        row=1,
        col=1,
    )
    grid = np.linspace(max(0.0, float(model.ppf(0.001))), float(model.ppf(0.999)), 300)
    fig.add_trace(
        go.Scatter(
            x=grid,
            y=model.pdf(grid),
            mode="lines",
            name=f"model: {spec_text(dist) if isinstance(dist, BaseModel) else describe(model)}",
            line={"color": PALETTE[0], "width": 2.5},
        ),
        row=1,
        col=1,
    )
    theory, observed = qq_points(x, model)
    fig.add_trace(
        go.Scatter(
            x=theory,
            y=observed,
            mode="markers",
            name="quantiles",
            marker={"color": PALETTE[0], "size": 5},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    ends = [float(min(theory.min(), observed.min())), float(max(theory.max(), observed.max()))]
    fig.add_trace(
        go.Scatter(
            x=ends,
            y=ends,
            mode="lines",
            name="y = x",
            line={"color": TARGET, "dash": "dash"},
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(title_text=f"{label} ({unit})", row=1, col=1)
    fig.update_yaxes(title_text="probability density", row=1, col=1)
    fig.update_xaxes(title_text=f"model quantile ({unit})", row=1, col=2)
    fig.update_yaxes(title_text=f"data quantile ({unit})", row=1, col=2)
    fig.update_layout(
        title=f"{heading}: {label} — Kolmogorov-Smirnov D = {ks.statistic:.3f}, p = {ks.pvalue:.2g}",
        height=420,
        plot_bgcolor="white",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def activity_durations(trace: Sequence[tuple[float, str, int, str]], activity: str) -> np.ndarray:
    """Durations (end − start) of `activity` in a trace; an entity is at one activity at a time."""
    started: dict[int, float] = {}
    out = []
    for t, kind, entity, name in trace:
        if name == activity and kind == "start":
            started[entity] = t
        elif name == activity and kind == "end" and entity in started:
            out.append(t - started.pop(entity))
    return np.asarray(out, dtype=float)
