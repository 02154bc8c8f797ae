"""Working calendars on hour-of-week slots: how many open hours lie between two times?

Waits between a case's activities are mostly closed hours (nights, weekends) when the site
has a calendar. Measured in clock time and replayed after the calendar's closures, they
would count the closed hours twice and pile every wait that ends at night up at the next
opening; measured in open hours, they can be replayed in working time (`worktime`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.arrivals import HOURS_PER_WEEK


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
