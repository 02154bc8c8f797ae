"""The fast engine: the reference engine's semantics, compiled with Numba.

`simulate_fast(twin, seed, replication)` returns the same `Replication` as
`twin.engine_simpy.simulate`: the same KPI record (same keys, same floats), the same
event count and, with `trace=True`, the same trace. `simulate_many_fast` runs many
replications in parallel on Python threads (the kernel releases the GIL); each replication
draws only from its own named streams, so the results do not depend on the number of
threads. The event order argument is in `twin._kernel`'s docstring; this module only
creates the random streams, calls the kernel and turns its arrays into the record (with
the float operations of `twin.monitors`, so the numbers are bitwise the SimPy engine's).
"""

from __future__ import annotations

import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Literal

import numpy as np

from twin import series, streams
from twin._kernel import KERNEL_TYPES, LV_PER_POOL, M_NSTATE, caching, pack_twin, rng_table, simulate_kernel
from twin.compile import CompiledTwin, compile_twin
from twin.costs import add_costs
from twin.errors import DeadlockError
from twin.nogc import paused_gc
from twin.replication import Replication, class_due_kpis, leaving_kpis
from twin.spec import Twin
from twin.starting import Start

TRACE_KINDS = ("arrival", "start", "end", "leave", "failure", "repair", "shift", "order", "delivery", "grant",
               "contingency", "by", "renege", "lost", "balk", "preempt", "blocked", "class", "maintenance",
               "maintained", "crew", "produce", "lost_sale", "supplier", "setup")
ACTIVITY_KINDS = ("renege", "lost", "balk", "preempt", "blocked", "setup")  # trace rows naming an activity


class Packed:
    """A twin ready for the kernel: its CompiledTwin and the two packed arrays."""

    def __init__(self, twin: Twin, compiled: CompiledTwin | None = None) -> None:
        self.twin = twin
        self.compiled = compile_twin(twin) if compiled is None else compiled
        self.mi, self.mf = pack_twin(self.compiled)
        self.sources = [str(s) for s in self.compiled.sources]

    def generators(self, seed: int, replication: int) -> list[np.random.Generator]:
        return [streams.stream(seed, replication, source) for source in self.sources]

    def inputs(self, seed: int, replication: int, start: Start | None) -> tuple[np.ndarray, np.ndarray]:
        """mi and the start rows of one replication: as packed, or from a state (twin.starting)."""
        if start is None or start.empty:
            return self.mi, NO_START
        mi = self.mi.copy()
        mi[M_NSTATE] = len(start)  # its layout makes room for them
        return mi, start.draw(seed, replication)


NO_START = np.zeros(0, np.float64)


def _packed(twin: Twin, compiled: CompiledTwin | Packed | None) -> Packed:
    if isinstance(compiled, Packed):
        return compiled
    return Packed(twin, compiled)


def simulate_fast(
    twin: Twin, seed: int, replication: int = 0, trace: bool | Literal["flow"] = False,
    compiled: CompiledTwin | Packed | None = None, sample_every: float | None = None,
    start: Start | None = None,
) -> Replication:
    """Run one replication of `twin` with the Numba engine (pass `compiled` to reuse it;
    `trace`: True, or "flow" for its flow alone, twin.replication; `sample_every`: record the
    state series of twin.series; `start`: from a state's entities, twin.starting)."""
    prepare()
    packed = _packed(twin, compiled)
    generators = packed.generators(seed, replication)  # alive while the kernel draws from them
    table = rng_table(generators)
    n, every = _samples(twin, sample_every)
    mi, rows0 = packed.inputs(seed, replication, start)
    started = time.perf_counter()
    oi, of, times, rows, flat = simulate_kernel(mi, packed.mf, table, bool(trace), n, every, rows0)
    sim_seconds = time.perf_counter() - started
    with paused_gc():
        trace_rows = _trace(twin, times, rows) if trace is True else None
    samples = flat.reshape(n, -1) if sample_every is not None else None
    return Replication(_record(twin, oi, of), int(oi[0]), sim_seconds, trace_rows, samples,
                       _flow(times, rows) if trace else None)


