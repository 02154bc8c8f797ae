"""Options chosen on a time split of the training log, never on the test log."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.calibrate import calibrate
from calibration.cli import calibrate_files
from calibration.simlog import simulate_log
from calibration.validation import (
    DISTANCES,
    GRID,
    OptionSelector,
    ThinSplit,
    loss,
    one_at_a_time,
    same_twin,
    search_size,
    time_split,
)
from twin.loader import parse_twin

SAMPLE = Path(__file__).parent / "data" / "production_sample.csv"


def office_log(weeks: int = 8, seed: int = 3) -> pd.DataFrame:
    """Cases arriving only on weekday office hours, each doing A (20 min) then B (about 30)."""
    rng = np.random.default_rng(seed)
    gaps = np.cumsum(rng.exponential(0.5, 168 * 2 * weeks))
    times = (pd.Timestamp("2026-01-05") + pd.to_timedelta(gaps, "h")).round("s")
    starts = times[(times.hour >= 9) & (times.hour < 17) & (times.dayofweek < 5)][: 40 * weeks]
    rows = []
    for i, t in enumerate(starts):
        b = t + pd.Timedelta(minutes=20) + pd.Timedelta(hours=float(rng.exponential(0.2)))
        rows.append((f"c{i}", "A", "ann", t, t + pd.Timedelta(minutes=20)))
        rows.append((f"c{i}", "B", "bob", b, b + pd.Timedelta(hours=float(rng.exponential(0.5)))))
    return pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])


def test_time_split_is_the_shared_splits_rule() -> None:
    """Fit part: cases that ended before T; check part: cases that started at or after T;
    T the quantile of case starts; a case straddling T is in neither."""
    log = office_log()
    fit, check, cut = time_split(log, 0.7)
    starts = log.groupby("case_id")["start_time"].min()
    assert cut == starts.quantile(0.7)
    assert fit.groupby("case_id")["end_time"].max().max() < cut
    assert check.groupby("case_id")["start_time"].min().min() >= cut
    assert not set(fit["case_id"]) & set(check["case_id"])
    straddling = set(starts.index[starts < cut]) - set(fit["case_id"])
    assert all(log[log["case_id"] == c]["end_time"].max() >= cut for c in straddling)
    assert len(fit) + len(check) + len(log[log["case_id"].isin(straddling)]) == len(log)


def test_the_search_changes_one_option_at_a_time() -> None:
    full = math.prod(len(v) for v in GRID.values())
    assert search_size({}) == 2 * sum(len(v) - 1 for v in GRID.values()) < full
    assert search_size(dict.fromkeys(GRID)) == 1
    start, *singles = one_at_a_time({"pools": "resource"})
    assert start == {k: v[0] for k, v in GRID.items()} | {"pools": "resource"}
    assert all(sum(s[k] != start[k] for k in start) == 1 for s in singles)
    assert 2 * len(singles) == search_size({"pools": "resource"})
    clock = start | {"calendars": False}
    unused = {"worktime": "chain", "processing": "working"}  # no working week without calendars
    assert same_twin(clock) == same_twin(clock | unused) != same_twin(start)


def test_loss_is_the_mean_relative_difference_from_the_replay() -> None:
    base = {k: 2.0 for k in ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed")}
    assert loss(base, base) == 0
    assert loss({k: v / 2 for k, v in base.items()}, base) == pytest.approx(-1 / 3)
    tiny = base | {"red": 0.0}  # a replay at 0 costs at most 1/7, not infinity
    assert loss(base, tiny) == pytest.approx(1 / 7)


def test_selector_prefers_the_weekly_profile_for_office_hour_arrivals() -> None:
    """Stationary arrivals would start cases at night and on weekends: the check part says
    so (case arrival and circadian distances), and the profile wins."""
    pytest.importorskip("log_distance_measures")
    fixed = {"calendars": False, "capacity": "distinct", "routing": 1, "worktime": "weighted",
             "pools": "activity", "history": 1.0, "processing": "clock", "delays": "observed"}
    selector = OptionSelector(fixed=fixed, runs=2).fit(office_log())
    by_form = {s["options"]["arrivals"]: s for s in selector.scores_}
    assert selector.options_["arrivals"] == "profile"
    assert by_form["profile"]["loss"] < by_form["stationary"]["loss"]
    assert by_form["profile"]["metrics"]["ced"] < by_form["stationary"]["metrics"]["ced"] / 3  # no night work
    assert by_form["profile"]["metrics"]["car"] < by_form["stationary"]["metrics"]["car"]
    summary = selector.summary()
    assert summary["split"]["fit_cases"] >= 10 and summary["chosen"] == selector.options_
    assert [s["options"]["arrivals"] for s in selector.scores_] == ["profile", "stationary"]


def test_thin_history_skips_validation_with_a_warning(tmp_path: Path) -> None:
    """30 cases leave fewer than 10 on one side: the defaults are used, and the report says why."""
    pytest.importorskip("log_distance_measures")
    with pytest.raises(ThinSplit, match="need 10 of each"):
        OptionSelector().fit(pd.read_csv(SAMPLE, parse_dates=["start_time", "end_time"]))
    report = calibrate_files(SAMPLE, None, None, {}, tmp_path / "t.yaml", None,
                             validate=True)
    assert "validation" not in report
    assert any(w.startswith("validation skipped (validation split at") for w in report["warnings"])
    assert report["options"]["calendars"] is True and report["options"]["arrivals"] == "auto"


def test_calibrate_files_applies_the_chosen_options(tmp_path: Path) -> None:
    """What the selector chose is what the twin holds; options given stay fixed."""
    pytest.importorskip("log_distance_measures")
    path = tmp_path / "office.csv"
    office_log().to_csv(path, index=False)
    seen: list[tuple[int, int]] = []
    report = calibrate_files(path, None, None, {}, tmp_path / "t.yaml", tmp_path / "r.html", validate=True,
                             progress=lambda done, total: seen.append((done, total)), calendars=False)
    chosen = report["validation"]["chosen"]
    tried = report["validation"]["candidates"]
    assert chosen["calendars"] is False and 10 <= len(tried) <= 16  # start, 9 singles, forward
    assert {k: report["options"][k] for k in chosen} == chosen
    twins = len({same_twin(c["options"]) for c in tried})  # each distinct twin scored once
    assert seen[0] == (0, search_size({"calendars": False})) and seen[-1] == (twins, twins)
    assert "Options chosen on a validation split" in (tmp_path / "r.html").read_text()


@pytest.mark.slow
def test_candidates_scored_in_processes_give_the_same_choice() -> None:
    pytest.importorskip("log_distance_measures")
    fixed = {"pools": "activity", "routing": 1, "history": 1.0}
    alone = OptionSelector(fixed=fixed).fit(office_log(weeks=6))
    spread = OptionSelector(fixed=fixed, workers=2).fit(office_log(weeks=6))
    assert spread.scores_ == alone.scores_ and spread.options_ == alone.options_


def test_forward_selection_keeps_a_change_only_when_it_helps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Options interact: here skills and the recent half are each better and better together,
    but second-order routing, better alone, spoils them. The search keeps the pair and
    scores the triple without taking it. (Scoring is replaced by a known loss landscape:
    every distance is the replay's times a factor of the options.)"""
    pytest.importorskip("log_distance_measures")
    factors = {(): 1.0, ("pools",): 0.8, ("history",): 0.85, ("routing",): 0.9,
               ("history", "pools"): 0.7, ("history", "pools", "routing"): 1.3}
    start = {k: v[0] for k, v in GRID.items()}
    changes = {"pools": "skills", "history": 0.5, "routing": 2}
    scored: list[tuple[str, ...]] = []

    def fake_evaluate(fit: object, check: object, options: dict, runs: int, seed: int) -> dict[str, float]:
        moved = tuple(sorted(k for k, v in changes.items() if options[k] == v))
        others = [k for k in options if options[k] != start[k] and k not in moved]
        scored.append(moved)
        factor = 1.1 if others else factors.get(moved, 1.2)  # any other change: worse than the start
        return {k: factor * baseline[k] for k in DISTANCES}

    import calibration.validation as validation

    baseline = {}
    real = validation.baseline_run

    def keep_baseline(fit: object, check: object) -> dict[str, float]:
        baseline.update(real(fit, check))
        return baseline

    monkeypatch.setattr(validation, "evaluate", fake_evaluate)
    monkeypatch.setattr(validation, "baseline_run", keep_baseline)
    selector = OptionSelector().fit(office_log())
    assert {k: selector.options_[k] for k in changes} == {"pools": "skills", "history": 0.5, "routing": 1}
    assert selector.options_ == start | {"pools": "skills", "history": 0.5}
    assert ("history", "pools", "routing") in scored  # tried, and not taken
    assert ("pools", "routing") not in scored  # routing was tried on top of the pair only
    assert len(scored) == selector.summary()["twins_scored"]  # each distinct twin scored once


