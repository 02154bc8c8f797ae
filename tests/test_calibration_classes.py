"""Entity classes from a case attribute column, and abandonment where the log marks it.

The log comes from a twin with two classes (`high`: 30% of arrivals, reviewed 90% of the
time for about 3 h; `normal`: reviewed 40% of the time for about 1 h) simulated by
`simulate_log`, whose `class` column holds each case's class (drawn again as the engines
draw it; the routing check below holds it to the engine's own draws).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.abandonment import PATIENCE_WHY
from calibration.calibrate import calibrate
from calibration.classes import ClassFitter, candidates, evidence
from calibration.cli import calibrate_files
from calibration.loaders import CalibrationDataError, load_events
from calibration.report import to_html
from calibration.simlog import simulate_log
from calibration.validation import OptionSelector
from twin.loader import load_twin, parse_twin
from twin.runner import run

TWIN = Path(sys.executable).parent / "twin"
CASES = 3000
SPEC = {
    "name": "two_classes", "time_unit": "hour", "horizon": 2000, "start": "2026-01-05T00:00:00",
    "arrivals": [{"name": "cases", "interarrival": {"dist": "exponential", "mean": 0.5},
                  "classes": {"high": 0.3, "normal": 0.7}, "route": "intake"}],
    "activities": [
        {"name": "intake", "duration": {"dist": "exponential", "mean": 0.3}, "resources": {"clerk": 1},
         "next": {"review": 0.4, "exit": 0.6}, "class_next": {"high": {"review": 0.9, "exit": 0.1}}},
        {"name": "review", "duration": {"dist": "lognormal", "mean": 1.0, "sd": 0.5},
         "class_durations": {"high": {"dist": "lognormal", "mean": 3.0, "sd": 1.0}},
         "resources": {"reviewer": 1}, "next": {"close": 0.5, "exit": 0.5}},
        {"name": "close", "duration": {"dist": "exponential", "mean": 0.2}, "resources": {"clerk": 1}},
    ],
    "resources": [{"name": "clerk", "capacity": 6}, {"name": "reviewer", "capacity": 12}],
}


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return simulate_log(parse_twin(SPEC), datetime(2026, 1, 5), CASES, seed=1)


@pytest.fixture(scope="module")
def fitted(log: pd.DataFrame) -> tuple[dict, dict]:
    return calibrate(log, classes="class", waits=False)


def _twin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TWIN), *args], capture_output=True, text=True, timeout=300)


def _step(spec: dict, name: str) -> dict:
    return next(a for a in spec["activities"] if a["name"] == name)


def test_simulated_log_carries_the_engines_class_draws(log: pd.DataFrame) -> None:
    """`high` goes on to review 90% of the time and `normal` 40%: the column's classes are
    the ones the engine routed by (a class drawn unlike the engine's would blur both to 55%)."""
    cases = log.groupby("case_id")
    klass = cases["class"].first()
    assert (cases["class"].nunique() == 1).all() and set(klass) == {"high", "normal"}
    reviewed = cases["activity"].agg(lambda a: "review" in set(a)).groupby(klass).mean()
    assert abs(reviewed["high"] - 0.9) < 0.04 and abs(reviewed["normal"] - 0.4) < 0.04


def test_class_shares_are_recovered_within_their_sampling_error(log: pd.DataFrame, fitted: tuple) -> None:
    spec, report = fitted
    shares = spec["arrivals"][0]["classes"]
    assert set(shares) == {"high", "normal"} and sum(shares.values()) == pytest.approx(1, abs=1e-12)
    stderr = report["classes"]["share_stderr"]["high"]
    assert stderr == pytest.approx(np.sqrt(0.3 * 0.7 / CASES), rel=0.05)
    assert abs(shares["high"] - 0.3) < 3 * stderr
    assert report["classes"]["cases"]["high"] + report["classes"]["cases"]["normal"] == CASES
    assert report["options"]["classes"] == "class"


def test_per_class_durations_and_branches_where_they_differ_only(fitted: tuple) -> None:
    """review's duration and intake's branches differ by class: `high` gets its own (the
    twin's `duration`/`next` are then `normal`'s); intake's and close's durations and
    review's branches do not, and stay one for all."""
    spec, report = fitted
    intake, review, close = (_step(spec, n) for n in ("intake", "review", "close"))
    assert set(review["class_durations"]) == {"high"}
    assert review["class_durations"]["high"]["mean"] == pytest.approx(3.0, rel=0.08)
    assert review["duration"]["mean"] == pytest.approx(1.0, rel=0.08)  # normal's, not the mixture
    assert set(intake["class_next"]) == {"high"}
    high = report["classes"]["routing"]["next"]["intake"]["high"]
    n_high = report["classes"]["cases"]["high"]
    assert abs(intake["class_next"]["high"]["review"] - 0.9) < 3 * np.sqrt(0.9 * 0.1 / n_high)
    assert high == intake["class_next"]["high"]
    assert intake["next"]["review"] == pytest.approx(0.4, abs=0.04)
    for step in (intake, close):
        assert "class_durations" not in step
    assert "class_next" not in review and "class_next" not in close
    assert "priority" not in json.dumps(spec)  # never invented from the log
    assert report["classes"]["priority"].startswith("not fitted")


def test_calibrated_twin_with_classes_runs_and_simulates_its_classes(fitted: tuple) -> None:
    spec, report = fitted
    twin = parse_twin(spec)
    assert twin.uses_classes
    kpis = run(twin, replications=2, seed=1).to_json()["kpis"]
    assert kpis["throughput"]["mean"] > 0
    again = simulate_log(twin, twin.start, 500, seed=2, meta=report)
    assert set(again["class"]) == {"high", "normal"}


def test_classes_that_do_not_matter_are_left_out(log: pd.DataFrame) -> None:
    """A column drawn at random per case: shares, but no per-class durations or branches."""
    rng = np.random.default_rng(5)
    noise = pd.Series(rng.choice(["a", "b"], log["case_id"].nunique()), index=log["case_id"].unique())
    spec, report = calibrate(log.assign(noise=log["case_id"].map(noise)), classes="noise", waits=False)
    assert set(spec["arrivals"][0]["classes"]) == {"a", "b"}
    assert not any("class_durations" in a or "class_next" in a for a in spec["activities"])
    assert report["classes"]["durations"] == {} and report["classes"]["routing"]["next"] == {}


def test_rare_values_pool_into_other_names_are_slugged_and_varying_cases_counted() -> None:
    rows = []
    values = ["Walk in & out"] * 60 + ["C"] * 34 + ["rare1"] * 3 + ["rare2"] * 2 + [""] * 1
    for i, value in enumerate(values * 3):
        t = pd.Timestamp("2026-01-05") + pd.Timedelta(hours=i)
        rows.append((f"c{i}", "A", "r", t, t + pd.Timedelta(minutes=10), value))
        later = "C" if i == 0 else value  # case c0 changes its mind
        rows.append((f"c{i}", "B", "r", t + pd.Timedelta(minutes=20), t + pd.Timedelta(minutes=30), later))
    events = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time", "kind"])
    kinds = ClassFitter().fit(events, "kind")
    assert set(kinds.shares_) == {"Walk_in_out", "C", "other"}
    assert sorted(kinds.values_["other"]) == ["(empty)", "rare1", "rare2"]
    assert kinds.varying_ == 1 and kinds.classes_["c0"] == "Walk_in_out"  # its first value
    spec, report = calibrate(events, classes="kind", waits=False)
    assert any("takes more than one value in 1 case" in w for w in report["warnings"])
    parse_twin(spec)


def test_a_missing_column_is_a_clear_error(log: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(CalibrationDataError, match=r"column 'tier' \(classes\) not found"):
        calibrate(log, classes="tier")
    with pytest.raises(CalibrationDataError, match=r"column 'gone' \(cancelled\) not found"):
        calibrate(log, cancelled="gone")
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    with pytest.raises(CalibrationDataError, match=r"log.csv: column 'tier' \(classes\) not found; columns"):
        load_events(path, keep={"tier": "classes"})
    with pytest.raises(CalibrationDataError, match=r"column 'activity' \(classes\) is the log's activity"):
        load_events(path, keep={"activity": "classes"})
    plain, _ = load_events(path)
    kept, _ = load_events(path, keep={"class": "classes"})
    assert "class" not in plain and list(kept["class"].unique()) != [] and len(kept) == len(plain)
    done = _twin("calibrate", "--events", str(path), "-o", str(tmp_path / "t.yaml"), "--classes", "tier",
                 "--no-validate")
    assert done.returncode == 2 and "column 'tier' (classes) not found" in done.stderr
    assert "Traceback" not in done.stderr


def test_second_order_routing_keeps_one_row_per_state_unless_a_class_has_the_data(log: pd.DataFrame) -> None:
    spec, report = calibrate(log, classes="class", waits=False, routing=2)
    rows = report["classes"]["routing"]["next"]
    assert set(rows) == {"intake"} and set(rows["intake"]) == {"high"}  # the only state that differs
    high = _step(spec, "intake")["class_next"]["high"]  # as steps: "review after intake" is review_after1
    assert sorted(high.values()) == sorted(rows["intake"]["high"].values())
    parse_twin(spec)


@pytest.mark.parametrize("pools", ["resource", "skills"])
def test_pools_by_resource_keep_their_own_durations_first(log: pd.DataFrame, pools: str) -> None:
    spec, report = calibrate(log, classes="class", waits=False, pools=pools)
    parse_twin(spec)  # never a step with both per-pool and per-class durations
    assert all(not (a.get("durations") and a.get("class_durations")) for a in spec["activities"])
    left_out = report["classes"]["durations_left_out"]
    assert set(left_out) <= {"review"}
    if left_out:
        warning = "classes: per-class durations of review not in the twin"
        assert any(w.startswith(warning) for w in report["warnings"])


def test_candidate_columns_and_their_evidence(log: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    cases = log["case_id"].unique()
    many = pd.Series(rng.integers(0, 20, len(cases)).astype(str), index=cases)
    noise = pd.Series(rng.choice(["x", "y"], len(cases)), index=cases)
    events = log.assign(many=log["case_id"].map(many), noise=log["case_id"].map(noise),
                        step=np.arange(len(log)) % 3)  # varies within cases
    assert candidates(events) == ["class", "noise"]
    from calibration.calibrate import case_table

    table = case_table(events)
    assert evidence(table, "class") > 100 > 10 > evidence(table, "noise")


def _office_log_with(weeks: int = 6) -> pd.DataFrame:
    """The validation tests' office log with a `tier` column drawn at random per case."""
    from test_calibration_validation import office_log

    events = office_log(weeks=weeks)
    rng = np.random.default_rng(11)
    kinds = pd.Series(rng.choice(["gold", "plain"], events["case_id"].nunique(), p=[0.3, 0.7]),
                      index=events["case_id"].unique())
    return events.assign(tier=events["case_id"].map(kinds))


def test_validation_searches_classes_and_keeps_none_where_they_do_not_matter() -> None:
    """The tier column is noise: the class twin holds the same steps (no per-class rows) and
    scores no better, so the start (no classes) stays."""
    pytest.importorskip("log_distance_measures")
    fixed = {"calendars": False, "capacity": "distinct", "routing": 1, "worktime": "weighted",
             "pools": "activity", "history": 1.0, "arrivals": "profile", "processing": "clock",
             "delays": "observed"}
    selector = OptionSelector(fixed=fixed, runs=2, class_columns=["tier"]).fit(_office_log_with())
    summary = selector.summary()
    assert summary["searched"] == {"classes": ["none", "tier"]}
    assert [s["options"]["classes"] for s in selector.scores_] == ["none", "tier"]
    assert selector.options_["classes"] == "none"


def test_validation_finds_class_columns_itself_and_screens_them() -> None:
    pytest.importorskip("log_distance_measures")
    fixed = {"calendars": False, "capacity": "distinct", "routing": 1, "worktime": "weighted",
             "pools": "activity", "history": 1.0, "arrivals": "profile", "processing": "clock",
             "delays": "observed"}
    events = _office_log_with()
    selector = OptionSelector(fixed=fixed, runs=2).fit(events)
    assert set(selector.class_evidence_) == {"tier"}  # found; searched only with evidence
    assert ("classes" in selector.grid_) == (selector.class_evidence_["tier"] > 0)
    fixed_none = OptionSelector(fixed=fixed | {"classes": "none"}, runs=2).fit(events)
    assert "classes" not in fixed_none.grid_ and len(fixed_none.scores_) == 1


def _cancel_log(gap: pd.Timedelta | None) -> pd.DataFrame:
    """100 cases: A then B, except 40 cancelled after A (reason 'late') and 10 after B;
    with End markers `gap` after each case's last activity."""
    rows = []
    for i in range(100):
        t = pd.Timestamp("2026-01-05") + pd.Timedelta(hours=3 * i)
        reason = "late" if i < 40 else ("wrong" if i < 50 else "")
        rows.append((f"c{i}", "A", "r", t, t + pd.Timedelta(minutes=30), ""))
        end = t + pd.Timedelta(minutes=30)
        if i >= 40:
            rows.append((f"c{i}", "B", "s", t + pd.Timedelta(hours=1), t + pd.Timedelta(hours=2), reason))
            end = t + pd.Timedelta(hours=2)
        else:
            rows[-1] = (*rows[-1][:5], reason)
        if gap is not None:
            rows.append((f"c{i}", "End", "SYSTEM", end + gap, end + gap, ""))
    return pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time", "why"])


@pytest.mark.parametrize(("gap", "why"), [
    (None, "no_ends"), (pd.Timedelta(milliseconds=1), "synthetic"), (pd.Timedelta(hours=5), "measured"),
])
def test_abandonment_is_measured_where_the_log_marks_it(
    tmp_path: Path, gap: pd.Timedelta | None, why: str
) -> None:
    path = tmp_path / "cancel.csv"
    _cancel_log(gap).to_csv(path, index=False)
    events, loaded = load_events(path, keep={"why": "cancelled"})
    spec, report = calibrate(events, cancelled="why", case_ends=loaded.case_ends, waits=False)
    a = report["abandonment"]
    assert a["cancelled_cases"] == 50 and a["cancelled_share"] == 0.5
    assert a["last_activity"]["A"]["cancelled_cases_ending_here"] == 40
    assert a["last_activity"]["A"]["share_of_cancelled_cases"] == 0.8
    assert a["last_activity"]["B"]["share_of_other_cases"] == 1.0
    assert a["patience"]["in_twin"] is False and not any("patience" in s for s in spec["activities"])
    assert a["patience"]["why"].split(" ")[:4] == PATIENCE_WHY[why].split(" ")[:4]
    if why == "measured":
        assert a["time_to_case_end"]["median_seconds"] == 5 * 3600
        assert a["time_to_case_end"]["by_last_activity"]["A"]["cases"] == 40
    page = to_html(report)
    assert "Where work was abandoned" in page and "Patience is not in the twin" in page


def test_cli_classes_and_cancelled_end_to_end(log: pd.DataFrame, tmp_path: Path) -> None:
    """`twin calibrate --classes class --cancelled ...` from a CSV, then `simulate-log`."""
    events = log.assign(gone=np.where(log["case_id"].str.endswith("7"), "yes", ""))
    path, out, html = tmp_path / "two.csv", tmp_path / "two.yaml", tmp_path / "two.html"
    events.to_csv(path, index=False)
    done = _twin("calibrate", "--events", str(path), "-o", str(out), "--report", str(html),
                 "--classes", "class", "--cancelled", "gone", "--no-validate", "--no-calendars")
    assert done.returncode == 0, done.stderr
    report = json.loads(html.with_suffix(".json").read_text())
    assert report["options"]["classes"] == "class" and report["abandonment"]["column"] == "gone"
    assert set(load_twin(out).arrivals[0].classes) == {"high", "normal"}
    assert "Classes (drawn at arrival)" in html.read_text()
    sim = tmp_path / "sim.csv"
    done = _twin("simulate-log", str(out), "--start", "2026-01-05T00:00", "--cases", "50", "-o", str(sim))
    assert done.returncode == 0, done.stderr
    assert set(pd.read_csv(sim)["class"]) <= {"high", "normal"}


def test_calibrate_files_searches_the_class_candidates_given(tmp_path: Path) -> None:
    pytest.importorskip("log_distance_measures")
    path = tmp_path / "office.csv"
    _office_log_with().to_csv(path, index=False)
    report = calibrate_files(path, None, None, {}, tmp_path / "t.yaml", None, validate=True,
                             calendars=False, capacity="distinct", routing=1, pools="activity", history=1.0,
                             arrivals="profile", class_candidates=["tier"])
    assert report["validation"]["searched"]["classes"] == ["none", "tier"]
    assert report["options"]["classes"] == report["validation"]["chosen"]["classes"]