ARRIVAL, LEAVE = TRACE_KINDS.index("arrival"), TRACE_KINDS.index("leave")


def _flow(times: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """twin.replication.trace_flow straight from the kernel's trace arrays."""
    kinds = rows[:, 0]
    moved = (kinds == ARRIVAL) | (kinds == LEAVE)
    return np.column_stack([times[moved], np.where(kinds[moved] == ARRIVAL, 1.0, -1.0)])


def _samples(twin: Twin, sample_every: float | None) -> tuple[int, float]:
    if sample_every is None:
        return 0, 1.0
    return int(series.sample_count(twin.horizon, sample_every)), float(sample_every)


def simulate_many_fast(
    twin: Twin, seed: int, replications: Sequence[int], compiled: CompiledTwin | Packed | None = None,
    sample_every: float | None = None, workers: int | None = None, start: Start | None = None,
) -> list[Replication]:
    """Replications `replications` of `twin`, in parallel on `workers` threads (default: one
    per core; no trace; `sample_every`: each with its state series, as `simulate_fast`).

    The records do not depend on `workers`. Each replication's `sim_seconds` is its share of
    the wall time of the whole call.
    """
    prepare()
    packed = _packed(twin, compiled)
    reps = list(replications)
    n, every = _samples(twin, sample_every)

    def one(r: int) -> Replication:
        generators = packed.generators(seed, r)  # alive while the kernel draws from them
        mi, rows0 = packed.inputs(seed, r, start)
        oi, of, _, _, flat = simulate_kernel(mi, packed.mf, rng_table(generators), False, n, every, rows0)
        return Replication(_record(twin, oi, of), int(oi[0]), 0.0, None,
                           flat.reshape(n, -1) if sample_every is not None else None)

    threads = max(1, min(workers or os.cpu_count() or 1, len(reps)))
    started = time.perf_counter()
    if threads == 1:
        done = [one(r) for r in reps]
    else:
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(one, reps))
    share = (time.perf_counter() - started) / max(1, len(reps))
    for rep in done:
        rep.sim_seconds = share
    return done


def _level_mean(of: np.ndarray, i: int, horizon: float, warmup: float) -> float:
    """Level.mean(horizon): close the last interval, then average (same float ops)."""
    value, last, area = float(of[3 * i]), float(of[3 * i + 1]), float(of[3 * i + 2])
    since = last if last > warmup else warmup
    if horizon > since:
        area += value * (horizon - since)
    return area / (horizon - warmup)


def _sections(values: list[int], sizes: tuple[int, ...]) -> list[list[int]]:
    """`values` cut into consecutive pieces of these sizes (all of them used)."""
    assert sum(sizes) == len(values), (sum(sizes), len(values))
    bounds = np.cumsum((0, *sizes)).tolist()
    return [values[lo:hi] for lo, hi in itertools.pairwise(bounds)]


