"""What `twin serve` and `twin keys` do (twin.cli imports this lazily)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from service import auth, workspaces
from service.db import make_engine, migrate, sessions, transaction
from service.errors import Conflict, Invalid
from service.models import DEFAULT_WORKSPACE
from service.settings import Settings


def serve(host: str, port: int, settings: Settings | None = None) -> None:
    """Run the app under uvicorn until interrupted."""
    import uvicorn

    from service.app import create_app
    from service.security import log_config

    uvicorn.run(create_app(settings or Settings()), host=host, port=port, log_level="info",
                log_config=log_config())


@contextmanager
def _session(settings: Settings | None) -> Iterator[Session]:
    """A migrated database's session, committed at the end; the engine is then closed."""
    settings = settings or Settings()
    settings.prepare()
    engine = make_engine(settings.url)
    try:
        migrate(engine)
        with transaction(sessions(engine)) as session:
            yield session
    finally:
        engine.dispose()


def create_key(
    role: str, name: str = "", settings: Settings | None = None, workspace: str = DEFAULT_WORKSPACE
) -> tuple[str, str]:
    """(key id, key) of a key in the workspace named `workspace`; the key is not stored, only
    its hash. ValueError naming the option for a bad role or an unknown workspace."""
    if role not in auth.ROLES:
        raise ValueError(f"--role must be one of {', '.join(auth.ROLES)}, not '{role}'")
    with _session(settings) as session:
        try:
            space = workspaces.by_name(session, workspace, "--workspace")
        except Invalid as error:
            raise ValueError(str(error)) from None
        row, key = auth.create_key(session, role, name, space.id)
        return row.id, key


def list_keys(settings: Settings | None = None) -> list[tuple[str, str, str, str, str, bool]]:
    """(id, name, role, workspace name, created, revoked) per key."""
    with _session(settings) as session:
        return [
            (k.id, k.name, k.role, workspaces.name_of(session, k.workspace),
             k.created_at.isoformat(timespec="seconds"), k.revoked_at is not None)
            for k in auth.list_keys(session)
        ]


def create_workspace(name: str, settings: Settings | None = None) -> str:
    """The new workspace's id; ValueError naming the problem (a bad or taken name)."""
    with _session(settings) as session:
        try:
            return workspaces.create(session, name).id
        except (Invalid, Conflict) as error:
            raise ValueError(str(error)) from None


def list_workspaces(settings: Settings | None = None) -> list[tuple[str, str, str, dict[str, int]]]:
    """(id, name, created, counts of keys, twins, studies, calibrations, optimizations) per workspace."""
    with _session(settings) as session:
        return [(w.id, w.name, w.created_at.isoformat(timespec="seconds"), workspaces.counts(session, w.id))
                for w in workspaces.listing(session)]


def revoke_key(key_id: str, settings: Settings | None = None) -> bool:
    with _session(settings) as session:
        return auth.revoke_key(session, key_id)
