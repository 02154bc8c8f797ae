"""A study folder as written by `twin study --out DIR`, read back for drawing.

`results.parquet` (one row per scenario x replication), `summary.json`, `provenance.json`
and `specs/` (each run unit's twin and each scenario file) are read as they are. The
traced WIP series of the first replications live in the study's resumable chunks
(`chunks/*.parquet`, column `wip_series`); a chunk row is used only when its events and
KPIs equal the row of `results.parquet`, so stale chunks of an edited scenario never count.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from scenarios.spec import Target, parse_target
from twin.loader import load_twin
from twin.spec import Twin

REQUIRED = ("results.parquet", "summary.json", "provenance.json", "specs")


@dataclass
class StudyData:
    folder: Path
    table: pd.DataFrame
    summary: dict[str, Any]
    provenance: dict[str, Any]
    twins: dict[str, Twin]  # every run unit (scenarios and sensitivity variants)
    files: dict[str, dict[str, Any]]  # scenario files as written
    wip: dict[str, np.ndarray] = field(default_factory=dict)  # replications x bins, per scenario

    @property
    def scenarios(self) -> list[str]:
        """Scenario names in study order; the first is the baseline."""
        return list(self.summary["scenarios"])

    @property
    def baseline(self) -> str:
        return self.scenarios[0]

    @property
    def time_unit(self) -> str:
        return self.twins[self.baseline].time_unit

    @property
    def targets(self) -> list[Target]:
        first = self.summary["scenarios"][self.baseline]["targets"]
        return [parse_target(text) for text in first]


def slug(name: str) -> str:
    """File-name form of a scenario name, as `twin study` writes specs/."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def load_study(folder: str | Path) -> StudyData:
    """Read a study folder; a missing part raises FileNotFoundError naming it."""
    folder = Path(folder)
    missing = [name for name in REQUIRED if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"{folder} is not a study folder (written by `twin study --out`): missing {', '.join(missing)}"
        )
    table = pd.read_parquet(folder / "results.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    provenance = json.loads((folder / "provenance.json").read_text())
    units = list(provenance["scenarios"])
    twins = {u: load_twin(folder / "specs" / f"{slug(u)}.twin.yaml") for u in units}
    files = {s: _read_file(folder / "specs" / f"{slug(s)}.scenario.yaml") for s in summary["scenarios"]}
    study = StudyData(folder, table, summary, provenance, twins, files)
    study.wip = wip_series(folder, table, study.scenarios)
    return study


def _read_file(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return data if isinstance(data, dict) else {}


def wip_series(folder: Path, table: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """Traced WIP series per scenario (replications x bins) whose rows match the table."""
    rows: dict[str, dict[int, list[float]]] = {}
    for path in sorted((folder / "chunks").glob("*.parquet")):
        chunk = pd.read_parquet(path)
        if "wip_series" not in chunk:
            continue
        for row in chunk.to_dict("records"):
            series = row.get("wip_series")
            if row["scenario"] in names and series is not None and _matches(row, table):
                rows.setdefault(row["scenario"], {})[int(row["replication"])] = list(series)
    return {name: np.array([rows[name][r] for r in sorted(rows[name])]) for name in names if name in rows}


def _matches(row: dict[str, Any], table: pd.DataFrame) -> bool:
    same = table[(table["scenario"] == row["scenario"]) & (table["replication"] == row["replication"])]
    if len(same) != 1:
        return False
    saved = same.iloc[0]
    checks = [k for k in ("events", "throughput", "cycle_time", "wip") if k in row and k in saved]
    return all(_equal(row[k], saved[k]) for k in checks)


def _equal(a: Any, b: Any) -> bool:
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b
