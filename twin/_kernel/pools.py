"""Units of a pool: who holds them, failed or not, on duty or not.

`_pool_take` hands `count` free units to an entity, `_pool_release` frees one,
`_pool_fail` and `_pool_repair` take one down and bring it back, `_set_on_duty` sets how
many are on shift; each keeps the pool's levels (busy, available, up, on duty, overtime)
and returns what the callers add to the pool's free count. Reference in the SimPy
engine: twin.pools.Pool (take, release, fail, repair, set_on_duty, is_free).
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import _level_add, _level_set
from twin._kernel.layout import (
    E_HELD,
    E_NHELD,
    LV_PER_POOL,
    M_LV_POOL,
    P_CAP,
    P_UNIT_HI,
    P_UNIT_LO,
    S_ONDUTY,
    S_PABSENT,
    S_PDOWN,
    S_PLEVEL,
    S_UFAILED,
    S_UJOB,
    U_INDEX,
    U_POOL,
    _ent,
    _pool,
    _unit,
)


@njit(cache=True)
def _is_free(si, mi, u):
    b = _unit(mi, u)
    return (si[si[S_UJOB] + u] < 0 and si[si[S_UFAILED] + u] == 0
            and mi[b + U_INDEX] < si[si[S_ONDUTY] + mi[b + U_POOL]])


@njit(cache=True)
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
            taken += 1
            if taken == count:
                break
    _level_add(sf, mi[M_LV_POOL] + LV_PER_POOL * p, now, count, w)


@njit(cache=True)
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
    _level_add(sf, lv, now, -1.0, w)
    if mi[b + U_INDEX] < si[si[S_ONDUTY] + p]:
        return 1
    _level_add(sf, lv + 1, now, -1.0, w)
    return 0


@njit(cache=True)
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
        _level_add(sf, lv, now, -1.0, w)
    return was_free


@njit(cache=True)
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
        _level_add(sf, lv, now, 1.0, w)
    return _is_free(si, mi, u)


@njit(cache=True)
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
