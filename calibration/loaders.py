"""Read event logs (CSV or DataFrame) into a canonical table, never dropping a row silently.

Canonical columns: case_id, activity, resource (strings), start_time, end_time (naive
timestamps). Column names are mapped explicitly or detected from common spellings
(the shared datasets, Disco/Simod CSV, XES-style names). Other columns are left out unless
asked for (`keep`: a case attribute such as a priority, kept as stripped strings after the
canonical ones; `keep_all`: every other column, for detecting candidates); the end times
of the zero-length `End` markers dropped are kept per case in `LoadReport.case_ends` (where
a log records when a case closed, e.g. one cancelled after its last activity). Every dropped row is counted in
`LoadReport.dropped` by reason; problems that make the data untrustworthy raise
`CalibrationDataError` naming the column and the first offending rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from calibration.localtime import describe_zone, local_times

COLUMNS = ("case_id", "activity", "resource", "start_time", "end_time")
ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("case_id", "case", "caseid", "case:concept:name", "case id"),
    "activity": ("activity", "concept:name", "activity_name", "task"),
    "resource": ("resource", "org:resource", "user", "resource_id"),
    "start_time": ("start_time", "start_timestamp", "time:start", "start"),
    "end_time": ("end_time", "end_timestamp", "time:timestamp", "complete_time", "end"),
}
ARTIFICIAL = ("Start", "End")  # zero-length markers some tools add at case start and end
SHOW = 5  # rows named in an error message


class CalibrationDataError(ValueError):
    """Input data that cannot be used as given; the message says where and what to fix."""


@dataclass
class LoadReport:
    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    mapping: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    clock: str = "as written (no UTC offsets)"  # which clock times were read in (localtime)
    # the time of each case's zero-length End marker, where the log has them (not in as_dict)
    case_ends: pd.Series | None = field(default=None, repr=False)

    def drop(self, reason: str, count: int) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "mapping": dict(self.mapping),
            "notes": list(self.notes),
            "clock": self.clock,
        }


def read_table(source: str | Path | pd.DataFrame, **kwargs: Any) -> tuple[pd.DataFrame, str]:
    """A CSV or XES file (gzip by extension) or a DataFrame, as a DataFrame of strings."""
    if isinstance(source, pd.DataFrame):
        return source.copy(), "<DataFrame>"
    path = Path(source)
    if path.name.endswith((".xes", ".xes.gz")):
        return _read_xes(path), str(path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs), str(path)
    except FileNotFoundError:
        raise CalibrationDataError(f"{path}: no such file") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as error:
        raise CalibrationDataError(f"{path}: cannot read as CSV: {error}") from None


def _read_xes(path: Path) -> pd.DataFrame:
    from calibration.xes import read_xes

    try:
        return read_xes(path)
    except FileNotFoundError:
        raise CalibrationDataError(f"{path}: no such file") from None
    except (ElementTree.ParseError, OSError) as error:
        raise CalibrationDataError(f"{path}: cannot read as XES: {error}") from None


def resolve_columns(columns: list[str], mapping: dict[str, str] | None, source: str) -> dict[str, str]:
    """canonical name -> column in the file; explicit mapping first, then known spellings."""
    mapping = dict(mapping or {})
    unknown = set(mapping) - set(COLUMNS)
    if unknown:
        raise CalibrationDataError(
            f"{source}: unknown canonical column(s) {sorted(unknown)}; use {', '.join(COLUMNS)}"
        )
    lower = {c.lower().strip(): c for c in columns}
    resolved = {}
    for canonical in COLUMNS:
        if canonical in mapping:
            if mapping[canonical] not in columns:
                raise CalibrationDataError(
                    f"{source}: column '{mapping[canonical]}' (mapped to "
                    f"{canonical}) not found; columns are {columns}"
                )
            resolved[canonical] = mapping[canonical]
            continue
        found = next((lower[a] for a in ALIASES[canonical] if a in lower), None)
        if found is not None:
            resolved[canonical] = found
    missing = [c for c in COLUMNS if c not in resolved and c != "resource"]
    if missing:
        raise CalibrationDataError(
            f"{source}: missing column(s) {', '.join(missing)}; columns are {columns}. "
            f"Map them, e.g. --map {missing[0]}=YOUR_COLUMN"
        )
    return resolved


def parse_times(
    values: pd.Series, column: str, source: str, offset: int = 2, zone: str | None = None
) -> pd.Series:
    """Timestamps as naive local wall-clock datetimes (see `calibration.localtime`: each
    offset kept as written, or converted to `zone`); errors name rows."""
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=True)
    bad = parsed.isna()
    if bad.any():
        parsed = parsed.where(~bad, pd.to_datetime(values[bad], errors="coerce", format="mixed", utc=True))
        bad = parsed.isna()
    if bad.any():
        rows = [f"row {i + offset} ({values[i]!r})" for i in values.index[bad][:SHOW]]
        raise CalibrationDataError(
            f"{source}: column '{column}': {int(bad.sum())} unparsable timestamp(s), e.g. {', '.join(rows)}"
        )
    return local_times(parsed, values, zone)


def _normalise_ids(series: pd.Series) -> pd.Series:
    """'10913.0' and '10913' are the same resource (float export artefacts)."""
    s = series.astype(str).str.strip()
    return s.str.replace(r"^(\d+)\.0$", r"\1", regex=True)


def load_events(
    source: str | Path | pd.DataFrame,
    mapping: dict[str, str] | None = None,
    drop_artificial: bool = True,
    keep_instant: bool = True,
    keep: Mapping[str, str] | None = None,
    keep_all: bool = False,
    timezone: str | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """An event log as canonical columns plus a report of everything dropped.

    `keep`: other columns to keep (column -> what asks for it, named in the error when the
    file lacks it); `keep_all`: keep every other column; `timezone`: the site's zone (IANA
    name) to read times in, else each timestamp's own offset (the report's `clock`)."""
    raw, name = read_table(source)
    report = LoadReport(name, rows_read=len(raw))
    for reason, count in raw.attrs.get("dropped", {}).items():
        report.drop(reason, count)
    if raw.empty:
        raise CalibrationDataError(f"{name}: no rows")
    cols = resolve_columns(list(raw.columns), mapping, name)
    report.mapping = cols
    df = pd.DataFrame({c: raw[cols[c]] for c in cols if c in ("case_id", "activity", "resource")})
    df = df.apply(_normalise_ids)
    if "resource" not in df:
        df["resource"] = ""
        report.notes.append("no resource column: resources are not calibrated")
    for column in ("start_time", "end_time"):
        df[column] = parse_times(raw[cols[column]].astype(str), cols[column], name, zone=timezone)
    report.clock = describe_zone(raw[cols["start_time"]].astype(str), timezone)
    extra = _extra_columns(list(raw.columns), cols, dict(keep or {}), keep_all, name)
    for column in extra:
        df[column] = raw[column].astype(str).str.strip()
    df = _drop_rows(df, report, drop_artificial, keep_instant)
    _check_order(df, cols, name)
    report.rows_kept = len(df)
    if df.empty:
        raise CalibrationDataError(f"{name}: no usable rows left (dropped: {report.dropped})")
    return df.sort_values(["case_id", "start_time", "end_time"], kind="stable").reset_index(drop=True), report


def _extra_columns(
    columns: list[str], cols: dict[str, str], keep: dict[str, str], keep_all: bool, source: str
) -> list[str]:
    """The other columns to keep, in the file's order; a missing or canonical one is an error."""
    used = {c: canonical for canonical, c in cols.items()}
    for column, why in keep.items():
        if column in used or column in COLUMNS:
            raise CalibrationDataError(
                f"{source}: column '{column}' ({why}) is the log's {used.get(column, column)} column, "
                "not a case attribute"
            )
        if column not in columns:
            raise CalibrationDataError(
                f"{source}: column '{column}' ({why}) not found; columns are {columns}"
            )
    return [c for c in columns if c not in used and c not in COLUMNS and (keep_all or c in keep)]


