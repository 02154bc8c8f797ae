"""Forecast from a state: Monte Carlo replications that start from what is happening now.

`forecast(twin, state, until)` runs replications of `twin` from `state` (twin.starting) up to
`until` (model time, in the state's frame), with arrivals going on as the twin says, and
keeps per replication each state entity's leaving time, the WIP and completions over time
and the stock on hand. `Forecast.summary()` is the plain-data answer (`twin forecast
--json`, DESIGN.md): the drain time, each entity's finishing time and P(done by until) (and
P(on time) where it has a due date), fans of WIP and completions, and stockouts ahead.
Replication r draws from the same named streams whatever else runs, so two plans
forecast with one seed share their random numbers.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from twin import series
from twin.results import summarize
from twin.spec import Twin
from twin.starting import Start, begin
from twin.state import State

FAN = (0.05, 0.25, 0.5, 0.75, 0.95)  # the quantiles of a fan chart
LOOK_FURTHER = 10  # a run goes on to due dates after `until`, up to this many times its span


@dataclass
class Forecast:
    """Replications from one state: `finish` (replications x entities, in the state's
    entity order: leaving time after now, inf if not by the run's end: `until`, or the latest
    due date of an entity when that is later, so that P(on time) is known), `times` (sample times
    after now, up to `until`), `wip`, `done` (completions since now) and `stock` (per material)
    sampled there."""

    state: State
    twin: Twin  # the twin run from now on
    until: float
    finish: np.ndarray
    times: np.ndarray
    wip: np.ndarray
    done: np.ndarray
    stock: dict[str, np.ndarray]

    def summary(self) -> dict[str, Any]:
        """Plain data: times in the state's frame (`finish`, `until`), spans from now (`drain_time`)."""
        drain = self.finish.max(axis=1) if self.finish.shape[1] else np.zeros(len(self.finish))
        horizon = self.until - self.state.time
        drained = drain <= horizon
        entities = []
        for k, entity in enumerate(self.state.entities):
            left = self.finish[:, k]
            done = left <= horizon
            row: dict[str, Any] = {"case": entity.case, "activity": entity.activity or entity.after,
                                   "state": entity.state, "p_done": float(done.mean()),
                                   "finish": _mean(left[done] + self.state.time)}
            row |= {f"finish_p{round(q * 100)}": _quantile(left, q, self.state.time) for q in (0.1, 0.5, 0.9)}
            if entity.due is not None and entity.due <= self.state.time + self.twin.horizon:
                row["p_on_time"] = float((left + self.state.time <= entity.due).mean())  # else unknown
            entities.append(row)
        return {
            "time": self.state.time,
            "until": self.until,
            "replications": len(self.finish),
            "drain_time": float(drain.mean()) if drained.all() else None,
            "drain_time_ci": _half_width(drain.tolist()) if drained.all() else None,
            "p_drained": float(drained.mean()),
            "drain_time_p90": _quantile(drain, 0.9, 0.0),
            "entities": entities,
            "fan": {"time": (self.times + self.state.time).tolist(),
                    "wip": _fan(self.wip), "completions": _fan(self.done)},
            "stockouts": {name: {"p_stockout": float((on_hand <= 0).any(axis=1).mean()),
                                 "first_time_p50": _quantile(_first_zero(on_hand, self.times), 0.5,
                                                             self.state.time)}
                          for name, on_hand in self.stock.items()},
        }


