"""State series of a study: the engines' samples of WIP, queues, stock and backlog.

Every replication of a study records its state series (`twin.series`) at the study's
interval; the chunk rows carry them flattened (`series`, with `series_every`), so an
interrupted study resumes them with the results. `series_table` gathers the scenarios'
series into one tidy table (numpy columns; the study's `series` is the same as a
DataFrame), written as `OUT/series.parquet` next to `results.parquet`: one row per
scenario x replication x sample time, columns `scenario`, `replication`, `time`, then one
per series (`wip`, `queue.A`, `stock.M`, `backlog`; a scenario without
an activity or material has NaN there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from scenarios.loader import Scenario
from scenarios.variants import Unit
from twin.series import columns, sample_times

SERIES = ("series", "series_every")  # chunk-row columns that are not KPIs
META = ("scenario", "replication", "time")


def series_table(
    rows: list[dict[str, Any]], scenarios: list[Scenario], keys: Mapping[str, Unit], n: int
) -> dict[str, np.ndarray] | None:
    """The scenarios' series for replications 0..n-1 (None if no row has one); a series that
    one scenario lacks (another's activity or material) is NaN in its rows."""
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
    order = list(dict.fromkeys(name for part in parts for name in part))
    return {name: np.concatenate([part[name] if name in part else np.full(len(part["time"]), np.nan)
                                  for part in parts]) for name in order}


def _frame(rows: list[dict[str, Any]], names: list[str]) -> dict[str, np.ndarray]:
    """One unit's rows as one block of columns (not a block per row: a millisecond a row)."""
    blocks = [np.asarray(row["series"], dtype=np.float64).reshape(-1, len(names)) for row in rows]
    counts = [len(b) for b in blocks]
    values = np.concatenate(blocks)
    return {
        "scenario": np.repeat(np.array([row["scenario"] for row in rows], dtype=object), counts),
        "replication": np.repeat(np.array([int(row["replication"]) for row in rows], dtype=np.int64), counts),
        "time": np.concatenate([sample_times(c, float(row["series_every"]))
                                for c, row in zip(counts, rows, strict=True)]),
        **{name: np.ascontiguousarray(values[:, i]) for i, name in enumerate(names)},
    }
