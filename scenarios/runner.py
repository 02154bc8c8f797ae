"""Run a study: scenarios x replications with common random numbers, in chunks.

Replication r of every scenario runs with the same seed and replication index, so every
stochastic source the scenarios share draws the same numbers (CRN). Work goes out in
chunks of replications of one scenario; each finished chunk is written to `OUT/chunks/`
at once, and a rerun skips what is there. With `experiment.precision`, replications are
added in rounds until every scenario's relative CI half-width on the KPI is met or the cap
is reached; the decision depends on the results only, so it is the same on every executor.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from scenarios import store
from scenarios.analysis import Table
from scenarios.executors import Executor, make_executor
from scenarios.loader import Scenario, kpi_names
from scenarios.ranking import kim_nelson, more_for_kn
from scenarios.series import SERIES, series_table
from scenarios.spec import Experiment, Objective, Precision, Ranking, ScenarioStress
from scenarios.store import ChunkWriter
from scenarios.stresses import closeup_replication
from scenarios.stresses import draws as stress_draws
from scenarios.uncertain import draws
from scenarios.variants import Unit, units_of
from scenarios.work import Chunk, run_chunk, traced_in
from twin.series import sample_count
from twin.tquantile import t975

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int, int], None]
META = ("scenario", "replication", "events")


@dataclass
class Settings:
    replications: int
    seed: int
    engine: str
    precision: Precision | None
    series_every: float | None = None  # state series interval (None: twin.series.default_interval)
    ranking: Ranking | None = None  # KN selection: replications are added until it stops
    objective: Objective = field(default_factory=Objective)
    keep_trace: bool = True  # keep one replication's event trace per scenario (the report's close-ups)

    @property
    def design(self) -> int:
        """Strata of a Latin hypercube: the most replications this study may run."""
        caps = [x.max_replications for x in (self.precision, self.ranking) if x is not None]
        return max(caps) if caps else self.replications


def settings_for(baseline: Scenario, replications: int | None = None, seed: int | None = None,
                 engine: str | None = None, series_every: float | None = None) -> Settings:
    """The baseline's `experiment`, with command-line values taking precedence."""
    experiment = baseline.experiment or Experiment()
    precision = experiment.precision if replications is None else None
    if series_every is not None:
        sample_count(baseline.twin.horizon, series_every)  # a clear error now, not in a worker
    ranking = experiment.ranking if replications is None else None
    return Settings(replications or experiment.replications,
                    experiment.seed if seed is None else seed, engine or experiment.engine, precision,
                    series_every, ranking, experiment.objective)


@dataclass
class StudyResult:
    """What a study found. The results are numpy columns (`columns`, the tidy table); `table`
    is the same as a DataFrame, built on first use: summarising and writing a study need no
    pandas, whose import would be most of a small study's fixed cost."""

    scenarios: list[Scenario]
    units: list[Unit]
    settings: Settings
    columns: dict[str, np.ndarray]  # the tidy table: one row per unit x replication (`tidy`)
    wall_seconds: float
    replications: int
    resumed: int = 0  # replications read back from earlier chunks
    wip: dict[str, list[list[float]]] = field(default_factory=dict)  # traced WIP series per unit
    series_columns: dict[str, np.ndarray] | None = None  # state series of the scenarios (series_table)
    traced_replication: int = 0  # whose event trace each scenario keeps (`traces`)
    traces: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # scenario -> trace columns

    @cached_property
    def table(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.columns)

    @cached_property
    def series(self) -> pd.DataFrame | None:
        import pandas as pd

        return None if self.series_columns is None else pd.DataFrame(self.series_columns)


