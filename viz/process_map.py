"""Process map: the twin's flow as a left-to-right layered graph with its KPIs on it.

Nodes are arrivals, activities and `exit`, in layers by topological generation of the
flow graph with loop-closing edges set aside (they are drawn as arcs below). An
activity is coloured by the utilisation of the busiest pool it needs and sized by its mean
wait; an edge's width and label give its flow per time unit (the source activity's
completions per time unit after warm-up split by the branches of the classes served there;
an arrival edge carries 1 / mean interarrival); those who give up or are turned away go on
dashed red edges, and an activity's label gives their shares. The bottleneck, the activity
on the most utilised pool (the longest wait among its activities), is ringed in red.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np
import plotly.graph_objects as go

from twin.results import readable
from twin.spec import EXIT, Twin, flow_graph
from viz.colors import TARGET
from viz.labels import PLURAL, SHORT, number

Kpis = dict[str, dict[str, Any]]  # dotted KPI -> summary {"mean", "ci95", ...}
SPACING = 1.5  # vertical distance between nodes of a layer


def _mean(kpis: Kpis, key: str) -> float:
    value = kpis.get(key, {}).get("mean")
    return math.nan if value is None else float(value)


def back_edges(graph: nx.DiGraph, sources: list[str]) -> set[tuple[str, str]]:
    """Edges that close loops: in each cycle, the edge into its node nearest the sources."""
    depth = nx.multi_source_dijkstra_path_length(graph, sources, weight=None)
    dag, removed = graph.copy(), set()
    while not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag, source=sources)
        edge = min(cycle, key=lambda e: (depth.get(e[1], 0), -depth.get(e[0], 0)))
        dag.remove_edge(edge[0], edge[1])
        removed.add((edge[0], edge[1]))
    return removed


def layout(graph: nx.DiGraph, sources: list[str]) -> tuple[dict[str, tuple[float, float]], set]:
    """Positions by layer (x) and barycentre order within the layer (y); and the back edges."""
    back = back_edges(graph, sources)
    dag = graph.copy()
    dag.remove_edges_from(back)
    pos: dict[str, tuple[float, float]] = {}
    for x, layer in enumerate(nx.topological_generations(dag)):

        def centre(node: str) -> float:
            ys = [pos[p][1] for p in dag.predecessors(node) if p in pos]
            return float(np.mean(ys)) if ys else 0.0

        ordered = sorted(layer, key=lambda n: (centre(n), str(n)))
        for i, node in enumerate(ordered):
            pos[node] = (float(x), SPACING * ((len(ordered) - 1) / 2 - i))
    return pos, back


LEAVING = {"abandoned": "gave up", "lost": "turned away", "balked": "balked"}


def _share(kpis: Kpis, activity: str, kind: str) -> float:
    value = _mean(kpis, f"activities.{activity}.{kind}")
    return 0.0 if math.isnan(value) else value


def class_mix(twin: Twin, kpis: Kpis) -> dict[str, dict[str, float]]:
    """Per activity, each class's share of the entities served there: the traffic equations
    of each class (its arrival rates, its own branches, and those who give up or are turned
    away going where the activity sends them, at the activity's measured shares; giving up
    only for a class with patience there). Empty for an activity no class reaches."""
    names = [a.name for a in twin.activities]
    index = {n: i for i, n in enumerate(names)}
    served: dict[str, dict[str, float]] = {n: {} for n in names}
    for klass in twin.classes:
        rate = np.zeros(len(names))
        for a in twin.arrivals:
            if klass in a.class_names:
                share = a.classes.get(klass, 0.0) if a.classes else 1.0
                rate[index[a.route]] += share / twin.mean_interarrival(a)
        moves, kept = np.zeros((len(names), len(names))), np.ones(len(names))
        for act in twin.activities:
            i = index[act.name]
            gave_up = _share(kpis, act.name, "abandoned") if act.patience_of(klass) is not None else 0.0
            away = _share(kpis, act.name, "lost") + _share(kpis, act.name, "balked")
            kept[i] = max(0.0, 1.0 - gave_up - away)
            for target, p in act.successors_of(klass).items():
                if target != EXIT:
                    moves[i, index[target]] += kept[i] * p
            if act.abandon_to is not None:
                moves[i, index[act.abandon_to]] += gave_up
            if act.lost_to is not None:
                moves[i, index[act.lost_to]] += away
        try:
            visits = np.linalg.solve(np.eye(len(names)) - moves.T, rate)
        except np.linalg.LinAlgError:  # a class that could loop for ever: leave it out
            continue
        for name, i in index.items():
            if visits[i] * kept[i] > 0:
                served[name][klass] = float(visits[i] * kept[i])
    return {n: {c: v / sum(mix.values()) for c, v in mix.items()} for n, mix in served.items()}


def flows(twin: Twin, graph: nx.DiGraph, kpis: Kpis) -> dict[tuple[str, str], float]:
    """Flow per time unit on each edge: an activity's completions split by the branches of
    the classes served there (`class_mix`), plus those who leave it unserved (`leaving`)."""
    span = twin.horizon - twin.warmup
    out = {}
    for a in twin.arrivals:
        out[(f"arrival:{a.name}", a.route)] = 1.0 / twin.mean_interarrival(a)
    mixes, gone = class_mix(twin, kpis), leaving(twin, kpis)
    rerouted = {(r.action.reroute.from_, r.action.reroute.to) for r in twin.contingency if r.action.reroute}
    for u, v, data in graph.edges(data=True):
        if u.startswith("arrival:"):
            continue
        act, mix = twin.activity(u), mixes.get(u)
        p = sum(w * act.successors_of(c).get(v, 0.0) for c, w in mix.items()) if mix else data["probability"]
        if p > 0 or (u, v) in rerouted or not mix:  # else a way no class served here takes
            out[(u, v)] = _mean(kpis, f"activities.{u}.completed") / span * p
    for (u, v), (flow, _) in gone.items():
        out[(u, v)] = out.get((u, v), 0.0) + flow
    return out


def leaving(twin: Twin, kpis: Kpis) -> dict[tuple[str, str], tuple[float, str]]:
    """Flow per time unit of those who give up or are turned away, by edge (to the activity
    that takes them, or exit), with what happened: the shares of those reaching the activity,
    reached ≈ completed / (1 - the shares)."""
    span = twin.horizon - twin.warmup
    out: dict[tuple[str, str], tuple[float, str]] = {}
    for act in twin.activities:
        shares = {kind: _share(kpis, act.name, kind) for kind in LEAVING}
        total = sum(shares.values())
        if total <= 0 or total >= 1:
            continue
        reached = _mean(kpis, f"activities.{act.name}.completed") / span / (1 - total)
        for kind, share in shares.items():
            if share > 0:
                target = (act.abandon_to if kind == "abandoned" else act.lost_to) or EXIT
                flow, words = out.get((act.name, target), (0.0, ""))
                words = f"{words}, {LEAVING[kind]}" if words else LEAVING[kind]
                out[(act.name, target)] = (flow + reached * share, words)
    return out


def bottleneck(twin: Twin, kpis: Kpis) -> tuple[str, str, float] | None:
    """(activity, pool, utilisation) of the most utilised pool, or None without pools."""
    used = [
        (a.name, p, _mean(kpis, f"resources.{p}.utilization")) for a in twin.activities for p in a.pools
    ]
    used = [u for u in used if not math.isnan(u[2])]
    if not used:
        return None
    top = max(u[2] for u in used)
    candidates = [u for u in used if u[2] == top]
    return max(candidates, key=lambda u: _mean(kpis, f"activities.{u[0]}.wait"))


def process_map(twin: Twin, kpis: Kpis, title: str = "") -> go.Figure:
    """The flow of `twin` with the scenario's KPI means (`summary["scenarios"][s]["kpis"]`)."""
    graph = flow_graph(twin)
    sources = [f"arrival:{a.name}" for a in twin.arrivals]
    pos, back = layout(graph, sources)
    flow = flows(twin, graph, kpis)
    fig = go.Figure()
    _draw_edges(fig, pos, back, flow, twin.time_unit, leaving(twin, kpis))
    _draw_nodes(fig, twin, pos, kpis)
    top = bottleneck(twin, kpis)
    if top is not None:
        _mark_bottleneck(fig, pos[top[0]], top)
    width = max(x for x, _ in pos.values())
    heights = [y for _, y in pos.values()]
    fig.update_layout(
        title=title or f"Process map: {twin.name}",
        showlegend=False,
        plot_bgcolor="white",
        height=int(300 + 120 * (max(heights) - min(heights))),
        xaxis={"visible": False, "range": [-0.5, width + 0.5]},
        yaxis={"visible": False, "range": [min(heights) - 0.9, max(heights) + 0.7]},
        margin={"l": 20, "r": 20, "t": 60, "b": 20},
    )
    return fig


