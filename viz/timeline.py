"""One replication up close: pool units over time, and stock on hand with its orders.

Both are derived from an event trace `(time, kind, subject, name)`:
- `failure`/`repair` carry the unit index and pool, `shift` the new on-duty level (units
  `0..level-1` are on shift); a unit going off shift while busy finishes its job first.
  `maintenance`/`maintained` bracket planned maintenance; where repairs or maintenance need a
  crew, the unit is "waiting for the crew" from going down until its `crew` row. A `setup`
  row marks the units of that job (a set-up has no end in the trace: it is part of the hold).
- Busy units are replayed with the engine's rule: the lowest-numbered free units are
  taken at `grant` (the trace row of the moment a request gets its units) and released at
  `end`, or at `preempt` (a higher class took them; the job, started already, is busy again
  from its next `grant`). Between `grant` and `start` the job waits for its material: those units are
  "held" (counted busy by the utilisation KPI, shown apart here), so the chart is exact.
- Stock starts at `initial`, drops by `consumes` at each `start`, rises at each
  `delivery` (subject = quantity); `order` marks carry the ordered quantity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.spec import Twin
from viz.clock import Clock
from viz.colors import CREW_WAIT, HELD, MAINTENANCE, SETUP, STATES, TARGET
from viz.labels import SHORT, time_label

Trace = Sequence[tuple[float, str, int, str]]


class _Units:
    """Per-unit state of one pool while the trace is replayed; emits state segments."""

    def __init__(self, name: str, capacity: int, on_duty: int, started: set[object]) -> None:
        self.name, self.on_duty, self.started = name, on_duty, started
        self.job: list[object | None] = [None] * capacity
        self.failed: list[str | None] = [None] * capacity  # why it is down: a STATES name
        self.since = [0.0] * capacity
        self.state = [self._state(i) for i in range(capacity)]
        self.rows: list[tuple[str, int, str, float, float]] = []

    def _state(self, i: int) -> str:
        down = self.failed[i]
        if down is not None:
            return down
        if self.job[i] is not None:
            return "busy" if self.job[i] in self.started else HELD
        return "idle" if i < self.on_duty else "off shift"

    def update(self, now: float) -> None:
        for i, old in enumerate(self.state):
            new = self._state(i)
            if new != old:
                if now > self.since[i]:
                    self.rows.append((self.name, i, old, self.since[i], now))
                self.state[i], self.since[i] = new, now

    def take(self, count: int, job: object) -> list[int]:
        free = [
            i for i in range(len(self.job)) if self.job[i] is None and not self.failed[i] and i < self.on_duty
        ]
        for i in free[:count]:
            self.job[i] = job
        return free[:count]


def unit_states(trace: Trace, twin: Twin) -> pd.DataFrame:
    """One row per state segment: pool, unit, state (one of `STATES`), start, end."""
    started: set[object] = set()
    pools = {
        r.name: _Units(r.name, r.capacity, _on_duty_at_zero(twin, r.name), started) for r in twin.resources
    }
    needs = {a.name: a.resources for a in twin.activities}
    crewed = {r.name: {kind for kind, *_ in r.crews} for r in twin.resources}
    held: dict[tuple[int, str], list[tuple[str, int]]] = {}
    granted: dict[int, tuple[int, str]] = {}  # entity -> its job granted last
    marks: list[tuple[str, int, str, float, float]] = []
    down_for: dict[tuple[str, int], str] = {}  # (pool, unit) -> the state of its work once the crew is there
    for t, kind, subject, name in trace:
        touched: set[str] = set()
        if kind == "shift" and name in pools:
            pools[name].on_duty, touched = subject, {name}
        elif kind in ("failure", "maintenance") and name in pools:
            work = "repair" if kind == "failure" else "maintenance"
            down_for[(name, subject)] = "failed" if kind == "failure" else MAINTENANCE
            why = CREW_WAIT if work in crewed[name] else down_for[(name, subject)]
            pools[name].failed[subject], touched = why, {name}
        elif kind == "crew" and name in pools:  # the crew came: the repair or maintenance starts
            pools[name].failed[subject], touched = down_for[(name, subject)], {name}
        elif kind in ("repair", "maintained") and name in pools:
            pools[name].failed[subject], touched = None, {name}
        elif kind == "setup":
            marks += [(p, i, SETUP, t, t) for p, i in held.get((subject, name), [])]
        elif kind == "grant":
            job = (subject, name)
            held[job] = [(p, i) for p, k in needs[name].items() for i in pools[p].take(k, job)]
            granted[subject] = job
            touched = set(needs[name])
        elif kind == "by" and name in pools:  # the skilled pool of that grant
            job = granted[subject]
            held[job] += [(name, i) for i in pools[name].take(1, job)]
            touched = {name}
        elif kind == "start":
            started.add((subject, name))
            touched = {p for p, _ in held.get((subject, name), [])}
        elif kind in ("end", "preempt"):  # a preempted job gives its units back, started still:
            units = held.pop((subject, name), [])  # its next grant resumes it (no new start)
            for p, i in units:
                pools[p].job[i] = None
            if kind == "end":
                started.discard((subject, name))
            touched = {p for p, _ in units}
        for p in touched:
            pools[p].update(t)
    for pool in pools.values():
        pool.update(twin.horizon)
        pool.rows += [
            (pool.name, i, s, pool.since[i], twin.horizon)
            for i, s in enumerate(pool.state)
            if twin.horizon > pool.since[i]
        ]
    return pd.DataFrame(
        [r for p in pools.values() for r in p.rows] + marks, columns=["pool", "unit", "state", "start", "end"]
    )


def _on_duty_at_zero(twin: Twin, pool: str) -> int:
    resource = next(r for r in twin.resources if r.name == pool)
    calendar = twin.calendar(resource)
    return resource.capacity if calendar is None else int(calendar.on_duty(0.0))


STRESS_FILL = "#C0392B"


def stress_label(twin: Twin) -> str:
    """'blank-outage: supplier outage (steel_blanks); ...' for the stresses of a twin."""
    return "; ".join(f"{s.name}: {s.kind.replace('_', ' ')} ({s.target})" for s in twin.stresses)


def shade_stresses(fig: go.Figure, twin: Twin, clock: Clock | None, rows: int = 0,
                   window: tuple[float, float] | None = None) -> None:
    """A light red band over each stress window of `twin` (within `window`), labelled on the
    first panel of a subplot figure (`rows` panels) and left to the title on a single plot."""
    for s in twin.stresses:
        lo, hi = s.start, min(s.end, twin.horizon)
        if window is not None:
            lo, hi = max(lo, window[0]), min(hi, window[1])
        if hi <= lo:
            continue
        x0, x1 = (lo, hi) if clock is None else (clock.date(lo), clock.date(hi))
        band = {"x0": x0, "x1": x1, "fillcolor": STRESS_FILL, "opacity": 0.12, "line_width": 0}
        if not rows:
            fig.add_vrect(**band, layer="above")
            continue
        label = f"{s.name}: {s.kind.replace('_', ' ')}"
        for row in range(1, rows + 1):
            text = {"annotation_text": label, "annotation_position": "top left",
                    "annotation_font": {"size": 10, "color": STRESS_FILL}} if row == 1 else {}
            fig.add_vrect(**band, layer="below", row=row, col=1, **text)


def pool_gantt(
    states: pd.DataFrame,
    time_unit: str,
    window: tuple[float, float],
    title: str = "",
    clock: Clock | None = None,
    twin: Twin | None = None,
) -> go.Figure:
    """Gantt of every pool unit's state inside `window` (simulated time); with a `clock`, the
    time axis is in calendar dates; with the `twin`, its stress windows are shaded."""
    t0, t1 = window
    seg = states[(states["end"] > t0) & (states["start"] < t1)].copy()
    seg["start"], seg["end"] = seg["start"].clip(t0, t1), seg["end"].clip(t0, t1)
    seg["row"] = seg["pool"] + " #" + seg["unit"].astype(str)
    order = list(dict.fromkeys(seg.sort_values(["pool", "unit"], key=_pool_order(states))["row"]))
    fig = go.Figure()
    for state, color in STATES.items():
        part = seg[seg["state"] == state]
        if state == SETUP:  # instants: a mark where a job's set-up began
            at = part["start"] if clock is None else clock.dates(part["start"])
            fig.add_trace(go.Scatter(
                y=part["row"], x=at, mode="markers", name=state,
                marker={"color": color, "symbol": "line-ns-open", "size": 12},
                hovertemplate=f"%{{y}} {state} at %{{x}}<extra></extra>"))
            continue
        length = part["end"] - part["start"]
        fig.add_trace(
            go.Bar(
                y=part["row"],
                x=length if clock is None else clock.ms(length),
                base=part["start"] if clock is None else clock.dates(part["start"]),
                orientation="h",
                name=state,
                marker={"color": color, "line": {"width": 0}},
                customdata=np.column_stack([_when(part["start"], clock), _when(part["end"], clock), length]),
                hovertemplate=f"%{{y}} {state}<br>%{{customdata[0]}} → %{{customdata[1]}} "
                f"(%{{customdata[2]:.3g}} {SHORT.get(time_unit, time_unit)})<extra></extra>",
            )
        )
    xaxis = {"title": time_label(time_unit), "range": [t0, t1]}
    if clock is not None:
        xaxis = {"title": clock.label, "range": [clock.date(t0), clock.date(t1)], "type": "date"}
    fig.update_layout(
        title=title or "Pool units over time",
        barmode="overlay",
        bargap=0.25,
        xaxis=xaxis,
        plot_bgcolor="white",
        yaxis={"categoryorder": "array", "categoryarray": order[::-1], "title": "unit"},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        margin={"t": 100},
        height=180 + 26 * len(order),
    )
    if twin is not None:
        shade_stresses(fig, twin, clock, window=window)
    return fig


def _when(t: pd.Series, clock: Clock | None) -> list[str]:
    if clock is None:
        return [f"{x:.4g}" for x in t]
    return [f"{d:%a %d %b %H:%M}" for d in clock.dates(t)]


def _pool_order(states: pd.DataFrame):  # type: ignore[no-untyped-def]
    pools = list(dict.fromkeys(states["pool"]))
    return lambda col: col.map(pools.index) if col.name == "pool" else col


def stock_path(trace: Trace, twin: Twin, material: str) -> pd.DataFrame:
    """Stock on hand after each change: columns time, level, kind (start|delivery), quantity."""
    spec = next(m for m in twin.materials if m.name == material)
    uses = {a.name: a.consumes[material] for a in twin.activities if material in a.consumes}
    rows = [(0.0, spec.initial, "initial", 0)]
    level = spec.initial
    for t, kind, subject, name in trace:
        if kind == "start" and name in uses:
            level -= uses[name]
            rows.append((t, level, "start", uses[name]))
        elif kind == "delivery" and name == material:
            level += subject
            rows.append((t, level, "delivery", subject))
    return pd.DataFrame(rows, columns=["time", "level", "kind", "quantity"])


def time_average(path: pd.DataFrame, start: float, end: float) -> float:
    """Time-average of the stepwise level over [start, end]."""
    t = np.clip(np.append(path["time"].to_numpy(float), end), start, end)
    return float(np.sum(path["level"].to_numpy(float) * np.diff(t)) / (end - start))


def stock_sawtooth(trace: Trace, twin: Twin, title: str = "", calendar: bool = False) -> go.Figure:
    """Stock on hand of every material over the whole replication, with orders and deliveries;
    `calendar`: the time axis in dates from the twin's `start`."""
    names = [m.name for m in twin.materials]
    fig = make_subplots(
        rows=max(1, len(names)), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.12
    )
    orders = [(t, q, n) for t, kind, q, n in trace if kind == "order"]
    for row, material in enumerate(names, start=1):
        _material_panel(
            fig,
            row,
            stock_path(trace, twin, material),
            [o for o in orders if o[2] == material],
            next(m for m in twin.materials if m.name == material),
        )
        fig.update_yaxes(title_text="units on hand", row=row, col=1)
    clock = Clock.of(twin) if calendar else None
    if clock is not None:
        for line in fig.data:
            line.x = clock.epoch_ms(np.asarray(line.x, dtype=float))
    warmup = (0.0, twin.warmup) if clock is None else (clock.date(0.0), clock.date(twin.warmup))
    for row in range(1, len(names) + 1):
        fig.add_vrect(
            x0=warmup[0], x1=warmup[1], fillcolor="#999999", opacity=0.12, line_width=0, row=row, col=1
        )
    shade_stresses(fig, twin, clock, rows=len(names))
    label = time_label(twin.time_unit) if clock is None else clock.label
    fig.update_xaxes(title_text=label, row=len(names), col=1)
    if clock is not None:
        fig.update_xaxes(type="date")
    fig.update_layout(
        title=title or "Stock on hand",
        height=120 + 260 * len(names),
        plot_bgcolor="white",
        legend={"orientation": "h", "y": 1.06},
    )
    return fig


