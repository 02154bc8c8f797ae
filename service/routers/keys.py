"""API key and workspace routes (admin only, but /keys/me): list, create (a key is shown
once), revoke; workspaces list, create, delete (only when empty)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from service import auth, workspaces
from service.db import transaction
from service.deps import Admin, Db, Viewer
from service.errors import NotFound
from service.models import ApiKey, Workspace
from service.schemas import KeyCreate, KeyCreated, KeyPublic, WorkspaceCreate, WorkspacePublic

router = APIRouter(prefix="/keys", tags=["keys"])
spaces = APIRouter(prefix="/workspaces", tags=["workspaces"])


def public(row: ApiKey, session: Session) -> KeyPublic:
    return KeyPublic(
        id=row.id, name=row.name, role=row.role, workspace=workspaces.name_of(session, row.workspace),
        workspace_id=row.workspace, created_at=row.created_at, revoked=row.revoked_at is not None,
    )


@router.get("/me")
def my_key(key: Viewer, db: Db) -> KeyPublic:
    """The key making this call (any role): its name, role and workspace."""
    with transaction(db) as session:
        return public(key, session)


@router.get("")
def list_keys(db: Db, _: Admin) -> list[KeyPublic]:
    """Every key, of every workspace."""
    with transaction(db) as session:
        return [public(row, session) for row in auth.list_keys(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, db: Db, admin: Admin) -> KeyCreated:
    """A key of the workspace named `workspace` (default: the admin's own), shown only now."""
    with transaction(db) as session:
        workspace = workspaces.by_name(session, body.workspace).id if body.workspace else admin.workspace
        row, key = auth.create_key(session, body.role, body.name, workspace)
        return KeyCreated(**public(row, session).model_dump(), key=key)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: str, db: Db, _: Admin) -> Response:
    with transaction(db) as session:
        revoked = auth.revoke_key(session, key_id)
    if not revoked:
        raise NotFound(f"no live key with id '{key_id}'")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def workspace_public(row: Workspace, session: Session) -> WorkspacePublic:
    return WorkspacePublic(id=row.id, name=row.name, created_at=row.created_at,
                           **workspaces.counts(session, row.id))


@spaces.get("")
def list_workspaces(db: Db, _: Admin) -> list[WorkspacePublic]:
    """Every workspace with what it holds."""
    with transaction(db) as session:
        return [workspace_public(row, session) for row in workspaces.listing(session)]


@spaces.post("", status_code=status.HTTP_201_CREATED, responses={409: {"description": "The name is taken."}})
def create_workspace(body: WorkspaceCreate, db: Db, _: Admin) -> WorkspacePublic:
    """A new, empty workspace; give it keys with `POST /keys` (`workspace`: its name)."""
    with transaction(db) as session:
        return workspace_public(workspaces.create(session, body.name), session)


@spaces.delete("/{workspace_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={409: {"description": "The workspace still holds keys or data."}})
def delete_workspace(workspace_id: str, db: Db, _: Admin) -> Response:
    """Remove an empty workspace (409 naming what it still holds)."""
    with transaction(db) as session:
        workspaces.delete(session, workspace_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
