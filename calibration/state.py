"""The state of an operation at a moment, from its event log cut there (`twin state`).

A case is open at `at` when it began by then and the log holds an event of it ending after
`at` (the log after the cut only says which cases were still open, as a live system's own
records would; nothing else is read from it). An open case is `in_service` at the step it
had started and not finished at `at` (the latest started, if several), else `between` steps
after the last one it finished: the log does not say what it waits for next until that step
starts, so the twin's routing decides. `since` is when that service began or that step ended,
in the twin's time unit before `at` (negative); `history` the steps finished, in order.

A twin calibrated with second-order routing has a step per activity and the one before it in
its case (`B_afterK`: B after the K-th label, labels sorted; calibration.calibrate.WaitPlan): an
event is put at the step of its activity after its case's previous one (cases ordered by start
and end, as calibration reads them), else at its activity's first-visit step.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from calibration.loaders import CalibrationDataError
from calibration.names import WAIT, slugs
from twin.calendar import UNITS_PER_HOUR, build_rate_profile
from twin.distributions import Exponential
from twin.spec import Twin
from twin.state import Entity, State

AFTER = re.compile(r"_after\d+$")  # a second-order step's suffix


def state_from_log(
    log: pd.DataFrame, at: datetime | str, time_unit: str = "hour", twin: Twin | None = None,
    labels: dict[str, str] | None = None, recent: float | None = None,
) -> State:
    """The state at `at` of a canonical event log (calibration.loaders.load_events); `labels`:
    step name -> activity label, as a calibrated twin's header has them (else the log's);
    `recent` (days, with a twin): arrivals go on at the level of the cases begun in that many
    days before `at` (`arrival_level`) rather than at the twin's own."""
    cut = pd.Timestamp(at)
    if log["start_time"].dt.tz is not None and cut.tz is None:
        cut = cut.tz_localize(log["start_time"].dt.tz)
    first, last = log["start_time"].min(), log["end_time"].max()
    if not first <= cut <= last:
        raise CalibrationDataError(f"--at {cut}: outside the log, which runs from {first} to {last}")
    steps = _Steps(log["activity"].unique(), twin, labels)
    per_hour = UNITS_PER_HOUR[time_unit if twin is None else twin.time_unit]

    def before(t: pd.Timestamp) -> float:
        return (t - cut).total_seconds() / 3600 * per_hour

    entities = []
    spans = log.groupby("case_id", sort=False).agg(first=("start_time", "min"), last=("end_time", "max"))
    live = spans.index[(spans["first"] <= cut) & (spans["last"] > cut)]
    for case, events in log[log["case_id"].isin(live)].groupby("case_id", sort=False):
        events = events.sort_values(["start_time", "end_time"], kind="stable")
        acts = list(events["activity"])  # each after the one before it (second-order twins)
        events = events.assign(step=[steps(b, a) for b, a in zip(acts, [None, *acts[:-1]], strict=True)])
        started = events[events["start_time"] <= cut]
        finished = started[started["end_time"] <= cut].sort_values("end_time", kind="stable")
        running = started[started["end_time"] > cut]
        history = list(finished["step"])
        arrived = before(events["start_time"].min())
        if not running.empty:
            now = running.sort_values("start_time", kind="stable").iloc[-1]
            entities.append(
                Entity(
                    state="in_service",
                    activity=now["step"],
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
                    after=done["step"],
                    since=before(done["end_time"]),
                    case=str(case),
                    history=history,
                    arrived=arrived,
                )
            )
    entities.sort(key=lambda e: (e.since, e.case or ""))
    level = arrival_level(spans["first"], cut, twin, recent) if twin is not None and recent else {}
    return State(time=0.0, clock=cut.to_pydatetime(), entities=entities, delays=delays(twin), arrivals=level)


def arrival_level(firsts: pd.Series, cut: pd.Timestamp, twin: Twin, days: float) -> dict[str, float]:
    """Per arrival stream of `twin`: the cases begun (`firsts`, each case's first start) in the
    `days` before `cut` (from the log's first start, if later) against what the twin's streams
    bring in that span of the week: the level arrivals go on at (State.arrivals). The log does
    not say which stream a case came by, so every stream gets the one level; none without a
    case begun in the span, and none for a stream of other than Poisson or rate-profile arrivals."""
    begin = max(cut - pd.Timedelta(days=days), firsts.min())
    span = (cut - begin).total_seconds() / 3600 * UNITS_PER_HOUR[twin.time_unit]
    seen = int(((firsts > begin) & (firsts <= cut)).sum())
    clock = (cut.tz_localize(None) if cut.tz is not None else cut).to_pydatetime()
    expected, streams = 0.0, []
    for stream in twin.arrivals:
        if stream.rate_profile is not None:
            profile = build_rate_profile(stream.rate_profile.hourly(), twin.time_unit, clock)
            expected += profile.mass(-span, 0.0)
        elif isinstance(stream.interarrival, Exponential):
            expected += span / stream.interarrival.mean
        else:
            continue
        streams.append(stream.name)
    if not seen or expected <= 0.0:
        return {}
    return dict.fromkeys(streams, seen / expected)


def delays(twin: Twin | None) -> list[str]:
    """The twin's steps a log does not show: its `wait_` steps that take no units (a case
    between steps may be in one)."""
    if twin is None:
        return []
    return [a.name for a in twin.activities if a.name.startswith(WAIT) and not a.can_queue
            and a.batch is None]


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


class _Steps:
    """(activity label, the case's previous label or None) -> the twin's step for it."""

    def __init__(self, labels: Iterable[str], twin: Twin | None, header: dict[str, str] | None) -> None:
        labels = list(labels)
        self.own = _activity_names(labels, twin)
        self.known = {a.name for a in twin.activities if not a.name.startswith(WAIT)} if twin else set()
        by_step = {self.own[label]: label for label in labels}
        bases = {AFTER.sub("", n) for n in self.known} - {"start"}
        train = header.values() if header else [by_step.get(s, s) for s in bases]  # the labels calibrated
        self.order = sorted(set(train)) if any(AFTER.search(n) for n in self.known) else []

    def __call__(self, label: str, previous: str | None) -> str:
        own = self.own[label]
        if self.order and previous in self.order:
            name = f"{own}_after{self.order.index(previous)}"
            if name in self.known:
                return name
        if own in self.known or not self.order:
            return own
        return next((n for n in sorted(self.known) if AFTER.sub("", n) == own), own)  # a step seen after


def _label(value: object) -> str | None:
    text = str(value)
    return text if text and text != "nan" else None
