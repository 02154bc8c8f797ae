"""Resource pools, skills and working calendars from the resource column of an event log.

`ResourceFitter().fit(events)` sets, per activity, `pools_` (the resources seen doing it),
`capacity_` (distinct resources, or the peak number of them busy at once with
`capacity="peak"`), `skills_` (resource -> activities) and `calendars_`: the hour-of-week
slots in which the pool starts work in at least `min_week_share` of the observed weeks
(`on_`: a pool's 168 open flags, where it has shifts).
A calendar is "clear" when those slots hold at least `coverage` of all starts and leave at
least `min_off` of the week off; `shifts_` then holds it in the twin's `shifts` format.
A clear calendar's shifts put on duty, each hour, the most resources of the pool seen busy
in that hour of any one week (`staffed=True`; times `staff_factor`, for the work a
completed-cases-only log lost with the cases it left out), not the whole pool: the backlog
then waits for the staff who clear it, as it did. Pools without a clear calendar of their
own (thin data, sporadic use) fall back on the log-wide calendar (`site_calendar_`, from
every start), when that one is clear: the site's opening hours bound when any of its work
can start. Sparse hours are pooled (`calibration.calendars`: a day with under
`min_day_share` of the starts takes the other days' hours, a stray hour seen once between
closed ones is closed), as the calendar's `sparse_days_pooled` and `stray_hours_closed` say.
These are pools per activity, so a resource doing several activities appears in several
pools (see `skills_`); `calibration.staff` makes a pool per resource instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.arrivals import HOURS_PER_WEEK, hour_of_week
from calibration.calendars import DAYS, pooled_hours, sparse_days, stray_hours, weeks_seen


def peak_concurrency(starts: pd.Series, ends: pd.Series) -> int:
    """Most intervals open at once (an end at t frees before a start at t)."""
    times = np.concatenate([starts.to_numpy(), ends.to_numpy()])
    delta = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((delta, times))
    return int(np.max(np.cumsum(delta[order]), initial=0))


def weekly_shifts(on: np.ndarray, capacity: int | np.ndarray) -> list[dict[str, Any]]:
    """168 on/off flags (and units on duty per hour, or one number) -> one shift per run of
    on-hours with the same number of units within each day."""
    units = np.broadcast_to(np.asarray(capacity, dtype=int), (HOURS_PER_WEEK,))
    shifts = []
    for d, day in enumerate(DAYS):
        h = 0
        while h < 24:
            slot = d * 24 + h
            if not on[slot]:
                h += 1
                continue
            end = h + 1
            while end < 24 and on[d * 24 + end] and units[d * 24 + end] == units[slot]:
                end += 1
            shifts.append(
                {"days": [day], "start": f"{h:02d}:00", "end": f"{end:02d}:00", "capacity": int(units[slot])}
            )
            h = end
    return shifts


def staffing(group: pd.DataFrame, longest: int = HOURS_PER_WEEK) -> np.ndarray:
    """Per hour-of-week slot: the most distinct resources seen at work (busy at some moment
    of that hour) in any one week: the pool's units on duty then. A job longer than
    `longest` hours counts for its first `longest` (it covers every slot by then)."""
    first = group["start_time"].dt.floor("h")
    hours = ((group["end_time"] - first).dt.total_seconds() // 3600).clip(upper=longest - 1).astype(int)
    n = hours.to_numpy() + 1  # hour slots each job touches
    spans = np.repeat(np.arange(len(group)), n)
    offset = np.arange(len(spans)) - np.repeat(np.cumsum(n) - n, n)
    times = pd.Series(first.to_numpy()[spans] + pd.to_timedelta(offset, unit="h").to_numpy())
    seen = pd.DataFrame({
        "week": (times - times.min()).dt.total_seconds() // 604800,
        "slot": hour_of_week(times),
        "resource": group["resource"].to_numpy()[spans],
    })
    most = seen.groupby(["slot", "week"])["resource"].nunique().groupby("slot").max()
    return most.reindex(range(HOURS_PER_WEEK), fill_value=0).to_numpy()


class ResourceFitter:
    def __init__(
        self,
        capacity: str = "distinct",
        min_week_share: float = 0.2,
        coverage: float = 0.95,
        min_off: float = 0.15,
        site_week_share: float = 0.0,
        staffed: bool = True,
        staff_factor: float = 1.0,
        min_day_share: float = 0.01,
    ) -> None:
        self.capacity = capacity
        self.min_day_share = min_day_share
        self.min_week_share = min_week_share
        self.coverage = coverage
        self.min_off = min_off
        self.site_week_share = site_week_share
        self.staffed = staffed
        self.staff_factor = staff_factor

    def fit(self, events: pd.DataFrame) -> ResourceFitter:
        if self.capacity not in ("distinct", "peak"):
            raise ValueError(f"capacity must be 'distinct' or 'peak', not '{self.capacity}'")
        has = events[events["resource"] != ""]
        self.skills_ = {r: sorted(g["activity"].unique()) for r, g in has.groupby("resource")}
        self.pools_: dict[str, list[str]] = {}
        self.capacity_: dict[str, int] = {}
        self.calendars_: dict[str, dict[str, Any]] = {}
        self.shifts_: dict[str, list[dict[str, Any]]] = {}
        self.on_: dict[str, np.ndarray] = {}  # pool -> its 168 open hours, where it has shifts
        weeks = max(1.0, (events["start_time"].max() - events["start_time"].min()).total_seconds() / 604800)
        for activity, group in has.groupby("activity"):
            self._fit_pool(str(activity), group, weeks)
        self.site_calendar_, site_on = self._calendar(events, weeks, self.site_week_share)
        self.site_on_ = site_on
        for activity, capacity in self.capacity_.items():
            if activity not in self.shifts_ and self.site_calendar_["clear"]:
                self.shifts_[activity] = weekly_shifts(site_on, capacity)
                self.on_[activity] = site_on
        return self

    def _calendar(
        self, group: pd.DataFrame, weeks: float, share: float | None = None
    ) -> tuple[dict[str, Any], np.ndarray]:
        """Hour-of-week slots with starts in enough weeks, and whether they make a clear calendar."""
        slots = hour_of_week(group["start_time"])
        weeks_with_start = weeks_seen(group["start_time"])
        on = weeks_with_start >= max(1.0, (self.min_week_share if share is None else share) * weeks)
        sparse = sparse_days(slots, self.min_day_share)
        stray = stray_hours(weeks_with_start, on) & ~np.repeat(sparse, 24)  # a sparse day is pooled
        on = pooled_hours(on & ~stray, sparse)
        covered = float(np.isin(slots, np.flatnonzero(on)).mean())
        off = 1 - on.mean()
        clear = covered >= self.coverage and off >= self.min_off and len(group) >= 30
        calendar = {
            "on_hours_of_week": np.flatnonzero(on).tolist(),
            "starts_covered": covered,
            "week_off_share": float(off),
            "clear": bool(clear),
            "stray_hours_closed": [f"{DAYS[s // 24]} {s % 24:02d}:00" for s in np.flatnonzero(stray)],
            "sparse_days_pooled": [DAYS[d] for d in np.flatnonzero(sparse)],
        }
        return calendar, on

    def _fit_pool(self, activity: str, group: pd.DataFrame, weeks: float) -> None:
        self.pools_[activity] = sorted(group["resource"].unique())
        peak = peak_concurrency(group["start_time"], group["end_time"])
        distinct = len(self.pools_[activity])
        capacity = max(1, peak if self.capacity == "peak" else distinct)
        self.capacity_[activity] = capacity
        calendar, on = self._calendar(group, weeks)
        self.calendars_[activity] = {**calendar, "peak_concurrency": peak, "distinct_resources": distinct}
        if calendar["clear"]:
            seen = np.ceil(staffing(group) * self.staff_factor).astype(int)
            units = np.clip(seen, 1, capacity) if self.staffed else capacity
            self.shifts_[activity] = weekly_shifts(on, units)
            self.on_[activity] = on

    def summary(self) -> dict[str, Any]:
        return {
            "pools": self.pools_,
            "capacity": self.capacity_,
            "capacity_rule": self.capacity,
            "skills": self.skills_,
            "calendars": self.calendars_,
            "site_calendar": self.site_calendar_,
        }
