"""The work of a study, estimated before it is accepted, from the final twin of every run.

Every run unit (each scenario and each sensitivity variant, with its changes applied) is
measured at its worst: each uncertain input at whichever extreme quantile (1e-6 or 1 - 1e-6)
costs most, random demand surges and failure-rate stresses as if they lasted the whole
horizon. A unit's work per replication is its simulated hours, its expected arrivals
(interarrival means or rate profiles, plus surges), its expected events (arrivals times
the visits routing gives each entity, failures and repairs) and its largest pool. The
study is refused, naming the limit and the run, when any total exceeds its setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from service.errors import Invalid
from service.settings import Settings
from twin.spec import Twin

HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
EXTREMES = (1e-6, 1 - 1e-6)  # quantiles of an uncertain input tried as its worst case


@dataclass(frozen=True)
class Work:
    """One replication of one run unit."""

    hours: float  # simulated hours
    arrivals: float  # expected entities entering
    events: float  # expected engine events (starts and ends of activities, failures, repairs)
    capacity: float  # units of the largest pool at its peak


def of_twin(twin: Twin, stresses: tuple[dict[str, Any], ...] = ()) -> Work:
    """The expected work of one replication of `twin` (with `stresses` for its whole horizon)."""
    horizon = float(twin.horizon)
    surge = {s.target: max(s.factor or 1.0, 1.0) - 1 for s in twin.stresses if s.kind == "demand_surge"}
    windows = {s.target: min(s.end, horizon) - min(s.start, horizon) for s in twin.stresses}
    for stress in stresses:  # random windows: as if they lasted the whole horizon
        if stress.get("kind") == "demand_surge":
            surge[stress["target"]] = surge.get(stress["target"], 0.0) + max(stress.get("factor") or 1, 1) - 1
            windows[stress["target"]] = horizon
    visits = _visits(twin)
    arrivals = events = 0.0
    for arrival in twin.arrivals:
        rate = _rate(twin, arrival)
        count = rate * horizon + rate * surge.get(arrival.name, 0.0) * windows.get(arrival.name, 0.0)
        arrivals += count
        events += count * (1 + 2 * visits[arrival.route])
    faster = {s["target"]: max(s.get("factor") or 1, 1) for s in stresses if s.get("kind") == "failure_rate"}
    for window in twin.stresses:
        if window.kind == "failure_rate":
            faster[window.target] = max(faster.get(window.target, 1.0), window.factor or 1.0)
    peaks = {r.name: max([r.capacity, *(s.capacity for s in r.shifts or [])]) for r in twin.resources}
    for pool in twin.resources:
        if pool.failures is not None:
            mean = pool.failures.uptime.mean_value  # a failure and a repair per uptime, per unit
            up = peaks[pool.name] * horizon * faster.get(pool.name, 1.0)
            events += 2 * up / mean if mean > 0 else math.inf
    hours = horizon * HOURS[twin.time_unit]
    return Work(hours, arrivals, events, float(max(peaks.values(), default=0)))


def _rate(twin: Twin, arrival: Any) -> float:
    mean = twin.mean_interarrival(arrival)
    return 1 / mean if mean > 0 else math.inf


def _visits(twin: Twin) -> dict[str, float]:
    """Expected visits to each activity's successors per entity entering there, at the worst
    class (per-class branches replace the default ones): v = e + P^T v for each route."""
    names = [a.name for a in twin.activities]
    index = {name: i for i, name in enumerate(names)}
    classes = {c for a in twin.activities for c in a.class_next}
    worst = np.ones(len(names))
    for klass in [None, *sorted(classes)]:
        moves = np.zeros((len(names), len(names)))
        for a in twin.activities:
            branches = a.class_next.get(klass, a.next) if klass is not None else a.next
            for target, p in branches.items():
                if target in index:
                    moves[index[a.name], index[target]] += p
        try:  # visits[i, j]: expected visits to j of an entity entering at i
            visits = np.linalg.inv(np.eye(len(names)) - moves)
            totals = visits.sum(axis=1)
            totals = np.where(np.isfinite(totals) & (totals > 0), totals, math.inf)
        except np.linalg.LinAlgError:  # a loop nothing leaves
            totals = np.full(len(names), math.inf)
        worst = np.maximum(worst, totals)
    return {name: float(worst[i]) for i, name in enumerate(names)}


def of_unit(unit: Any) -> Work:
    """A run unit's work at its worst uncertain inputs (each tried alone at both extremes,
    then the costliest extremes of all together)."""
    from scenarios.uncertain import applied, quantile
    from twin.loader import parse_twin

    base = of_twin(unit.twin, unit.stresses)
    if unit.uncertain is None:
        return base
    worst: dict[str, dict[str, float]] = {field: {} for field in Work.__dataclass_fields__}
    for path, dist in unit.uncertain.params.items():
        tried = []
        for u in EXTREMES:
            value = quantile(dist, u)
            twin = parse_twin(applied(unit.data, {path: value}), unit.name)
            tried.append((value, of_twin(twin, unit.stresses)))
        for field in worst:
            worst[field][path] = max(tried, key=lambda pair: float(getattr(pair[1], field)))[0]
    result = base
    for values in worst.values():
        work = of_twin(parse_twin(applied(unit.data, values), unit.name), unit.stresses)
        result = Work(*(max(a, b) for a, b in zip(_fields(result), _fields(work), strict=True)))
    return result


def _fields(work: Work) -> tuple[float, float, float, float]:
    return work.hours, work.arrivals, work.events, work.capacity


def check(settings: Settings, units: list[Any], replications: int) -> dict[str, float]:
    """Refuse (Invalid naming the limit and the run) a study whose work exceeds a limit;
    return the study's estimated totals."""
    works = [(unit.name, of_unit(unit)) for unit in units]
    totals = {
        "simulated hours": replications * sum(w.hours for _, w in works),
        "arrivals": replications * sum(w.arrivals for _, w in works),
        "events": replications * sum(w.events for _, w in works),
    }
    limits = (
        ("simulated hours", "max_work", settings.max_work),
        ("arrivals", "max_arrivals", settings.max_arrivals),
        ("events", "max_events", settings.max_events),
    )
    for what, name, limit in limits:
        if not totals[what] <= limit:
            heaviest = max(works, key=lambda pair: getattr(pair[1], _FIELD[what]))
            raise Invalid([("replications", (
                f"the study's estimated {what} ({replications} replications over {len(works)} runs, "
                f"the largest '{heaviest[0]}' with {getattr(heaviest[1], _FIELD[what]):,.4g} per "
                f"replication) = {totals[what]:,.4g} exceeds the limit {name} = {limit:,.4g} "
                f"(TWIN_{name.upper()})"))])
    for unit_name, work in works:
        if work.capacity > settings.max_capacity:
            raise Invalid([("scenarios", (
                f"run '{unit_name}' has a pool of {work.capacity:,.4g} units, over the limit max_capacity = "
                f"{settings.max_capacity} (TWIN_MAX_CAPACITY)"))])
    return totals


_FIELD = {"simulated hours": "hours", "arrivals": "arrivals", "events": "events"}
