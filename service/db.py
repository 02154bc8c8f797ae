"""Engine, sessions and migrations (alembic, run programmatically at start-up)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

Row = TypeVar("Row")

MIGRATIONS = Path(__file__).parent / "migrations"


# More connections than request threads (anyio's 40): a request holds its connection while
# it waits for a thread, so a smaller pool can starve every thread at once.
POOL = {"pool_size": 10, "max_overflow": 50, "pool_timeout": 60}


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and a busy timeout so worker processes can write too."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **POOL)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **POOL)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # BEGIN is ours (_sqlite_begin), not the driver's
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    """IMMEDIATE takes the write lock up front (waiting for it under busy_timeout): a read
    transaction upgraded to a write later fails at once in WAL mode when another process
    wrote meanwhile. Read-only sessions (`sessions(engine, read_only=True)`) stay DEFERRED."""
    mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    connection.exec_driver_sql(f"BEGIN {mode}")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def sessions(engine: Engine, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions whose transactions may write (on SQLite: BEGIN IMMEDIATE), or only read."""
    bind = engine.execution_options(sqlite_begin="DEFERRED") if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with factory() as session, session.begin():
        yield session


def fetch(session: Session, table: type[Row], row_id: str, noun: str, workspace: str | None) -> Row:
    """The row with this id in `workspace` (None: any), or NotFound naming what was asked
    for. Another workspace's row is not found either, never forbidden: ids do not leak."""
    from service.errors import NotFound

    row = session.get(table, row_id)
    if row is None or (workspace is not None and getattr(row, "workspace", None) != workspace):
        raise NotFound(f"no {noun} with id '{row_id}'")
    return row


def newest_first(
    session: Session, table: Any, workspace: str, limit: int, offset: int, *where: Any
) -> list[Any]:
    """A page of a workspace's rows of a table, newest first (ties by id, so pages are stable)."""
    query = select(table).where(table.workspace == workspace, *where)
    query = query.order_by(table.created_at.desc(), table.id)
    return list(session.scalars(query.limit(limit).offset(offset)))
