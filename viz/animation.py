"""One replication played back on the process map: entities moving, queues growing, units
busy, down or off shift, with a clock and play, pause and speed controls (plotly frames).

Everything comes from the engine's event trace `(time, kind, subject, name)`:
- an entity waits at a step from the moment it became free (its `arrival`, or the `end` of
  its previous step) until its `start` there, is served from `start` to `end`, and leaves
  when no step follows; `renege`, `lost` and `balk` end a wait where they happen; a
  `preempt`ed job waits again until its next `grant` there;
- pool units per state at each frame are those of `viz.timeline.unit_states`.
Each dot is one entity (its id kept from frame to frame, so plotly moves it between steps):
served dots sit on the step, waiting ones queue to its left (at most `SHOWN` each, the rest
counted). Nothing is simulated here: the report hands in a traced replication.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from twin.spec import EXIT, Twin, flow_graph
from viz.clock import Clock
from viz.colors import STATES
from viz.labels import PLURAL, SHORT
from viz.process_map import layout
from viz.timeline import Trace, unit_states

WAITING, SERVED = "#e69f00", "#0072b2"
SHOWN = 12  # dots a step shows in its queue and in service; the rest are counted
SPEEDS = {"1x": 160, "2x": 80, "4x": 40}  # milliseconds a frame


def entity_segments(trace: Trace, twin: Twin) -> pd.DataFrame:
    """One row per entity and stretch: entity, activity, state (waiting, served), start, end.
    An entity still waiting at the horizon waits where the twin sends it for sure (its
    stream's first step, or the one step after its last); after a branch the trace cannot say."""
    free: dict[int, float] = {}  # entity -> when it became free to move on
    heading: dict[int, str | None] = {}  # entity -> where it goes next, when only one place
    serving: dict[int, tuple[str, float]] = {}
    waiting_again: dict[int, tuple[str, float]] = {}  # preempted: waits at its step until a grant
    rows: list[tuple[int, str, str, float, float]] = []
    route = {a.name: a.route for a in twin.arrivals}
    onward = {a.name: _only(a.next) for a in twin.activities}
    for t, kind, subject, name in trace:
        if kind == "arrival":
            free[subject], heading[subject] = t, route.get(name)
        elif kind == "start" and subject in free:
            rows.append((subject, name, "waiting", free.pop(subject), t))
            serving[subject] = (name, t)
        elif kind == "end" and subject in serving:
            step, began = serving.pop(subject)
            rows.append((subject, step, "served", began, t))
            free[subject], heading[subject] = t, onward.get(step)
        elif kind == "preempt" and subject in serving:
            step, began = serving.pop(subject)
            rows.append((subject, step, "served", began, t))
            waiting_again[subject] = (step, t)
        elif kind == "grant" and subject in waiting_again and waiting_again[subject][0] == name:
            step, since = waiting_again.pop(subject)
            rows.append((subject, step, "waiting", since, t))
            serving[subject] = (step, t)
        elif kind in ("renege", "lost", "balk") and subject in free:
            rows.append((subject, name, "waiting", free.pop(subject), t))
    horizon = twin.horizon
    rows += [(e, step, "served", began, horizon) for e, (step, began) in serving.items()]
    rows += [(e, step, "waiting", since, horizon) for e, (step, since) in waiting_again.items()]
    rows += [
        (e, where, "waiting", since, horizon)
        for e, since in free.items()
        if (where := heading.get(e)) is not None
    ]
    frame = pd.DataFrame(rows, columns=["entity", "activity", "state", "start", "end"])
    return frame[frame["end"] > frame["start"]].reset_index(drop=True)


def _only(next_steps: dict[str, float]) -> str | None:
    """The one step that surely follows (None: a branch, or leaving)."""
    sure = [step for step, p in next_steps.items() if p == 1.0]
    return sure[0] if len(next_steps) == 1 and sure and sure[0] != EXIT else None


def frame_times(twin: Twin, frames: int, length: float | None = None) -> np.ndarray:
    """`frames` instants from the warm-up over `length` (default: two days, or what is left)."""
    default = {"minute": 2 * 1440.0, "hour": 48.0, "day": 14.0}[twin.time_unit]
    end = min(twin.horizon, twin.warmup + (length or default))
    return np.linspace(twin.warmup, end, frames)


def animation(
    trace: Trace, twin: Twin, title: str = "", frames: int = 120, length: float | None = None
) -> go.Figure:
    """The replication in `trace` played back over `frames` instants."""
    graph = flow_graph(twin)
    pos, _ = layout(graph, [f"arrival:{a.name}" for a in twin.arrivals])
    steps = [a.name for a in twin.activities if a.name in pos]
    segments = entity_segments(trace, twin)
    units = (
        unit_states(trace, twin)
        if twin.resources
        else pd.DataFrame(columns=["pool", "state", "start", "end"])
    )
    times = frame_times(twin, frames, length)
    clock = Clock.of(twin)
    edges = _edges(graph, pos)
    built = [_frame(t, segments, units, steps, pos, twin, clock) for t in times]
    heading = title + "<br>" if title else ""  # every frame's title keeps it above its clock
    fig = go.Figure(
        data=[edges, _nodes(pos, steps), *built[0].data],
        frames=[
            go.Frame(
                data=f.data,
                name=str(i),
                traces=[2, 3, 4],
                layout={"title": {"text": heading + f.title}, "annotations": f.annotations},
            )
            for i, f in enumerate(built)
        ],
    )
    xs = [x for x, _ in pos.values()]
    ys = [y for _, y in pos.values()]
    fig.update_layout(
        title={"text": heading + built[0].title, "x": 0.01, "xanchor": "left"},
        annotations=built[0].annotations,
        showlegend=True,
        plot_bgcolor="white",
        height=int(360 + 110 * (max(ys) - min(ys))),
        xaxis={"visible": False, "range": [min(xs) - 1.2, max(xs) + 0.6]},
        yaxis={"visible": False, "range": [min(ys) - 1.0, max(ys) + 1.0]},
        # above the map on the right, clear of the play buttons and slider below it
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        margin={"l": 20, "r": 20, "t": 80, "b": 90},
        updatemenus=[_controls()],
        sliders=[_slider(times, clock, twin)],
    )
    return fig


def _nodes(pos: dict[str, tuple[float, float]], steps: list[str]) -> go.Scatter:
    """Steps as grey squares; arrivals (named) and the exit as markers of their own."""
    names = list(pos)
    symbols = ["square" if n in steps else "triangle-right" if n.startswith("arrival:") else "circle-x"
               for n in names]
    text = ["" if n in steps else n.removeprefix("arrival:") for n in names]
    return go.Scatter(x=[pos[n][0] for n in names], y=[pos[n][1] for n in names], mode="markers+text",
                      text=text, textposition="bottom center", hoverinfo="skip", showlegend=False,
                      marker={"symbol": symbols, "size": 22, "color": "#eef1f5",
                              "line": {"color": "#9aa5b1", "width": 1}})


def _edges(graph: object, pos: dict[str, tuple[float, float]]) -> go.Scatter:
    x: list[float | None] = []
    y: list[float | None] = []
    for a, b in graph.edges():  # type: ignore[attr-defined]
        if a in pos and b in pos:
            x += [pos[a][0], pos[b][0], None]
            y += [pos[a][1], pos[b][1], None]
    return go.Scatter(
        x=x, y=y, mode="lines", line={"color": "#cccccc", "width": 1.5}, hoverinfo="skip", showlegend=False
    )


@dataclass
class Frame:
    data: list[go.Scatter]
    title: str
    annotations: list[dict[str, object]]


def _frame(
    t: float,
    segments: pd.DataFrame,
    units: pd.DataFrame,
    steps: list[str],
    pos: dict[str, tuple[float, float]],
    twin: Twin,
    clock: Clock,
) -> Frame:
    now = segments[(segments["start"] <= t) & (segments["end"] > t)]
    dots: dict[str, list[list[object]]] = {"waiting": [[], [], []], "served": [[], [], []]}
    labels_x, labels_y, labels = [], [], []
    for step in steps:
        x0, y0 = pos[step]
        here = now[now["activity"] == step].sort_values(["start", "entity"])
        counts = {}
        for state in ("waiting", "served"):
            group = here[here["state"] == state]
            counts[state] = len(group)
            for i, entity in enumerate(group["entity"].tolist()[:SHOWN]):
                dx, dy = _place(state, i)
                dots[state][0].append(x0 + dx)
                dots[state][1].append(y0 + dy)
                dots[state][2].append(int(entity))
        labels_x.append(x0)
        labels_y.append(y0 - 0.42)
        labels.append(f"<b>{step}</b><br>{counts['waiting']} waiting · {counts['served']} served")
    data = [
        go.Scatter(
            x=dots["waiting"][0],
            y=dots["waiting"][1],
            ids=[str(e) for e in dots["waiting"][2]],
            mode="markers",
            name="waiting",
            marker={"color": WAITING, "size": 9},
            hovertext=[f"entity {e}" for e in dots["waiting"][2]],
            hoverinfo="text",
        ),
        go.Scatter(
            x=dots["served"][0],
            y=dots["served"][1],
            ids=[str(e) for e in dots["served"][2]],
            mode="markers",
            name="in service",
            marker={"color": SERVED, "size": 11, "symbol": "square"},
            hovertext=[f"entity {e}" for e in dots["served"][2]],
            hoverinfo="text",
        ),
        go.Scatter(
            x=labels_x,
            y=labels_y,
            mode="text",
            text=labels,
            textfont={"size": 11},
            hoverinfo="skip",
            showlegend=False,
        ),
    ]
    when = f"{t:,.1f} {PLURAL[twin.time_unit]} ({clock.date(t):%a %d %b %H:%M})"
    return Frame(data, f"t = {when}", [_pools(units, t, twin)])


def _place(state: str, i: int) -> tuple[float, float]:
    """Served dots in rows of four on the step; waiting ones in a line to its left."""
    if state == "served":
        return -0.15 + 0.1 * (i % 4), 0.12 + 0.14 * (i // 4)
    return -0.3 - 0.07 * (i % 6), 0.12 + 0.14 * (i // 6)


def _pools(units: pd.DataFrame, t: float, twin: Twin) -> dict[str, object]:
    """A panel of every pool's units by state at `t`."""
    now = units[(units["start"] <= t) & (units["end"] > t)]
    lines = []
    for resource in twin.resources:
        counts: dict[str, int] = defaultdict(int)
        for state in now[now["pool"] == resource.name]["state"]:
            counts[str(state)] += 1
        shown = " · ".join(f"{counts[s]} {s}" for s in STATES if counts.get(s))
        lines.append(f"<b>{resource.name}</b>: {shown or 'none'}")
    return {
        "text": "<br>".join(lines) or "no pools",
        "xref": "paper",
        "yref": "paper",
        "x": 0.0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "top",
        "align": "left",
        "showarrow": False,
        "bgcolor": "rgba(255,255,255,0.85)",
        "font": {"size": 11},
    }


def _controls() -> dict[str, object]:
    buttons: list[dict[str, Any]] = [
        {
            "label": f"▶ {name}",
            "method": "animate",
            "args": [
                None,
                {
                    "frame": {"duration": ms, "redraw": True},
                    "fromcurrent": True,
                    "transition": {"duration": ms // 2},
                },
            ],
        }
        for name, ms in SPEEDS.items()
    ]
    buttons.append(
        {
            "label": "❚❚ pause",
            "method": "animate",
            "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
        }
    )
    return {
        "type": "buttons",
        "direction": "left",
        "x": 0.0,
        "y": -0.08,
        "xanchor": "left",
        "yanchor": "top",
        "showactive": False,
        "buttons": buttons,
    }


def _slider(times: np.ndarray, clock: Clock, twin: Twin) -> dict[str, object]:
    every = max(1, math.ceil(len(times) / 12))  # labels a dozen ticks
    steps = [
        {
            "method": "animate",
            "label": f"{t:,.0f}" if i % every == 0 else "",
            "args": [[str(i)], {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"}],
        }
        for i, t in enumerate(times)
    ]
    return {
        "active": 0,
        "steps": steps,
        "x": 0.3,
        "len": 0.7,
        "y": -0.08,
        "yanchor": "top",
        "currentvalue": {"prefix": f"{SHORT[twin.time_unit]} "},
        "pad": {"t": 10},
    }