def _drop_rows(
    df: pd.DataFrame, report: LoadReport, drop_artificial: bool, keep_instant: bool
) -> pd.DataFrame:
    empty = (df["case_id"] == "") | (df["activity"] == "")
    report.drop("empty case_id or activity", int(empty.sum()))
    df = df[~empty]
    if drop_artificial:
        marker = df["activity"].isin(ARTIFICIAL) & (df["start_time"] == df["end_time"])
        report.drop("artificial Start/End marker rows", int(marker.sum()))
        ends = df[marker & (df["activity"] == "End")]
        report.case_ends = ends.groupby("case_id")["end_time"].max() if len(ends) else None
        df = df[~marker]
    duplicated = df[list(COLUMNS)].duplicated(keep="first")
    report.drop("exact duplicate rows", int(duplicated.sum()))
    df = df[~duplicated]
    if not keep_instant:
        instant = df["start_time"] == df["end_time"]
        report.drop("instantaneous rows (start == end)", int(instant.sum()))
        df = df[~instant]
    return df


def _check_order(df: pd.DataFrame, cols: dict[str, str], source: str) -> None:
    backwards = df["end_time"] < df["start_time"]
    if backwards.any():
        rows = [f"row {i + 2}" for i in df.index[backwards][:SHOW]]
        raise CalibrationDataError(
            f"{source}: {int(backwards.sum())} row(s) with '{cols['end_time']}' before "
            f"'{cols['start_time']}', e.g. {', '.join(rows)}"
        )


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """CLI `--map canonical=column` pairs."""
    mapping = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise CalibrationDataError(f"--map '{pair}': expected CANONICAL=COLUMN, e.g. case_id=CaseID")
        mapping[key.strip()] = value.strip()
    return mapping
