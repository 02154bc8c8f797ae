"""The unit of work sent to an executor: a chunk of replications of one scenario.

Chunks are plain, picklable data, and `run_chunk` is a top-level function, so the same
chunk gives the same rows in this process, in a process pool or on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scenarios.engine import prepare, simulate_one
from scenarios.stresses import occurred
from scenarios.uncertain import applied
from scenarios.warmup import wip_series
from twin.loader import parse_twin
from twin.policies import Stress
from twin.series import MOST_INTERVALS, default_interval
from twin.spec import Twin

WARMUP_CHECKS = 5  # replications 0..4 of every scenario are traced for the MSER-5 check


@dataclass(frozen=True)
class Chunk:
    key: str  # fingerprint of what is simulated (twin, uncertain inputs, seed, engine)
    scenario: str
    data: dict[str, Any]  # the twin as canonical plain data
    seed: int
    engine: str
    replications: tuple[int, ...]
    inputs: tuple[dict[str, float], ...]  # uncertain values drawn for each replication
    series_every: float | None = None  # state series interval (None: a round one, MOST_INTERVALS at most)
    stresses: tuple[dict[str, Any], ...] = ()  # random stresses; their windows are in `inputs`

    @property
    def filename(self) -> str:
        return f"{self.key}-{self.replications[0]:06d}-{self.replications[-1]:06d}.parquet"


def replication_twin(base: Twin, chunk: Chunk, values: dict[str, float]) -> Twin:
    """The twin of one replication: `base` with its uncertain values set (re-validated) and the
    random stress windows that occurred added (already validated when the study loaded, so
    they are added without re-checking the whole twin; `applied` is the plain-data twin)."""
    drawn = {p: v for p, v in values.items() if not p.startswith("stress.")}
    twin = parse_twin(applied(chunk.data, drawn), chunk.scenario) if drawn else base
    windows = occurred(chunk.stresses, values)
    if not windows:
        return twin
    return twin.model_copy(update={"stresses": [*twin.stresses, *map(Stress.model_validate, windows)]})


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """One row per replication: identity, events, WIP series (traced ones), the state series
    (flattened samples x twin.series.columns, and its interval), inputs, KPI record."""
    base = parse_twin(chunk.data, chunk.scenario)
    prepared = prepare(base, chunk.engine)  # once per chunk; uncertain inputs change the twin
    rows = []
    for r, values in zip(chunk.replications, chunk.inputs, strict=True):
        twin = replication_twin(base, chunk, values)
        traced = r < WARMUP_CHECKS
        every = chunk.series_every or default_interval(twin.horizon, twin.time_unit, MOST_INTERVALS)
        rep = simulate_one(twin, chunk.seed, r, chunk.engine, traced, prepared if twin is base else None,
                           every)
        wip = wip_series(rep.trace, twin.horizon).tolist() if rep.trace is not None else None
        assert rep.series is not None
        rows.append({"key": chunk.key, "scenario": chunk.scenario, "replication": r, "events": rep.events,
                     "wip_series": wip, "series": rep.series.ravel().tolist(), "series_every": every,
                     **{f"input.{p}": v for p, v in values.items()}, **rep.record})
    return rows
