"""A unit's life: up until it fails or its planned maintenance is due, then down (waiting for
its crew, if it has one), then repaired or maintained, as good as new.

`_unit_next` draws the next uptime and schedules what comes first (FAIL, b = 0 a failure, 1 a
maintenance; a failure on a tie; nothing when neither can come); `_down` takes the unit down
and calls its crew (`_call_crew`: a request from a slot of the entity table, whose step is the
crew's hidden activity row) or starts the work at once (`_work_on`); `_crew_arrived` is the
crew's grant; `_up` brings the unit back, gives the crew back and counts the work. REPAIR's b
is 2 * (crew slot + 1) + kind. Reference in the SimPy engine: Model._unit_life, _call_crew.
"""

from __future__ import annotations

import math

from numba import njit

from twin._kernel.entities import _free_slot, _new_entity
from twin._kernel.events import FAIL, NORMAL, REPAIR, T_CREW, WAIT_CREW, WEEK_DUE, _push, _trace
from twin._kernel.failures import _fail, _repair
from twin._kernel.layout import (
    E_CLASS,
    E_NUM,
    E_PHASE,
    E_STEP,
    EF_QUEUED,
    F_WARMUP,
    FAILURE_RATE,
    M_CARE_EVERY,
    M_CARE_TIMES,
    P_CARE,
    P_CARE_CREW,
    P_CARE_DUR,
    P_CARE_HI,
    P_CARE_LO,
    P_CREW,
    P_FAIL_REPAIR,
    P_FAIL_UP,
    P_FAILS,
    P_WEAR,
    S_CARE,
    S_EXTRA,
    S_UFAILED,
    S_UJOB,
    S_UWEAR,
    SF_CREW,
    SF_UDOWN,
    SF_UWEAR,
    U_CARE_STREAM,
    U_INDEX,
    U_POOL,
    U_REPAIR_STREAM,
    U_UP_STREAM,
    UW_CYCLE,
    UW_KIND,
    UW_TIMER,
    UW_WEARING,
    UWEAR_W,
    _ent,
    _entf,
    _pool,
    _unit,
)
from twin._kernel.lines import _release_units, _request
from twin._kernel.pools import _due, _wear_start
from twin._kernel.rng import _generator, _sample
from twin._kernel.triggers import _stress_factor


@njit
def _unit_next(si, sf, mi, mf, rg, u, now):
    """The head of Model._unit_life's loop: the next failure or maintenance, if any."""
    ub = _unit(mi, u)
    p = mi[ub + U_POOL]
    b = _pool(mi, p)
    up = math.inf
    if mi[b + P_FAILS]:
        up = _sample(mi, mf, mi[b + P_FAIL_UP], _generator(rg, mi[ub + U_UP_STREAM]))
        up = up / _stress_factor(mi, mf, FAILURE_RATE, p, now)
    if mi[b + P_WEAR]:
        _arm(si, sf, mi, mf, u, p, up, now)
        return
    planned = math.inf
    if mi[b + P_CARE]:
        planned = mf[mi[M_CARE_EVERY] + p]
        k = _first_after(mf, mi[M_CARE_TIMES] + mi[b + P_CARE_LO], mi[b + P_CARE_HI] - mi[b + P_CARE_LO], now)
        if k >= 0 and mf[mi[M_CARE_TIMES] + mi[b + P_CARE_LO] + k] - now < planned:
            planned = mf[mi[M_CARE_TIMES] + mi[b + P_CARE_LO] + k] - now
    maintain = planned < up
    if math.isinf(up) and not maintain:
        return
    _push(si, sf, now + (planned if maintain else up), NORMAL, FAIL, u, 1 if maintain else 0)


@njit
def _arm(si, sf, mi, mf, u, p, up, now):
    """Model._worn_life's wait: the use left until it goes down (the uptime, or maintenance's
    `every` if less), a weekly maintenance timer, and the wear clock if it works now."""
    b = _pool(mi, p)
    every = mf[mi[M_CARE_EVERY] + p] if mi[b + P_CARE] else math.inf
    q, n = mi[M_CARE_TIMES] + mi[b + P_CARE_LO], mi[b + P_CARE_HI] - mi[b + P_CARE_LO]
    k = _first_after(mf, q, n, now) if mi[b + P_CARE] else -1
    if math.isinf(up) and math.isinf(every) and k < 0:
        return
    r = si[S_UWEAR] + UWEAR_W * u
    si[r + UW_CYCLE] += 1
    sf[si[SF_UWEAR] + 2 * u] = up if up <= every else every
    si[r + UW_KIND] = 1 if every < up else 0
    si[r + UW_WEARING] = 1
    if k >= 0:
        _push(si, sf, now + (mf[q + k] - now), NORMAL, WEEK_DUE, u, si[r + UW_CYCLE])
    if mi[b + P_WEAR] == 1 and si[si[S_UJOB] + u] >= 0 and si[si[S_UFAILED] + u] == 0:
        _wear_start(si, sf, u, now)


