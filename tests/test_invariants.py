"""Property tests of the reference (SimPy) engine on random valid twins.

Each generated twin (see `tests/strategies.py`) is simulated once with a trace; the
trace is then replayed independently of the engine to check that time never runs
back, entities are conserved and follow their routes, pools never hand out more units
than exist, are on duty or are up, stock never goes negative, shift levels match the
weekly calendar, and that the KPI record is what the trace implies.

Trace entries are (time, kind, subject, name):

======== ============== ==========================================================
kind     subject        name
======== ============== ==========================================================
arrival  entity id      arrival stream
start    entity id      activity (work starts: resources and material granted)
end      entity id      activity (resources released)
leave    entity id      "" (not counted as an event)
grant    entity id      activity (its resource units handed out; not counted as an event)
by       entity id      pool (after a grant of a `one_of` step: the pool of the unit it took)
class    entity id      class (after its arrival, where the twin uses classes; not counted as an event)
renege   entity id      activity (it gave up waiting there)
lost     entity id      activity (the waiting room was full)
balk     entity id      activity (it declined to join the queue)
preempt  entity id      activity (its job stopped for a higher class; it resumes later)
blocked  entity id      activity (full: it waits where it is, holding its units)
failure  unit index     pool
repair   unit index     pool
shift    units on duty  pool
order    quantity       material
supplier quantity       supplier (after an order of a material with `suppliers`: who gets it; not counted)
delivery quantity       material
lost_sale entity id     material (it found too little on hand of a `shortage: lose` material and left)
======== ============== ==========================================================
"""

from __future__ import annotations

import math
import sys
from bisect import bisect_right
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

from strategies import twins
from traces import unit_needs

from twin.calendar import UNITS_PER_HOUR, week_offset_hours
from twin.distributions import Constant, Empirical, Triangular, Uniform
from twin.engine_simpy import simulate
from twin.loader import parse_twin
from twin.replication import Replication
from twin.spec import EXIT, Resource, Twin

