"""Classes, priorities, patience and finite waiting rooms against exact queueing theory.

As in test_engine_theory.py: independent seeded replications (warm-up removed), the exact
value inside the t-based 99% CI of the mean, and the CI tight (a few percent of the value).
The twins are in tests/twins; the exact values come from tests/theory.py.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory
from test_engine_theory import check_against_theory, twin_file

from twin.runner import run

ENGINE = "fast"


@functools.cache
def records(name: str, replications: int, seed: int) -> tuple[dict, ...]:
    return tuple(run(twin_file(name), replications, seed, engine=ENGINE).records)


def test_two_class_priority_mm1_matches_cobham() -> None:
    urgent, routine = theory.cobham_waits([0.3, 0.4], [1.0, 1.0], [2.0, 2.0])
    recs = records("priority_mm1", 30, 11)
    check_against_theory(recs, {
        "activities.serve.by_class.urgent.wait": urgent,
        "activities.serve.by_class.routine.wait": routine,
        "classes.urgent.throughput": 0.3,
        "classes.routine.throughput": 0.4,
    })


def test_three_class_priority_mg1_matches_cobham() -> None:
    second = [1.0, 0.5**2 + 1.0, 1.0 / 12 + 1.0]  # constant, lognormal sd 0.5, uniform [0.5, 1.5]
    gold, silver, bronze = theory.cobham_waits([0.2] * 3, [1.0] * 3, second)
    recs = records("priority_mg1", 30, 12)
    check_against_theory(recs, {
        "activities.serve.by_class.gold.wait": gold,
        "activities.serve.by_class.silver.wait": silver,
        "activities.serve.by_class.bronze.wait": bronze,
        "classes.bronze.cycle_time": bronze + 1.0,
    })


def test_erlang_a_abandonment_and_queue() -> None:
    exact = theory.erlang_a(3, 3.0, 1.0, 2.0)
    recs = records("erlang_a", 20, 13)
    check_against_theory(recs, {
        "activities.answer.abandoned": exact["abandoned"],
        "activities.answer.queue_length": exact["queue_length"],
        "throughput": 3.0 * (1 - exact["abandoned"]),  # only answered calls complete
    })


def test_mmck_loss_matches_birth_death_chain() -> None:
    exact = theory.mmck(2, 2.0, 1.0, 3)
    check_against_theory(records("mmck", 20, 14), {
        "activities.serve.lost": exact["lost"],
        "activities.serve.queue_length": exact["queue_length"],
    })


def test_no_waiting_room_is_erlang_b() -> None:
    exact = theory.mmck(3, 2.0, 1.0, 0)
    check_against_theory(records("erlang_b", 20, 15), {"activities.serve.lost": exact["lost"]})


def test_balking_by_queue_length_matches_birth_death_chain() -> None:
    exact = theory.mmck(1, 0.8, 1.0, 5, join=[1.0, 0.8, 0.5, 0.2])
    check_against_theory(records("balking", 20, 16), {
        "activities.serve.balked": exact["balked"],
        "activities.serve.queue_length": exact["queue_length"],
    }, max_rel_half_width=0.06)
    lost = [r["activities.serve.lost"] for r in records("balking", 20, 16)]
    assert min(lost) >= 0 and max(lost) < 0.01  # a full room is rare at these odds


def test_preemptive_resume_priority_mm1_time_in_system() -> None:
    urgent, routine = theory.preemptive_resume_sojourns([0.3, 0.4], [1.0, 1.0], [2.0, 2.0])
    check_against_theory(records("preemptive_mm1", 30, 17), {
        "classes.urgent.cycle_time": urgent,
        "classes.routine.cycle_time": routine,
        "activities.serve.by_class.urgent.wait": urgent - 1.0,  # urgent work is never interrupted
    })


def test_tandem_with_blocking_after_service_matches_the_markov_chain() -> None:
    exact = theory.tandem_blocking_throughput(0.9, (0.8, 1.0), (2, 1))
    check_against_theory(records("tandem_blocking", 20, 18), {"throughput": exact})