@njit
def _worn(si, sf, u, token, now):
    """Model._worn: the wear timeout, unless stopped or re-armed since."""
    r = si[S_UWEAR] + UWEAR_W * u
    if si[r + UW_WEARING] and si[r + UW_TIMER] == token:
        _due(si, sf, u, now)


@njit
def _weekly_due(si, sf, u, cycle, now):
    """Model._weekly_due: a weekly maintenance time, if the unit is still in that up spell."""
    r = si[S_UWEAR] + UWEAR_W * u
    if si[r + UW_WEARING] and si[r + UW_CYCLE] == cycle:
        si[r + UW_KIND] = 1
        _due(si, sf, u, now)


@njit
def _first_after(mf, q, n, now):
    """bisect.bisect_right of `now` in the sorted mf[q:q + n]; -1 if every time is at or before it."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) // 2
        if now < mf[q + mid]:
            hi = mid
        else:
            lo = mid + 1
    return lo if lo < n else -1


@njit
def _down(si, sf, mi, mf, rg, u, kind, now, w):
    """FAIL: the unit goes down (kind 1: for maintenance), then its crew is called."""
    _fail(si, sf, mi, u, now, w, kind)
    p = mi[_unit(mi, u) + U_POOL]
    crew = mi[_pool(mi, p) + (P_CARE_CREW if kind else P_CREW)]
    if crew < 0:
        _work_on(si, sf, mi, mf, rg, u, kind, -1, now)
        return
    slot = _new_entity(si, u, crew)
    si[_ent(si, slot) + E_CLASS] = 0
    sf[_entf(si, slot) + EF_QUEUED] = now
    if _request(si, sf, mi, 0, slot, now, w):
        _crew_arrived(si, sf, mi, mf, rg, slot, now)
    else:
        si[_ent(si, slot) + E_PHASE] = WAIT_CREW


@njit
def _crew_arrived(si, sf, mi, mf, rg, slot, now):
    """The crew is granted (Model._call_crew returns): its wait counted, then the work starts."""
    e = _ent(si, slot)
    u = si[e + E_NUM]
    p = mi[_unit(mi, u) + U_POOL]
    kind = 1 if si[e + E_STEP] == mi[_pool(mi, p) + P_CARE_CREW] else 0
    if now >= mf[F_WARMUP]:
        si[si[S_CARE] + 2 * p + 1] += 1
        sf[si[SF_CREW] + p] += now - sf[_entf(si, slot) + EF_QUEUED]
    _trace(si, sf, now, T_CREW, mi[_unit(mi, u) + U_INDEX], p)
    _work_on(si, sf, mi, mf, rg, u, kind, slot, now)


@njit
def _work_on(si, sf, mi, mf, rg, u, kind, slot, now):
    """The repair's or maintenance's duration; REPAIR when it ends."""
    ub = _unit(mi, u)
    b = _pool(mi, mi[ub + U_POOL])
    left = sf[si[SF_UDOWN] + u]
    if kind:
        d = _sample(mi, mf, mi[b + P_CARE_DUR], _generator(rg, mi[ub + U_CARE_STREAM]))
    elif not math.isnan(left):  # down at a state's time: the repair time it has left (Model._down_now)
        d = left
        sf[si[SF_UDOWN] + u] = math.nan
    else:
        d = _sample(mi, mf, mi[b + P_FAIL_REPAIR], _generator(rg, mi[ub + U_REPAIR_STREAM]))
    _push(si, sf, now + d, NORMAL, REPAIR, u, 2 * (slot + 1) + kind)


@njit
def _up(si, sf, mi, mf, rg, u, b, now, w):
    """REPAIR: the unit comes back, its crew goes back, the work is counted; the next uptime."""
    kind, slot = b % 2, b // 2 - 1
    _repair(si, sf, mi, u, now, w, kind)
    if slot >= 0:
        _release_units(si, sf, mi, slot, now, w)
        _free_slot(si, slot)
    if now >= w:
        p = mi[_unit(mi, u) + U_POOL]
        if kind:
            si[si[S_CARE] + 2 * p] += 1
        else:
            si[si[S_EXTRA] + 1 + p] += 1
    _unit_next(si, sf, mi, mf, rg, u, now)
