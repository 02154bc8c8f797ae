"""`twin keys` and `twin serve` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import auth
from service.db import make_engine, sessions, transaction
from twin.cli import app


def test_keys_create_prints_the_key_once_and_stores_its_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    monkeypatch.delenv("TWIN_DATABASE_URL", raising=False)
    created = CliRunner().invoke(app, ["keys", "create", "--role", "viewer", "--name", "ops"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith(auth.PREFIX)
    engine = make_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    with transaction(sessions(engine)) as session:
        row = auth.find_key(session, key)
        assert row is not None and (row.role, row.name) == ("viewer", "ops")
        key_id = row.id
    engine.dispose()
    listed = CliRunner().invoke(app, ["keys", "list"])
    assert key_id[:12] in listed.stdout and key[:12] not in listed.stdout
    assert CliRunner().invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert CliRunner().invoke(app, ["keys", "revoke", key_id]).exit_code == 2


def test_keys_create_refuses_an_unknown_role(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWIN_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["keys", "create", "--role", "owner"])
    assert result.exit_code == 2 and "viewer, editor, admin" in result.output


def test_serve_has_host_and_port_options() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output
