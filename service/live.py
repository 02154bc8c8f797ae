"""Forecasts and live twins: a twin fed with the operation's events as they happen.

A forecast starts a twin's replications from a state (twin.forecast) and is answered at
once, so its expected work is capped (`max_forecast_events`). A live twin keeps the events
sent to it (`POST /live/{id}/events`: a step started, and the same step again once it
ended); its state at any moment is that of its event log cut there (calibration.state),
so every answer follows from what was sent, and a restart loses nothing. Times are stored
in UTC and the state's clock is UTC: the twin's calendars read it as such.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service import twins, work
from service.db import fetch, newest_first
from service.errors import Invalid, TooLarge
from service.models import ApiKey, LiveEventRow, LiveRow, now
from service.schemas import LiveCreate, LiveEvent, LivePublic
from service.settings import Settings
from twin.errors import SpecError
from twin.spec import Twin
from twin.state import State, check_state


def forecast(settings: Settings, twin: Twin, state_data: dict[str, Any] | State, until: float,
             replications: int, seed: int, changes: dict[str, Any]) -> dict[str, Any]:
    """`twin forecast --json` for this state: Invalid naming the field when the state, the
    changes or the work are not acceptable."""
    from twin.forecast import forecast as run

    twin = _changed(twin, changes)
    try:
        state = state_data if isinstance(state_data, State) else State.model_validate(state_data)
    except ValidationError as error:
        problems = [(".".join(["state", *map(str, e["loc"])]), e["msg"]) for e in error.errors()]
        raise Invalid(problems) from None
    if not until > state.time:
        raise Invalid([("until", f"must be after the state's time ({state.time:g})")])
    if replications > settings.max_replications:
        raise Invalid([("replications", f"at most max_replications = {settings.max_replications}")])
    expected = work.of_twin(twin.model_copy(update={"horizon": until - state.time})).events
    if not replications * (expected + len(state.entities)) <= settings.max_forecast_events:
        raise Invalid([("until", f"the forecast's expected events ({replications} replications x "
                        f"{expected:,.4g}) exceed the limit max_forecast_events = "
                        f"{settings.max_forecast_events:,.4g} (TWIN_MAX_FORECAST_EVENTS): fewer "
                        "replications or a nearer until")])
    try:
        summary = run(twin, state, until, replications, seed).summary()
    except SpecError as error:
        raise Invalid([(f"state.{path}", reason) for path, reason in error.problems]) from None
    return summary | {"twin": twin.name}


def _changed(twin: Twin, changes: dict[str, Any]) -> Twin:
    """The twin with a what-if's changes (dotted paths, as a scenario's `changes`)."""
    if not changes:
        return twin
    from scenarios.changes import apply
    from twin.loader import parse_twin, twin_to_data

    data, problems = apply(twin_to_data(twin), changes)
    if problems:
        raise Invalid(problems)
    try:
        return parse_twin(data)
    except SpecError as error:
        raise Invalid([(f"changes ({path})", reason) for path, reason in error.problems]) from None


# -- live twins ------------------------------------------------------------------------------
def create(session: Session, body: LiveCreate, key: ApiKey) -> LiveRow:
    try:
        twin = twins.get(session, body.twin_id, key.workspace)
    except Exception as error:  # NotFound: the field is the body's
        raise Invalid([("twin_id", str(error))]) from None
    row = LiveRow(id=uuid.uuid4().hex, twin_id=twin.id, name=body.name or twin.name, owner=key.id,
                  workspace=key.workspace, events=0, latest=None, created_at=now())
    session.add(row)
    session.flush()
    return row


def get(session: Session, live_id: str, workspace: str) -> LiveRow:
    return fetch(session, LiveRow, live_id, "live twin", workspace)


def listing(session: Session, workspace: str, limit: int, offset: int) -> list[LiveRow]:
    return newest_first(session, LiveRow, workspace, limit, offset)


def public(row: LiveRow) -> LivePublic:
    return LivePublic(id=row.id, twin_id=row.twin_id, name=row.name, events=row.events, latest=row.latest,
                      created_at=row.created_at)


def add_events(session: Session, settings: Settings, row: LiveRow, events: list[LiveEvent]) -> int:
    """Store the events: a step already known (same case, activity and start) takes the new
    end; returns how many were new."""
    known = {(e.case, e.activity, _utc(e.start)): e for e in session.scalars(
        select(LiveEventRow).where(LiveEventRow.live_id == row.id, LiveEventRow.end.is_(None)))}
    added = 0
    for event in events:
        start, end = _utc(event.start), None if event.end is None else _utc(event.end)
        old = known.get((event.case, event.activity, start))
        if old is not None:
            old.end = end if end is not None else old.end
            old.closes = old.closes or event.closes
            continue
        session.add(LiveEventRow(live_id=row.id, case=event.case, activity=event.activity,
                                 resource=event.resource, start=start, end=end, closes=event.closes))
        added += 1
    if row.events + added > settings.max_live_events:
        raise TooLarge(f"the live twin would keep {row.events + added} events, over the limit "
                       f"max_live_events = {settings.max_live_events} (TWIN_MAX_LIVE_EVENTS)")
    latest = max(t for e in events for t in (e.start, e.end) if t is not None)
    row.events += added
    row.latest = max(_utc(latest), _utc(row.latest)) if row.latest is not None else _utc(latest)
    return added


def state(session: Session, row: LiveRow, twin: Twin, at: datetime | None = None) -> State:
    """The live twin's state at `at` (default: its latest event): its log cut there."""
    from calibration.loaders import CalibrationDataError
    from calibration.state import state_from_log

    if row.latest is None:
        raise Invalid([("events", "no events yet: send some first (POST /live/{id}/events)")])
    cut = _utc(at) if at is not None else _utc(row.latest)
    rows = session.execute(select(LiveEventRow.case, LiveEventRow.activity, LiveEventRow.resource,
                                  LiveEventRow.start, LiveEventRow.end, LiveEventRow.closes)
                           .where(LiveEventRow.live_id == row.id)).all()
    far = _naive(cut + pd.Timedelta(days=36_500))  # still running: it ends after any cut
    closed = {r.case for r in rows if r.closes and r.end is not None and _utc(r.end) <= cut}
    events = [(r.case, r.activity, r.resource or "", _naive(r.start), _naive(r.end) if r.end else far)
              for r in rows]
    # An open case whose steps have all ended is between steps: a step of it still to come
    # (after any cut) says so to the log's cut, without a step running now.
    step = {r.case: r.activity for r in rows}  # a label the log knows (the row never starts)
    events += [(case, step[case], "", far, far) for case in step.keys() - closed]
    log = pd.DataFrame(events, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    log["start_time"], log["end_time"] = pd.to_datetime(log["start_time"]), pd.to_datetime(log["end_time"])
    try:
        found = state_from_log(log, _naive(cut), twin=twin)
    except (CalibrationDataError, ValueError) as error:
        raise Invalid([("at", str(error))]) from None
    problems = check_state(found, twin)
    if problems:
        raise Invalid([(f"events ({path})", reason) for path, reason in problems])
    return found


def remove(session: Session, row: LiveRow) -> None:
    session.execute(delete(LiveEventRow).where(LiveEventRow.live_id == row.id))
    session.delete(row)


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _naive(t: datetime) -> datetime:
    return _utc(t).replace(tzinfo=None)

