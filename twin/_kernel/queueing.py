"""Waiting with classes: turning away, patience, preemption and blocking after service.

`_turned_away` decides, for an entity that would have to wait, whether the waiting room is
full (lost) or it declines to join (balks, by the join probability for the queue it sees);
`_patience` starts a patience timer at an entity's first wait at an activity, and `_renege`
runs when it expires: the entity leaves its lines (giving back units it held while waiting
for stock) and is woken to go elsewhere (`RENEGED`). `_preempt` stops the lowest-class job
in service at an activity for a waiting request of a higher class: the job gives back its
units, waits in its lines at its old key and resumes with its time left (`PREEMPTED`).
`_block` puts an entity whose next activity is full and blocks on that activity's list,
holding its carried units, and checks for a deadlock (`_deadlock`: the greatest set of
activities none of whose queues can drain); `_unblock` lets blocked entities in as the queue
shrinks, and `_release_carried` gives the carried units back when one wakes.
Reference in the SimPy engine: Model._turned_away, _patience, _renege, _preempt, the
preemption branch of Model._work, Model._blocked, _unblock, _deadlock, _held_by_blocked and
Step.never_drains.
"""

from __future__ import annotations

from numba import njit

from twin._kernel.blocking import _block_append, _carried, _let_in
from twin._kernel.events import (
    BLOCKED,
    LET_IN,
    NORMAL,
    PREEMPTED,
    RENEGE,
    RENEGED,
    T_BALK,
    T_BLOCKED,
    T_LOST,
    T_PREEMPT,
    T_RENEGE,
    URGENT,
    WAIT_STOCK,
    WAIT_UNITS,
    _count_time_left,
    _defer_grant,
    _level_add,
    _log,
    _push,
)
from twin._kernel.layout import (
    AC_ALT_HI,
    AC_ALT_LO,
    AC_BALK_STREAM,
    AC_BLOCK,
    AC_JOIN_HI,
    AC_JOIN_LO,
    AC_PATIENCE_STREAM,
    AC_QCAP,
    C_ENT_NEW,
    C_SEQ,
    CA_PATIENCE,
    E_CLASS,
    E_DOWN,
    E_HELD,
    E_NHELD,
    E_NUM,
    E_PHASE,
    E_RUNNING,
    E_SEQ,
    E_STEP,
    E_TOKEN,
    EF_QUEUED,
    LEVEL_SHIFT,
    M_ALT,
    M_JOIN_P,
    M_NACT,
    M_NPOOL,
    M_REQ,
    P_UNIT_HI,
    P_UNIT_LO,
    S_BHEAD,
    S_DEAD,
    S_FREE,
    S_POSITION,
    S_QCOUNT,
    S_UFAILED,
    S_UJOB,
    SF_DEAD,
    U_POOL,
    _act,
    _cls_act,
    _ent,
    _entf,
    _pool,
    _reqs,
    _unit,
)
from twin._kernel.lines import (
    _cancel,
    _dh_push_head,
    _dispatch_loop,
    _dispatch_needs,
    _give_back,
    _granted,
    _release_units,
    _requeue,
)
from twin._kernel.pools import _pool_release
from twin._kernel.rng import _generator, _sample

Q_REACHED, Q_ABANDONED, Q_LOST, Q_BALKED = 0, 1, 2, 3  # S_QCOUNT + 4 * a + ...


@njit
def _count(si, a, which, now, w):
    if now >= w:
        si[si[S_QCOUNT] + 4 * a + which] += 1


@njit
def _turned_away(si, sf, mi, mf, rg, slot, a, now, w):
    """Model._turned_away: the waiting room is full, or the entity balks."""
    b = _act(mi, a)
    waiting = int(sf[3 * (1 + a)])  # the activity's queue level
    num = si[_ent(si, slot) + E_NUM]
    cap = mi[b + AC_QCAP]
    if cap >= 0 and waiting >= cap:
        _count(si, a, Q_LOST, now, w)
        _log(si, sf, now, T_LOST, num, a)
        return True
    lo, hi = mi[b + AC_JOIN_LO], mi[b + AC_JOIN_HI]
    if hi > lo:
        p = mf[mi[M_JOIN_P] + lo + min(waiting, hi - lo - 1)]
        if p < 1.0 and (p <= 0.0 or _generator(rg, mi[b + AC_BALK_STREAM]).random() >= p):
            _count(si, a, Q_BALKED, now, w)
            _log(si, sf, now, T_BALK, num, a)
            return True
    return False