def unit_key(unit: Unit, settings: Settings) -> str:
    uncertain = unit.uncertain.model_dump(mode="json") if unit.uncertain else None
    design = settings.design if unit.uncertain and unit.uncertain.method == "lhs" else None
    # The name too: two scenarios that happen to simulate the same twin stay two units.
    blob = json.dumps([unit.name, unit.data, uncertain, design, settings.seed, settings.engine,
                       settings.series_every, unit.stresses], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_study(
    scenarios: list[Scenario],
    settings: Settings,
    executor: str = "processes",
    address: str | None = None,
    workers: int | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    pool: Executor | None = None,
) -> StudyResult:
    """Every unit (scenario or sensitivity variant) for the same replications 0..n-1; on
    `pool` when given (an open executor, left open: the optimiser runs many studies on one)."""
    started = time.perf_counter()
    units = units_of(scenarios)
    keys = {unit_key(u, settings): u for u in units}
    rows = {(row["key"], row["replication"]): row for row in store.read_done(out, set(keys))}
    resumed = len(rows)
    n = settings.replications
    traced = _closeup(units, settings)
    with (nullcontext(pool) if pool is not None else make_executor(executor, address, workers) as pool,
          ChunkWriter(out, early=settings.engine == "fast") as writer):
        while True:
            chunks = _chunks(keys, rows, n, settings, pool.workers, traced)
            total, finished = len(units) * n, len(units) * n - sum(len(c.replications) for c in chunks)
            _report(progress, finished, total)
            for result in pool.map_unordered(run_chunk, chunks):
                for row in result:
                    rows[(row["key"], row["replication"])] = row
                writer.write(result)
                finished += len(result)
                _report(progress, finished, total)
            more = _more_replications(rows, keys, scenarios, settings, n)
            if more <= n:
                break
            n = more
    table = tidy(list(rows.values()), units, keys, n)
    wip = {u.name: [list(rows[(k, r)]["wip_series"]) for r in range(n)
                    if rows[(k, r)].get("wip_series") is not None] for k, u in keys.items()}
    series = series_table(list(rows.values()), scenarios, keys, n)
    names = {s.name for s in scenarios}
    kept: dict[str, Any] = {}
    if traced is not None:
        kept = {k: rows.get((k, traced), {}).get("trace") for k in keys}
    traces = {u.name: kept[k] for k, u in keys.items() if u.name in names and kept.get(k) is not None}
    return StudyResult(scenarios, units, settings, table, time.perf_counter() - started, n, resumed, wip,
                       series, traced or 0, traces)


def _closeup(units: list[Unit], settings: Settings) -> int | None:
    """The replication whose trace every scenario keeps (None: keep none)."""
    if not settings.keep_trace or not units:
        return None
    stresses = [ScenarioStress.model_validate(s) for s in units[0].stresses]  # the baseline's
    return closeup_replication(stresses, settings.seed, settings.design)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _chunks(keys: dict[str, Unit], rows: dict[tuple[str, int], Any], n: int, settings: Settings,
            workers: int, traced: int | None = None) -> list[Chunk]:
    missing = {key: [r for r in range(n) if (key, r) not in rows] for key in keys}
    size = max(1, min(10, math.ceil(sum(map(len, missing.values())) / (4 * workers))))
    chunks = []
    for key, reps in missing.items():
        unit = keys[key]
        stresses = [ScenarioStress.model_validate(s) for s in unit.stresses]
        for i in range(0, len(reps), size):
            part = reps[i:i + size]
            inputs = draws(unit.uncertain, unit.data, settings.seed, part, settings.design)
            random = stress_draws(stresses, settings.seed, part)
            inputs = [a | b for a, b in zip(inputs, random, strict=True)]
            chunks.append(Chunk(key, unit.name, unit.data, settings.seed, settings.engine,
                                tuple(part), tuple(inputs), settings.series_every, unit.stresses, traced))
    return _light_first(chunks)


def _light_first(chunks: list[Chunk]) -> list[Chunk]:
    """A light chunk (no traced replication) cut in two halves first, then the traced ones,
    then the rest. A parallel executor runs its first two items here to time them (the very
    first also loads the engine): light and half-sized, they keep that serial part short (a
    traced chunk takes about four times as long) and, if anything, underestimate the rest;
    the heavy ones go to the workers first, where they overlap the rest."""
    light = [c for c in chunks if not traced_in(c)]
    heavy = [c for c in chunks if traced_in(c)]
    if light and len(light[0].replications) > 1:
        half = len(light[0].replications) // 2
        first = light.pop(0)
        light[:0] = [replace(first, replications=first.replications[:half], inputs=first.inputs[:half]),
                     replace(first, replications=first.replications[half:], inputs=first.inputs[half:])]
    return light[:2] + heavy + light[2:]


def _more_replications(rows: dict[tuple[str, int], dict[str, Any]], keys: dict[str, Unit],
                       scenarios: list[Scenario], settings: Settings, n: int) -> int:
    """Replications needed for the precision target and for KN to stop (n when both are
    met, or at their caps)."""
    need = n
    precision = settings.precision
    names = {s.name for s in scenarios}
    if precision is not None and n < precision.max_replications:
        for key, unit in keys.items():
            if unit.name in names:
                values = [rows[(key, r)].get(precision.kpi, math.nan) for r in range(n)]
                need = max(need, required_replications(values, precision.relative_half_width))
        need = min(precision.max_replications, need)
    if settings.ranking is not None and len(scenarios) > 1:
        table = tidy(list(rows.values()), [u for u in keys.values() if u.name in names], keys, n)
        kn = kn_result(table, scenarios, settings)
        need = max(need, more_for_kn(kn, n, settings.ranking.max_replications))
    return need


def kn_result(table: Table, scenarios: list[Scenario], settings: Settings) -> dict[str, Any]:
    """KN on the study's objective (scenarios.ranking), as far as `table` goes."""
    assert settings.ranking is not None
    ranking, objective = settings.ranking, settings.objective
    return kim_nelson(table, [s.name for s in scenarios], objective.kpi, objective.goal, ranking.indifference,
                      1 - ranking.confidence, ranking.first_stage)


def required_replications(values: list[float], relative_half_width: float) -> int:
    """Replications for a 95% t-CI half-width of `relative_half_width` x |mean| (n if met)."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(values)
    if x.size < 2 or x.mean() == 0:
        return n
    half = t975(x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    relative = half / abs(x.mean())
    if relative <= relative_half_width:
        return n
    return max(n + 1, math.ceil(n * (relative / relative_half_width) ** 2))


def tidy(rows: list[dict[str, Any]], units: list[Unit], keys: dict[str, Unit],
         n: int) -> dict[str, np.ndarray]:
    """One row per unit x replication (r < n), in unit then replication order, fixed columns:
    `scenario` (object), `replication` and `events` (int64), the rest float64 (NaN: none)."""
    order = {key: i for i, key in enumerate(keys)}
    kept = sorted((r for r in rows if r["key"] in order and r["replication"] < n),
                  key=lambda r: (order[r["key"]], r["replication"]))
    inputs = sorted({c for r in kept for c in r if c.startswith("input.")})
    kpis = list(dict.fromkeys(k for u in units for k in kpi_names(u.twin)))
    known = {"key", "wip_series", "trace", *SERIES, *META, *inputs, *kpis}
    kpis += list(dict.fromkeys(c for r in kept for c in r if c not in known))  # engine extras
    types = {"scenario": object, "replication": np.int64, "events": np.int64}
    return {c: np.array([r.get(c, math.nan) for r in kept], dtype=types.get(c, np.float64))
            for c in [*META, *inputs, *kpis]}
