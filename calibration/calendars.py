"""Working calendars on hour-of-week slots: when does the site next open after a time?

Waits between a case's activities are mostly closed hours (nights, weekends) when the site
has a calendar. The twin replays them as a step that can only begin while the site is open
(it holds a unit of an `open_hours` pool whose shifts are the calendar), so the wait it
samples must be measured from the next opening, not from the previous end: otherwise the
closed hours count twice and every wait ending at night piles up at the next opening.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.arrivals import HOURS_PER_WEEK, hour_of_week


def hours_to_open(on: np.ndarray) -> np.ndarray:
    """Per hour-of-week slot: whole hours from its start to the next open slot (0 if open)."""
    if not on.any():
        raise ValueError("calendar: no open hour in the week")
    ahead = np.zeros(HOURS_PER_WEEK, dtype=int)
    for slot in range(HOURS_PER_WEEK):
        while not on[(slot + ahead[slot]) % HOURS_PER_WEEK]:
            ahead[slot] += 1
    return ahead


def next_open(times: pd.Series, on: np.ndarray) -> pd.Series:
    """Each time itself when the site is open then, else the start of its next open hour."""
    ahead = hours_to_open(on)[hour_of_week(times)]
    opened = times.dt.floor("h") + pd.to_timedelta(ahead, unit="h")
    return times.where(ahead == 0, opened)
