"""Schemathesis fuzzes every operation of /openapi.json against a real server: no 500s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (test extra)")
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from service.app import create_app  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.testing import Server  # noqa: E402

schema = schemathesis.openapi.from_dict(create_app(Settings(home=Path("/nonexistent"))).openapi())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    with Server(tmp_path_factory.mktemp("fuzz"), max_work="50000", workers="1") as running:
        yield running, running.key("admin")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, server: tuple[Server, str]) -> None:
    running, key = server
    case.call_and_validate(
        base_url=running.url,
        headers={"Authorization": f"Bearer {key}"},
        checks=[not_a_server_error],
        timeout=30,
    )
