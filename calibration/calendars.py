"""Working calendars on hour-of-week slots: how many open hours lie between two times?

Waits between a case's activities are mostly closed hours (nights, weekends) when the site
has a calendar. Measured in clock time and replayed after the calendar's closures, they
would count the closed hours twice and pile every wait that ends at night up at the next
opening; measured in open hours, they can be replayed in working time (`worktime`).

Sparse hours are pooled rather than taken at face value. A day of the week with starts but
under `min_day_share` of them (`sparse_days`: Production's train log has one Saturday start
in 7 weeks, its test log 23 Saturday events in 1,270) takes the hours of the other days
(`pooled_hours`: those open on at least half of them) and, as a pace, its own total spread
over their hour-of-day shape, shrunk towards the mean day's as if one week had been average
(`pooled_rates`, a weight by count): opened only in the hours its few starts
happened to fall, it would pile a day's queued work into them; closed, the twin would never
work on a day the site sometimes works. An hour seen in only one week between two closed
hours is a stray (`stray_hours`) and closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.arrivals import HOURS_PER_WEEK, hour_of_week

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def open_time(times: pd.Series, on: np.ndarray) -> np.ndarray:
    """Open hours of the calendar from a fixed Monday 00:00 up to each time."""
    hours = (times - pd.Timestamp("2000-01-03")).dt.total_seconds().to_numpy() / 3600
    whole = np.floor(hours).astype(int)
    slot, weeks = whole % HOURS_PER_WEEK, whole // HOURS_PER_WEEK
    before = np.concatenate([[0.0], np.cumsum(on)])
    return weeks * on.sum() + before[slot] + (hours - whole) * on[slot]


def open_hours_between(first: pd.Series, then: pd.Series, on: np.ndarray) -> np.ndarray:
    """Open hours of the calendar in [first, then] (0 when then <= first)."""
    return np.clip(open_time(then, on) - open_time(first, on), 0, None)


def sparse_days(slots: np.ndarray, min_day_share: float = 0.01) -> np.ndarray:
    """7 flags: the days of the week with starts but under `min_day_share` of them (`slots`:
    each start's hour of week)."""
    days = np.bincount(np.asarray(slots, dtype=int) // 24, minlength=7)
    return (days > 0) & (days < min_day_share * max(len(slots), 1))


def stray_hours(weeks_seen: np.ndarray, on: np.ndarray) -> np.ndarray:
    """168 flags: open slots seen in one week only between two closed hours (the week
    wraps: Sunday 23:00 neighbours Monday 00:00)."""
    return on & (weeks_seen <= 1) & ~np.roll(on, 1) & ~np.roll(on, -1)


def pooled_hours(on: np.ndarray, sparse: np.ndarray) -> np.ndarray:
    """168 open flags with each `sparse` day open in the hours open on at least half of the
    other days that have open hours."""
    days = on.reshape(7, 24).copy()
    worked = ~sparse & days.any(axis=1)
    if sparse.any() and worked.any():
        days[sparse] = days[worked].mean(axis=0) >= 0.5
    return days.ravel()


def pooled_rates(rate: np.ndarray, sparse: np.ndarray, weeks: float, prior_weeks: float = 1.0) -> np.ndarray:
    """168 rates (per week) with each `sparse` day's total shrunk towards the mean day's, as
    if `prior_weeks` of the `weeks` observed had been an average day, and spread over the
    other days' hour-of-day shape."""
    days = np.asarray(rate, dtype=float).reshape(7, 24).copy()
    shape = days[~sparse].sum(axis=0)
    if sparse.any() and shape.sum() > 0:
        own, mean = days[sparse].sum(axis=1, keepdims=True), days.sum() / 7
        total = (own * weeks + mean * prior_weeks) / (weeks + prior_weeks)
        days[sparse] = total * shape / shape.sum()
    return days.ravel()


def weeks_seen(times: pd.Series) -> np.ndarray:
    """Per hour-of-week slot, in how many weeks (counted from the first time) a time fell in it."""
    week = ((times - times.min()).dt.total_seconds() // 604800).to_numpy().astype(int)
    return np.bincount(np.unique(hour_of_week(times) + HOURS_PER_WEEK * week) % HOURS_PER_WEEK,
                       minlength=HOURS_PER_WEEK)
