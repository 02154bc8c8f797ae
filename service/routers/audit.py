"""The audit trail (admins): changes made through the API and runs of jobs, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service import audit, workspaces
from service.db import transaction
from service.deps import Admin, Db

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("")
def read_audit(
    db: Db,
    _: Admin,
    workspace: Annotated[str | None, Query(max_length=200, description="a workspace's name")] = None,
    key_id: Annotated[str | None, Query(max_length=32)] = None,
    target: Annotated[str | None, Query(max_length=64, description="an object's id")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Who (which key, in which workspace) created, changed, cancelled or deleted what, and
    when; with no workspace or key asked for, also every run of a job (which server ran it,
    how it ended). Kept when the objects are deleted."""
    with transaction(db) as session:
        space = workspaces.by_name(session, workspace).id if workspace is not None else None
        return audit.entries(session, space, key_id, target, limit)
