"""Where the money goes: each plan's mean cost split into its parts (twin.costs).

One horizontal stacked bar per plan (in study order, its name in its own colour), one
segment per cost part with the part's mean over replications; the total and its 95% CI
half-width are written at the end of the bar. Parts that are zero for every plan are left
out. Colours name the parts, not the plans, and are the same in every report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from twin.costs import COST_PARTS
from viz.colors import color_of
from viz.labels import number

PART_COLORS = dict(zip(COST_PARTS, ("#4C72B0", "#8172B3", "#C44E52", "#937860", "#DA8BC3", "#DD8452",
                                     "#55A868", "#8C8C8C", "#CCB974"), strict=True))


def cost_parts(table: pd.DataFrame, scenarios: Sequence[str]) -> pd.DataFrame:
    """Mean of each cost part per scenario (rows in study order), parts never used dropped."""
    columns = [f"cost.{p}" for p in COST_PARTS if f"cost.{p}" in table]
    means = table.groupby("scenario")[columns].mean().reindex(list(scenarios))
    used = [c for c in columns if (means[c].abs() > 0).any()]
    return means[used].rename(columns=lambda c: c.removeprefix("cost."))


def cost_breakdown(table: pd.DataFrame, scenarios: Sequence[str], colors: dict[str, str],
                   currency: str = "") -> go.Figure:
    parts = cost_parts(table, scenarios)
    fig = go.Figure()
    names = list(parts.index)
    for part in parts.columns:
        fig.add_bar(y=names, x=parts[part].tolist(), name=part, orientation="h",
                    marker_color=PART_COLORS[part],
                    hovertemplate=f"%{{y}}: {part} %{{x:,.0f}} {currency}<extra></extra>")
    for name in names:
        x = table.loc[table["scenario"] == name, "cost"].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        half = 1.96 * x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else 0.0
        fig.add_annotation(x=float(x.mean()), y=name, text=f"  {number(float(x.mean()))} ± {number(half)}",
                           showarrow=False, xanchor="left", font={"size": 12})
    unit = f" ({currency})" if currency else ""
    fig.update_layout(
        barmode="stack", title=f"Cost per replication by part{unit}: mean over replications",
        xaxis={"title": f"mean cost{unit}", "gridcolor": "#EEEEEE", "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "tickmode": "array", "tickvals": names,
               "ticktext": [f"<span style='color:{color_of(n, colors)}'>{n}</span>" for n in names]},
        # the legend above the bars: below them it met the axis title when there are few plans
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                "title": {"text": "part"}},
        height=170 + 48 * len(names), margin={"l": 170, "r": 120, "t": 90, "b": 60},
        plot_bgcolor="white",
    )
    return fig
