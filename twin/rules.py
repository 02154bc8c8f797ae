"""Working-time rules a staffing plan must respect, checked against the twin's own shifts.

    rules:
      max_shift_hours: 12        # no shift longer
      min_rest_hours: 11         # between the end of one shift a person works and their next
      max_weekly_hours: 48       # per person
      staff: {nurse: 14}         # people employed per pool (the rest and weekly rules need it)
      min_on_duty: {physician: 1, nurse: 2}   # at every hour; a skill present on every shift: 1

Shifts are pool-level (so many units from HH:MM to HH:MM on these days), not rosters of
named people, so the rest and weekly-hours rules are checked as what they imply for the
pool: the staff must cover the week's unit-hours within `max_weekly_hours` each, and two
shifts less than `min_rest_hours` apart cannot be worked by the same people, so the staff
must cover both at once. These are necessary conditions: a plan that breaks one has no
lawful roster; one that passes has one unless the roster is tighter than these bounds.
A breach makes the twin invalid, so `twin validate` reports it and the optimiser never
proposes such a plan.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, PositiveInt

from twin.calendar import DAYS, MINUTES_PER_UNIT, parse_clock
from twin.distributions import NonNegativeFloat, Positive

if TYPE_CHECKING:
    from twin.spec import Resource, Twin

Pool = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_\-]*$", max_length=64)]
WEEK = 7 * 24.0


class LabourRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_shift_hours: Positive | None = None
    min_rest_hours: NonNegativeFloat | None = None
    max_weekly_hours: Positive | None = None
    staff: dict[Pool, PositiveInt] = {}
    min_on_duty: dict[Pool, PositiveInt] = {}


def breaches(twin: Twin) -> list[tuple[str, str]]:
    """Every rule the twin's shifts break, as (field path, reason)."""
    rules = twin.rules
    if rules is None:
        return []
    pools = {r.name: r for r in twin.resources}
    problems = [
        (f"rules.{field}.{name}", f"no resource named '{name}'")
        for field in ("staff", "min_on_duty")
        for name in getattr(rules, field)
        if name not in pools
    ]
    for resource in twin.resources:
        problems += _shift_lengths(resource, rules)
        if resource.name in rules.min_on_duty:
            problems += _on_duty(twin, resource, rules.min_on_duty[resource.name])
        if resource.name in rules.staff:
            problems += _staff(resource, rules, rules.staff[resource.name])
    missing = [r.name for r in twin.resources if r.shifts and r.name not in rules.staff]
    if (
        (rules.max_weekly_hours is not None or rules.min_rest_hours is not None)
        and not rules.staff
        and missing
    ):
        problems.append(
            (
                "rules.staff",
                "max_weekly_hours and min_rest_hours apply to the people of each pool: "
                f"give staff for the pools with shifts ({', '.join(missing)})",
            )
        )
    return problems


def shifts_of_week(resource: Resource) -> list[tuple[float, float, int, int]]:
    """Each shift's occurrences in the week: (start hour of week, length h, units, shift index)."""
    out = []
    for index, shift in enumerate(resource.shifts or []):
        begin, end = parse_clock(shift.start), parse_clock(shift.end)
        length = end - begin if end > begin else end + 24 - begin
        out += [(DAYS.index(day) * 24 + begin, length, shift.capacity, index) for day in shift.days]
    return sorted(out)


def _shift_lengths(resource: Resource, rules: LabourRules) -> list[tuple[str, str]]:
    most = rules.max_shift_hours
    if most is None:
        return []
    return [
        (
            f"resources[{resource.name}].shifts[{i}]",
            f"{_hours(length)} long, over rules.max_shift_hours = {_hours(most)}",
        )
        for i, length in dict.fromkeys((i, length) for _, length, _, i in shifts_of_week(resource))
        if length > most + 1e-9
    ]


def _on_duty(twin: Twin, resource: Resource, least: int) -> list[tuple[str, str]]:
    calendar = twin.calendar(resource)
    if calendar is None:
        if resource.capacity >= least:
            return []
        return [
            (
                f"resources[{resource.name}].capacity",
                f"{resource.capacity} on duty, under rules.min_on_duty = {least}",
            )
        ]
    levels = [min(int(level), resource.capacity) for level in calendar.levels]
    if min(levels) >= least:
        return []
    i = levels.index(min(levels))
    hours_per_unit = MINUTES_PER_UNIT[twin.time_unit] / 60
    at = float(calendar.breakpoints[i]) * hours_per_unit  # from Monday 00:00 (week position)
    return [
        (
            f"resources[{resource.name}].shifts",
            f"{levels[i]} on duty from {_clock(at)}, under rules.min_on_duty = {least}",
        )
    ]


def _staff(resource: Resource, rules: LabourRules, people: int) -> list[tuple[str, str]]:
    shifts = shifts_of_week(resource)
    if not shifts:
        shifts = [(0.0, WEEK, resource.capacity, 0)]  # always on duty
    problems = []
    where = f"rules.staff.{resource.name}"
    if rules.max_weekly_hours is not None:
        unit_hours = sum(length * units for _, length, units, _ in shifts)
        need = math.ceil(unit_hours / rules.max_weekly_hours - 1e-9)
        if need > people:
            problems.append(
                (
                    where,
                    f"{people} people cannot work the pool's {_hours(unit_hours)} a week within "
                    f"rules.max_weekly_hours = {_hours(rules.max_weekly_hours)}: at least "
                    f"{need} are needed",
                )
            )
    if rules.min_rest_hours is not None:
        need, pair = _rest_bound(shifts, rules.min_rest_hours)
        if need > people:
            problems.append(
                (
                    where,
                    f"{people} people cannot work {pair} with rules.min_rest_hours = "
                    f"{_hours(rules.min_rest_hours)} between them: at least {need} are needed",
                )
            )
    return problems


def _rest_bound(shifts: list[tuple[float, float, int, int]], rest: float) -> tuple[int, str]:
    """The most units two shifts need at once when no one may work both (they overlap, or
    the second starts less than `rest` after the first ends), and which two."""
    need, pair = 0, ""
    for a_start, a_length, a_units, a_index in shifts:
        for b_start, _, b_units, b_index in shifts:
            if (a_start, a_index) == (b_start, b_index):
                continue
            gap = (b_start - (a_start + a_length)) % WEEK  # from a's end to b's next start
            overlap = (b_start - a_start) % WEEK < a_length
            if (overlap or gap < rest - 1e-9) and a_units + b_units > need:
                need = a_units + b_units
                pair = (
                    f"shift {a_index} ({_clock(a_start)}, {_hours(a_length)}) and shift {b_index} "
                    f"({_clock(b_start)})"
                )
    return need, pair


def _hours(h: float) -> str:
    return f"{h:g} h"


def _clock(hour_of_week: float) -> str:
    day, hour = divmod(hour_of_week % WEEK, 24)
    minutes = round(hour * 60)
    return f"{DAYS[int(day)]} {minutes // 60:02d}:{minutes % 60:02d}"
