"""Kim-Nelson selection (scenarios.ranking): its guarantee, its stopping, its replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scenarios.ranking import kim_nelson, kn_constant, more_for_kn


def plans(seed: int, means: dict[str, float], n: int = 400) -> pd.DataFrame:
    """Normal outputs with a shared component (as common random numbers give)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 1, n)
    rows = [{"scenario": name, "replication": r, "cost": v}
            for name, mu in means.items() for r, v in enumerate(mu + 0.5 * common + rng.normal(0, 1, n))]
    return pd.DataFrame(rows)


def test_kn_constant_matches_its_formula() -> None:
    # k = 2, n0 = 10, alpha = 0.05: eta = (0.1^(-2/9) - 1) / 2
    assert kn_constant(2, 10, 0.05) == pytest.approx(2 * 9 * (0.1 ** (-2 / 9) - 1) / 2)


def test_kn_picks_the_best_at_the_indifference_zone_edge_with_its_confidence() -> None:
    """Best (lowest cost) exactly delta better than two others: correct in >= 95% of
    macro-replications (binomial: 90 of 100 leaves room for sampling error at 95%)."""
    correct = 0
    for seed in range(100):
        result = kim_nelson(plans(seed, {"a": 1.0, "b": 1.5, "c": 1.5}), ["a", "b", "c"], "cost", "min", 0.5)
        assert result["done"]
        correct += result["selected"] == "a"
    assert correct >= 90


def test_kn_stops_by_its_bound_and_replays_from_its_first_replications() -> None:
    table = plans(3, {"a": 1.0, "b": 1.5, "c": 3.0})
    result = kim_nelson(table, ["a", "b", "c"], "cost", "min", 0.3)
    assert result["done"] and result["replications"] <= result["needed"]
    assert result["eliminated"]["c"] < result["eliminated"].get("b", result["replications"] + 1)
    cut = table[table.replication < result["replications"]]
    again = kim_nelson(cut, ["a", "b", "c"], "cost", "min", 0.3)
    assert (again["done"], again["selected"]) == (result["done"], result["selected"])


def test_a_short_table_asks_for_more_replications() -> None:
    table = plans(1, {"a": 1.0, "b": 1.05}, n=12)
    result = kim_nelson(table, ["a", "b"], "cost", "min", 0.01)
    assert not result["done"] and result["selected"] is None
    assert 12 < more_for_kn(result, 12, 500) <= result["needed"]
    assert more_for_kn(result, 500, 500) == 500
