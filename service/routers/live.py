"""Forecast routes: from a state sent in the body, and live twins fed with events as they happen."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from service import live, twins
from service.db import transaction
from service.deps import Db, Editor, SettingsDep, Viewer
from service.figures import forecast_figures
from service.schemas import ForecastCreate, LiveCreate, LiveEvents, LiveForecast, LivePublic
from twin.loader import parse_twin

router = APIRouter(tags=["forecasts"])
Figures = Annotated[bool, Query(description="add `figures`: the forecast report's two figures (plotly JSON), "
                                            "when viz is installed")]


def _with_figures(summary: dict[str, Any], wanted: bool) -> dict[str, Any]:
    return summary | {"figures": forecast_figures(summary)} if wanted else summary


@router.post("/twins/{twin_id}/forecast")
def forecast_twin(
    twin_id: str, body: ForecastCreate, db: Db, settings: SettingsDep, key: Editor, figures: Figures = False
) -> dict[str, Any]:
    """`twin forecast --json` from the state in the body: per job its finishing time and
    P(done by until), the drain time, fans of WIP and completions, stockouts ahead."""
    with transaction(db) as session:
        spec = twins.get(session, twin_id, key.workspace).spec
    summary = live.forecast(settings, parse_twin(spec), body.state, body.until, body.replications, body.seed,
                            body.changes)
    return _with_figures(summary, figures)


@router.post("/live", status_code=status.HTTP_201_CREATED)
def create_live(body: LiveCreate, db: Db, key: Editor) -> LivePublic:
    """A live twin of a stored twin: send it events, ask it for its state and forecasts."""
    with transaction(db) as session:
        return live.public(live.create(session, body, key))


@router.get("/live")
def list_live(
    db: Db,
    key: Viewer,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[LivePublic]:
    with transaction(db) as session:
        return [live.public(row) for row in live.listing(session, key.workspace, limit, offset)]


@router.get("/live/{live_id}")
def get_live(live_id: str, db: Db, key: Viewer) -> LivePublic:
    with transaction(db) as session:
        return live.public(live.get(session, live_id, key.workspace))


@router.post("/live/{live_id}/events")
def add_events(live_id: str, body: LiveEvents, db: Db, settings: SettingsDep, key: Editor) -> dict[str, Any]:
    """Steps started (no `end`) or ended; answers with the state they leave the operation in."""
    with transaction(db) as session:
        row = live.get(session, live_id, key.workspace)
        added = live.add_events(session, settings, row, body.events)
    with transaction(db) as session:
        row = live.get(session, live_id, key.workspace)
        twin = parse_twin(twins.get(session, row.twin_id, None).spec)
        found = live.state(session, row, twin)
        return {"added": added, "live": live.public(row).model_dump(mode="json"), "state": found.to_json()}


@router.get("/live/{live_id}/state")
def live_state(live_id: str, db: Db, key: Viewer, at: datetime | None = None) -> dict[str, Any]:
    """The state at `at` (default: the latest event): open cases, where each stands, since when."""
    with transaction(db) as session:
        row = live.get(session, live_id, key.workspace)
        twin = parse_twin(twins.get(session, row.twin_id, None).spec)
        return live.state(session, row, twin, at).to_json()


@router.post("/live/{live_id}/forecast")
def live_forecast(
    live_id: str, body: LiveForecast, db: Db, settings: SettingsDep, key: Editor, figures: Figures = False
) -> dict[str, Any]:
    """A forecast from the state now (or at `at`), `horizon` time units of the twin ahead."""
    with transaction(db) as session:
        row = live.get(session, live_id, key.workspace)
        twin = parse_twin(twins.get(session, row.twin_id, None).spec)
        found = live.state(session, row, twin, body.at)
    summary = live.forecast(settings, twin, found, found.time + body.horizon, body.replications,
                            body.seed, body.changes)
    return _with_figures(summary, figures) | {"clock": found.clock.isoformat() if found.clock else None}


@router.delete("/live/{live_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_live(live_id: str, db: Db, key: Editor) -> Response:
    """Delete a live twin and its events (the twin stays)."""
    with transaction(db) as session:
        live.remove(session, live.get(session, live_id, key.workspace))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
