#!/usr/bin/env bash
# Set up, then run the manufacturing example (or the twin given) and print its KPIs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/twin run "${1:-scenarios/examples/manufacturing.yaml}" --replications "${REPLICATIONS:-10}"
