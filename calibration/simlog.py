"""A simulated event log (case_id, activity, resource, start_time, end_time) from a twin's trace.

The engine's trace gives each entity's activity start and end times, and for a `one_of`
step the pool that served it, but no unit identity, so `resource` is reconstructed per pool
by greedy interval assignment (each start takes the lowest-numbered free unit; the engine
never has more units busy than the pool holds), and named after the resources observed in
that pool when known (`units`), else `POOL#k`.
Steps added by calibration (`start`, `wait_*`) are left out; labels map back to the data's.
When the twin's arrivals draw classes, a `class` column holds each case's: the trace does
not carry it, so it is drawn again as the engines draw it (one uniform per arrival of a
stream on its own `arrival.<name>.class` stream, see `twin.streams`).
"""

from __future__ import annotations

import heapq
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from calibration.names import WAIT
from twin import streams
from twin.engine_fast import simulate_fast
from twin.loader import parse_twin
from twin.spec import Twin

HEADER = "# calibration: "
UNIT_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}
ALL = 2**62  # "every entity" as a case count


def read_header(path: str | Path) -> dict[str, Any]:
    """The labels/units comment lines a calibrated YAML carries ({} for a hand-written twin)."""
    meta: dict[str, Any] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.startswith(HEADER):
            key, _, value = line[len(HEADER) :].partition(" ")
            meta[key] = json.loads(value)
    return meta


def header_lines(
    labels: dict[str, str], units: dict[str, list[str]], clock: dict[str, str] | None = None
) -> str:
    """The comment lines; `clock`: the site's time zone the twin's times are in."""
    lines = (
        f"{HEADER}labels {json.dumps(labels, ensure_ascii=False)}\n"
        f"{HEADER}units {json.dumps(units, ensure_ascii=False)}\n"
    )
    return lines + (f"{HEADER}clock {json.dumps(clock, ensure_ascii=False)}\n" if clock else "")


def _trace_rows(
    twin: Twin, seed: int, replication: int, cases: int, unfinished: bool = False
) -> tuple[list[tuple], int, dict[int, str]]:
    """(activity rows (entity, step, start, end, skilled pool or None) of the first `cases`
    entities, how many of them left, each one's class where the twin draws classes); rows
    of entities still in the system at the horizon only when `unfinished`."""
    result = simulate_fast(twin, seed, replication, trace=True)  # the same trace as the SimPy engine
    assert result.trace is not None
    open_: dict[int, tuple[str, float]] = {}
    by: dict[int, str] = {}
    streams_of: dict[int, str] = {}
    rows, left = [], set()
    for time, kind, entity, name in result.trace:
        if entity > cases or kind not in ("start", "end", "leave", "by", "arrival"):
            continue
        if kind == "arrival":
            streams_of[entity] = name
        elif kind == "by":
            by[entity] = name
        elif kind == "start":
            open_[entity] = (name, time)
        elif kind == "end":
            activity, began = open_.pop(entity)
            rows.append((entity, activity, began, time, by.pop(entity, None)))
        else:
            left.add(entity)
    kept = [r for r in rows if unfinished or r[0] in left]
    return kept, len(left), entity_classes(twin, seed, replication, streams_of)


def entity_classes(twin: Twin, seed: int, replication: int, arrivals: dict[int, str]) -> dict[int, str]:
    """entity -> class, for the entities `arrivals` names (entity -> its stream), drawn again
    as the engines draw them; {} when no stream draws classes."""
    options = {a.name: list(a.classes.items()) for a in twin.arrivals if len(a.classes) > 1}
    if not options:
        return {}
    rngs = {name: streams.stream(seed, replication, streams.class_source(name)) for name in options}
    single = {a.name: a.class_names[0] for a in twin.arrivals}
    out = {}
    for entity in sorted(arrivals):
        name = arrivals[entity]
        if name not in options:
            out[entity] = single.get(name, name)
            continue
        u, cumulative = rngs[name].random(), 0.0
        out[entity] = options[name][-1][0]
        for klass, p in options[name]:
            cumulative += p
            if u < cumulative:
                out[entity] = klass
                break
    return out


