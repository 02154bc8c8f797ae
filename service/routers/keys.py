"""API key routes (admin only): list, create (the key is shown once), revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service import auth
from service.db import transaction
from service.deps import Admin, Db, Viewer
from service.errors import NotFound
from service.models import ApiKey
from service.schemas import KeyCreate, KeyCreated, KeyPublic

router = APIRouter(prefix="/keys", tags=["keys"])


def public(row: ApiKey) -> KeyPublic:
    return KeyPublic(
        id=row.id, name=row.name, role=row.role, created_at=row.created_at, revoked=row.revoked_at is not None
    )


@router.get("/me")
def my_key(key: Viewer) -> KeyPublic:
    """The key making this call (any role): its name and role."""
    return public(key)


@router.get("")
def list_keys(db: Db, _: Admin) -> list[KeyPublic]:
    with transaction(db) as session:
        return [public(row) for row in auth.list_keys(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, db: Db, _: Admin) -> KeyCreated:
    with transaction(db) as session:
        row, key = auth.create_key(session, body.role, body.name)
    return KeyCreated(**public(row).model_dump(), key=key)


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: str, db: Db, _: Admin) -> Response:
    with transaction(db) as session:
        revoked = auth.revoke_key(session, key_id)
    if not revoked:
        raise NotFound(f"no live key with id '{key_id}'")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
