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
        mine = sorted((r for r in rows if r["key"] == key and r["replication"] < n
                       and r.get("series") is not None), key=lambda r: r["replication"])
        if mine:
            parts.append(_frame(mine, columns(unit.twin)))
    if not parts:
        return None
    table = pd.concat(parts, ignore_index=True)
    table["replication"] = table["replication"].astype("int64")
    return table


def _frame(rows: list[dict[str, Any]], names: list[str]) -> pd.DataFrame:
    """One unit's rows as one frame (one frame per row would cost a millisecond a row)."""
    blocks = [np.asarray(row["series"], dtype=np.float64).reshape(-1, len(names)) for row in rows]
    counts = [len(b) for b in blocks]
    frame = pd.DataFrame(np.concatenate(blocks), columns=names)
    frame.insert(0, "time", np.concatenate([sample_times(c, float(row["series_every"]))
                                            for c, row in zip(counts, rows, strict=True)]))
    frame.insert(0, "replication", np.repeat([int(row["replication"]) for row in rows], counts))
    frame.insert(0, "scenario", np.repeat(np.array([row["scenario"] for row in rows], dtype=object), counts))
    return frame