def _material_panel(fig: go.Figure, row: int, path: pd.DataFrame, orders: list, spec: object) -> None:
    first = row == 1
    fig.add_trace(
        go.Scatter(
            x=path["time"],
            y=path["level"],
            mode="lines",
            line_shape="hv",
            name="on hand",
            line={"color": "#0072B2", "width": 1.5},
            showlegend=first,
            legendgroup="hand",
        ),
        row=row,
        col=1,
    )
    times = path["time"].to_numpy(float)
    at = [path["level"].iloc[max(0, int(np.searchsorted(times, t, side="right")) - 1)] for t, _, _ in orders]
    fig.add_trace(
        go.Scatter(
            x=[o[0] for o in orders],
            y=at,
            mode="markers",
            name="order placed",
            marker={"symbol": "triangle-down", "size": 10, "color": "#E69F00"},
            text=[f"order {o[1]}" for o in orders],
            hoverinfo="x+text",
            showlegend=first,
            legendgroup="order",
        ),
        row=row,
        col=1,
    )
    deliveries = path[path["kind"] == "delivery"]
    fig.add_trace(
        go.Scatter(
            x=deliveries["time"],
            y=deliveries["level"],
            mode="markers",
            name="delivery",
            marker={"symbol": "triangle-up", "size": 10, "color": "#009E73"},
            text=[f"delivered {q}" for q in deliveries["quantity"]],
            hoverinfo="x+text",
            showlegend=first,
            legendgroup="delivery",
        ),
        row=row,
        col=1,
    )
    reorder = getattr(spec, "reorder", None)
    if reorder is not None:
        fig.add_hline(
            y=reorder.point,
            line={"color": TARGET, "dash": "dash", "width": 1},
            row=row,
            col=1,
            annotation={"text": f"reorder point {reorder.point}", "font": {"color": TARGET}},
        )