def overnight_log(weeks: int = 8, seed: int = 5) -> pd.DataFrame:
    """An office open Monday-Friday 09:00-17:00 whose step A takes 3 to 5 working hours: A
    begun after noon stops at closing and ends the next working morning, so its recorded
    duration holds a night (or a weekend) that is no work; B (20 min) follows A at once."""
    rng = np.random.default_rng(seed)
    starts = office_log(weeks, seed).groupby("case_id")["start_time"].min().sort_values()
    rows = []
    for i, t in enumerate(starts):
        end = _after_working_hours(t, float(rng.uniform(3, 5)))
        rows += [(f"c{i}", "A", "ann", t, end), (f"c{i}", "B", "bob", end, end + pd.Timedelta(minutes=20))]
    return pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])


def _after_working_hours(t: pd.Timestamp, hours: float) -> pd.Timestamp:
    """The time `hours` of Monday-Friday 09:00-17:00 after `t` (itself in those hours)."""
    while True:
        closing = t.normalize() + pd.Timedelta(hours=17)
        left = (closing - t) / pd.Timedelta(hours=1)
        if hours <= left:
            return t + pd.Timedelta(hours=hours)
        hours -= left
        t = closing.normalize() + pd.Timedelta(days=1, hours=9)
        while t.dayofweek >= 5:
            t += pd.Timedelta(days=1)