@njit
def _patience(si, sf, mi, mf, rg, slot, now):
    """Model._patience: start the timer at the entity's first wait here, if its class has one."""
    e = _ent(si, slot)
    a = si[e + E_STEP]
    d = mi[_cls_act(mi, a, si[e + E_CLASS]) + CA_PATIENCE]
    if d < 0 or si[e + E_TOKEN] >= 0:
        return
    limit = _sample(mi, mf, d, _generator(rg, mi[_act(mi, a) + AC_PATIENCE_STREAM]))
    token = si[C_SEQ]
    si[e + E_TOKEN] = token
    _push(si, sf, now + limit, NORMAL, RENEGE, slot, token)


@njit
def _renege(si, sf, mi, slot, token, now, w):
    """Model._renege: unless served meanwhile, leave the lines, wake to go elsewhere, and give
    back what is held (the units of one waiting for stock)."""
    e = _ent(si, slot)
    phase = si[e + E_PHASE]
    if si[e + E_TOKEN] != token or (phase != WAIT_UNITS and phase != WAIT_STOCK):
        return
    al = 1 if phase == WAIT_STOCK else 0
    if _granted(si, e, al):
        return
    a = si[e + E_STEP]
    _log(si, sf, now, T_RENEGE, si[e + E_NUM], a)
    _level_add(sf, 1 + a, now, -1.0, w)
    if max(sf[_entf(si, slot) + EF_QUEUED], 0.0) >= w:  # a state's entity: reached at the start
        si[si[S_QCOUNT] + 4 * a + Q_ABANDONED] += 1
    si[e + E_PHASE] = RENEGED
    _defer_grant(si, slot)
    if al == 1:
        lo, hi = _reqs(mi, 1, a)
        r, n_pool = mi[M_REQ], mi[M_NPOOL]
        for k in range(lo, hi):
            si[si[S_POSITION] + mi[r + 2 * k] - n_pool] += mi[r + 2 * k + 1]
        _cancel(si, sf, mi, 1, slot, now, w)
        _release_units(si, sf, mi, slot, now, w)
        si[e + E_DOWN] = 0  # its failed units are given back: the next step starts afresh
    else:
        _cancel(si, sf, mi, 0, slot, now, w)
    if mi[_act(mi, a) + AC_BLOCK]:
        _unblock(si, sf, mi, a, now, w)


@njit
def _preempt(si, sf, mi, a, slot, now, w):
    """Model._preempt: the running job at activity a with the largest key above the
    requester's level stops, gives its units back, waits at its old key, and is
    interrupted (PREEMPTED) with its time left kept."""
    level = si[_ent(si, slot) + E_SEQ] >> LEVEL_SHIFT
    victim, most = -1, -1
    for v in range(si[C_ENT_NEW]):
        ev = _ent(si, v)
        key = si[ev + E_SEQ]
        if si[ev + E_RUNNING] and si[ev + E_STEP] == a and key >> LEVEL_SHIFT > level and key > most:
            victim, most = v, key
    if victim < 0:
        return
    ev, fv = _ent(si, victim), _entf(si, victim)
    si[ev + E_RUNNING] = 0
    _count_time_left(sf, fv, now)
    _log(si, sf, now, T_PREEMPT, si[ev + E_NUM], a)
    si[ev + E_TOKEN] = -1  # its pending timeout is now stale
    si[ev + E_PHASE] = 0  # it waits on no event until interrupted: a grant meanwhile wakes nobody
    chosen = _give_back(si, sf, mi, victim, now, w)  # as Model._preempt: release, requeue, dispatch
    _requeue(si, mi, victim)
    _dispatch_needs(si, sf, mi, 0, a, chosen, now, w)
    _push(si, sf, now, URGENT, PREEMPTED, victim, 0)


