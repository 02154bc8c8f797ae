"""API keys: random tokens, stored as their sha256, each with a role and a workspace."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import DEFAULT_WORKSPACE, ApiKey, now

ROLES = ("viewer", "editor", "admin")  # each role may do everything the ones before it may
PREFIX = "twin_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def allows(role: str, needed: str) -> bool:
    return ROLES.index(role) >= ROLES.index(needed)


def create_key(
    session: Session, role: str, name: str = "", workspace: str = DEFAULT_WORKSPACE
) -> tuple[ApiKey, str]:
    """A new key row of the workspace (its id) and the key itself (shown once; only its hash
    is stored)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not '{role}'")
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(id=uuid.uuid4().hex, name=name, role=role, key_hash=hash_key(key), workspace=workspace,
                 created_at=now())
    session.add(row)
    return row, key


def find_key(session: Session, key: str) -> ApiKey | None:
    """The live key row for `key`, or None."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    return row if row is not None and row.revoked_at is None else None


def revoke_key(session: Session, key_id: str) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now()
    return True


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))
