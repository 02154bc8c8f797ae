"""The state of an operation at a moment, from its event log cut there (`twin state`).

A case is open at `at` when it began by then and the log holds an event of it ending after
`at` (the log after the cut only says which cases were still open, as a live system's own
records would; nothing else is read from it). An open case is `in_service` at the step it
had started and not finished at `at` (the latest started, if several), else `between` steps
after the last one it finished: the log does not say what it waits for next until that step
starts, so the twin's routing decides. `since` is when that service began or that step ended,
in the twin's time unit before `at` (negative); `history` the steps finished, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from calibration.loaders import CalibrationDataError
from calibration.names import slugs
from twin.calendar import UNITS_PER_HOUR
from twin.spec import Twin
from twin.state import Entity, State


def state_from_log(
    log: pd.DataFrame, at: datetime | str, time_unit: str = "hour", twin: Twin | None = None
) -> State:
    """The state at `at` of a canonical event log (calibration.loaders.load_events)."""
    cut = pd.Timestamp(at)
    if log["start_time"].dt.tz is not None and cut.tz is None:
        cut = cut.tz_localize(log["start_time"].dt.tz)
    first, last = log["start_time"].min(), log["end_time"].max()
    if not first <= cut <= last:
        raise CalibrationDataError(f"--at {cut}: outside the log, which runs from {first} to {last}")
    names = _activity_names(log["activity"].unique(), twin)
    per_hour = UNITS_PER_HOUR[time_unit if twin is None else twin.time_unit]

    def before(t: pd.Timestamp) -> float:
        return (t - cut).total_seconds() / 3600 * per_hour

    entities = []
    for case, events in log.groupby("case_id", sort=False):
        if events["start_time"].min() > cut or events["end_time"].max() <= cut:
            continue  # not arrived yet, or done
        started = events[events["start_time"] <= cut]
        finished = started[started["end_time"] <= cut].sort_values("end_time", kind="stable")
        running = started[started["end_time"] > cut]
        history = [names[a] for a in finished["activity"]]
        arrived = before(events["start_time"].min())
        if not running.empty:
            now = running.sort_values("start_time", kind="stable").iloc[-1]
            entities.append(
                Entity(
                    state="in_service",
                    activity=names[now["activity"]],
                    since=before(now["start_time"]),
                    case=str(case),
                    history=history,
                    arrived=arrived,
                    resource=_label(now["resource"]),
                )
            )
        elif not finished.empty:
            done = finished.iloc[-1]
            entities.append(
                Entity(
                    state="between",
                    after=names[done["activity"]],
                    since=before(done["end_time"]),
                    case=str(case),
                    history=history,
                    arrived=arrived,
                )
            )
    entities.sort(key=lambda e: (e.since, e.case or ""))
    return State(time=0.0, clock=cut.to_pydatetime(), entities=entities)


def _activity_names(labels: Iterable[str], twin: Twin | None) -> dict[str, str]:
    """Log label -> the twin's activity name (itself, or its calibrated slug); the label's
    slug without a twin."""
    labels = list(labels)
    known = {a.name for a in twin.activities} if twin is not None else set()
    out = {}
    for label in labels:
        slug = slugs([label])[label]
        out[label] = label if label in known else slug
    return out


def _label(value: object) -> str | None:
    text = str(value)
    return text if text and text != "nan" else None