def _record(twin: Twin, oi: np.ndarray, of: np.ndarray) -> dict[str, float]:
    """The flat KPI record of Model.record, key for key (oi, of: see `_kernel.loop._stats`)."""
    h, w = twin.horizon, twin.warmup
    n_act, n_pool, n_mat = len(twin.activities), len(twin.resources), len(twin.materials)
    n_lv = 1 + n_act + LV_PER_POOL * n_pool + 2 * n_mat
    classes = twin.classes
    n_cls, n_rule = len(classes), len(twin.contingency)
    first_sup = np.cumsum([0] + [len(m.sources) for m in twin.materials]).tolist()
    n_sup = first_sup[-1]
    per_class = n_cls * (n_act + 1) if twin.uses_classes else 0
    (_, counts, completed, requests, filled, extra, queueing, class_counts, dead,
     class_due, care, lost_sales, orders, setups) = _sections(oi.tolist(), (
        1, 2 + n_act, n_act, n_mat, n_mat, 1 + n_pool + n_rule, 4 * n_act, per_class, 1 + n_act, 2 * n_cls,
        2 * n_pool, n_mat, n_sup, n_act))  # _kernel.loop._int_sizes
    late, repairs, activations = extra[0], extra[1:1 + n_pool], extra[1 + n_pool:]
    totals = of[3 * n_lv:3 * n_lv + 2 + n_act].tolist()
    class_totals = of[3 * n_lv + 2 + n_act:len(of) - 1 - n_pool].tolist()
    dead_time, crew_totals = float(of[len(of) - 1 - n_pool]), of[len(of) - n_pool:].tolist()
    if dead[0]:
        locked = [a.name for a, x in zip(twin.activities, dead[1:], strict=True) if x]
        raise DeadlockError(dead_time, sorted(locked))

    def tally(i: int) -> float:
        return totals[i] / counts[i] if counts[i] else math.nan

    record = {
        "throughput": counts[0] / (h - w),
        "cycle_time": tally(0),
        "wip": _level_mean(of, 0, h, w),
    }
    def class_tally(i: int) -> float:
        return class_totals[i] / class_counts[i] if class_counts[i] else math.nan

    for a, act in enumerate(twin.activities):
        record[f"activities.{act.name}.wait"] = tally(1 + a)
        record[f"activities.{act.name}.queue_length"] = _level_mean(of, 1 + a, h, w)
        record[f"activities.{act.name}.completed"] = float(completed[a])
        reached, abandoned, lost, balked = queueing[4 * a:4 * a + 4]
        record |= leaving_kpis(act, reached, (abandoned, lost, balked))
        if any(act.setup_of(c) for c in classes):
            record[f"activities.{act.name}.setups"] = float(setups[a])
        if twin.uses_classes:
            record |= {f"activities.{act.name}.by_class.{c}.wait": class_tally(a * len(classes) + k)
                       for k, c in enumerate(classes)}
    for p, pool in enumerate(twin.resources):
        row = 1 + n_act + LV_PER_POOL * p
        busy, available = _level_mean(of, row, h, w), _level_mean(of, row + 1, h, w)
        record[f"resources.{pool.name}.utilization"] = busy / available if available > 0 else math.nan
        up = _level_mean(of, row + 2, h, w)
        record[f"resources.{pool.name}.availability"] = up / pool.capacity
        if pool.maintenance is not None:  # twin.pools.Pool.kpis
            record[f"resources.{pool.name}.maintenances"] = float(care[2 * p])
        if pool.crews:
            waits = care[2 * p + 1]
            record[f"resources.{pool.name}.crew_wait"] = crew_totals[p] / waits if waits else math.nan
    for s, mat in enumerate(twin.materials):
        row = 1 + n_act + LV_PER_POOL * n_pool + 2 * s
        record[f"materials.{mat.name}.inventory"] = _level_mean(of, row, h, w)
        record[f"materials.{mat.name}.fill_rate"] = filled[s] / requests[s] if requests[s] else math.nan
        record[f"materials.{mat.name}.stockout_fraction"] = _level_mean(of, row + 1, h, w)
        if mat.loses:
            share = lost_sales[s] / requests[s] if requests[s] else math.nan
            record[f"materials.{mat.name}.lost_sales"] = share
        if mat.suppliers:  # Stock.kpis: each supplier's share of the orders after the warm-up
            mine = orders[first_sup[s]:first_sup[s] + len(mat.suppliers)]
            total = sum(mine)
            record |= {f"materials.{mat.name}.suppliers.{x.name}.orders": k / total if total else math.nan
                       for x, k in zip(mat.suppliers, mine, strict=True)}
    if twin.uses_classes:
        for k, c in enumerate(classes):
            record[f"classes.{c}.throughput"] = class_counts[n_act * len(classes) + k] / (h - w)
            record[f"classes.{c}.cycle_time"] = class_tally(n_act * len(classes) + k)
    if twin.has_due_dates:  # Model.record, in the same order
        due = counts[1 + n_act]
        record["on_time"] = 1.0 - late / due if due else math.nan
        record["tardiness"] = tally(1 + n_act)
        record["late"] = float(late)
        if twin.uses_classes:
            record |= class_due_kpis(classes, class_due[0::2], class_due[1::2])
    for r, rule in enumerate(twin.contingency):
        record[f"contingency.{rule.name}.activations"] = float(activations[r])
    if twin.costs is not None:
        for p, pool in enumerate(twin.resources):
            row = 1 + n_act + LV_PER_POOL * p
            record[f"resources.{pool.name}.on_duty"] = _level_mean(of, row + 3, h, w)
            record[f"resources.{pool.name}.overtime"] = _level_mean(of, row + 4, h, w)
            record[f"resources.{pool.name}.repairs"] = float(repairs[p])
        for s, mat in enumerate(twin.materials):
            record[f"materials.{mat.name}.stockouts"] = float(requests[s] - filled[s])
            record[f"materials.{mat.name}.orders"] = float(sum(orders[first_sup[s]:first_sup[s + 1]]))
        add_costs(twin, record)
    return record


