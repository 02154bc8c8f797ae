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

import itertools
import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from calibration.loaders import CalibrationDataError
from calibration.names import WAIT, slugs
from twin.calendar import UNITS_PER_HOUR, build_rate_profile, build_working_time
from twin.distributions import Constant, Empirical, Exponential
from twin.remaining import frozen
from twin.spec import Twin
from twin.state import Entity, State

AFTER = re.compile(r"_after\d+$")  # a second-order step's suffix


def state_from_log(
    log: pd.DataFrame, at: datetime | str, time_unit: str = "hour", twin: Twin | None = None,
    labels: dict[str, str] | None = None, recent: float | None = None, pace: float | None = None,
    pace_services: bool = False,
) -> State:
    """The state at `at` of a canonical event log (calibration.loaders.load_events); `labels`:
    step name -> activity label, as a calibrated twin's header has them (else the log's);
    `recent` (days, with a twin): arrivals go on at the level of the cases begun in that many
    days before `at` (`arrival_level`) rather than at the twin's own; `pace` (days, with a twin):
    the twin's delays (and with `pace_services` its other steps) go on at the pace the log shows in
    that many days before `at` (`recent_pace`)."""
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
    speed = (recent_pace(log, cut, twin, steps, pace, live, services=pace_services)
             if twin is not None and pace else {})
    return State(time=0.0, clock=cut.to_pydatetime(), entities=entities, delays=delays(twin), arrivals=level,
                 pace=speed)


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


PACE_PRIOR = 20.0  # observations' worth of pull towards the twin's pace (a group) or the group's (a step)
PACE_BOUNDS = (0.1, 10.0)  # the slowest and fastest a recent pace is taken to be, times the twin's


def recent_pace(log: pd.DataFrame, cut: pd.Timestamp, twin: Twin, steps: _Steps, days: float,
                live: Iterable[object] | None = None, prior: float = PACE_PRIOR,
                services: bool = False) -> dict[str, float]:
    """Per step of `twin`: how long it has recently taken against what the twin draws, from what
    the log knows at `cut` (State.pace). A step's recent times are the services begun in the
    `days` before `cut` (end - start) and, for a delay (`delays`), the gaps from a case's step
    ended in those days to its next one (the delay between them in the twin), each over the
    median of the twin's duration there (in working time where the step keeps working hours).
    Those still under way at `cut` are censored there (a service running; a case open between
    steps, its gap shared among the delays out of its last step by their branch weights), so
    the recent median ratio is Kaplan-Meier's. The delays are one group and the steps with
    units another: a group's pace is its pooled median ratio pulled towards 1, and a step's
    its own pulled towards its group's, each by `prior` completed observations' worth (a log
    showing little recent work leaves the twin's pace); a step with no median time (a
    zero-time dispatcher) has none. Only the delays get a pace unless `services`: a step with
    units is paced by its services' times too (on bench/forecast.py's logs that did more harm
    than good: many services are instants, so their medians say little, and a slower service
    congests a pool the whole forecast long). `live`: the cases open at `cut` (default: those
    with an event ending after it, as `state_from_log` reads them)."""
    per_hour = UNITS_PER_HOUR[twin.time_unit]
    wall = (cut.tz_localize(None) if cut.tz is not None else cut).to_pydatetime()
    acts = {a.name: a for a in twin.activities}
    unseen = set(delays(twin))
    hours = {a.name: build_working_time(a.working_hours.hourly(), twin.time_unit, wall)
             for a in twin.activities if a.working_hours is not None}

    def at(t: pd.Timestamp) -> float:
        return (t - cut).total_seconds() / 3600 * per_hour

    def spent(step: str, begin: pd.Timestamp, end: pd.Timestamp) -> float:
        a, b = at(begin), at(min(end, cut))  # one under way: censored at the cut
        return hours[step].mass(a, b) if step in hours else max(b - a, 0.0)

    between_waits: dict[tuple[str, str], str] = {}  # (step, step after) -> the delay between them
    onward: dict[str, dict[str, float]] = {}  # step -> its delays' shares of the branches on (not the exit)
    for a in twin.activities:
        branches: dict[str, float] = {}
        for row in [a.successors, *a.class_next.values()]:
            for name, p in row.items():
                if name in acts:
                    branches[name] = max(branches.get(name, 0.0), p)
                    if name in unseen:
                        for target in acts[name].successors:
                            between_waits.setdefault((a.name, target), name)
        total = sum(branches.values())
        if total > 0:
            onward[a.name] = {w: p / total for w, p in branches.items() if w in unseen}
    medians = {name: _median(a.duration) for name, a in acts.items()}
    begin = cut - pd.Timedelta(days=days)
    known = log[log["start_time"] <= cut]
    lately = known.groupby("case_id")["end_time"].transform("max") > begin  # a case at work in the span
    known = known[lately].sort_values(["case_id", "start_time", "end_time"], kind="stable")
    previous = known.groupby("case_id", sort=False)["activity"].shift(1)
    known = known.assign(step=[steps(b, None if pd.isna(a) else str(a))
                               for b, a in zip(known["activity"], previous, strict=True)])
    obs: list[tuple[str, float, bool, float]] = []  # (step, time / the twin's median, done, weight)

    def add(step: str, begin_t: pd.Timestamp, end_t: pd.Timestamp, weight: float = 1.0,
            resource: object = None) -> None:
        act = acts.get(step)
        if act is None:
            return
        dist = act.durations.get(str(resource)) if resource is not None else None
        median = _median(dist) if dist is not None else medians[step]
        if median > 0:
            obs.append((step, spent(step, begin_t, end_t) / median, end_t <= cut, weight))

    for event in known[known["start_time"] > begin].itertuples(index=False) if services else ():
        if event.step not in unseen:
            add(event.step, event.start_time, event.end_time, resource=_label(event.resource))
    open_now = set(live) if live is not None else set(
        known.groupby("case_id")["end_time"].max().pipe(lambda e: e.index[e > cut]))
    for case, events in known.groupby("case_id", sort=False):
        done = events[events["end_time"] <= cut].sort_values("end_time", kind="stable")
        rows = list(done.itertuples(index=False))
        for prev, nxt in itertools.pairwise(rows):
            wait = between_waits.get((prev.step, nxt.step))
            if wait is not None and prev.end_time > begin:
                add(wait, prev.end_time, max(nxt.start_time, prev.end_time))
        running = events[events["end_time"] > cut]
        if rows and case in open_now:
            last = rows[-1]
            if running.empty and last.end_time > begin:  # between steps now: in one of its delays
                for wait, share in onward.get(last.step, {}).items():
                    add(wait, last.end_time, cut + pd.Timedelta(days=1), share)
            elif not running.empty:  # its gap to the running step, if it began after this one ended
                nxt = running.sort_values("start_time", kind="stable").iloc[0]
                wait = between_waits.get((last.step, nxt["step"]))
                if wait is not None and last.end_time > begin and nxt["start_time"] >= last.end_time:
                    add(wait, last.end_time, nxt["start_time"])
    return _paces(obs, unseen, prior)


