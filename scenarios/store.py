"""Study results on disk: one Parquet file per finished chunk, written atomically.

An interrupted study resumes from the chunks already in `OUT/chunks/`; a chunk belongs to
a run unit by its key (a fingerprint of twin, inputs, seed and engine), so chunks of an
edited scenario are never reused.
"""

from __future__ import annotations

import csv
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
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


class ChunkWriter:
    """Writes each finished chunk under `out` (nothing when `out` is None); leaving the
    block writes any chunk still waiting, even when the study failed.

    Arrow's first use imports pandas, a third of a second. With `early` (the fast engine,
    which releases the GIL while it simulates) that import runs on a thread of its own from
    the first chunk on, beside the next replications (by then the engine is loaded: two
    imports at once would only take turns), and the chunks finished meanwhile wait for it;
    otherwise each chunk is written as it finishes."""

    def __init__(self, out: Path | None, early: bool = False) -> None:
        self.out = out
        self.early = early and out is not None
        self.waiting: list[list[dict[str, Any]]] = []

    def write(self, rows: list[dict[str, Any]]) -> None:
        if self.out is None or not rows:
            return
        self.waiting.append(rows)
        if self.early:
            _load_arrow_aside()
        if _arrow_loading is None or not _arrow_loading.is_alive():
            self.flush()

    def flush(self) -> None:
        wait_for_arrow()
        for rows in self.waiting:
            assert self.out is not None  # nothing waits without a folder
            first, last = rows[0]["replication"], rows[-1]["replication"]
            write_chunk(self.out, f"{rows[0]['key']}-{first:06d}-{last:06d}.parquet", rows)
        self.waiting.clear()

    def __enter__(self) -> ChunkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()


_arrow_loading: threading.Thread | None = None


def _load_arrow_aside() -> None:
    global _arrow_loading
    if _arrow_loading is None:
        # Arrow's pandas shim imports pandas on the first array built
        _arrow_loading = threading.Thread(target=pa.array, args=([0.0],), name="arrow-import", daemon=True)
        _arrow_loading.start()


def wait_for_arrow() -> None:
    """Until Arrow's import on its own thread (if one began) has ended."""
    if _arrow_loading is not None and _arrow_loading.is_alive():
        _arrow_loading.join()


# A forked child (a pool's worker) must not inherit an import half done: its locks held by a
# thread the child does not have.
os.register_at_fork(before=wait_for_arrow)


def read_done(out: Path | None, keys: set[str]) -> list[dict[str, Any]]:
    """Rows of finished replications whose key is in `keys`."""
    if out is None or not chunk_dir(out).is_dir():
        return []
    rows: list[dict[str, Any]] = []
    for path in sorted(chunk_dir(out).glob("*.parquet")):
        if path.name.split("-", 1)[0] in keys:
            rows += [{k: v for k, v in row.items() if not _missing(v)}
                     for row in parquet.read_table(path).to_pylist()]
    return rows


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # other scenarios' columns


def write_table(out: Path, name: str, table: Any) -> Path:
    """A DataFrame, or columns (straight to Arrow: a trace's hundred thousand rows would take
    pandas longer to hold than Arrow to write; NaN in a numpy column is written as missing,
    as pandas writes it), as Parquet, atomically."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    partial = out / f".{name}.partial"
    if isinstance(table, dict):
        parquet.write_table(pa.table({k: pa.array(v, from_pandas=True) if isinstance(v, np.ndarray) else v
                                      for k, v in table.items()}), partial)
    else:
        table.to_parquet(partial, index=False)
    os.replace(partial, path)
    return path


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def write_csv(out: Path, name: str, table: Any) -> Path:
    """A DataFrame or columns as CSV beside its Parquet, for spreadsheets, as pandas writes it
    (missing cells empty, numbers in full): a text cell a spreadsheet would run as a formula
    (a scenario named '=cmd|...') gets a leading `'` (OWASP's advice on CSV injection)."""
    columns = {str(k): np.asarray(v).tolist() for k, v in table.items()}
    path = out / name
    partial = out / f".{name}.partial"
    with partial.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(zip(*(map(_cell, c) for c in columns.values()), strict=True))
    os.replace(partial, path)
    return path


def _cell(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str) and value.startswith(FORMULA):
        return "'" + value
    return value