SETTINGS = settings(
    max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
seeds = st.integers(0, 2**32 - 1)
replications = st.integers(0, 50)
TOL = 1e-9

Trace = list[tuple[float, str, int, str]]


def run(spec: dict[str, Any], seed: int, replication: int = 0) -> tuple[Twin, Replication]:
    twin = parse_twin(spec)
    rep = simulate(twin, seed, replication, trace=True)
    assert rep.trace is not None
    return twin, rep


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def time_average(steps: list[tuple[float, float]], initial: float, warmup: float,
                 horizon: float) -> float:
    """Average over [warmup, horizon] of a step function: `initial`, then (time, value)."""
    area, value, last = 0.0, initial, 0.0
    for t, v in sorted(steps, key=lambda s: s[0]):
        lo = max(last, warmup)
        if t > lo:
            area += value * (t - lo)
        value, last = v, t
    lo = max(last, warmup)
    if horizon > lo:
        area += value * (horizon - lo)
    return area / (horizon - warmup)


def running(deltas: list[tuple[float, float]], initial: float) -> list[tuple[float, float]]:
    """(time, delta) in trace order -> (time, value after the change)."""
    value, out = initial, []
    for t, d in deltas:
        value += d
        out.append((t, value))
    return out


# ---------------------------------------------------------------------------------
# Replaying a trace
# ---------------------------------------------------------------------------------


class Visit:
    """One activity visit of one entity: queued (previous end / arrival), start, end, and
    the skilled pool that served it (None: not a `one_of` step)."""

    def __init__(self, activity: str, queued: float, start: float, pool: str | None) -> None:
        self.activity, self.queued, self.start, self.pool = activity, queued, start, pool
        self.end: float | None = None


def entity_histories(twin: Twin, trace: Trace) -> dict[int, dict[str, Any]]:
    """Check each entity's trace is well formed and routed by the spec; return its visits."""
    routes = {a.name: a.route for a in twin.arrivals}
    successors = {a.name: {t for t, p in a.successors.items() if p > 0} for a in twin.activities}
    entities: dict[int, dict[str, Any]] = {}
    chosen: dict[int, str] = {}
    for t, kind, subject, name in trace:
        if kind == "by":
            chosen[subject] = name
        if kind == "arrival":
            assert subject == len(entities) + 1, "entities are numbered 1, 2, ... in arrival order"
            assert name in routes
            entities[subject] = {"stream": name, "arrived": t, "visits": [], "left": None,
                                 "last": t, "where": "arrived"}
            continue
        if kind not in ("start", "end", "leave", "lost_sale"):
            continue
        assert subject in entities, f"{kind} of entity {subject} before its arrival"
        e = entities[subject]
        if kind == "lost_sale":  # it leaves unserved, at once, without starting
            assert e["where"] in ("arrived", "ended"), f"entity {subject} lost while busy"
            e["where"], e["lost"] = "lost", t
            continue
        if kind == "leave" and e["where"] == "lost":
            assert t == e["lost"], "an entity that lost a sale leaves at once"
            e["left"], e["where"] = t, "left"
            continue
        assert e["left"] is None, f"entity {subject}: {kind} after it left"
        assert t >= e["last"], f"entity {subject}: {kind} at {t} before its previous entry"
        visits: list[Visit] = e["visits"]
        if kind == "start":
            assert e["where"] in ("arrived", "ended"), f"entity {subject} starts {name} while busy"
            if visits:
                assert name in successors[visits[-1].activity], (
                    f"entity {subject}: {visits[-1].activity} -> {name} is not a branch")
            else:
                assert name == routes[e["stream"]], f"entity {subject} must start at its route"
            skilled = any(a.one_of for a in twin.activities if a.name == name)
            visits.append(Visit(name, e["last"], t, chosen.pop(subject) if skilled else None))
            e["where"] = "started"
        elif kind == "end":
            assert e["where"] == "started" and visits[-1].activity == name, (
                f"entity {subject} ends {name} without starting it")
            visits[-1].end = t
            e["where"] = "ended"
        else:
            assert e["where"] == "ended", f"entity {subject} leaves without finishing an activity"
            assert EXIT in successors[visits[-1].activity], (
                f"entity {subject} leaves after {visits[-1].activity}, which has no exit")
            assert t == visits[-1].end, "an entity leaves as soon as its last activity ends"
            e["left"] = t
            e["where"] = "left"
        e["last"] = t
    for subject, e in entities.items():
        if e["where"] == "ended":  # still in the system, waiting for its next activity
            assert successors[e["visits"][-1].activity] - {EXIT}, (
                f"entity {subject} finished {e['visits'][-1].activity} (exit only) but never left")
    return entities


def brute_on_duty(twin: Twin, resource: Resource, t: float) -> int:
    """Units on duty at model time t, straight from the shift list (not the calendar)."""
    assert resource.shifts is not None
    hours = (week_offset_hours(twin.start) + t / UNITS_PER_HOUR[twin.time_unit]) % 168.0
    day, clock = int(hours // 24), hours % 24
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    total = 0
    for s in resource.shifts:
        begin, end = _clock(s.start), _clock(s.end)
        if end > begin:
            on = days[day] in s.days and begin <= clock < end
        else:  # overnight: from begin on a listed day to end on the next day
            on = (days[day] in s.days and clock >= begin) or (days[day - 1] in s.days and clock < end)
        total += s.capacity * on
    return total


def brute_working_time(twin: Twin, shares: list[float], a: float, b: float) -> float:
    """Working time (time units) in model times [a, b], summed clock hour by clock hour."""
    per_hour = UNITS_PER_HOUR[twin.time_unit]
    lo, hi = week_offset_hours(twin.start) + a / per_hour, week_offset_hours(twin.start) + b / per_hour
    total, h = 0.0, math.floor(lo)
    while h < hi:
        total += shares[h % 168] * (min(hi, h + 1) - max(lo, h))
        h += 1
    return total * per_hour


def _clock(text: str) -> float:
    h, m = text.split(":")
    return int(h) + int(m) / 60


# ---------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(twins())
def test_generated_specs_parse(spec: dict[str, Any]) -> None:
    twin = parse_twin(spec)
    assert [a.name for a in twin.activities] == [a["name"] for a in spec["activities"]]


@SETTINGS
@given(twins(), seeds)
def test_clock_and_event_count(spec: dict[str, Any], seed: int) -> None:
    twin, rep = run(spec, seed)
    times = [t for t, *_ in rep.trace]
    assert all(0 <= t <= twin.horizon for t in times), "trace time outside [0, horizon]"
    assert all(a <= b for a, b in pairwise(times)), "the clock went back"
    kinds = {"arrival", "start", "end", "leave", "failure", "repair", "shift", "order", "delivery",
             "grant", "by", "supplier", "lost_sale"}
    assert {k for _, k, _, _ in rep.trace} <= kinds
    assert rep.events == sum(k not in ("leave", "grant", "by", "supplier") for _, k, _, _ in rep.trace)


@SETTINGS
@given(twins(), seeds)
def test_every_start_with_resources_follows_its_grant(spec: dict[str, Any], seed: int) -> None:
    """One grant per visit of an activity with resources: after the entity reached the
    activity, at or before its start; at the start itself unless it waits for material. A
    `one_of` step's grant names, right after it, one of its pools."""
    twin, rep = run(spec, seed)
    needs = {a.name: bool(a.resources or a.one_of) for a in twin.activities}
    skills = {a.name: a.one_of for a in twin.activities}
    consumes = {a.name: bool(a.consumes) for a in twin.activities}
    granted: dict[int, tuple[float, str]] = {}
    last: dict[int, float] = {}
    for i, (t, kind, subject, name) in enumerate(rep.trace):
        if kind == "grant" and skills[name]:
            assert rep.trace[i + 1][1:3] == ("by", subject) and rep.trace[i + 1][3] in skills[name]
        if kind == "by":
            assert rep.trace[i - 1][1:3] == ("grant", subject)
        if kind == "grant":
            assert needs[name] and subject not in granted, f"entity {subject}: second grant at {t}"
            assert t >= last[subject]
            granted[subject] = (t, name)
        elif kind == "start" and needs[name]:
            at, activity = granted.pop(subject)
            assert activity == name and at <= t
            assert at == t or consumes[name], f"entity {subject} granted at {at}, started {name} at {t}"
        if kind in ("arrival", "end"):
            last[subject] = t
    assert all(consumes[name] for _, name in granted.values()), "only a wait for material outlasts a grant"


@SETTINGS
@given(twins(), seeds)
def test_entities_conserved_and_routed(spec: dict[str, Any], seed: int) -> None:
    twin, rep = run(spec, seed)
    entities = entity_histories(twin, rep.trace)
    arrivals = sum(k == "arrival" for _, k, _, _ in rep.trace)
    leaves = sum(k == "leave" for _, k, _, _ in rep.trace)
    in_system = sum(e["left"] is None for e in entities.values())
    assert arrivals == len(entities) == leaves + in_system

    # Per arrival stream: gaps are interarrival draws.
    for arrival in twin.arrivals:
        times = [0.0] + [e["arrived"] for e in entities.values() if e["stream"] == arrival.name]
        gaps = [b - a for a, b in pairwise(times)]
        dist = arrival.interarrival
        if isinstance(dist, Constant):
            assert all(math.isclose(g, dist.value, rel_tol=1e-6) for g in gaps)
        if isinstance(dist, Uniform):
            assert all(dist.low - 1e-6 <= g <= dist.high + 1e-6 for g in gaps)

    # Per activity: work times are duration draws (stretched by failures of held units),
    # in working time where the step has working hours.
    can_fail = {r.name for r in twin.resources if r.failures}
    for act in twin.activities:
        hours = act.working_hours.hourly() if act.working_hours else None
        stretched = any(p in can_fail for p in act.pools)
        for pool in [None, *act.one_of]:  # durations per skilled pool that served the visit
            spans = [(v.start, v.end) for e in entities.values() for v in e["visits"]
                     if v.activity == act.name and v.end is not None and v.pool == pool]
            worked = [b - a if hours is None else brute_working_time(twin, hours, a, b) for a, b in spans]
            dist = act.durations.get(pool, act.duration) if pool else act.duration
            lo, hi = 0.0, math.inf
            if isinstance(dist, Constant):
                lo = hi = dist.value
            elif isinstance(dist, Uniform | Triangular):
                lo, hi = dist.low, dist.high
            elif isinstance(dist, Empirical):
                lo, hi = min(dist.values), max(dist.values)
                if not stretched:
                    assert all(any(math.isclose(w, v, abs_tol=1e-6) for v in dist.values) for w in worked)
            hi = math.inf if stretched else hi
            assert all(lo - 1e-6 <= w <= hi + 1e-6 for w in worked), f"{act.name} by {pool}: {worked}"
        if not act.can_queue:  # nothing to wait for
            for e in entities.values():
                for v in e["visits"]:
                    if v.activity == act.name:
                        assert v.start == v.queued


@SETTINGS
@given(twins(), seeds)
def test_pools_never_overcommitted(spec: dict[str, Any], seed: int) -> None:
    """Busy units <= capacity; a job starts only on units on duty and up; failures alternate."""
    twin, rep = run(spec, seed)
    pools = {r.name: r for r in twin.resources}
    needs = unit_needs(twin, rep.trace)
    waits_for_stock = {a.name for a in twin.activities if a.consumes}
    held = dict.fromkeys(pools, 0)
    failed: dict[str, set[int]] = {p: set() for p in pools}
    on_duty = {p: (brute_on_duty(twin, r, 0.0) if r.shifts else r.capacity) for p, r in pools.items()}

    def usable(p: str) -> int:  # units on duty and up (some may be busy)
        return on_duty[p] - sum(u < on_duty[p] for u in failed[p])

    now, best = -1.0, dict.fromkeys(pools, 0)  # most usable units at any moment of `now`
    for i, (t, kind, subject, name) in enumerate(rep.trace):
        if t != now:
            now, best = t, {p: usable(p) for p in pools}
        if kind == "start":
            for p, n in needs[i].items():
                held[p] += n
                assert held[p] <= pools[p].capacity, f"{p}: {held[p]} units busy at {t}"
                if name not in waits_for_stock:  # granted units at this very moment
                    assert n <= best[p], f"{name} got {n} of {p} at {t}; {best[p]} on duty and up"
        elif kind == "end":
            for p, n in needs[i].items():
                held[p] -= n
                assert held[p] >= 0
        elif kind in ("failure", "repair"):
            assert 0 <= subject < pools[name].capacity and pools[name].failures is not None
            if kind == "failure":
                assert subject not in failed[name], f"{name} unit {subject} fails twice"
                failed[name].add(subject)
            else:
                assert subject in failed[name], f"{name} unit {subject} repaired while up"
                failed[name].remove(subject)
        elif kind == "shift":
            assert pools[name].shifts is not None and 0 <= subject <= pools[name].capacity
            assert subject != on_duty[name], "a shift entry must change the level"
            on_duty[name] = subject
        best = {p: max(best[p], usable(p)) for p in pools}


@SETTINGS
@given(twins(), seeds)
def test_no_idle_capacity_while_work_waits(spec: dict[str, Any], seed: int) -> None:
    """No unit idles on duty, and no stock sits on the shelf, while work waits for it.

    Checked for a pool whose users all need exactly one unit of it and nothing else (as
    their one fixed need, or as one of their `one_of` pools), and for a material whose
    consumers all take the same amount of it and nothing else: then whatever request heads
    the FIFO line could take what is free. At the end of every
    instant with a known visit waiting, free units (at least on duty - failed - busy, a
    bound that needs no unit numbers) must be 0, and on-hand stock below the amount.
    """
    twin, rep = run(spec, seed)
    users = {r.name: [a for a in twin.activities if r.name in a.pools] for r in twin.resources}

    def one_unit_of(p: str, a: Any) -> bool:  # all it needs: one unit of p, fixed or skilled
        return not a.consumes and (not a.resources or (a.resources == {p: 1} and not a.one_of))

    simple_pools = [p for p, acts in users.items() if acts and all(one_unit_of(p, a) for a in acts)]
    consumers = {m.name: [a for a in twin.activities if m.name in a.consumes] for m in twin.materials}
    simple_stock = {m: acts[0].consumes[m] for m, acts in consumers.items()
                    if acts and all(not a.pools and a.consumes == {m: acts[0].consumes[m]}
                                    for a in acts)}
    if not simple_pools and not simple_stock:
        return
    entities = entity_histories(twin, rep.trace)
    queued: dict[str, list[float]] = defaultdict(list)
    started: dict[str, list[float]] = defaultdict(list)
    for e in entities.values():
        for v in e["visits"]:
            queued[v.activity].append(v.queued)
            started[v.activity].append(v.start)
    for a in twin.activities:
        queued[a.name] += _still_queued(twin, entities, a.name) or []
    for times in (*queued.values(), *started.values()):
        times.sort()

    def waiting(acts: list[Any], t: float) -> dict[str, int]:  # queued by t, not started by t
        counts = {a.name: bisect_right(queued[a.name], t) - bisect_right(started[a.name], t)
                  for a in acts}
        return {name: n for name, n in counts.items() if n}

    pools = {r.name: r for r in twin.resources}
    needs = unit_needs(twin, rep.trace)
    takes = {a.name: a.consumes for a in twin.activities}
    held = dict.fromkeys(pools, 0)
    failed: dict[str, set[int]] = {p: set() for p in pools}
    on_duty = {p: (brute_on_duty(twin, r, 0.0) if r.shifts else r.capacity) for p, r in pools.items()}
    on_hand = {m.name: m.initial for m in twin.materials}
    trace = rep.trace
    for i, (t, kind, subject, name) in enumerate(trace):
        if kind == "start":
            for p, n in needs[i].items():
                held[p] += n
            for m, n in takes[name].items():
                on_hand[m] -= n
        elif kind == "end":
            for p, n in needs[i].items():
                held[p] -= n
        elif kind == "failure":
            failed[name].add(subject)
        elif kind == "repair":
            failed[name].discard(subject)
        elif kind == "shift":
            on_duty[name] = subject
        elif kind == "delivery":
            on_hand[name] += subject
        if i + 1 < len(trace) and trace[i + 1][0] == t:
            continue  # the instant is not over
        for p in simple_pools:
            free = on_duty[p] - sum(u < on_duty[p] for u in failed[p]) - held[p]
            if free > 0:
                queue = waiting(users[p], t)
                assert not queue, f"{p}: {free} unit(s) idle at {t} while {queue} wait"
        for m, amount in simple_stock.items():
            if on_hand[m] >= amount:
                queue = waiting(consumers[m], t)
                assert not queue, f"{m}: {on_hand[m]} on hand at {t} while {queue} wait for {amount}"


@SETTINGS
@given(twins(), seeds)
def test_shift_levels_follow_the_calendar(spec: dict[str, Any], seed: int) -> None:
    twin, rep = run(spec, seed)
    step = 0.25 * UNITS_PER_HOUR[twin.time_unit]  # every shift boundary is on this grid
    for r in twin.resources:
        if not r.shifts:
            assert not any(k == "shift" and n == r.name for _, k, _, n in rep.trace)
            continue
        changes = [(t, level) for t, k, level, n in rep.trace if k == "shift" and n == r.name]
        level, i = brute_on_duty(twin, r, 0.0), 0
        for k in range(int(twin.horizon / step)):
            mid = (k + 0.5) * step
            while i < len(changes) and changes[i][0] <= mid:
                level = changes[i][1]
                i += 1
            assert level == brute_on_duty(twin, r, mid), f"{r.name} at {mid}"


@SETTINGS
@given(twins(), seeds)
def test_stock_never_negative(spec: dict[str, Any], seed: int) -> None:
    twin, rep = run(spec, seed)
    stock = {m.name: m.initial for m in twin.materials}
    outstanding: dict[str, list[int]] = defaultdict(list)
    consumes = {a.name: a.consumes for a in twin.activities}
    for t, kind, subject, name in rep.trace:
        if kind == "order":
            policy = twin.materials[[m.name for m in twin.materials].index(name)].reorder
            assert policy is not None and subject > 0
            if policy.quantity is not None:
                assert subject % policy.quantity == 0, "(r, Q) orders whole multiples of Q"
            outstanding[name].append(subject)
        elif kind == "delivery":
            assert subject in outstanding[name], f"delivery of {subject} {name} never ordered"
            outstanding[name].remove(subject)
            stock[name] += subject
        elif kind == "start":
            for m, n in consumes[name].items():
                stock[m] -= n
                assert stock[m] >= 0, f"{m} stock {stock[m]} at {t}"


@SETTINGS
@given(twins(), seeds)
def test_record_is_what_the_trace_says(spec: dict[str, Any], seed: int) -> None:
    twin, rep = run(spec, seed)
    rec, trace = rep.record, rep.trace
    needs = unit_needs(twin, trace)
    h, w = twin.horizon, twin.warmup
    entities = entity_histories(twin, trace)

    expected_keys = {"throughput", "cycle_time", "wip"}
    expected_keys |= {f"activities.{a.name}.{k}" for a in twin.activities
                      for k in ("wait", "queue_length", "completed")}
    expected_keys |= {f"resources.{r.name}.{k}" for r in twin.resources
                      for k in ("utilization", "availability")}
    expected_keys |= {f"materials.{m.name}.{k}" for m in twin.materials
                      for k in ("inventory", "fill_rate", "stockout_fraction")}
    expected_keys |= {f"materials.{m.name}.lost_sales" for m in twin.materials if m.loses}
    expected_keys |= {f"materials.{m.name}.suppliers.{s.name}.orders"
                      for m in twin.materials for s in m.suppliers}
    assert set(rec) == expected_keys

    # Ranges.
    for key, value in rec.items():
        kpi = key.rsplit(".", 1)[-1]
        maybe_nan = ("utilization", "fill_rate", "cycle_time", "wait", "lost_sales", "orders")
        if kpi in maybe_nan and math.isnan(value):
            continue
        assert value >= 0, key
        if kpi in ("utilization", "availability", "fill_rate", "stockout_fraction", "lost_sales", "orders"):
            assert value <= 1 + TOL, key

    # System level.
    left = [e for e in entities.values() if e["left"] is not None and e["left"] >= w and "lost" not in e]
    assert rec["throughput"] == len(left) / (h - w)
    cycle = [e["left"] - e["arrived"] for e in left]
    assert close(rec["cycle_time"], sum(cycle) / len(cycle) if cycle else math.nan)
    wip = running([(e[0], +1 if e[1] == "arrival" else -1) for e in trace
                   if e[1] in ("arrival", "leave")], 0)
    assert close(rec["wip"], time_average(wip, 0, w, h))

    # Activities.
    visits = [v for e in entities.values() for v in e["visits"]]
    for act in twin.activities:
        mine = [v for v in visits if v.activity == act.name]
        done = sum(v.end is not None and v.end >= w for v in mine)
        assert rec[f"activities.{act.name}.completed"] == done
        waits = [v.start - v.queued for v in mine if v.start >= w]
        assert close(rec[f"activities.{act.name}.wait"],
                     sum(waits) / len(waits) if waits else math.nan)
        if not act.can_queue:
            assert rec[f"activities.{act.name}.queue_length"] == 0
        else:  # time in queue of visits that started; those still queued are not in the trace
            queued_now = _still_queued(twin, entities, act.name)
            loses = any(m.loses for m in twin.materials if m.name in act.consumes)  # lost sales leave it
            if queued_now is not None and not loses:
                deltas = sorted([(v.queued, 1) for v in mine] + [(v.start, -1) for v in mine]
                                + [(q, 1) for q in queued_now], key=lambda d: d[0])
                assert close(rec[f"activities.{act.name}.queue_length"],
                             time_average(running(deltas, 0), 0, w, h))

    # Resources: availability from failures; utilisation where busy = started - ended.
    consuming = {a.name for a in twin.activities if a.consumes}
    for r in twin.resources:
        down = running([(t, +1 if k == "failure" else -1) for t, k, _, n in trace
                        if k in ("failure", "repair") and n == r.name], 0)
        assert close(rec[f"resources.{r.name}.availability"],
                     1 - time_average(down, 0, w, h) / r.capacity)
        users = {a.name for a in twin.activities if r.name in a.pools}
        if r.failures is None and r.shifts is None:  # always fully available
            assert not math.isnan(rec[f"resources.{r.name}.utilization"])
        if r.failures is None and r.shifts is None and not (users & consuming):
            busy = running([(t, needs[i][r.name] if k == "start" else -needs[i][r.name])
                            for i, (t, k, _, _) in enumerate(trace) if r.name in needs[i]], 0)
            assert close(rec[f"resources.{r.name}.utilization"],
                         time_average(busy, 0, w, h) / r.capacity)

    # Materials: on-hand stock from deliveries and consuming starts.
    for m in twin.materials:
        use = {a.name: a.consumes[m.name] for a in twin.activities if m.name in a.consumes}
        deltas = [(t, s if k == "delivery" else -use[n]) for t, k, s, n in trace
                  if (k == "delivery" and n == m.name) or (k == "start" and n in use)]
        on_hand = running(deltas, m.initial)
        assert close(rec[f"materials.{m.name}.inventory"], time_average(on_hand, m.initial, w, h))
        empty = [(t, float(v == 0)) for t, v in on_hand]
        assert close(rec[f"materials.{m.name}.stockout_fraction"],
                     time_average(empty, float(m.initial == 0), w, h))
        if math.isnan(rec[f"materials.{m.name}.fill_rate"]):  # no request after the warm-up
            for a in twin.activities:  # requests without units to wait for are made on queueing
                if m.name in a.consumes and not a.pools:  # (with one_of, after the unit's grant)
                    made = [v.queued for v in visits if v.activity == a.name]
                    made += _still_queued(twin, entities, a.name) or []
                    assert all(q < w for q in made), f"{m.name}: fill rate NaN after requests"


def _still_queued(twin: Twin, entities: dict[int, dict[str, Any]], activity: str) -> list[float] | None:
    """Queue entry times of entities waiting for `activity` at the horizon, or None if unknown.

    An entity that has ended an activity and not left waits for its next one, which the
    trace names only when the branch has a single non-exit target.
    """
    nexts = {a.name: [t for t, p in a.successors.items() if p > 0] for a in twin.activities}
    routes = {a.name: a.route for a in twin.arrivals}
    out = []
    for e in entities.values():
        if e["where"] == "arrived":
            target = routes[e["stream"]]
        elif e["where"] == "ended":
            options = nexts[e["visits"][-1].activity]
            if activity not in options:
                continue
            if len(options) > 1:
                return None
            target = options[0]
        else:
            continue
        if target == activity:
            out.append(e["last"])
    return out


@SETTINGS
@given(twins(), seeds, replications)
def test_same_seed_same_run(spec: dict[str, Any], seed: int, replication: int) -> None:
    twin, first = run(spec, seed, replication)
    _, again = run(spec, seed, replication)
    assert first.trace == again.trace
    assert first.events == again.events
    assert first.record.keys() == again.record.keys()
    for key, value in first.record.items():
        assert value == again.record[key] or (math.isnan(value) and math.isnan(again.record[key]))

    _, other = run(spec, seed, replication + 1)
    random_streams = {a.name for a in twin.arrivals if not isinstance(a.interarrival, Constant)}
    if any(k == "arrival" and n in random_streams for _, k, _, n in first.trace):
        assert other.trace != first.trace, "another replication must draw other numbers"


def test_trace_kinds_documented() -> None:
    """The table in this module's docstring names every kind the engine logs."""
    assert __doc__ is not None
    for kind in ("arrival", "start", "end", "leave", "failure", "repair", "shift", "order", "delivery",
                 "grant", "by", "class", "renege", "lost", "balk", "preempt", "blocked", "supplier",
                 "lost_sale"):
        assert f"\n{kind} " in __doc__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
