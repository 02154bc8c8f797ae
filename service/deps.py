"""Dependencies the routers declare: settings, a database session, the caller's key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from service import auth
from service.models import ApiKey
from service.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An API key from `twin keys create`.")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> sessionmaker[Session]:
    """Where a route opens its one transaction (`with transaction(db) as session`).

    Routes open and commit it inside their own body, in one thread: a transaction held
    across FastAPI's thread hops (dependency, route, teardown) can hold SQLite's write lock
    while every thread waits for it. GET and HEAD get read-only sessions.
    """
    state = request.app.state
    factory: sessionmaker[Session] = (
        state.read_sessions if request.method in ("GET", "HEAD") else state.sessions
    )
    return factory


SettingsDep = Annotated[Settings, Depends(get_settings)]
Db = Annotated[sessionmaker[Session], Depends(get_db)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require(role: str) -> Callable[..., ApiKey]:
    """A dependency admitting keys whose role is `role` or above."""

    def check(credentials: Credentials, request: Request) -> ApiKey:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "an API key is required: "
                "send `Authorization: Bearer KEY` (create one with `twin keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        with request.app.state.read_sessions() as session:
            key = auth.find_key(session, credentials.credentials)
        if key is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown or revoked API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not auth.allows(key.role, role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role} role; the key is a {key.role}"
            )
        if request.method not in ("GET", "HEAD"):
            request.app.state.rate_limit.take(key.id)  # Busy -> 429 naming rate_per_minute
        request.state.key = key  # for the audit trail (service.audit)
        return key

    return check


Viewer = Annotated[ApiKey, Depends(require("viewer"))]
Editor = Annotated[ApiKey, Depends(require("editor"))]
Admin = Annotated[ApiKey, Depends(require("admin"))]