def _paces(obs: list[tuple[str, float, bool, float]], unseen: set[str], prior: float) -> dict[str, float]:
    """Per step, its pace from (step, ratio, done, weight) observations (`recent_pace`)."""
    lo, hi = PACE_BOUNDS
    out: dict[str, float] = {}
    for group in (True, False):
        mine = [o for o in obs if (o[0] in unseen) == group]
        level = _shrunk(mine, 0.0, prior)
        if level is None:
            continue
        for step in sorted({o[0] for o in mine}):
            own = _shrunk([o for o in mine if o[0] == step], level, prior)
            out[step] = round(float(np.clip(math.exp(own if own is not None else level), lo, hi)), 4)
    return out


def _shrunk(obs: list[tuple[str, float, bool, float]], towards: float, prior: float) -> float | None:
    """The log of the Kaplan-Meier median ratio of `obs`, pulled towards `towards` by `prior`
    completed observations' worth; None without a median (too few done)."""
    done = sum(w for _, _, d, w in obs if d)
    median = _km_median([(r, d, w) for _, r, d, w in obs])
    if median is None or median <= 0:
        return None
    share = done / (done + prior)
    return towards + share * (math.log(median) - towards)


def _km_median(obs: list[tuple[float, bool, float]]) -> float | None:
    """The Kaplan-Meier median of weighted (value, done, weight) observations, a value not done
    being censored there; None where the survival stays above one half."""
    ordered = sorted(obs, key=lambda o: (o[0], not o[1]))  # at a tie, done before censored
    at_risk = sum(w for _, _, w in ordered)
    survival = 1.0
    k = 0
    while k < len(ordered):
        value = ordered[k][0]
        ended = removed = 0.0
        while k < len(ordered) and ordered[k][0] == value:
            ended += ordered[k][2] if ordered[k][1] else 0.0
            removed += ordered[k][2]
            k += 1
        if ended > 0 and at_risk > 0:
            survival *= 1.0 - ended / at_risk
            if survival <= 0.5:
                return value
        at_risk -= removed
    return None


def _median(dist: Any) -> float:
    """The median of a twin's duration distribution."""
    if isinstance(dist, Empirical):
        return float(np.quantile(dist.values, 0.5, method="inverted_cdf"))
    if isinstance(dist, Constant):
        return dist.value
    return float(frozen(dist).median())


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
