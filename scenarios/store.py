"""Study results on disk: one Parquet file per finished chunk, written atomically.

An interrupted study resumes from the chunks already in `OUT/chunks/`; a chunk belongs to
a run unit by its key (a fingerprint of twin, inputs, seed and engine), so chunks of an
edited scenario are never reused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pyarrow import parquet


def chunk_dir(out: Path) -> Path:
    return out / "chunks"


def write_chunk(out: Path, filename: str, rows: list[dict[str, Any]]) -> Path:
    folder = chunk_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    partial = folder / f".{filename}.{os.getpid()}.partial"
    # straight to Arrow (what pandas would do, without building a DataFrame first: a chunk is
    # written as each finishes, on the study's critical path)
    parquet.write_table(pa.Table.from_pylist(rows), partial)
    os.replace(partial, path)  # a killed study leaves whole chunks or none
    return path


def read_done(out: Path | None, keys: set[str]) -> list[dict[str, Any]]:
    """Rows of finished replications whose key is in `keys`."""
    if out is None or not chunk_dir(out).is_dir():
        return []
    rows: list[dict[str, Any]] = []
    for path in sorted(chunk_dir(out).glob("*.parquet")):
        if path.name.split("-", 1)[0] in keys:
            frame = pd.read_parquet(path)
            rows += [{k: v for k, v in row.items() if not _missing(v)} for row in frame.to_dict("records")]
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # other scenarios' columns


def write_table(out: Path, name: str, table: pd.DataFrame | dict[str, list[Any]]) -> Path:
    """A table, or columns (straight to Arrow: a trace's hundred thousand rows would take
    pandas longer to hold than Arrow to write), as Parquet, atomically."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    partial = out / f".{name}.partial"
    if isinstance(table, dict):
        parquet.write_table(pa.table(table), partial)
    else:
        table.to_parquet(partial, index=False)
    os.replace(partial, path)
    return path


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def write_csv(out: Path, name: str, table: pd.DataFrame) -> Path:
    """The table as CSV beside its Parquet, for spreadsheets: a text cell a spreadsheet would
    run as a formula (a scenario named '=cmd|...') gets a leading `'` (OWASP's advice on CSV
    injection); numbers are written in full."""
    defused = table.copy()
    for column in defused.select_dtypes(include="object").columns:
        defused[column] = defused[column].map(
            lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA) else v)
    path = out / name
    partial = out / f".{name}.partial"
    defused.to_csv(partial, index=False)
    os.replace(partial, path)
    return path