def _trace(twin: Twin, times: np.ndarray, rows: np.ndarray) -> list[tuple[float, str, int, str]]:
    """Kernel trace arrays -> (time, kind, subject, name) as the SimPy engine logs them."""
    names = {
        "arrival": [a.name for a in twin.arrivals],
        "start": [a.name for a in twin.activities],
        "end": [a.name for a in twin.activities],
        **{kind: [r.name for r in twin.resources]
           for kind in ("failure", "repair", "maintenance", "maintained", "crew")},
        "shift": [r.name for r in twin.resources],
        "order": [m.name for m in twin.materials],
        "produce": [m.name for m in twin.materials],
        "delivery": [m.name for m in twin.materials],
        "grant": [a.name for a in twin.activities],
        "contingency": [r.name for r in twin.contingency],
        "by": [r.name for r in twin.resources],
        **{kind: [a.name for a in twin.activities] for kind in ACTIVITY_KINDS},
        "class": twin.classes,
        "lost_sale": [m.name for m in twin.materials],
        "supplier": [name for m in twin.materials for name, _ in m.sources],
    }
    kinds, ids = rows[:, 0], rows[:, 2]
    labels = np.full(len(rows), "", dtype=object)
    for k in np.unique(kinds).tolist():  # a kind at a time, with numpy's indexing (as a list's)
        if TRACE_KINDS[k] != "leave":
            mask = kinds == k
            labels[mask] = np.array(list(names[TRACE_KINDS[k]]), dtype=object)[ids[mask]]
    kind_names = np.array(TRACE_KINDS, dtype=object)[kinds]
    return list(zip(times.tolist(), kind_names.tolist(), rows[:, 1].tolist(), labels.tolist(), strict=True))


def prepare(parallel: bool = True,
            compiling: Callable[[], AbstractContextManager[Any]] | None = None) -> float:
    """Load the kernel from Numba's cache, or compile it (inside `compiling()`, which may say
    so on screen: twin.compiling.announce); returns the seconds spent compiling (0.0 when it
    came from the cache). The kernel has one specialisation (`KERNEL_TYPES`) whatever the
    twin. `parallel` is kept for old callers: one kernel serves one replication and many
    (on threads) alike."""
    global _READY
    if _READY:
        return 0.0
    with _LOCK:
        if _READY:
            return 0.0
        if caching.by_type(simulate_kernel, KERNEL_TYPES):
            _READY = True
            return 0.0
        started = time.perf_counter()
        with compiling() if compiling is not None else nullcontext():
            simulate_kernel.compile(KERNEL_TYPES)
        _READY = True
        return time.perf_counter() - started


_READY = False
_LOCK = threading.Lock()
