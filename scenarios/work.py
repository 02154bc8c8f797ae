"""The unit of work sent to an executor: a chunk of replications of one scenario.

Chunks are plain, picklable data, and `run_chunk` is a top-level function, so the same
chunk gives the same rows in this process, in a process pool or on a Dask worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from scenarios.engine import prepare, simulate_one
from scenarios.spec import ScenarioStress
from scenarios.stresses import replication_twin
from scenarios.warmup import wip_series
from twin.loader import parse_twin
from twin.nogc import paused_gc
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
    keep_trace: int | None = None  # the replication whose event trace the study keeps (close-ups)

    @property
    def filename(self) -> str:
        return f"{self.key}-{self.replications[0]:06d}-{self.replications[-1]:06d}.parquet"


def run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """One row per replication: identity, events, WIP series (traced ones), the state series
    (flattened samples x twin.series.columns, and its interval), inputs, KPI record."""
    base, prepared = _prepared(chunk)
    rows: list[dict[str, Any]] = []
    stresses = [ScenarioStress.model_validate(s) for s in chunk.stresses]  # once per chunk
    with paused_gc():  # traces and rows: many tuples and lists, no cycles
        for r, values in zip(chunk.replications, chunk.inputs, strict=True):
            rows.append(_row(chunk, base, prepared, stresses, r, values))
    return rows


_PREPARED: dict[tuple[str, str, str], tuple[Twin, Any]] = {}
KEEP_PREPARED = 8  # units whose parsed and packed twin a process keeps


def _prepared(chunk: Chunk) -> tuple[Twin, Any]:
    """The chunk's twin parsed and packed for its engine (uncertain inputs change the twin per
    replication, not this base): once per unit in a process, not once per chunk (7 ms each,
    against 10 for a replication of a small twin)."""
    key = (chunk.key, chunk.scenario, chunk.engine)
    if key not in _PREPARED:
        if len(_PREPARED) >= KEEP_PREPARED:
            _PREPARED.pop(next(iter(_PREPARED)))
        base = parse_twin(chunk.data, chunk.scenario)
        _PREPARED[key] = base, prepare(base, chunk.engine)
    return _PREPARED[key]


def traced_in(chunk: Chunk) -> bool:
    """Whether the chunk traces a replication (the warm-up checks', or the close-up's)."""
    return any(_traced(chunk, r) for r in chunk.replications)


def _traced(chunk: Chunk, r: int) -> bool:
    return r < WARMUP_CHECKS or r == chunk.keep_trace


def _row(chunk: Chunk, base: Twin, prepared: Any, stresses: list[ScenarioStress], r: int,
         values: dict[str, float]) -> dict[str, Any]:
    """Replication `r` of the chunk with its uncertain `values`, as one row."""
    twin = replication_twin(base, chunk.data, chunk.scenario, values, stresses)
    # the warm-up checks need the flow alone; the close-up the whole trace
    trace: bool | Literal["flow"] = True if r == chunk.keep_trace else "flow" if _traced(chunk, r) else False
    every = chunk.series_every or default_interval(twin.horizon, twin.time_unit, MOST_INTERVALS)
    rep = simulate_one(twin, chunk.seed, r, chunk.engine, trace, prepared if twin is base else None, every)
    wip = wip_series(rep.flow, twin.horizon).tolist() if rep.flow is not None else None
    assert rep.series is not None
    row = {"key": chunk.key, "scenario": chunk.scenario, "replication": r, "events": rep.events,
           "wip_series": wip, "series": rep.series.ravel().tolist(), "series_every": every,
           **{f"input.{p}": v for p, v in values.items()}, **rep.record}
    if r == chunk.keep_trace and rep.trace is not None:
        row["trace"] = trace_columns(rep.trace)
    return row


def trace_columns(trace: list[tuple[float, str, int, str]]) -> dict[str, list[Any]]:
    """An event trace as columns (what Parquet stores compactly): t, kind, subject, name."""
    t, kind, subject, name = zip(*trace, strict=True) if trace else ((), (), (), ())
    return {"t": list(t), "kind": list(kind), "subject": list(subject), "name": list(name)}


def trace_rows(columns: dict[str, Any]) -> list[tuple[float, str, int, str]]:
    """`trace_columns` back into rows."""
    parts = (columns["t"], columns["kind"], columns["subject"], columns["name"])
    return [(float(a), str(b), int(c), str(d)) for a, b, c, d in zip(*parts, strict=True)]
