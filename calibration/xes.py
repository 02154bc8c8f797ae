"""XES event logs (IEEE 1849, `.xes` or `.xes.gz`) as an activity-instance table.

Each `<event>` of a `<trace>` is read with its string and date attributes; the trace's
`concept:name` is the case. Lifecycle `start` and `complete` events of the same case and
activity are paired in order (the n-th start with the n-th complete) into one row with
`start_timestamp` and `time:timestamp`; a complete without a start is an instant (start =
end), and an event without a lifecycle is a complete. Starts never completed are left out
and counted in `frame.attrs["dropped"]`, as are events of other lifecycle transitions
(schedule, suspend, ...).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

import pandas as pd

VALUES = ("string", "date", "int", "float", "id")


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attributes(element: ElementTree.Element) -> dict[str, str]:
    return {
        child.attrib["key"]: child.attrib.get("value", "")
        for child in element
        if _local(child.tag) in VALUES and "key" in child.attrib
    }


def _events(stream: IO[bytes] | gzip.GzipFile) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    first = 0
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        tag = _local(element.tag)
        if event == "start" and tag == "trace":
            first = len(rows)
        elif event == "end" and tag == "event":
            rows.append(_attributes(element))
            element.clear()
        elif event == "end" and tag == "trace":
            case = _attributes(element).get("concept:name", "")
            for row in rows[first:]:
                row["case:concept:name"] = case
            element.clear()
    return rows


def read_xes(path: str | Path) -> pd.DataFrame:
    """One row per activity instance: case, activity, resource, start and end timestamps."""
    path = Path(path)
    with gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb") as stream:
        events = pd.DataFrame(_events(stream))
    for column in ("case:concept:name", "concept:name", "org:resource", "time:timestamp"):
        if column not in events:
            events[column] = ""
    if "lifecycle:transition" not in events:
        events["lifecycle:transition"] = "complete"
    lifecycle = events["lifecycle:transition"].fillna("complete").str.lower()
    events["n"] = events.groupby(["case:concept:name", "concept:name", lifecycle]).cumcount()
    keys = ["case:concept:name", "concept:name", "n"]
    starts = events[lifecycle == "start"].set_index(keys)["time:timestamp"]
    ends = events[lifecycle == "complete"].set_index(keys)
    table = ends.assign(start_timestamp=starts.reindex(ends.index)).reset_index()
    table["start_timestamp"] = table["start_timestamp"].fillna(table["time:timestamp"])
    dropped = {
        "XES starts never completed": int((~starts.index.isin(ends.index)).sum()),
        "XES events of other lifecycle transitions": int((~lifecycle.isin(["start", "complete"])).sum()),
    }
    table.attrs["dropped"] = {k: v for k, v in dropped.items() if v}
    columns = ["case:concept:name", "concept:name", "org:resource", "start_timestamp", "time:timestamp"]
    return table[columns].astype(str)
