"""Working-time rules (twin.rules): every breach of a twin's own shifts is named, in one pass."""

from __future__ import annotations

from typing import Any

import pytest

from twin.errors import SpecError
from twin.loader import parse_twin

NURSES = {"name": "nurse", "capacity": 4, "shifts": [{"start": "08:00", "end": "20:00", "capacity": 4},
                                                     {"start": "20:00", "end": "08:00", "capacity": 3}]}


def twin(rules: dict[str, Any], resource: dict[str, Any] = NURSES) -> dict[str, Any]:
    return {"name": "rules", "time_unit": "minute", "horizon": 10080,
            "arrivals": [{"name": "a", "interarrival": {"dist": "exponential", "mean": 6}, "route": "s"}],
            "activities": [{"name": "s", "duration": {"dist": "exponential", "mean": 15},
                            "resources": {resource["name"]: 1}}],
            "resources": [resource], "rules": rules}


def problems(rules: dict[str, Any], resource: dict[str, Any] = NURSES) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as caught:
        parse_twin(twin(rules, resource))
    return caught.value.problems


def test_shifts_within_the_rules_are_valid() -> None:
    rules = {"max_shift_hours": 12, "min_rest_hours": 11, "max_weekly_hours": 48, "staff": {"nurse": 13},
             "min_on_duty": {"nurse": 3}}
    assert parse_twin(twin(rules)).rules is not None  # 588 unit-hours a week: 13 people at 48 h


def test_weekly_hours_name_the_people_needed() -> None:
    (problem,) = problems({"max_weekly_hours": 48, "staff": {"nurse": 12}})
    assert problem == ("rules.staff.nurse", "12 people cannot work the pool's 588 h a week within "
                                            "rules.max_weekly_hours = 48 h: at least 13 are needed")


def test_rest_between_back_to_back_shifts_needs_both_crews() -> None:
    (problem,) = problems({"min_rest_hours": 11, "staff": {"nurse": 6}})  # day 4 + night 3 at 20:00
    assert problem[0] == "rules.staff.nurse" and "at least 7 are needed" in problem[1]
    assert parse_twin(twin({"min_rest_hours": 11, "staff": {"nurse": 7}})).rules is not None


def test_every_breach_in_one_pass() -> None:
    long_saturday = {**NURSES, "shifts": [*NURSES["shifts"],  # type: ignore[list-item]
                                          {"days": ["sat"], "start": "06:00", "end": "20:00", "capacity": 1}]}
    long_saturday["capacity"] = 5
    found = problems({"max_shift_hours": 12, "min_on_duty": {"nurse": 4, "doctor": 1},
                      "max_weekly_hours": 40}, long_saturday)
    assert ("rules.min_on_duty.doctor", "no resource named 'doctor'") in found
    assert ("resources[nurse].shifts[2]", "14 h long, over rules.max_shift_hours = 12 h") in found
    assert ("resources[nurse].shifts", "3 on duty from mon 00:00, under rules.min_on_duty = 4") in found
    assert any(p == "rules.staff" and "give staff for the pools with shifts (nurse)" in r for p, r in found)


def test_a_pool_without_shifts_is_always_on_duty() -> None:
    always = {"name": "nurse", "capacity": 2}
    (problem,) = problems({"max_weekly_hours": 48, "staff": {"nurse": 6}}, always)
    assert "336 h a week" in problem[1] and "at least 7" in problem[1]
    (problem,) = problems({"min_on_duty": {"nurse": 3}}, always)
    assert problem == ("resources[nurse].capacity", "2 on duty, under rules.min_on_duty = 3")
