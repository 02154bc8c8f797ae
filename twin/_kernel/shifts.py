"""Units on duty: shift changes, absences and overtime.

`_set_duty` sets a pool's units on duty from its calendar level, absent units and overtime
units, and dispatches its line if any unit is on duty; `_next_shift` schedules the next
change of the pool's weekly calendar, `_shift` applies one. Reference in the SimPy engine:
Model._shifts, Model._set_duty, twin.calendar.WeeklyCalendar.changes.
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import NORMAL, SHIFT, T_SHIFT, _log, _push
from twin._kernel.layout import (
    F_HORIZON,
    F_WARMUP,
    M_CAL_LEVELS,
    M_CAL_POINTS,
    M_POOL_F,
    P_CAL_HI,
    P_CAL_LO,
    P_CAP,
    S_CALBI,
    S_CALCUR,
    S_CALWK,
    S_FREE,
    S_PABSENT,
    S_PEXTRA,
    S_PLEVEL,
    _pool,
)
from twin._kernel.lines import _dispatch_one
from twin._kernel.pools import _set_on_duty


@njit
def _set_duty(si, sf, mi, p, now, w):
    """Model._set_duty: a shift change, an absence or overtime sets the units on duty."""
    cap = mi[_pool(mi, p) + P_CAP]
    level = min(cap, max(0, si[si[S_PLEVEL] + p] - si[si[S_PABSENT] + p] + si[si[S_PEXTRA] + p]))
    _log(si, sf, now, T_SHIFT, level, p)
    si[si[S_FREE] + p] += _set_on_duty(si, sf, mi, p, now, level, w)
    if level > 0:
        _dispatch_one(si, sf, mi, 0, p, now, w)


@njit
def _next_shift(si, sf, mi, mf, p, now):
    """Schedule the calendar's next change in (0, horizon], if any."""
    b = _pool(mi, p)
    lo = mi[b + P_CAL_LO]
    n = mi[b + P_CAL_HI] - lo
    week, offset = mf[mi[M_POOL_F] + 2 * p], mf[mi[M_POOL_F] + 2 * p + 1]
    wk, bi, cur = si[S_CALWK] + p, si[S_CALBI] + p, si[S_CALCUR] + p
    while True:
        base = si[wk] * week - offset
        t = base + mf[mi[M_CAL_POINTS] + lo + si[bi]]
        level = mi[mi[M_CAL_LEVELS] + lo + si[bi]]
        si[bi] += 1
        if si[bi] == n:
            si[bi] = 0
            si[wk] += 1
        if t > mf[F_HORIZON]:
            return
        if t > 0 and level != si[cur]:
            si[cur] = level
            _push(si, sf, now + (t - now), NORMAL, SHIFT, p, level)
            return


@njit
def _shift(si, sf, mi, mf, p, level, now):
    si[si[S_PLEVEL] + p] = level
    _set_duty(si, sf, mi, p, now, mf[F_WARMUP])
    _next_shift(si, sf, mi, mf, p, now)
