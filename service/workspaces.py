"""Workspaces (tenants): every key belongs to one and sees only its twins, studies and
calibrations (and their share links). Admins create and remove workspaces and give keys to
them; a workspace is removed only when nothing is left in it."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.errors import Conflict, Invalid, NotFound
from service.models import ApiKey, CalibrationRow, OptimizationRow, StudyRow, TwinRow, Workspace, now

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")


def check_name(name: str, field: str = "name") -> str:
    if not NAME.fullmatch(name):
        raise Invalid([(field, f"'{name[:120]}' is not a workspace name: 1 to 100 letters, digits, "
                               "'_', '.' or '-', starting with a letter or digit")])
    return name


def create(session: Session, name: str) -> Workspace:
    """A new workspace (Conflict when the name is taken)."""
    check_name(name)
    if session.scalar(select(Workspace.id).where(Workspace.name == name)) is not None:
        raise Conflict(f"a workspace named '{name}' exists already")
    row = Workspace(id=uuid.uuid4().hex, name=name, created_at=now())
    session.add(row)
    session.flush()
    return row


def by_name(session: Session, name: str, field: str = "workspace") -> Workspace:
    """The workspace of this name, or Invalid naming `field` (a reference in a request body)."""
    row = session.scalar(select(Workspace).where(Workspace.name == name))
    if row is None:
        raise Invalid([(field, f"no workspace named '{name[:120]}' (create it first)")])
    return row


def get(session: Session, workspace_id: str) -> Workspace:
    row = session.get(Workspace, workspace_id)
    if row is None:
        raise NotFound(f"no workspace with id '{workspace_id}'")
    return row


def listing(session: Session) -> list[Workspace]:
    return list(session.scalars(select(Workspace).order_by(Workspace.created_at, Workspace.name)))


def name_of(session: Session, workspace_id: str) -> str:
    return session.scalar(select(Workspace.name).where(Workspace.id == workspace_id)) or workspace_id


def counts(session: Session, workspace_id: str) -> dict[str, int]:
    """How many keys (live ones), twins, studies and calibrations the workspace holds."""
    tables = (("twins", TwinRow), ("studies", StudyRow), ("calibrations", CalibrationRow),
              ("optimizations", OptimizationRow))
    found = {noun: int(session.scalar(_count(table, table.workspace == workspace_id)) or 0)
             for noun, table in tables}
    live = select(func.count()).select_from(ApiKey).where(
        ApiKey.workspace == workspace_id, ApiKey.revoked_at.is_(None))
    return {"keys": int(session.scalar(live) or 0), **found}


def _count(table: type[Any], *where: Any) -> Any:
    return select(func.count()).select_from(table).where(*where)


def delete(session: Session, workspace_id: str) -> None:
    """Remove an empty workspace (Conflict naming what is left in it)."""
    row = get(session, workspace_id)
    left = {noun: n for noun, n in counts(session, workspace_id).items() if n}
    if left:
        held = ", ".join(f"{n} {noun}" for noun, n in left.items())
        raise Conflict(f"workspace '{row.name}' still holds {held}: "
                       "revoke its keys and delete its twins first")
    session.delete(row)
