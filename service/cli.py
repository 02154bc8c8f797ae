"""What `twin serve` and `twin keys` do (twin.cli imports this lazily)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from service import auth
from service.db import make_engine, migrate, sessions, transaction
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


def create_key(role: str, name: str = "", settings: Settings | None = None) -> tuple[str, str]:
    """(key id, key); the key is not stored, only its hash. ValueError for a bad role."""
    if role not in auth.ROLES:
        raise ValueError(f"--role must be one of {', '.join(auth.ROLES)}, not '{role}'")
    with _session(settings) as session:
        row, key = auth.create_key(session, role, name)
        return row.id, key


def list_keys(settings: Settings | None = None) -> list[tuple[str, str, str, str, bool]]:
    """(id, name, role, created, revoked) per key."""
    with _session(settings) as session:
        return [
            (k.id, k.name, k.role, k.created_at.isoformat(timespec="seconds"), k.revoked_at is not None)
            for k in auth.list_keys(session)
        ]


def revoke_key(key_id: str, settings: Settings | None = None) -> bool:
    with _session(settings) as session:
        return auth.revoke_key(session, key_id)