def test_validation_measures_steps_that_span_closings_in_working_time() -> None:
    """Processing is searched: in clock time A's recorded durations (3-5 h, or 19-21 h over
    a night) would end jobs at night; in working time they pause at closing and end in
    office hours, as the log's did, and the check part says so."""
    pytest.importorskip("log_distance_measures")
    fixed = {k: v[0] for k, v in GRID.items() if k != "processing"}
    selector = OptionSelector(fixed=fixed, runs=2).fit(overnight_log())
    by_clock = {s["options"]["processing"]: s for s in selector.scores_}
    assert selector.options_["processing"] == "working"
    assert by_clock["working"]["loss"] < by_clock["clock"]["loss"]
    assert by_clock["working"]["metrics"]["ced"] < by_clock["clock"]["metrics"]["ced"] / 2
    log, at_night = overnight_log(), {}
    for processing in ("clock", "working"):
        spec, report = calibrate(log, calendars=True, processing=processing)
        twin = parse_twin(spec)
        ends = simulate_log(twin, twin.start, 300, seed=3, meta=report).query("activity == 'A'")["end_time"]
        at_night[processing] = ((ends.dt.hour < 9) | (ends.dt.hour >= 17) | (ends.dt.dayofweek >= 5)).mean()
    assert at_night["clock"] > 0.3 and at_night["working"] < 0.02  # the log: none
