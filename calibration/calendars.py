"""Working calendars on hour-of-week slots: how many open hours lie between two times?

Waits between a case's activities are mostly closed hours (nights, weekends) when the site
has a calendar. Measured in clock time and replayed after the calendar's closures, they
would count the closed hours twice and pile every wait that ends at night up at the next
opening; measured in open hours, they can be replayed in working time (`worktime`).

Sparse hours are pooled rather than taken at face value (`sparse_slots`): a day of the week
holding under `min_day_share` of the starts (Production's one Saturday start in 7 weeks,
BPIC12-W's 14 Sunday starts of 16,338) is closed whole, since opening it in the hours its
few starts happened to fall would pile a day's queued work into them; and an hour seen in
only one week whose neighbouring hours are both closed is a stray, closed too.
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
    """7 flags: the days of the week holding under `min_day_share` of the starts (`slots`:
    each start's hour of week)."""
    days = np.bincount(np.asarray(slots, dtype=int) // 24, minlength=7)
    return days < min_day_share * max(len(slots), 1)


def sparse_slots(
    slots: np.ndarray, weeks_seen: np.ndarray, on: np.ndarray, min_day_share: float = 0.01
) -> np.ndarray:
    """168 flags: the open slots `on` that are sparse (see the module's note): those of a day
    under `min_day_share` of the starts, and those seen in one week only between two
    closed hours (the week wraps: Sunday 23:00 neighbours Monday 00:00)."""
    day = np.repeat(sparse_days(slots, min_day_share), 24)
    lonely = (weeks_seen <= 1) & ~np.roll(on, 1) & ~np.roll(on, -1)
    return on & (day | lonely)


def weeks_seen(times: pd.Series) -> np.ndarray:
    """Per hour-of-week slot, in how many weeks (counted from the first time) a time fell in it."""
    week = ((times - times.min()).dt.total_seconds() // 604800).to_numpy().astype(int)
    return np.bincount(np.unique(hour_of_week(times) + HOURS_PER_WEEK * week) % HOURS_PER_WEEK,
                       minlength=HOURS_PER_WEEK)
