"""Periodic review and lost sales against exact inventory theory.

As in test_engine_theory.py: independent seeded replications (warm-up removed), the exact
value inside the t-based 99% CI of the mean, and the CI tight (a few percent of the value).
The twins are in tests/twins; the exact values come from tests/theory.py. Both engines
run the same replications (they agree bitwise: tests/test_fast_engine.py).
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory
from test_engine_theory import check_against_theory, twin_file

from twin.runner import run


@functools.cache
def records(name: str, replications: int, seed: int) -> tuple[dict, ...]:
    return tuple(run(twin_file(name), replications, seed, engine="fast").records)


def test_periodic_order_up_to_matches_the_poisson_integral() -> None:
    exact = theory.periodic_order_up_to(8, 4.0, 3.0, 1.0)
    check_against_theory(records("periodic_RS", 20, 201), {
        "materials.m.stockout_fraction": exact["stockout_fraction"],
        "materials.m.inventory": exact["inventory"],
        "materials.m.fill_rate": 1.0 - exact["stockout_fraction"],  # PASTA
        "throughput": 1.0,  # backorders: every demand is served in the end
    })


def test_base_stock_lost_sales_is_erlang_loss() -> None:
    exact = theory.base_stock_lost_sales(5, 3.0, 1.0)
    check_against_theory(records("lost_sales", 20, 202), {
        "materials.m.lost_sales": exact["lost_sales"],
        "materials.m.fill_rate": exact["fill_rate"],
        "materials.m.stockout_fraction": exact["stockout_fraction"],
        "materials.m.inventory": exact["inventory"],
        "throughput": 1.0 - exact["lost_sales"],  # a lost sale completes nothing
    })