# -- blocking after service (Model._blocked, _unblock, _deadlock) --------------------------
@njit
def _release_carried(si, sf, mi, slot, now, w):
    """Model._release of the carried units: back to their pools (a failed one no longer counts
    as down for this entity), then a dispatch of those pools; the entity's own units move to
    the front of its held units."""
    e = _ent(si, slot)
    n = si[_carried(si, e)]
    if n == 0:
        return
    lines = 0
    for i in range(n):
        u = si[e + E_HELD + i]
        p = mi[_unit(mi, u) + U_POOL]
        if si[si[S_UFAILED] + u]:
            si[e + E_DOWN] -= 1
        si[si[S_FREE] + p] += _pool_release(si, sf, mi, u, now, w)
        lines = _dh_push_head(si, 0, p, lines)
    held = si[e + E_NHELD]
    for i in range(n, held):
        si[e + E_HELD + i - n] = si[e + E_HELD + i]
    si[e + E_NHELD] = held - n
    si[_carried(si, e)] = 0
    if lines > 0:
        _dispatch_loop(si, sf, mi, 0, lines, now, w)


@njit
def _block(si, sf, mi, slot, a, now):
    """Model._blocked: wait where it is, holding the carried units, on a's blocked list."""
    e = _ent(si, slot)
    _log(si, sf, now, T_BLOCKED, si[e + E_NUM], a)
    _block_append(si, a, slot)
    si[e + E_PHASE] = BLOCKED
    _deadlock(si, sf, mi, a, now)


@njit
def _unblock(si, sf, mi, a, now, w):
    """Model._unblock: while a's queue has room, let the first blocked entity in."""
    cap = mi[_act(mi, a) + AC_QCAP]
    while si[si[S_BHEAD] + a] and sf[3 * (1 + a)] < cap:
        _let_in(si, sf, mi, si[si[S_BHEAD] + a] - 1, now, w)


@njit
def _holds_carried(si, e, u):
    for i in range(si[_carried(si, e)]):  # noqa: SIM110  (no generators in Numba)
        if si[e + E_HELD + i] == u:
            return True
    return False


@njit
def _blocked_at(si, j):
    """The activity entity slot j is blocked before, holding carried units (Model.blocked_at:
    from its block until it wakes), or -1."""
    e = _ent(si, j)
    phase = si[e + E_PHASE]
    if phase in (BLOCKED, LET_IN) and si[_carried(si, e)] > 0:
        return si[e + E_STEP]
    return -1


@njit
def _locked(si, mi, p, stuck):
    """Model._held_by_blocked: every unit of pool p carried by an entity blocked before a
    stuck activity."""
    b = _pool(mi, p)
    for u in range(mi[b + P_UNIT_LO], mi[b + P_UNIT_HI]):
        j = si[si[S_UJOB] + u]
        if j < 0:
            return False
        at = _blocked_at(si, j)
        if at < 0 or not si[stuck + 1 + at] or not _holds_carried(si, _ent(si, j), u):
            return False
    return True


@njit
def _never_drains(si, mi, a, stuck):
    """Step.never_drains: nobody waiting at a can renege, and some fixed pool (or every
    skilled pool) of a is locked."""
    b = _act(mi, a)
    if mi[b + AC_PATIENCE_STREAM] >= 0:
        return False
    lo, hi = _reqs(mi, 0, a)
    r = mi[M_REQ]
    alo, ahi = mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]
    if ahi > alo:
        skilled = True
        for k in range(alo, ahi):
            if not _locked(si, mi, mi[mi[M_ALT] + 2 * k], stuck):
                skilled = False
                break
        if skilled:
            return True
    for k in range(lo, hi):  # noqa: SIM110  (no generators in Numba)
        if _locked(si, mi, mi[r + 2 * k], stuck):
            return True
    return False


@njit
def _deadlock(si, sf, mi, a, now):
    """Model._deadlock: the greatest set of activities that never drain, starting from those
    entities are blocked before; if `a` is in it, record the deadlock (the loop stops)."""
    stuck = si[S_DEAD]
    n_act = mi[M_NACT]
    for x in range(n_act):
        si[stuck + 1 + x] = 0
    for j in range(si[C_ENT_NEW]):
        at = _blocked_at(si, j)
        if at >= 0:
            si[stuck + 1 + at] = 1
    changed = True
    while changed:
        changed = False
        for x in range(n_act):
            if si[stuck + 1 + x] and not _never_drains(si, mi, x, stuck):
                si[stuck + 1 + x] = 0
                changed = True
    if si[stuck + 1 + a]:
        si[stuck] = 1
        sf[si[SF_DEAD]] = now