def forecast(twin: Twin, state: State, until: float, replications: int = 200, seed: int = 1,
             engine: str = "fast", points: int = 100, workers: int | None = None) -> Forecast:
    """Replications 0..n-1 of `twin` from `state` up to `until` (model time, the state's frame)."""
    if until <= state.time:
        raise ValueError(f"until ({until:g}) must be after the state's time ({state.time:g})")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    now, start = begin(twin, state)
    # on past `until` to the latest due date, if later (a job due after it may still be on time),
    # but not past LOOK_FURTHER spans of the forecast: P(on time) of a job due later is unknown
    dues = [e.due for e in state.entities if e.due is not None]
    end = min(max([until, *dues]), state.time + LOOK_FURTHER * (until - state.time))
    now = now.model_copy(update={"horizon": end - state.time})
    every = (until - state.time) / points
    runs = _replications(now, start, seed, replications, engine, every, workers)
    n = len(state.entities)
    finish = np.full((replications, n), math.inf)
    numbers = np.asarray(start.order)  # entity number k + 1 is the state's entity order[k]
    for r, (leaves, _) in enumerate(runs):
        for number, t in leaves.items():
            if number <= n:
                finish[r, numbers[number - 1]] = t
    times = np.arange(series.sample_count(until - state.time, every)) * every
    runs = [(leaves, samples[:len(times)]) for leaves, samples in runs]  # the fans end at `until`
    wip = np.array([samples[:, 0] for _, samples in runs])
    wip[:, 0] = n  # sample 0 is taken before anything at t = 0: now, the state's entities are in
    done = np.array([_completions(leaves, times) for leaves, _ in runs])
    first_stock = 1 + len(now.activities)
    stock = {m.name: np.array([samples[:, first_stock + i] for _, samples in runs])
             for i, m in enumerate(now.materials)}
    return Forecast(state, now, until, finish, times, wip, done, stock)


def _replications(twin: Twin, start: Start, seed: int, replications: int, engine: str, every: float,
                  workers: int | None) -> list[tuple[dict[int, float], np.ndarray]]:
    """Per replication: each entity's leaving time (by number) and the state series."""
    if engine == "fast":
        from twin import compiling, engine_fast

        engine_fast.prepare(compiling=compiling.announce)
        packed = engine_fast.Packed(twin)

        def one(r: int) -> tuple[dict[int, float], np.ndarray]:
            rep = engine_fast.simulate_fast(twin, seed, r, True, packed, every, start)
            return _leaves(rep.trace), rep.series  # type: ignore[arg-type,return-value]

        threads = max(1, min(workers or os.cpu_count() or 1, replications))
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(one, range(replications)))
    if engine != "simpy":
        raise ValueError(f"engine must be fast or simpy, not '{engine}'")
    from twin.engine_simpy import simulate

    out = []
    for r in range(replications):
        rep = simulate(twin, seed, r, True, every, start)
        out.append((_leaves(rep.trace), rep.series))  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


def _leaves(trace: list[tuple[float, str, int, str]]) -> dict[int, float]:
    return {subject: t for t, kind, subject, _ in trace if kind == "leave"}


def _completions(leaves: dict[int, float], times: np.ndarray) -> np.ndarray:
    """How many entities had left by each sample time (a sample is the state just before it)."""
    left = np.sort(np.fromiter(leaves.values(), float, len(leaves)))
    return np.searchsorted(left, times, side="left").astype(float)


def _first_zero(on_hand: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Per replication the first sample time with nothing on hand (inf: never)."""
    empty = on_hand <= 0
    return np.where(empty.any(axis=1), times[empty.argmax(axis=1)], math.inf)


def _fan(values: np.ndarray) -> dict[str, list[float]]:
    return {f"p{round(q * 100)}": np.quantile(values, q, axis=0).tolist() for q in FAN}


def _quantile(values: np.ndarray, q: float, shift: float) -> float | None:
    """The q-quantile of `values` (inf: not yet), shifted; None when it lies beyond the horizon."""
    x = float(np.quantile(values, q, method="inverted_cdf")) if len(values) else math.inf
    return x + shift if math.isfinite(x) else None


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _half_width(values: list[float]) -> float | None:
    """The 95% confidence half-width of the mean of `values` (twin.results.summarize's t-interval)."""
    s = summarize(values)
    return None if s["ci95"][1] is None else s["ci95"][1] - s["mean"]
