#!/usr/bin/env bash
# Set up, then run lint and every test, slow ones included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
# PostgreSQL for the service's storage tests (installed if missing, started on loopback).
TWIN_TEST_POSTGRES_URL="$(bash scripts/postgres.sh)"
export TWIN_TEST_POSTGRES_URL
.venv/bin/python -m pytest -m "slow or not slow" "$@"
