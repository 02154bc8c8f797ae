#!/usr/bin/env bash
# Set up, run the manufacturing example (or the twin given) and print its KPIs; then, with
# no twin given, run the clinic staffing study and write its report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/twin run "${1:-scenarios/examples/manufacturing.yaml}" --replications "${REPLICATIONS:-10}"
if [ $# -eq 0 ]; then
  examples=scenarios/examples
  .venv/bin/twin study "$examples/clinic_baseline.yaml" "$examples/clinic_night_physician.yaml" \
    "$examples/clinic_day_nurse.yaml" --out artifacts/clinic
  .venv/bin/twin report artifacts/clinic -o artifacts/clinic/report.html
fi
