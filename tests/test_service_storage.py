"""Storage on SQLite and on a real PostgreSQL (TWIN_TEST_POSTGRES_URL; scripts/postgres.sh)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, select, text

from service import auth, twins
from service.db import make_engine, migrate, sessions, transaction
from service.jobs import requeue
from service.models import ApiKey, StudyRow, TwinRow, now
from service.schemas import TwinCreate
from service.testing import Server, client, wait_for
from tests.test_service_api import SMALL
from tests.test_service_calibration import upload, wait_done

POSTGRES = os.environ.get("TWIN_TEST_POSTGRES_URL")
NO_POSTGRES = "TWIN_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL with scripts/postgres.sh)"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'twin.db'}"
        return
    if not POSTGRES:
        pytest.skip(NO_POSTGRES)
    name = f"twin_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migrations_create_the_schema_and_are_idempotent(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"twins", "studies", "calibrations", "optimizations", "api_keys", "alembic_version", "live_twins",
            "live_events"} <= tables
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0007"
    engine.dispose()


def test_rows_round_trip_and_keys_are_stored_hashed(url: str) -> None:
    engine = make_engine(url)
    migrate(engine)
    factory = sessions(engine)
    with transaction(factory) as session:
        twin_id = twins.create(session, twins.parse(TwinCreate(spec=SMALL)), None, "default").id
        session.flush()  # no ORM relationship orders the inserts
        _, key = auth.create_key(session, "editor", "ci")
        session.add(
            StudyRow(
                id="s1",
                twin_id=twin_id,
                status="running",
                request={"a": [1, 2]},
                scenarios=["x"],
                replications=4,
                seed=1,
                engine="simpy",
                done=2,
                total=4,
                resumed=0,
                attempts=1,
                folder="studies/s1",
                created_at=now(),
            )
        )
    with transaction(factory) as session:
        assert session.get(TwinRow, twin_id).spec["activities"][0]["name"] == "serve"  # type: ignore[union-attr]
        stored = session.scalars(select(ApiKey.key_hash)).all()
        assert key not in stored and auth.hash_key(key) in stored
        assert auth.find_key(session, key).role == "editor"  # type: ignore[union-attr]
        assert auth.find_key(session, key + "x") is None
    assert requeue(factory) == 1  # a job left running by a dead server is queued again
    with transaction(factory) as session:
        assert session.get(StudyRow, "s1").status == "queued"  # type: ignore[union-attr]
    engine.dispose()


def test_a_study_and_a_calibration_run_through_the_server_on_each_database(url: str, tmp_path: Path) -> None:
    database = None if url.startswith("sqlite") else url
    with (
        Server(tmp_path / "home", database_url=database) as server,
        client(server, server.key("editor")) as api,
    ):
        twin = api.post("/twins", json={"spec": SMALL}).json()
        study = api.post("/studies", json={"twin_id": twin["id"], "replications": 3}).json()
        finished = wait_for(api, study["id"])
        assert finished["status"] == "done", finished
        assert len(api.get(f"/studies/{study['id']}/results.csv").text.strip().splitlines()) == 4
        assert (server.home / "studies" / study["id"] / "results.parquet").is_file()  # beside the database
        events = {"events": upload("production_sample.csv")}
        calibration = wait_done(api, api.post("/calibrations", files=events).json()["id"])
        assert calibration["status"] == "done", calibration
        assert api.get(f"/twins/{calibration['twin_id']}").json()["name"] == "production_sample"
        assert api.delete(f"/twins/{calibration['twin_id']}").status_code == 204  # SET NULL, not refused
        assert api.get(f"/calibrations/{calibration['id']}").json()["twin_id"] is None
