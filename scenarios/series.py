"""State series of a study: the engines' samples of WIP, queues, stock and backlog.

Every replication of a study records its state series (`twin.series`) at the study's
interval; the chunk rows carry them flattened (`series`, with `series_every`), so an
interrupted study resumes them with the results. `series_table` gathers the scenarios'
series into one tidy table, written as `OUT/series.parquet` next to `results.parquet`:
one row per scenario x replication x sample time, columns `scenario`, `replication`,
`time`, then one per series (`wip`, `queue.A`, `stock.M`, `backlog`; a scenario without
an activity or material has NaN there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from scenarios.loader import Scenario
from scenarios.variants import Unit
from twin.series import columns, sample_times

SERIES = ("series", "series_every")  # chunk-row columns that are not KPIs
META = ("scenario", "replication", "time")


def series_table(
    rows: list[dict[str, Any]], scenarios: list[Scenario], keys: Mapping[str, Unit], n: int
) -> pd.DataFrame | None:
    """The scenarios' series for replications 0..n-1 (None if no row has one)."""
    names = {s.name for s in scenarios}
    parts = []
    for key, unit in keys.items():
        if unit.name not in names:
            continue  # sensitivity variants: not drawn
        for row in sorted(
            (r for r in rows if r["key"] == key and r["replication"] < n), key=lambda r: r["replication"]
        ):
            if row.get("series") is not None:
                parts.append(_frame(row, columns(unit.twin)))
    if not parts:
        return None
    table = pd.concat(parts, ignore_index=True)
    table["replication"] = table["replication"].astype("int64")
    return table


def _frame(row: dict[str, Any], names: list[str]) -> pd.DataFrame:
    values = np.asarray(row["series"], dtype=np.float64).reshape(-1, len(names))
    frame = pd.DataFrame(values, columns=names)
    frame.insert(0, "time", sample_times(len(frame), float(row["series_every"])))
    frame.insert(0, "replication", int(row["replication"]))
    frame.insert(0, "scenario", row["scenario"])
    return frame
