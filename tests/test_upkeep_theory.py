"""Repair crews and preventive maintenance against exact values.

As in test_engine_theory.py: independent seeded replications (warm-up removed), the exact
value inside the t-based 99% CI of the mean, and the CI tight (a few percent of the value).
The twins are in tests/twins; the exact values come from tests/theory.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory
from test_engine_theory import check_against_theory, twin_file

from twin.runner import run


@pytest.mark.parametrize("repairers", [1, 2])
def test_machine_repair_matches_the_finite_source_chain(repairers: int) -> None:
    exact = theory.machine_repair(5, 10.0, 1.5, repairers)
    recs = run(twin_file(f"machine_repair_r{repairers}"), 40, 21 + repairers, engine="fast").records
    check_against_theory(recs, {
        "resources.press.availability": exact["availability"],
        "resources.fitter.utilization": exact["utilization"],
        "resources.press.crew_wait": exact["wait"],
    })
    down = [{"down": 5 * (1 - r["resources.press.availability"])} for r in recs]
    check_against_theory(down, {"down": exact["down"]})


def test_age_replacement_matches_renewal_reward() -> None:
    exact = theory.age_replacement_availability(2.5, 20.0, 10.0, 3.0, 1.0)
    recs = run(twin_file("age_replacement"), 20, 31, engine="fast").records
    check_against_theory(recs, {"resources.press.availability": exact})


def test_without_maintenance_age_replacement_is_plain_availability() -> None:
    """The formula's other end: an age limit far beyond any life is availability MTBF/(MTBF+MTTR)."""
    mtbf = theory.weibull_mean(2.5, 20.0)
    assert theory.age_replacement_availability(2.5, 20.0, 1e4, 3.0, 1.0) == pytest.approx(
        theory.availability(mtbf, 3.0), rel=1e-9)


def test_failures_in_operating_time_match_mg1_with_interruptions() -> None:
    """A machine that fails only while it works (rate theta per operating hour, repairs of mean
    r, preemptive-resume): a job of length S takes C = S + the repairs of Poisson(theta S)
    failures, so E[C] = s (1 + theta r) and E[C^2] = 2 theta r^2 s + 2 s^2 (1 + theta r)^2 for
    exponential S and R; the wait is Pollaczek-Khinchine's, and the machine is down
    lambda s theta r of the time."""
    lam, s, theta, r = 0.5, 1.0, 0.1, 1.0
    first = s * (1 + theta * r)
    second = 2 * theta * r**2 * s + 2 * s**2 * (1 + theta * r) ** 2
    wait = lam * second / (2 * (1 - lam * first))
    recs = run(twin_file("operating_wear_mg1"), 20, 61, engine="fast").records
    check_against_theory(recs, {"activities.machine.wait": wait,
                                "resources.press.availability": 1 - lam * s * theta * r})
