"""Twin health: a twin re-scored on newer data flags the distance that drifted, and only then."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from calibration.health import health
from calibration.health_cli import HealthInputError, health_files, in_window
from calibration.simlog import simulate_log
from twin import loads_twin
from twin.spec import Twin

pytest.importorskip("log_distance_measures")

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 5)
SPEC = """name: desk
time_unit: hour
horizon: 100
arrivals:
  - name: jobs
    interarrival: {{dist: exponential, mean: {gap}}}
    route: intake
activities:
  - name: intake
    duration: {{dist: exponential, mean: 0.2}}
    resources: {{clerk: 1}}
    next: {{work: 1.0}}
  - name: work
    duration: {{dist: gamma, mean: {work}, cv: 0.5}}
    resources: {{crew: 1}}
resources:
  - {{name: clerk, capacity: 2}}
  - {{name: crew, capacity: 4}}
"""


def _twin(gap: float = 4.0, work: float = 0.5) -> Twin:
    return loads_twin(SPEC.format(gap=gap, work=work))


def _log(gap: float = 4.0, work: float = 0.5) -> tuple[pd.DataFrame, pd.Timestamp]:
    """400 cases of the twin (a job every 4 h), then 400 more of a process with `gap` and
    `work`, and the time between them."""
    first = simulate_log(_twin(), START, 400, seed=11)
    middle = first["end_time"].max() + pd.Timedelta(hours=1)
    second = simulate_log(_twin(gap, work), middle.to_pydatetime(), 400, seed=12)
    second["case_id"] = "late-" + second["case_id"].astype(str)
    return pd.concat([first, second], ignore_index=True), middle


def _health(gap: float = 4.0, work: float = 0.5) -> dict:
    log, middle = _log(gap, work)
    return health(_twin(), in_window(log, middle, None), in_window(log, None, middle), runs=3, seed=1)


def test_doubled_arrival_rate_is_flagged_on_the_arrival_rate() -> None:
    result = _health(gap=2.0)
    assert result["verdict"] == "drifted: recalibrate"
    assert "rate" in result["flagged"] and result["plain"]["rate"]["flag"]
    rate = result["changes"]["arrivals_per_day"]
    assert rate["twin"] == pytest.approx(6, rel=0.15) and rate["new"] == pytest.approx(12, rel=0.15)


def test_slower_activity_is_flagged_on_cycle_time_and_named() -> None:
    result = _health(work=1.5)
    assert result["verdict"] == "drifted: recalibrate"
    assert {"ctd", "red", "cycle"} <= set(result["flagged"]) and "rate" not in result["flagged"]
    assert "CTD (cycle time" in result["message"]
    (top, *_) = result["changes"]["durations"]
    assert top["activity"] == "work" and top["change"] == pytest.approx(2.0, abs=0.4)
    assert top["twin_hours"] == pytest.approx(0.5, rel=0.2)


def test_unchanged_process_stays_healthy(tmp_path: Path) -> None:
    """Through the command line, from files: the twin on its own process."""
    log, middle = _log()
    log.to_csv(tmp_path / "log.csv", index=False)
    in_window(log, None, middle).to_csv(tmp_path / "old.csv", index=False)
    (tmp_path / "twin.yaml").write_text(SPEC.format(gap=4.0, work=0.5))
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "health", str(tmp_path / "twin.yaml"), "--events",
         str(tmp_path / "log.csv"), "--window", f"{middle.isoformat()}..", "--reference",
         str(tmp_path / "old.csv"), "--runs", "3", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["verdict"] == "healthy" and result["flagged"] == []
    assert set(result["distances"]) == {"ngd3", "car", "ced", "cwd", "red", "ctd", "aed"}
    assert result["new"]["cases"] == 400 and result["reference"]["cases"] == 400


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the twin and its unchanged process's log (`log.csv`)."""
    folder = tmp_path_factory.mktemp("health")
    _log()[0].to_csv(folder / "log.csv", index=False)
    (folder / "twin.yaml").write_text(SPEC.format(gap=4.0, work=0.5))
    return folder


@pytest.mark.parametrize(("change", "option"), [
    ({"reference": None}, "--reference: needed"),
    ({"threshold": 0.0}, "--threshold: must be a positive ratio"),
    ({"window": "last week"}, "--window 'last week': not FROM..TO"),
    ({"window": "2026-01-05..soon"}, "--window '2026-01-05..soon': 'soon' is not an ISO time"),
    ({"window": "2027-01-01.."}, "--window '2027-01-01..': no case"),
    ({"window": "..2026-01-06"}, "--window: new log: 4 case(s), need 20"),
    ({"events": "missing.csv"}, "--events: "),
])
def test_bad_input_names_the_option(files: Path, change: dict, option: str) -> None:
    tmp_path = files
    args = {"twin_path": tmp_path / "twin.yaml", "events": tmp_path / "log.csv",
            "reference": tmp_path / "log.csv", "window": None, "threshold": 1.5}
    args |= {k: (tmp_path / v if k == "events" else v) for k, v in change.items()}
    with pytest.raises(HealthInputError, match="^" + re.escape(option)):
        health_files(**args)


def test_cli_bad_input_exits_2_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "twin.yaml").write_text(SPEC.format(gap=4.0, work=0.5))
    (tmp_path / "log.csv").write_text("case_id,activity,resource,start_time,end_time\n")
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "health", str(tmp_path / "twin.yaml"), "--events",
         str(tmp_path / "log.csv"), "--reference", str(tmp_path / "log.csv"), "--threshold", "-1"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2 and "--threshold: must be a positive ratio" in done.stderr
    assert "Traceback" not in done.stderr


def test_window_keeps_the_cases_starting_in_it() -> None:
    log, middle = _log()
    assert in_window(log, middle, None)["case_id"].nunique() == 400
    assert in_window(log, None, middle)["case_id"].nunique() == 400
