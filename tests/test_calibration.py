"""Loaders, the calibrated twin from a Production fixture, reports, and the CLI commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from calibration.calibrate import calibrate, slugs
from calibration.loaders import CalibrationDataError, load_events, parse_mapping
from calibration.report import to_html, to_json
from calibration.simlog import simulate_log
from twin.loader import load_twin, parse_twin
from twin.runner import run

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "production_sample.csv"
TWIN = Path(sys.executable).parent / "twin"
GOOD = "case_id,activity,resource,start_time,end_time\n"


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "log.csv"
    path.write_text(text)
    return path


def test_loader_maps_detects_and_counts_drops(tmp_path: Path) -> None:
    text = (
        "Case,Activity,Resource,start_timestamp,end_timestamp\n"
        "1,A,10913.0,2026-01-05T08:00,2026-01-05T09:00\n"
        "1,A,10913.0,2026-01-05T08:00,2026-01-05T09:00\n"
        "1,,r,2026-01-05T10:00,2026-01-05T11:00\n"
        "2,Start,SYSTEM,2026-01-05T10:00,2026-01-05T10:00\n"
        "2,B,10913,2026-01-05 10:00:00+0000,2026-01-05 11:00:00+0000\n"
    )
    log, report = load_events(_csv(tmp_path, text))
    assert list(log.columns) == ["case_id", "activity", "resource", "start_time", "end_time"]
    assert report.rows_read == 5 and report.rows_kept == 2
    assert report.dropped == {
        "empty case_id or activity": 1,
        "artificial Start/End marker rows": 1,
        "exact duplicate rows": 1,
    }
    assert set(log["resource"]) == {"10913"}
    mapped, _ = load_events(
        _csv(tmp_path, "K,Act,S,E\n1,A,2026-01-05T08:00,2026-01-05T09:00\n"),
        parse_mapping(["case_id=K", "activity=Act", "start_time=S", "end_time=E"]),
    )
    assert len(mapped) == 1 and mapped["resource"].iloc[0] == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("case_id,activity,start_time\n1,A,2026-01-05T08:00\n", "missing column.*end_time"),
        (
            GOOD + "1,A,r,2026-01-05T08:00,yesterday\n",
            "column 'end_time': 1 unparsable timestamp.*row 2 \\('yesterday'\\)",
        ),
        (
            GOOD + "1,A,r,2026-01-05T08:00,2026-01-05T09:00\n1,B,r,2026-01-05T10:00,2026-01-05T09:00\n",
            "1 row\\(s\\) with 'end_time' before 'start_time', e.g. row 3",
        ),
        (GOOD, "no rows"),
    ],
)
def test_loader_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CalibrationDataError, match=message):
        load_events(_csv(tmp_path, text))


def test_loader_bad_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CalibrationDataError, match="column 'Nope' \\(mapped to case_id\\) not found"):
        load_events(SAMPLE, {"case_id": "Nope"})
    with pytest.raises(CalibrationDataError, match="no such file"):
        load_events(tmp_path / "missing.csv")
    with pytest.raises(CalibrationDataError, match="CANONICAL=COLUMN"):
        parse_mapping(["case_id"])


def test_slugs_are_valid_unique_names() -> None:
    names = slugs(["Turning & Milling", "Turning  Milling", "1st step", "start"])
    assert names == {
        "Turning & Milling": "Turning_Milling",
        "Turning  Milling": "Turning_Milling_2",
        "1st step": "a_1st_step",
        "start": "start_2",
    }


@pytest.fixture(scope="module")
def calibrated() -> tuple[dict, dict]:
    log, _ = load_events(SAMPLE)
    failures = pd.read_csv(DATA / "failures_sample.csv", dtype=str)
    deliveries = pd.read_csv(DATA / "deliveries_sample.csv", dtype=str, keep_default_na=False)
    return calibrate(log, failures, deliveries, name="production-sample")


def test_calibrated_twin_parses_and_runs(calibrated: tuple[dict, dict]) -> None:
    spec, report = calibrated
    twin = parse_twin(spec)
    result = run(twin, replications=2, seed=1).to_json()
    assert result["kpis"]["throughput"]["mean"] > 0
    assert report["routing"]["expected_events_per_case"] == pytest.approx(
        report["routing"]["observed_events_per_case"]
    )
    log = simulate_log(twin, twin.start, 10, seed=1, meta=report)
    assert log["case_id"].nunique() == 10
    assert set(log["activity"]) <= set(report["labels"].values())
    assert (log["end_time"] >= log["start_time"]).all()


def test_report_has_every_fitted_input(calibrated: tuple[dict, dict]) -> None:
    _, report = calibrated
    data = json.loads(to_json(report))
    for fit in [*data["durations"].values(), data["arrivals"]["interarrival_hours"]]:
        assert {"family", "params", "n", "gof", "warnings"} <= set(fit)
    assert data["failures"]["uptime_hours"] and data["supply"]["supplier_spec"]["lead_time"]
    assert any("thin data" in w for w in data["warnings"])
    page = to_html(report)
    assert "<script" not in page and "Activity durations" in page and "Supplier lead time" in page


def _twin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TWIN), *args], capture_output=True, text=True, timeout=300)


def test_cli_calibrate_and_simulate_log(tmp_path: Path) -> None:
    yaml_path, html_path, sim = tmp_path / "twin.yaml", tmp_path / "report.html", tmp_path / "sim.csv"
    done = _twin(
        "calibrate",
        "--events",
        str(SAMPLE),
        "--failures",
        str(DATA / "failures_sample.csv"),
        "-o",
        str(yaml_path),
        "--report",
        str(html_path),
    )
    assert done.returncode == 0, done.stderr
    assert load_twin(yaml_path).time_unit == "hour"
    assert json.loads(html_path.with_suffix(".json").read_text())["failures"]
    done = _twin(
        "simulate-log",
        str(yaml_path),
        "--start",
        "2012-02-20T00:00",
        "--cases",
        "5",
        "--seed",
        "2",
        "-o",
        str(sim),
    )
    assert done.returncode == 0, done.stderr
    log, report = load_events(sim)
    assert log["case_id"].nunique() == 5 and report.dropped == {}
    assert "Turning & Milling" in set(log["activity"])


def test_cli_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = _csv(tmp_path, "case_id,activity\n1,A\n")
    done = _twin("calibrate", "--events", str(bad), "-o", str(tmp_path / "t.yaml"))
    assert done.returncode == 2 and "missing column(s) start_time, end_time" in done.stderr
    assert "Traceback" not in done.stderr
    done = _twin("simulate-log", str(tmp_path / "none.yaml"), "--start", "x", "--cases", "1", "-o", "o.csv")
    assert done.returncode == 2 and "cannot read file" in done.stderr


def test_cli_score_json(tmp_path: Path) -> None:
    pytest.importorskip("log_distance_measures")
    log = pd.read_csv(SAMPLE)
    cases = log["case_id"].drop_duplicates()
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    log[log["case_id"].isin(cases[:20])].to_csv(train, index=False)
    log[log["case_id"].isin(cases[20:])].to_csv(test, index=False)
    assert _twin("calibrate", "--events", str(train), "-o", str(tmp_path / "t.yaml")).returncode == 0
    done = _twin(
        "score", str(tmp_path / "t.yaml"), "--train", str(train), "--test", str(test), "--runs", "2", "--json"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for side in ("model", "baseline"):
        for key in (
            "ngd3",
            "car",
            "ced",
            "cwd",
            "red",
            "ctd",
            "aed",
            "ct_mean_err",
            "ct_p90_err",
            "events_per_case",
        ):
            assert set(result[side][key]) == {"mean", "ci95"}


def test_weekly_profile_goes_into_the_spec_when_preferred() -> None:
    """Cases that start only on weekday office hours: the fitted twin's arrival is a
    `rate_profile` (168 per-hour rates, zero at night); a round-the-clock log keeps the
    stationary `interarrival`."""
    import numpy as np

    rng = np.random.default_rng(3)
    gaps = np.cumsum(rng.exponential(1.0, 3000))
    times = (pd.Timestamp("2026-01-05") + pd.to_timedelta(gaps, "h")).round("s")
    office = times[(times.hour >= 9) & (times.hour < 17) & (times.dayofweek < 5)]
    for starts, expected in ((office, "rate_profile"), (times[:400], "interarrival")):
        events = pd.DataFrame({
            "case_id": [str(i) for i in range(len(starts))], "activity": "A", "resource": "r",
            "start_time": starts, "end_time": starts + pd.Timedelta(minutes=20),
        })
        spec, report = calibrate(events, waits=False)
        arrival = spec["arrivals"][0]
        assert set(arrival) == {"name", expected, "route"}
        twin = parse_twin(spec)
        if expected == "rate_profile":
            rates = arrival["rate_profile"]["per_hour"]
            assert len(rates) == 168 and rates[0] == 0 and rates[10] > 0.5
            assert twin.arrivals[0].rate_profile is not None
            assert report["arrivals"]["used_in_spec"].startswith("weekly")
            assert run(twin, replications=2, seed=1).to_json()["kpis"]["throughput"]["mean"] > 0
            assert simulate_log(twin, twin.start, 10, seed=1, meta=report)["case_id"].nunique() == 10


@pytest.mark.parametrize(("option", "value"), [
    ("pools", "people"), ("routing", 3), ("worktime", "fast"), ("calendars", 1), ("processing", "paused"),
])
def test_bad_calibration_options_name_the_option_and_the_choices(option: str, value: object) -> None:
    events, _ = load_events(SAMPLE)
    with pytest.raises(ValueError, match=f"^{option} must be one of .*, not {value!r}$"):
        calibrate(events, **{option: value})


def test_recent_history_fits_the_latest_cases_only() -> None:
    events, _ = load_events(SAMPLE)
    starts = events.groupby("case_id")["start_time"].min()
    spec, report = calibrate(events, history=0.5)
    assert report["options"]["history"] == 0.5
    assert report["selection"]["cases"] == (starts >= starts.quantile(0.5)).sum() < len(starts)
    assert spec["start"] >= starts.quantile(0.5).isoformat()
    with pytest.raises(ValueError, match=r"history must be a share of the cases in \(0, 1\], not 0"):
        calibrate(events, history=0)


def test_cli_bad_option_is_a_clear_error(tmp_path: Path) -> None:
    done = _twin("calibrate", "--events", str(SAMPLE), "-o", str(tmp_path / "t.yaml"), "--pools", "people")
    assert done.returncode == 2
    assert "pools must be one of 'activity', 'resource', 'skills', not 'people'" in done.stderr
    assert not (tmp_path / "t.yaml").exists()
