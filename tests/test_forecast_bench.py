"""The forecast evaluation's metrics (bench/forecast.py) on tiny cases worked by hand: CRPS,
central-interval coverage with a horizon, the point forecast, windows at a week's phase and
remaining times conditioned on the time already spent."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest


def _bench() -> ModuleType:
    """bench/forecast.py by its path: bench/ is no package, and on sys.path its service.py
    would hide the project's `service` from every later test."""
    path = Path(__file__).resolve().parents[1] / "bench" / "forecast.py"
    spec = importlib.util.spec_from_file_location("bench_forecast", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_b = _bench()
Scores, completions, conditioned, covered = _b.Scores, _b.completions, _b.conditioned, _b.covered
crps, history_rows, interval, phase_counts = _b.crps, _b.history_rows, _b.interval, _b.phase_counts
point, remaining_table, with_steps = _b.point, _b.remaining_table, _b.with_steps


def brute_crps(sample: list[float], y: float) -> float:
    pairs = np.mean([abs(a - b) for a, b in itertools.product(sample, sample)])
    return float(np.mean([abs(x - y) for x in sample]) - 0.5 * pairs)


def test_crps_by_hand_and_against_all_pairs() -> None:
    assert crps(np.array([0.0, 1.0]), 0.0) == pytest.approx(0.25)  # 0.5 - 0.5 * 0.5
    assert crps(np.array([3.0]), 5.0) == pytest.approx(2.0)  # one value: the absolute error
    sample = list(np.random.default_rng(1).exponential(2.0, 17))
    for y in (0.0, 1.3, 9.0):
        assert crps(np.array(sample), y) == pytest.approx(brute_crps(sample, y))


def test_crps_of_a_sample_from_the_truth_beats_a_shifted_one() -> None:
    x = np.random.default_rng(2).normal(0, 1, 400)
    assert crps(x, 0.1) < crps(x + 3, 0.1)


def test_central_intervals_and_coverage() -> None:
    sample = np.arange(100.0)  # 0, 1, ..., 99
    assert interval(sample, 0.8) == (9.0, 89.0)
    assert covered(sample, 50.0, 0.8) and covered(sample, 89.0, 0.8)
    assert not covered(sample, 95.0, 0.8) and covered(sample, 95.0, 0.95)
    assert not covered(sample, -1.0, 0.95)


def test_coverage_beyond_the_horizon() -> None:
    """A case that finished after `until` is covered when the interval's upper end is beyond it."""
    late = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, np.inf, np.inf])  # 20% not done by 10
    assert covered(late, 30.0, 0.8, cap=10.0)  # upper end (90%) beyond the horizon
    early = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, np.inf])
    assert not covered(early, 30.0, 0.8, cap=10.0)
    assert covered(early, 30.0, 0.95, cap=10.0)


def test_point_is_the_capped_median() -> None:
    assert point(np.array([1.0, 2.0, 3.0])) == 2.0
    assert point(np.array([1.0, np.inf, np.inf]), cap=168.0) == 168.0


def test_scores_pool_cases() -> None:
    scores = Scores()
    scores.add(np.array([1.0, 2.0, 3.0]), 2.0, cap=10.0)  # point 2: exact, covered
    scores.add(np.array([np.inf] * 3), 50.0, cap=10.0)  # beyond: point 10, covered, CRPS 0
    summary = scores.summary()
    assert summary["mae"] == 0.0 and summary["mae_raw"] == pytest.approx(20.0)
    assert summary["cover80"] == summary["cover95"] == 1.0
    assert summary["cover80_done"] == 1.0  # the one case done within the horizon
    assert summary["crps"] == pytest.approx(crps(np.array([1.0, 2.0, 3.0]), 2.0) / 2)
    assert summary["n"] == 2


def test_windows_at_the_cuts_phase_of_the_week() -> None:
    leaves = np.array([1.0, 5.0, 169.0, 170.0, 171.0, 337.0])
    # windows [1, 25) of each week within [0, 3 weeks]: weeks 0, 1, 2 hold 2, 3, 1 leavings
    assert phase_counts(leaves, 0.0, 1.0, 24.0, 3 * 168.0).tolist() == [2.0, 3.0, 1.0]
    ends = pd.Series(pd.to_datetime(["2024-01-01 10:00", "2024-01-01 12:00", "2024-01-03 00:00"]))
    assert completions(ends, pd.Timestamp("2024-01-01 10:00"), 24) == 1  # after the cut, within a day


def test_remaining_conditioned_on_time_spent() -> None:
    table = remaining_table([("a", "in_service", t) for t in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)])
    everything = np.sort(np.concatenate(list(table.values())))
    assert conditioned(table, "a", "in_service", 1.5, everything).tolist() == [0.5, 2.5, 6.5, 14.5, 30.5]
    # too few beyond the time spent: all of them, floored at 0
    assert conditioned(table, "a", "in_service", 20.0, everything).tolist() == [0, 0, 0, 0, 0, 12.0]
    assert len(conditioned(table, "b", "between", 0.0, everything)) == 6  # unseen step: every step's


def test_history_rows_time_to_the_cases_end() -> None:
    log = pd.DataFrame({"case_id": ["c", "c"], "activity": ["B", "A"],
                        "start_time": pd.to_datetime(["2024-01-01 03:00", "2024-01-01 00:00"]),
                        "end_time": pd.to_datetime(["2024-01-01 05:00", "2024-01-01 01:00"])})
    steps = with_steps(log, lambda b, a: f"{b.lower()} after {a}")["step"].tolist()
    assert steps == ["a after None", "b after A"]  # in the case's order
    rows = history_rows(with_steps(log, lambda b, a: b.lower()), per_hour=1.0)
    assert sorted(rows) == sorted([("a", "in_service", 5.0), ("b", "in_service", 2.0),
                                   ("a", "between", 4.0), ("b", "between", 0.0)])
