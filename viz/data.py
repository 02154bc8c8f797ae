"""A study folder as written by `twin study --out DIR`, read back for drawing.

`results.parquet` (one row per scenario x replication), `summary.json`, `provenance.json`
and `specs/` (each run unit's twin and each scenario file) are read as they are, and so
is `series.parquet` (the engine-recorded state series of every scenario's replications,
see `scenarios.series`) when the study wrote one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    series: pd.DataFrame | None = None  # scenario, replication, time, wip, queue.A, stock.M, backlog

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
    def currency(self) -> str:
        costs = self.twins[self.baseline].costs
        return costs.currency if costs is not None else ""

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
    series_path = folder / "series.parquet"
    series = pd.read_parquet(series_path) if series_path.exists() else None
    return StudyData(folder, table, summary, provenance, twins, files, series)


def _read_file(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) if path.exists() else None
    return data if isinstance(data, dict) else {}