def _curve(p: tuple[float, float], q: tuple[float, float], bend: float) -> tuple[np.ndarray, np.ndarray]:
    """A quadratic Bezier from p to q bowed by `bend` x length to the right of travel."""
    (x0, y0), (x1, y1) = p, q
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    cx, cy = mx + bend * (y1 - y0), my - bend * (x1 - x0)
    t = np.linspace(0, 1, 25)
    return (1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t**2 * x1, (1 - t) ** 2 * y0 + 2 * t * (
        1 - t
    ) * cy + t**2 * y1


def _draw_edges(fig: go.Figure, pos: dict, back: set, flow: dict, time_unit: str,
                gone: dict[tuple[str, str], tuple[float, str]] | None = None) -> None:
    """Edges with their flow; those carrying only work that left unserved are dashed red, and
    their label (or their part of a shared edge's) says so: '0.0042/min gave up'."""
    top = max([f for f in flow.values() if not math.isnan(f)], default=1.0) or 1.0
    gone = gone or {}
    for (u, v), f in flow.items():
        is_back = (u, v) in back
        long = abs(pos[v][0] - pos[u][0]) > 1 or pos[v][0] <= pos[u][0]
        xs, ys = _curve(pos[u], pos[v], -0.35 if is_back else (0.15 if long else 0.0))
        width = 1.5 + 9 * (0 if math.isnan(f) else f / top)
        unit = SHORT[time_unit]
        text = f"{_rate(f)}/{unit}"
        left, words = gone.get((u, v), (0.0, ""))
        only_left = left > 0 and math.isclose(left, f, rel_tol=1e-9)
        if only_left:
            text = f"{text} {words}"
        elif left > 0:
            text = f"{text} ({_rate(left)} {words})"
        line = {"width": width, "color": "#D98880", "dash": "dash"} if only_left else {"width": width,
                                                                                        "color": "#9DB4C9"}
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line=line,
                hoverinfo="text",
                text=f"{u} → {v}: {text}",
                name=f"{u}→{v}",
            )
        )
        fig.add_annotation(
            x=xs[-1],
            y=ys[-1],
            ax=xs[-4],
            ay=ys[-4],
            axref="x",
            ayref="y",
            text="",
            showarrow=True,
            arrowhead=2,
            arrowsize=1.2,
            arrowwidth=2,
            arrowcolor="#C0392B" if only_left else "#6F8FAE",
            standoff=18,
        )
        fig.add_annotation(
            x=xs[12],
            y=ys[12],
            text=text,
            showarrow=False,
            yshift=9,
            font={"size": 11, "color": "#C0392B" if left > 0 else "#34495E"},
            bgcolor="rgba(255,255,255,0.8)",
        )


