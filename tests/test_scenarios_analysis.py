"""Output analysis against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scenarios import analysis
from scenarios.spec import Uncertain, parse_target
from scenarios.uncertain import quantile, uniforms
from scenarios.warmup import mser, wip_series
from twin.replication import trace_flow


def test_wilson_interval_by_hand() -> None:
    # p = 0.3, n = 10: centre (0.3 + z²/20) / (1 + z²/10), half z sqrt(p q / n + z²/400) / (1 + z²/10)
    lo, hi = analysis.wilson(3, 10)
    assert lo == pytest.approx(0.10779, abs=1e-5) and hi == pytest.approx(0.60322, abs=1e-5)
    lo, hi = analysis.wilson(0, 20)  # upper bound z²/n / (1 + z²/n)
    assert lo == 0 and hi == pytest.approx(0.16113, abs=1e-5)


def test_var_and_cvar_by_hand() -> None:
    assert analysis.var_cvar(range(1, 21)) == pytest.approx((19.0, 20.0))  # worst 5% of 20 is {20}
    assert analysis.var_cvar(range(100, 0, -1)) == pytest.approx((95.0, 98.0))  # mean of 96..100
    # worst half of {1, 2, 3} is 1.5 observations: (3 + 0.5 x 2) / 1.5
    assert analysis.var_cvar([1.0, 2.0, math.nan, 3.0], alpha=0.5) == pytest.approx((2.0, 8 / 3))


def test_mser5_by_hand() -> None:
    assert mser([10] * 5 + [0] * 20) == 5  # batch means 10,0,0,0,0: drop one batch
    # batch means 4,2,1,1,1,1: MSER(d) = 0.2037, 0.032, 0 -> d = 2 batches, 10 observations
    assert mser(np.repeat([4.0, 2, 1, 1, 1, 1], 5)) == 10
    assert mser([1.0, 2.0, 3.0]) == 0  # fewer than two batches: nothing to drop


def test_wip_series_from_a_trace() -> None:
    trace = [(1.0, "arrival", 1, "a"), (2.5, "start", 1, "x"), (3.0, "arrival", 2, "a"),
             (4.0, "leave", 1, ""), (6.0, "leave", 2, "")]
    assert trace_flow(trace).tolist() == [[1.0, 1.0], [3.0, 1.0], [4.0, -1.0], [6.0, -1.0]]
    assert wip_series(trace_flow(trace), horizon=8.0, bins=4) == pytest.approx([0.5, 1.5, 1.0, 0.0])
    assert wip_series(trace_flow([]), horizon=8.0, bins=4).tolist() == [0.0] * 4


def test_target_reports_per_replication_and_over_replications() -> None:
    x = np.arange(1.0, 21.0)
    per_rep = analysis.target_report(x, parse_target("wait <= 18"))
    assert per_rep["p_miss"] == 0.1 and per_rep["met"] is False and per_rep["n"] == 20
    assert per_rep["ci95"] == pytest.approx(list(analysis.wilson(2, 20)))
    over = analysis.target_report(x, parse_target("wait.p95 <= 20"))
    assert over["value"] == pytest.approx(np.percentile(x, 95)) and over["met"] is True


def table(values: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"scenario": s, "replication": r, "k": v} for s, xs in values.items() for r, v in enumerate(xs)]
    return pd.DataFrame(rows)


def test_paired_difference_uses_common_replications() -> None:
    t = table({"base": [1.0, 2.0, 3.0, 4.0], "alt": [1.5, 2.4, 3.6, 4.5]})
    d = analysis.paired_difference(t, "alt", "base", "k")
    assert d["mean"] == pytest.approx(0.5) and d["n"] == 4
    half = 3.182446305284263 * np.std([0.5, 0.4, 0.6, 0.5], ddof=1) / 2  # t(0.975, 3) s / sqrt(4)
    assert d["ci95"] == pytest.approx([0.5 - half, 0.5 + half])


def test_select_best_keeps_only_clear_winners() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1, 30)
    t = table({"a": list(10 + noise), "b": list(12 + noise + rng.normal(0, 0.1, 30)),
               "c": list(10.01 + noise + rng.normal(0, 0.1, 30))})
    chosen = analysis.select_best(t, ["a", "b", "c"], "k", "min")
    assert chosen["best"] in ("a", "c") and "b" not in chosen["subset"] and "a" in chosen["subset"]
    assert analysis.select_best(t, ["a", "b"], "k", "max")["subset"] == ["b"]


def test_warmup_check_warns_beyond_one_batch() -> None:
    series = [[5.0] * 50 + [1.0] * 450] * 3
    check = analysis.warmup_check(series, horizon=500.0, warmup=10.0)
    assert check["mser5"] == 50.0 and check["ok"] is False
    assert analysis.warmup_check(series, horizon=500.0, warmup=50.0)["ok"] is True


def test_latin_hypercube_puts_one_draw_in_each_stratum() -> None:
    spec = Uncertain(method="lhs", params={"horizon": {"dist": "uniform", "low": 0, "high": 1}})
    u = uniforms(spec, "horizon", seed=3, replications=list(range(10)), design=10)
    assert sorted(int(v * 10) for v in u) == list(range(10))
    assert quantile(spec.params["horizon"], 0.25) == 0.25
