"""Job leases on SQLite and a real PostgreSQL: one claim wins, a taken-over lease fences its
old worker out, progress never goes back, cancel is seen through the database, and data of
a schema before workspaces moves into the default workspace."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from service import leases
from service.db import MIGRATIONS, make_engine, migrate, sessions, transaction
from service.leases import Lease, LeaseLost
from service.models import ApiKey, JobRun, StudyRow, TwinRow, now
from tests.test_service_storage import url  # noqa: F401  (the fixture: a fresh database of each kind)

TABLES = (StudyRow,)


def add_study(factory: sessionmaker[Session], study_id: str) -> None:
    with transaction(factory) as session:
        if session.get(TwinRow, "t1") is None:
            session.add(TwinRow(id="t1", name="t", sha256="0" * 64, spec={}, created_at=now()))
            session.flush()
        session.add(StudyRow(id=study_id, twin_id="t1", status="queued", request={}, scenarios=["x"],
                             replications=10, seed=1, engine="fast", done=0, total=10, resumed=0, attempts=0,
                             folder=f"studies/{study_id}", created_at=now()))


def claim(factory: sessionmaker[Session], study_id: str, owner: str, seconds: float = 30) -> Lease | None:
    with transaction(factory) as session:
        return leases.claim(session, StudyRow, study_id, owner, seconds)


def expire(factory: sessionmaker[Session], study_id: str) -> None:
    """As if the lease's holder stopped renewing it a while ago."""
    with transaction(factory) as session:
        session.execute(update(StudyRow).where(StudyRow.id == study_id).values(
            lease_expires=now() - timedelta(seconds=60)))


def study(factory: sessionmaker[Session], study_id: str) -> StudyRow:
    with transaction(factory) as session:
        row = session.get(StudyRow, study_id)
        assert row is not None
        return row


@pytest.fixture
def factory(url: str) -> Iterator[sessionmaker[Session]]:  # noqa: F811
    engine = make_engine(url)
    migrate(engine)
    yield sessions(engine)
    engine.dispose()


def test_racing_claims_take_each_job_exactly_once(factory: sessionmaker[Session]) -> None:
    ids = [f"s{i}" for i in range(12)]
    for study_id in ids:
        add_study(factory, study_id)
    won: dict[str, list[str]] = {study_id: [] for study_id in ids}
    start = threading.Barrier(4)

    def server(owner: str) -> None:
        start.wait()
        for study_id in ids:
            if claim(factory, study_id, owner) is not None:
                won[study_id].append(owner)

    threads = [threading.Thread(target=server, args=(f"server-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(len(owners) == 1 for owners in won.values()), won
    with transaction(factory) as session:
        runs = list(session.scalars(select(JobRun.job_id)))
    assert sorted(runs) == sorted(ids)  # one run recorded per job
    assert {study(factory, i).lease_token for i in ids} == {1}


def test_a_taken_over_lease_fences_the_old_worker_out(factory: sessionmaker[Session]) -> None:
    add_study(factory, "s1")
    old = claim(factory, "s1", "server-a")
    assert old is not None and old.token == 1
    leases.progress(factory, old, 4, 10)
    expire(factory, "s1")  # server a hangs
    assert leases.take_over(factory, TABLES, max_attempts=3) == 1
    assert study(factory, "s1").status == "queued"
    new = claim(factory, "s1", "server-b")
    assert new is not None and new.token == 2
    with pytest.raises(LeaseLost):
        leases.progress(factory, old, 9, 10)  # the old worker wakes up: it writes nothing
    assert leases.renew(factory, old) == "lost"
    with transaction(factory) as session:
        assert not leases.finish(session, old, status="done")
    leases.progress(factory, new, 2, 10)  # the new run reads back fewer chunks at first
    row = study(factory, "s1")
    assert (row.status, row.done, row.lease_owner, row.attempts) == ("running", 4, "server-b", 2)
    leases.progress(factory, new, 10, 10)
    with transaction(factory) as session:
        assert leases.finish(session, new, status="done")
    row = study(factory, "s1")
    assert (row.status, row.done, row.lease_owner) == ("done", 10, None)
    with transaction(factory) as session:
        runs = session.execute(select(JobRun.token, JobRun.outcome))
        outcomes = {token: outcome for token, outcome in runs}
    assert outcomes == {1: "its lease expired", 2: "done"}


def test_a_cancel_reaches_the_worker_through_the_database(factory: sessionmaker[Session]) -> None:
    add_study(factory, "s1")
    lease = claim(factory, "s1", "server-a")
    assert lease is not None and leases.renew(factory, lease) == "ok"
    with transaction(factory) as session:  # another server's POST /studies/s1/cancel
        session.execute(update(StudyRow).where(StudyRow.id == "s1").values(status="cancelling"))
    with pytest.raises(LeaseLost):
        leases.progress(factory, lease, 5, 10)
    assert leases.renew(factory, lease) == "cancel"
    leases.cancelled(factory, lease)
    assert study(factory, "s1").status == "cancelled"


def test_expired_leases_are_retried_then_failed_and_cancels_finished(factory: sessionmaker[Session]) -> None:
    add_study(factory, "s1")
    for attempt in (1, 2):
        assert claim(factory, "s1", f"server-{attempt}") is not None
        expire(factory, "s1")
        leases.take_over(factory, TABLES, max_attempts=2)
    row = study(factory, "s1")
    assert row.status == "failed" and "max_attempts".upper() in (row.error or "").upper(), row.error
    add_study(factory, "s2")
    assert claim(factory, "s2", "server-a") is not None
    with transaction(factory) as session:
        session.execute(update(StudyRow).where(StudyRow.id == "s2").values(status="cancelling"))
    expire(factory, "s2")  # its worker died before it saw the cancel
    leases.take_over(factory, TABLES, max_attempts=2)
    assert study(factory, "s2").status == "cancelled"


def test_a_live_lease_is_not_taken_over(factory: sessionmaker[Session]) -> None:
    add_study(factory, "s1")
    assert claim(factory, "s1", "server-a") is not None
    assert leases.take_over(factory, TABLES, max_attempts=3) == 0
    assert claim(factory, "s1", "server-b") is None
    assert study(factory, "s1").lease_owner == "server-a"


def test_existing_data_moves_into_the_default_workspace(url: str) -> None:  # noqa: F811
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO api_keys (id, name, role, key_hash, created_at) "
            "VALUES ('k1', 'old', 'editor', 'h', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO twins (id, name, sha256, spec, created_at) "
            "VALUES ('t1', 'old', 'x', '{}', CURRENT_TIMESTAMP)"))
    migrate(engine)
    with transaction(sessions(engine)) as session:
        assert session.scalar(select(ApiKey.workspace).where(ApiKey.id == "k1")) == "default"
        assert session.scalar(select(TwinRow.workspace).where(TwinRow.id == "t1")) == "default"
        assert session.scalar(text("SELECT name FROM workspaces WHERE id = 'default'")) == "default"
    engine.dispose()