def _draw_nodes(fig: go.Figure, twin: Twin, pos: dict, kpis: Kpis) -> None:
    unit = PLURAL[twin.time_unit]
    acts = [a for a in twin.activities if a.name in pos]
    util = [max([_mean(kpis, f"resources.{p}.utilization") for p in a.pools] or [math.nan]) for a in acts]
    waits = [_mean(kpis, f"activities.{a.name}.wait") for a in acts]
    most = max([w for w in waits if not math.isnan(w)], default=0.0) or 1.0
    sizes = [26 + 34 * math.sqrt(max(w, 0) / most) if not math.isnan(w) else 26 for w in waits]
    labels = [f"<b>{a.name}</b><br>wait {number(w)} {unit}{_left_text(kpis, a.name)}"
              for a, w in zip(acts, waits, strict=True)]
    hover = [
        f"{a.name}<br>pools: {', '.join(a.pools) or 'none'}<br>busiest pool utilisation: {u:.0%}"
        f"<br>mean wait: {number(w)} {unit}"
        for a, u, w in zip(acts, util, waits, strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=[pos[a.name][0] for a in acts],
            y=[pos[a.name][1] for a in acts],
            mode="markers+text",
            text=labels,
            textposition="bottom center",
            hovertext=hover,
            hoverinfo="text",
            name="activities",
            marker={
                "size": sizes,
                "color": [0 if math.isnan(u) else u for u in util],
                "cmin": 0,
                "cmax": 1,
                "colorscale": "YlOrRd",
                "line": {"width": 1.5, "color": "#34495E"},
                "colorbar": {"title": {"text": "utilisation of<br>busiest pool"}, "tickformat": ".0%"},
            },
        )
    )
    ends = [n for n in pos if n.startswith("arrival:") or n == EXIT]
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in ends],
            y=[pos[n][1] for n in ends],
            mode="markers+text",
            name="in/out",
            text=[n.replace("arrival:", "arrivals: ") for n in ends],
            textposition="bottom center",
            marker={
                "size": 22,
                "symbol": "square",
                "color": "#D6DEE6",
                "line": {"width": 1, "color": "#34495E"},
            },
            hoverinfo="text",
        )
    )


def _rate(x: float) -> str:
    """Two significant digits without an exponent: 0.056, 0.000053, 12."""
    if x and not math.isnan(x) and abs(x) < 1e-3:
        return f"{x:.{1 - math.floor(math.log10(abs(x)))}f}"
    return readable(x, 2)


def _left_text(kpis: Kpis, activity: str) -> str:
    """'<br>17% gave up, 3.1% turned away' for an activity some leave unserved."""
    shares = {k: _share(kpis, activity, k) for k in LEAVING if f"activities.{activity}.{k}" in kpis}
    if not shares:
        return ""
    return "<br>" + ", ".join(f"{100 * v:.2g}% {LEAVING[k]}" for k, v in shares.items())


def _mark_bottleneck(fig: go.Figure, at: tuple[float, float], top: tuple[str, str, float]) -> None:
    _, pool, utilisation = top
    fig.add_trace(
        go.Scatter(
            x=[at[0]],
            y=[at[1]],
            mode="markers",
            name="bottleneck",
            hoverinfo="skip",
            marker={"size": 72, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": TARGET}},
        )
    )
    fig.add_annotation(
        x=at[0],
        y=at[1],
        yshift=44,
        showarrow=False,
        font={"color": TARGET, "size": 12},
        text=f"<b>bottleneck</b>: {pool} {utilisation:.0%} busy",
        bgcolor="rgba(255,255,255,0.9)",
    )
