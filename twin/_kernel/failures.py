"""Unit failures and repairs.

`_fail` takes a unit down (one cause more if it is down already) and interrupts the job
holding it; `_repair` brings it back when its last cause ends, and resumes the job or
dispatches the pool's line. Their times are drawn by the loop's handler (`loop._handle_rare`,
as the failure process of Model._failures). Reference in the SimPy engine: Model._fail,
Model._repair (and Model._failures for the process).
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import (
    INTERRUPT,
    NORMAL,
    RESUME,
    T_FAILURE,
    T_MAINTAINED,
    T_MAINTENANCE,
    T_REPAIR,
    URGENT,
    _log,
    _push,
)
from twin._kernel.layout import (
    E_DOWN,
    E_RESUME,
    E_RUNNING,
    S_FREE,
    S_UFAILED,
    S_UJOB,
    U_INDEX,
    U_POOL,
    _ent,
    _unit,
)
from twin._kernel.lines import _dispatch_one
from twin._kernel.pools import _pool_fail, _pool_repair
from twin._kernel.triggers import _units_down, _units_up


@njit
def _fail(si, sf, mi, u, now, w, planned):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    _log(si, sf, now, T_MAINTENANCE if planned else T_FAILURE, mi[b + U_INDEX], p)
    if si[si[S_UFAILED] + u] > 0:  # already down for another cause
        si[si[S_UFAILED] + u] += 1
        return
    if _pool_fail(si, sf, mi, u, now, w):
        si[si[S_FREE] + p] -= 1
    j = si[si[S_UJOB] + u]
    if j >= 0:
        e = _ent(si, j)
        si[e + E_DOWN] += 1
        if si[e + E_RUNNING]:
            si[e + E_RUNNING] = 0
            _push(si, sf, now, URGENT, INTERRUPT, j, 0)
    _units_down(si, sf, mi, p, now)


@njit
def _repair(si, sf, mi, u, now, w, planned):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    _log(si, sf, now, T_MAINTAINED if planned else T_REPAIR, mi[b + U_INDEX], p)
    if si[si[S_UFAILED] + u] > 1:  # still down for another cause
        si[si[S_UFAILED] + u] -= 1
        return
    _units_up(si, sf, mi, p)
    j = si[si[S_UJOB] + u]
    if _pool_repair(si, sf, mi, u, now, w):
        si[si[S_FREE] + p] += 1
        _dispatch_one(si, sf, mi, 0, p, now, w)
    elif j >= 0:
        e = _ent(si, j)
        si[e + E_DOWN] -= 1
        if si[e + E_DOWN] == 0 and si[e + E_RESUME]:
            si[e + E_RESUME] = 0
            _push(si, sf, now, NORMAL, RESUME, j, 0)
