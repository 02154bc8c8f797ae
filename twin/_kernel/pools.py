"""Units of a pool: who holds them, failed or not, on duty or not.

`_pool_take` hands `count` free units to an entity, `_pool_release` frees one,
`_pool_fail` and `_pool_repair` take one down and bring it back, `_set_on_duty` sets how
many are on shift; each keeps the pool's levels (busy, available, up, on duty, overtime)
and returns what the callers add to the pool's free count. Reference in the SimPy
engine: twin.pools.Pool (take, release, fail, repair, set_on_duty, is_free).
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import DUE, NORMAL, WORN, _level_add, _level_set, _push
from twin._kernel.layout import (
    C_SEQ,
    E_HELD,
    E_NHELD,
    LV_PER_POOL,
    M_LV_POOL,
    M_WEAR,
    P_CAP,
    P_UNIT_HI,
    P_UNIT_LO,
    P_WEAR,
    S_ONDUTY,
    S_PABSENT,
    S_PDOWN,
    S_PLEVEL,
    S_UFAILED,
    S_UJOB,
    S_UWEAR,
    SF_UWEAR,
    U_INDEX,
    U_POOL,
    UW_KIND,
    UW_TIMER,
    UW_WEARING,
    UWEAR_W,
    _ent,
    _pool,
    _unit,
)


@njit
def _is_free(si, mi, u):
    b = _unit(mi, u)
    return (si[si[S_UJOB] + u] < 0 and si[si[S_UFAILED] + u] == 0
            and mi[b + U_INDEX] < si[si[S_ONDUTY] + mi[b + U_POOL]])


# -- wear by use (Model._wear_busy, _worn, _wear_job, _due) --------------------------------
@njit
def _by_use(si, mi, u, mode):
    """Whether unit u wears by this use (1 operating time, 2 jobs) and its life waits for it."""
    return (mi[M_WEAR] & mode and mi[_pool(mi, mi[_unit(mi, u) + U_POOL]) + P_WEAR] == mode
            and si[si[S_UWEAR] + UWEAR_W * u + UW_WEARING])


@njit
def _wear_start(si, sf, u, now):
    """The unit starts working: its wear runs out after the use left (a timeout)."""
    r = si[S_UWEAR] + UWEAR_W * u
    sf[si[SF_UWEAR] + 2 * u + 1] = now
    token = si[C_SEQ]
    si[r + UW_TIMER] = token
    _push(si, sf, now + sf[si[SF_UWEAR] + 2 * u], NORMAL, WORN, u, token)


@njit
def _wear_stop(si, sf, u, now):
    """The unit stops working: the use left is counted down (never below 0)."""
    r = si[S_UWEAR] + UWEAR_W * u
    if si[r + UW_TIMER] >= 0:
        f = si[SF_UWEAR] + 2 * u
        left = sf[f] - (now - sf[f + 1])
        sf[f] = left if left > 0.0 else 0.0
        si[r + UW_TIMER] = -1


@njit
def _due(si, sf, u, now):
    """The unit's life goes on: down (for maintenance or not) at the next event."""
    r = si[S_UWEAR] + UWEAR_W * u
    si[r + UW_WEARING], si[r + UW_TIMER] = 0, -1
    _push(si, sf, now, NORMAL, DUE, u, si[r + UW_KIND])


@njit
def _jobs_done(si, sf, mi, e, now):
    """Model._jobs_done: each unit the job holds that wears by jobs counts one; down when that
    reaches its use."""
    for i in range(si[e + E_NHELD]):
        u = si[e + E_HELD + i]
        if _by_use(si, mi, u, 2):
            f = si[SF_UWEAR] + 2 * u
            sf[f] -= 1
            if sf[f] <= 0:
                _due(si, sf, u, now)


@njit
def _pool_take(si, sf, mi, p, now, count, slot, w):
    e = _ent(si, slot)
    taken = 0
    b = _pool(mi, p)
    for u in range(mi[b + P_UNIT_LO], mi[b + P_UNIT_HI]):
        if _is_free(si, mi, u):
            si[si[S_UJOB] + u] = slot
            n = si[e + E_NHELD]
            si[e + E_HELD + n] = u
            si[e + E_NHELD] = n + 1
            if mi[M_WEAR] and _by_use(si, mi, u, 1):
                _wear_start(si, sf, u, now)
            taken += 1
            if taken == count:
                break
    _level_add(sf, mi[M_LV_POOL] + LV_PER_POOL * p, now, count, w)


@njit
def _pool_release(si, sf, mi, u, now, w):
    """Free a unit after its job; 1 if it is free for others (still on shift). A failed unit
    (given back by a job that reneged while it waited for stock) left the busy and available
    counts when it failed, and stays out of them until repaired."""
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    si[si[S_UJOB] + u] = -1
    if si[si[S_UFAILED] + u]:
        return 0
    if mi[M_WEAR] and _by_use(si, mi, u, 1):
        _wear_stop(si, sf, u, now)
    _level_add(sf, lv, now, -1.0, w)
    if mi[b + U_INDEX] < si[si[S_ONDUTY] + p]:
        return 1
    _level_add(sf, lv + 1, now, -1.0, w)
    return 0


@njit
def _pool_fail(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    was_free = _is_free(si, mi, u)
    has_job = si[si[S_UJOB] + u] >= 0
    counted = has_job or mi[b + U_INDEX] < si[si[S_ONDUTY] + p]
    si[si[S_UFAILED] + u] = 1
    si[si[S_PDOWN] + p] += 1
    _level_add(sf, lv + 2, now, -1.0, w)
    if counted:
        _level_add(sf, lv + 1, now, -1.0, w)
    if has_job:
        if mi[M_WEAR] and _by_use(si, mi, u, 1):
            _wear_stop(si, sf, u, now)
        _level_add(sf, lv, now, -1.0, w)
    return was_free


@njit
def _pool_repair(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    has_job = si[si[S_UJOB] + u] >= 0
    si[si[S_UFAILED] + u] = 0
    si[si[S_PDOWN] + p] -= 1
    _level_add(sf, lv + 2, now, 1.0, w)
    if has_job or mi[b + U_INDEX] < si[si[S_ONDUTY] + p]:
        _level_add(sf, lv + 1, now, 1.0, w)
    if has_job:
        if mi[M_WEAR] and _by_use(si, mi, u, 1):
            _wear_start(si, sf, u, now)
        _level_add(sf, lv, now, 1.0, w)
    return _is_free(si, mi, u)


@njit
def _set_on_duty(si, sf, mi, p, now, level, w):
    old = si[si[S_ONDUTY] + p]
    si[si[S_ONDUTY] + p] = level
    step = 1 if level > old else -1
    b = _pool(mi, p)
    cap, first = mi[b + P_CAP], mi[b + P_UNIT_LO]
    lo = first + min(min(old, level), cap)
    hi = first + min(max(old, level), cap)
    changed = 0
    for u in range(lo, hi):
        if si[si[S_UJOB] + u] < 0 and si[si[S_UFAILED] + u] == 0:
            changed += 1
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    _level_add(sf, lv + 1, now, step * changed, w)
    _level_set(sf, lv + 3, now, level, w)
    base = min(cap, max(0, si[si[S_PLEVEL] + p] - si[si[S_PABSENT] + p]))
    _level_set(sf, lv + 4, now, level - base, w)
    return step * changed
