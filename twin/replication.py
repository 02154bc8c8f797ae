"""What one replication gives, whichever engine ran it, and the KPIs both engines derive alike
from their counts (so the fast engine needs nothing of the SimPy one)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.spec import Activity

Trace = list[tuple[float, str, int, str]]


@dataclass
class Replication:
    """One replication's outcome: KPI record (flat, dotted keys), event count, trace, the
    state series (samples x `twin.series.columns`) when sampled, and the flow (`trace_flow`)
    when traced: asked for alone (trace="flow"), it spares building the trace's tuples."""

    record: dict[str, float]
    events: int
    sim_seconds: float
    trace: Trace | None = None
    series: np.ndarray | None = None
    flow: np.ndarray | None = None


def trace_flow(trace: Trace) -> np.ndarray:
    """The arrivals (+1) and leavings (-1) of a trace, in its order: rows (time, step)."""
    steps = [(t, 1.0 if kind == "arrival" else -1.0) for t, kind, _, _ in trace
             if kind in ("arrival", "leave")]
    return np.array(steps, dtype=np.float64).reshape(-1, 2)


def class_due_kpis(classes: list[str], due: list[int], late: list[int]) -> dict[str, float]:
    """Per class: the share of its due entities leaving after the warm-up on time, and how
    many were late."""
    out = {}
    for c, n, k in zip(classes, due, late, strict=True):
        out[f"classes.{c}.on_time"] = 1.0 - k / n if n else math.nan
        out[f"classes.{c}.late"] = float(k)
    return out


def leaving_kpis(spec: Activity, reached: int, counts: tuple[int, int, int]) -> dict[str, float]:
    """Shares of the entities reaching an activity (after the warm-up) that reneged, found
    the waiting room full, or balked; each only where the activity lets it happen."""
    shares = dict(zip(("abandoned", "lost", "balked"), counts, strict=True))
    return {f"activities.{spec.name}.{kpi}": shares[kpi] / reached if reached else math.nan
            for kpi in spec.leaving}