def simulate_log(
    twin: Twin,
    start: datetime,
    cases: int,
    seed: int,
    replication: int = 0,
    meta: dict[str, Any] | None = None,
    max_tries: int = 8,
    until: datetime | None = None,
    finished_only: bool = False,
) -> pd.DataFrame:
    """The first `cases` arrivals, simulated until all of them have left (horizon grows as
    needed), or with `until` only up to then, keeping every activity finished by then (what
    a log recorded until then holds; much less to simulate for long-running cases). With
    `until` and `finished_only`, every arrival up to `until` (not only the first `cases`),
    keeping the cases that left by then, whole (what a log of completed cases holds)."""
    meta = meta or {}
    unit = UNIT_HOURS[twin.time_unit]
    if until is not None:
        trial = window(twin, start, (until - start).total_seconds() / 3600 / unit)
        limit = ALL if finished_only else cases
        rows, _, classes = _trace_rows(trial, seed, replication, limit, unfinished=not finished_only)
        return _frame(rows, trial, start, unit, meta, classes)
    if finished_only:
        raise ValueError("finished_only needs `until`, the end of the window")
    mean_gap = 1 / sum(1 / twin.mean_interarrival(a) for a in twin.arrivals)
    extra = max(twin.horizon, 1.0)
    for _ in range(max_tries):
        trial = window(twin, start, cases * mean_gap * 1.05 + extra)
        rows, done, classes = _trace_rows(trial, seed, replication, cases)
        if done >= cases:
            break
        extra *= 2
    return _frame(rows, trial, start, unit, meta, classes)


def window(twin: Twin, start: datetime, horizon: float) -> Twin:
    """The twin started at `start` and run for `horizon` (its time unit), no warm-up."""
    data = {**twin.model_dump(mode="json", exclude_none=True), "start": start.isoformat()}
    return parse_twin({**data, "horizon": max(horizon, 1e-6), "warmup": 0.0})


def _frame(
    rows: list[tuple], twin: Twin, start: datetime, unit: float, meta: dict[str, Any],
    classes: dict[int, str] | None = None,
) -> pd.DataFrame:
    labels: dict[str, str] = meta.get("labels", {})
    units: dict[str, list[str]] = meta.get("units", {})
    pools = {a.name: next(iter(a.resources), None) for a in twin.activities}
    if labels:  # a calibrated twin: only the steps that record an activity
        kept = [r for r in rows if r[1] in labels]
    else:
        kept = [r for r in rows if r[1] != "start" and not r[1].startswith(WAIT)]
    kept.sort(key=lambda r: (r[2], r[3]))
    resources = _assign_units(kept, pools, units)
    frame = pd.DataFrame(
        {
            "case_id": [f"sim{r[0]}" for r in kept],
            "activity": [labels.get(r[1], r[1]) for r in kept],
            "resource": resources,
            "start_time": [start + timedelta(hours=r[2] * unit) for r in kept],
            "end_time": [start + timedelta(hours=r[3] * unit) for r in kept],
        }
    )
    if classes:
        frame["class"] = [classes[r[0]] for r in kept]
    return frame


def _assign_units(rows: list[tuple], pools: dict[str, str | None], units: dict[str, list[str]]) -> list[str]:
    busy: dict[str, list[tuple[float, int]]] = {}  # pool -> heap of (end, unit)
    free: dict[str, list[int]] = {}
    out = []
    for _, activity, began, ended, skilled in rows:
        pool = skilled or pools.get(activity)
        if pool is None:
            out.append("")
            continue
        heap, idle = busy.setdefault(pool, []), free.setdefault(pool, [])
        while heap and heap[0][0] <= began:
            heapq.heappush(idle, heapq.heappop(heap)[1])
        k = heapq.heappop(idle) if idle else len(heap) + len(idle)
        heapq.heappush(heap, (ended, k))
        names = units.get(pool, [])
        out.append(names[k] if k < len(names) else f"{pool}#{k + 1}")
    return out
