#!/usr/bin/env bash
# Set up, then run lint and every test, slow ones included.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest -m "slow or not slow" "$@"
