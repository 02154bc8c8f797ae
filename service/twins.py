"""Twins: parse a body into a validated spec, store it, read it back, delete it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import fetch, newest_first
from service.errors import Conflict, Invalid
from service.models import FINISHED, StudyRow, TwinRow, now
from service.schemas import TwinCreate, TwinPublic, Validation
from twin.errors import SpecError
from twin.loader import loads_twin, parse_twin, spec_sha256, twin_to_data
from twin.spec import Twin


def parse(body: TwinCreate) -> Twin:
    """The validated twin, or Invalid naming each field (`spec.activities[serve].duration`)."""
    try:
        if body.spec is not None:
            return parse_twin(body.spec)
        return loads_twin(body.yaml or "")
    except SpecError as error:
        where = "spec" if body.spec is not None else "yaml"
        raise Invalid(
            [(f"{where}.{path}" if path else where, reason) for path, reason in error.problems]
        ) from None


def validation(twin: Twin) -> Validation:
    return Validation(
        valid=True,
        name=twin.name,
        activities=len(twin.activities),
        resources=len(twin.resources),
        materials=len(twin.materials),
    )


def data(twin: Twin) -> dict[str, Any]:
    """The plain data stored for a twin."""
    return twin_to_data(twin)


def create(session: Session, twin: Twin, owner: str | None, workspace: str) -> TwinRow:
    row = TwinRow(
        workspace=workspace,
        id=uuid.uuid4().hex,
        name=twin.name,
        sha256=spec_sha256(twin),
        spec=twin_to_data(twin),
        owner=owner,
        created_at=now(),
    )
    session.add(row)
    return row


def get(session: Session, twin_id: str, workspace: str | None) -> TwinRow:
    return fetch(session, TwinRow, twin_id, "twin", workspace)


def listing(session: Session, workspace: str, limit: int, offset: int) -> list[TwinRow]:
    return newest_first(session, TwinRow, workspace, limit, offset)


def delete(session: Session, twin_id: str, workspace: str) -> list[StudyRow]:
    """Delete a twin and its finished studies (returned, so their folders can go too)."""
    row = get(session, twin_id, workspace)
    studies = list(session.scalars(select(StudyRow).where(StudyRow.twin_id == twin_id)))
    if any(s.status not in FINISHED for s in studies):
        raise Conflict(f"twin '{twin_id}' has studies still queued or running; cancel them first")
    for study in studies:
        session.delete(study)
    session.flush()
    session.delete(row)
    return studies


def public(row: TwinRow) -> TwinPublic:
    spec = row.spec
    return TwinPublic(
        id=row.id,
        name=row.name,
        sha256=row.sha256,
        time_unit=spec["time_unit"],
        horizon=spec["horizon"],
        activities=len(spec.get("activities", [])),
        resources=len(spec.get("resources", [])),
        materials=len(spec.get("materials", [])),
        created_at=row.created_at,
    )
