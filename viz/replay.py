"""One traced replication of a study, for the close-up figures.

A study keeps the event trace of one replication per scenario (`traces/`, the replication
`provenance["traced_replication"]`: the first in which every random stress occurs), as the
engine traced it while the study ran, so the report only reads it. A study folder written
before studies kept traces has none: then, and only then, the replication is re-run with
tracing from the spec the study saved (`specs/`), its seed and engine, and that
replication's uncertain inputs and random stress windows (the `input.*` columns); the
re-run's KPI record must equal the saved row, or this raises. Figure builders never call
this: only the report does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from scenarios.engine import simulate_one
from scenarios.spec import ScenarioStress
from scenarios.stresses import replication_twin
from scenarios.work import trace_rows
from twin.loader import twin_to_data
from twin.spec import Twin
from viz.data import StudyData, slug

Trace = list[tuple[float, str, int, str]]


@dataclass
class Replay:
    scenario: str
    replication: int
    twin: Twin
    trace: Trace
    record: dict[str, float]
    rerun: bool = False  # re-run for an older study folder that kept no trace


def replay(study: StudyData, scenario: str, replication: int = 0) -> Replay:
    """One replication of a scenario with its trace: the study's own, else re-run and checked."""
    rows = study.table[(study.table["scenario"] == scenario) & (study.table["replication"] == replication)]
    if len(rows) != 1:
        raise LookupError(f"no replication {replication} of '{scenario}' in {study.folder}/results.parquet")
    row = rows.iloc[0]
    inputs = {
        c.removeprefix("input."): float(row[c])
        for c in rows
        if c.startswith("input.") and not math.isnan(row[c])
    }
    base = study.twins[scenario]
    stresses = [ScenarioStress.model_validate(s)
                for s in study.provenance["scenarios"].get(scenario, {}).get("random_stresses", [])]
    twin = replication_twin(base, twin_to_data(base), scenario, inputs, stresses)
    kept = study.folder / "traces" / f"{slug(scenario)}.parquet"
    if study.provenance.get("traced_replication") == replication and kept.exists():
        columns = pd.read_parquet(kept)
        record = {k: float(v) for k, v in row.items() if k not in ("scenario", "replication")
                  and not k.startswith("input.") and isinstance(v, int | float)}
        return Replay(scenario, replication, twin, trace_rows(columns), record)
    rep = simulate_one(twin, study.provenance["seed"], replication, study.provenance["engine"], trace=True)
    assert rep.trace is not None
    _check(rep.record, row.to_dict(), scenario, replication)
    return Replay(scenario, replication, twin, rep.trace, rep.record, rerun=True)


def stressed_replication(study: StudyData) -> int:
    """The replication whose trace the study kept; in older folders, the first replication of
    the baseline in which every random stress occurred, else the first with any, else 0."""
    kept = study.provenance.get("traced_replication")
    if kept is not None:
        return int(kept)
    table = study.table[study.table["scenario"] == study.baseline].sort_values("replication")
    flags = [c for c in table if c.startswith("input.stress.") and c.endswith(".occurred")]
    if not flags:
        return 0
    for test in (table[flags].eq(1).all(axis=1), table[flags].eq(1).any(axis=1)):
        hits = table.loc[test, "replication"]
        if len(hits):
            return int(hits.iloc[0])
    return 0


def _check(record: dict[str, float], saved: dict[str, object], scenario: str, replication: int) -> None:
    for key, value in record.items():
        other = float(saved.get(key, math.nan))  # type: ignore[arg-type]
        if not (
            math.isclose(value, other, rel_tol=1e-9, abs_tol=1e-12)
            or (math.isnan(value) and math.isnan(other))
        ):
            raise RuntimeError(
                f"re-running replication {replication} of '{scenario}' gave {key} = {value}, "
                f"but the study saved {other}: the engine or version differs from the study's"
            )
