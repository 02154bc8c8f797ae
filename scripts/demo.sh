#!/usr/bin/env bash
# Set up, run the manufacturing example (or the twin given) and print its KPIs; then, with
# no twin given, run the clinic staffing study and the line's stress test, and write their
# reports.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/twin run "${1:-scenarios/examples/manufacturing.yaml}" --replications "${REPLICATIONS:-10}"
if [ $# -eq 0 ]; then
  examples=scenarios/examples
  .venv/bin/twin study "$examples/clinic_baseline.yaml" "$examples/clinic_night_physician.yaml" \
    "$examples/clinic_day_nurse.yaml" "$examples/clinic_on_call.yaml" --out artifacts/clinic
  .venv/bin/twin report artifacts/clinic -o artifacts/clinic/report.html
  .venv/bin/twin study "$examples/stress_baseline.yaml" "$examples/stress_backup.yaml" \
    "$examples/stress_subcontract.yaml" "$examples/stress_regional.yaml" --out artifacts/stress
  .venv/bin/twin report artifacts/stress -o artifacts/stress/report.html
fi
