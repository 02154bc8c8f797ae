"""Entities: their visits as a state machine, and the arrivals that create them.

An entity's process (Model._entity) is cut into the events that wake it: `_visit` asks for
units, `_after_units` for stock (`_consume`), `_start_activity` draws the duration and
holds (`_hold`, interruptible by a unit failure: `_interrupted`, `_wait_or_hold`),
`_finish` releases the units and routes on (`_choose_next`) or leaves (`_leave`).
`_arrival` makes an entity and schedules the next arrival (`_next_arrival`, or
`_next_surge` for a demand surge's extra arrivals; `_profile_next` for a rate profile).
Reference in the SimPy engine: Model._arrivals, _arrive, _entity, _visit, _consume, _work,
_release, _surge; Step.choose_next; twin.calendar.RateProfile.next_arrival.
"""

from __future__ import annotations

import math

from numba import njit

from twin._kernel.blocking import _carried
from twin._kernel.events import (
    ARRIVAL,
    BATCH_DONE,
    BATCH_DUE,
    BATCH_HOLD,
    BATCH_START,
    BATCH_UNITS,
    GATHERING,
    HOLD_END,
    INIT_ENTITY,
    INIT_STATE,
    NORMAL,
    PRIORITY_SHIFT,
    SURGE,
    T_ARRIVAL,
    T_CLASS,
    T_END,
    T_LEAVE,
    T_LOST_SALE,
    T_PRODUCE,
    T_SETUP,
    T_START,
    URGENT,
    WAIT_BATCH,
    WAIT_RESUME,
    WAIT_STOCK,
    WAIT_UNITS,
    _count_time_left,
    _level_add,
    _log,
    _observe,
    _push,
    _push_key,
    _stock_record,
    _trace,
)
from twin._kernel.layout import (
    A_CLASS,
    A_DIST,
    A_PROFILE,
    A_ROUTE,
    A_STREAM,
    AC_ABANDON_TO,
    AC_BATCH,
    AC_BATCH_MIN,
    AC_BLOCK,
    AC_BRANCH,
    AC_CAN_FAIL,
    AC_DUR,
    AC_DUR_STREAM,
    AC_HOURS,
    AC_JOIN_HI,
    AC_JOIN_LO,
    AC_LOST_TO,
    AC_MAKE_HI,
    AC_MAKE_LO,
    AC_PREEMPT,
    AC_QCAP,
    AC_SETUP_STREAM,
    AC_SUCC_HI,
    AC_SUCC_LO,
    ACL_HI,
    ACL_LO,
    ACL_STREAM,
    ARR_CLS_W,
    ARR_W,
    C_ALIVE,
    C_ENT_FREE,
    C_ENT_NEW,
    C_ENTITIES,
    C_HEAP,
    C_SEQ,
    CA_DUR,
    CA_SETUP,
    CA_SUCC,
    E_CLASS,
    E_DOWN,
    E_FREE,
    E_HELD,
    E_NHELD,
    E_NUM,
    E_PHASE,
    E_RESUME,
    E_RUNNING,
    E_STEP,
    E_TOKEN,
    EF_BORN,
    EF_DUE,
    EF_QUEUED,
    EF_REMAINING,
    EF_STARTED,
    F_HORIZON,
    F_WARMUP,
    HOURS_PER_WEEK,
    M_ARR,
    M_ARR_CLS,
    M_ARR_DUE,
    M_BATCH,
    M_BATCH_F,
    M_CARRY,
    M_CLS_DUE,
    M_CLS_OF,
    M_CLS_P,
    M_MAKE,
    M_NACT,
    M_NCLS,
    M_NPOOL,
    M_NSTATE,
    M_PROF,
    M_QUEUEING,
    M_REQ,
    M_SETUP,
    M_ST_CLS,
    M_STRESS,
    M_STRESS_F,
    M_SUCC_P,
    M_SUCC_PTR,
    M_SUCC_TO,
    M_USES_CLS,
    M_WEAR,
    MT_SHORTAGE,
    ON_QUEUE,
    PRE_BORN,
    PRE_CLASS,
    PRE_DUE,
    PRE_KIND,
    PRE_REMAINING,
    PRE_SINCE,
    PRE_STEP,
    PRESET_BETWEEN,
    PRESET_SERVING,
    PROF_W,
    ROW,
    S_BFORM,
    S_CLSDUE,
    S_COMPLETED,
    S_EXTRA,
    S_FILLED,
    S_FREE,
    S_HEAP,
    S_LOSTS,
    S_PENDING,
    S_POSITION,
    S_QCOUNT,
    S_REDIRECT,
    S_REQUESTS,
    S_SETUPS,
    S_ULAST,
    SF_HEAP,
    SF_PRESET,
    ST_STREAM,
    ST_TARGET,
    STF_MEAN,
    STRESS_FW,
    STRESS_W,
    _act,
    _bwords,
    _cls_act,
    _ent,
    _entf,
    _mat,
    _reqs,
    _room,
)
from twin._kernel.lines import (
    _alt_duration,
    _dh_push_head,
    _dispatch_loop,
    _granted,
    _has_alt,
    _release_units,
    _request,
    _withdraw,
)
from twin._kernel.pools import _jobs_done
from twin._kernel.queueing import _block, _patience, _preempt, _release_carried, _turned_away, _unblock
from twin._kernel.rng import _generator, _sample
from twin._kernel.stock import _lost_sale, _review
from twin._kernel.triggers import _watch


# -- Model._visit, _consume, _work ------------------------------------------------------
@njit
def _has(mi, al, a):
    lo, hi = _reqs(mi, al, a)
    return hi > lo or _has_alt(mi, al, a)


@njit
def _visit(si, sf, mi, mf, rg, slot, a, now):
    """Model._visit up to the first wait: the plain path where no activity lets work give up,
    be turned away, preempt or block (the M/M/c hot loop), else `_visit_waiting`."""
    if mi[M_QUEUEING] or mi[M_CARRY] or mi[M_BATCH]:
        _visit_waiting(si, sf, mi, mf, rg, slot, a, now)
        return
    e = _ent(si, slot)
    w = mf[F_WARMUP]
    if si[si[S_REDIRECT] + a] >= 0:  # a reroute rule is active
        a = si[si[S_REDIRECT] + a]
    si[e + E_STEP] = a
    sf[_entf(si, slot) + EF_QUEUED] = now
    if si[e + E_NUM] <= mi[M_NSTATE]:
        _preset_visit(si, sf, slot)
    si[e + E_NHELD] = 0
    needs = _has(mi, 0, a)
    granted = needs and _request(si, sf, mi, 0, slot, now, w)  # Model._visit: ask, then count in
    if needs or _has(mi, 1, a):
        _level_add(sf, 1 + a, now, 1.0, w)
        _watch(si, sf, mi, ON_QUEUE, a, now)
        if needs and not granted:
            si[e + E_PHASE] = WAIT_UNITS
            return
    _after_units(si, sf, mi, mf, rg, slot, now)


@njit
def _visit_waiting(si, sf, mi, mf, rg, slot, a, now):
    """Model._visit where work may give up, be turned away, preempt or block. An entity
    turned away goes where the activity sends it (a loop rather than a call: the spec
    forbids lost_to cycles), or leaves."""
    e = _ent(si, slot)
    w = mf[F_WARMUP]
    while True:
        if si[si[S_REDIRECT] + a] >= 0:  # a reroute rule is active
            a = si[si[S_REDIRECT] + a]
        si[e + E_STEP] = a
        sf[_entf(si, slot) + EF_QUEUED] = now
        if si[e + E_NUM] <= mi[M_NSTATE]:
            _preset_visit(si, sf, slot)
        carry = si[_carried(si, e)] if mi[M_CARRY] else 0  # units of the step before, still held
        si[e + E_NHELD] = carry
        si[e + E_PHASE] = 0  # a grant before it waits (preemption, carried units) wakes nobody
        if now >= w:
            si[si[S_QCOUNT] + 4 * a] += 1  # reached
        if mi[M_BATCH] and mi[_act(mi, a) + AC_BATCH]:  # a batch step never blocks: nothing carried
            _join_batch(si, sf, mi, mf, slot, a, now)
            return
        needs = _has(mi, 0, a)
        granted = needs and _request(si, sf, mi, 0, slot, now, w)
        if needs and not granted and _turns_away(mi, a):
            b = _act(mi, a)
            if carry > 0 and mi[b + AC_BLOCK] and sf[3 * (1 + a)] >= mi[b + AC_QCAP]:
                _block(si, sf, mi, slot, a, now)
                return
            if _turned_away(si, sf, mi, mf, rg, slot, a, now, w):
                _withdraw(si, mi, 0, slot)
                if carry > 0:
                    _release_carried(si, sf, mi, slot, now, w)
                a = mi[b + AC_LOST_TO]
                if a < 0:
                    _leave(si, sf, mi, slot, now, w, False)
                    return
                continue
        break
    if carry > 0:
        _release_carried(si, sf, mi, slot, now, w)
    _queue_up(si, sf, mi, mf, rg, slot, a, needs, now)


@njit
def _queue_up(si, sf, mi, mf, rg, slot, a, needs, now):
    """The rest of Model._visit's wait: count in the queue, preempt, start patience, wait."""
    if needs or _has(mi, 1, a):
        _level_add(sf, 1 + a, now, 1.0, mf[F_WARMUP])
        _watch(si, sf, mi, ON_QUEUE, a, now)
    if needs:
        _wait_for_units(si, sf, mi, mf, rg, slot, a, now)
    else:
        _after_units(si, sf, mi, mf, rg, slot, now)


@njit
def _wait_for_units(si, sf, mi, mf, rg, slot, a, now):
    """Unless granted (at once, or by a release of carried units): preempt a lower class,
    start patience and wait; else on to the material."""
    e = _ent(si, slot)
    if not _granted(si, e, 0):
        if mi[_act(mi, a) + AC_PREEMPT]:
            _preempt(si, sf, mi, a, slot, now, mf[F_WARMUP])
        if not _granted(si, e, 0):
            _patience(si, sf, mi, mf, rg, slot, now)
            si[e + E_PHASE] = WAIT_UNITS
            return
    _after_units(si, sf, mi, mf, rg, slot, now)


@njit
def _turns_away(mi, a):
    b = _act(mi, a)
    return mi[b + AC_QCAP] >= 0 or mi[b + AC_JOIN_HI] > mi[b + AC_JOIN_LO]


@njit
def _after_units(si, sf, mi, mf, rg, slot, now):
    if _has(mi, 1, si[_ent(si, slot) + E_STEP]) and not _serving(si, mi, _ent(si, slot)):
        got = _consume(si, sf, mi, mf, rg, slot, now)
        if got < 0:
            _leave_unsold(si, sf, mi, slot, now, mf[F_WARMUP])
            return
        if got == 0:
            if mi[M_QUEUEING]:
                _patience(si, sf, mi, mf, rg, slot, now)
            si[_ent(si, slot) + E_PHASE] = WAIT_STOCK
            return
    _start_activity(si, sf, mi, mf, rg, slot, now)


@njit
def _leave_unsold(si, sf, mi, slot, now, w):
    """Model._visit after a lost sale: out of the queue, the units it holds given back, and
    out of the system unserved (a patience timer still running goes stale)."""
    e = _ent(si, slot)
    a = si[e + E_STEP]
    si[e + E_TOKEN] = -1
    si[e + E_PHASE] = 0
    _level_add(sf, 1 + a, now, -1.0, w)
    if _has(mi, 0, a):
        _release_units(si, sf, mi, slot, now, w)
        si[e + E_DOWN] = 0
    if mi[M_CARRY] and mi[_act(mi, a) + AC_BLOCK]:
        _unblock(si, sf, mi, a, now, w)
    _leave(si, sf, mi, slot, now, w, False)


@njit
def _elsewhere(si, sf, mi, mf, rg, slot, now):
    """After reneging (Model._visit's return): on to abandon_to, or leave unserved."""
    e = _ent(si, slot)
    si[e + E_TOKEN] = -1
    a = mi[_act(mi, si[e + E_STEP]) + AC_ABANDON_TO]
    if a >= 0:
        _visit(si, sf, mi, mf, rg, slot, a, now)
    else:
        _leave(si, sf, mi, slot, now, mf[F_WARMUP], False)


@njit
def _let_in_woken(si, sf, mi, mf, rg, slot, now):
    """Woken after a blocked wait (Model._blocked returns): give the carried units back, then
    wait in the queue (already counted) from now, or go on if granted meanwhile."""
    e = _ent(si, slot)
    w = mf[F_WARMUP]
    a = si[e + E_STEP]
    si[e + E_PHASE] = 0  # a grant made by the release below wakes nobody
    _release_carried(si, sf, mi, slot, now, w)
    sf[_entf(si, slot) + EF_QUEUED] = now
    _wait_for_units(si, sf, mi, mf, rg, slot, a, now)


@njit
def _resumed(si, sf, slot, now):
    """The preemption reaches the job (Model._work): hold its time left once granted again."""
    e = _ent(si, slot)
    if _granted(si, e, 0):
        _wait_or_hold(si, sf, slot, now)
    else:
        si[e + E_PHASE] = WAIT_RESUME


@njit
def _consume(si, sf, mi, mf, rg, slot, now):
    """Model._consume: lower positions and review, then request the stock together (1: taken
    at once, 0: waits); or, finding too little of a `shortage: lose` material, a lost sale (-1)."""
    a = si[_ent(si, slot) + E_STEP]
    w = mf[F_WARMUP]
    lo, hi = _reqs(mi, 1, a)
    r, n_pool = mi[M_REQ], mi[M_NPOOL]
    short = _lost_sale(si, mi, lo, hi)
    if short >= 0:
        _log(si, sf, now, T_LOST_SALE, si[_ent(si, slot) + E_NUM], short)
        if now >= w:
            for k in range(lo, hi):
                s = mi[r + 2 * k] - n_pool
                si[si[S_REQUESTS] + s] += 1
                si[si[S_LOSTS] + s] += mi[_mat(mi, s) + MT_SHORTAGE]
        return -1
    for k in range(lo, hi):
        s = mi[r + 2 * k] - n_pool
        si[si[S_POSITION] + s] -= mi[r + 2 * k + 1]
        _review(si, sf, mi, mf, rg, s, now)
    at_once = _request(si, sf, mi, 1, slot, now, w)
    if now >= w:
        for k in range(lo, hi):
            s = mi[r + 2 * k] - n_pool
            si[si[S_REQUESTS] + s] += 1
            si[si[S_FILLED] + s] += at_once
    return 1 if at_once else 0


@njit
def _start_activity(si, sf, mi, mf, rg, slot, now):
    e, ef = _ent(si, slot), _entf(si, slot)
    a = si[e + E_STEP]
    w = mf[F_WARMUP]
    needs = _has(mi, 0, a)
    if needs or _has(mi, 1, a):
        _level_add(sf, 1 + a, now, -1.0, w)
        if mi[M_CARRY] and mi[_act(mi, a) + AC_BLOCK]:
            _unblock(si, sf, mi, a, now, w)
    serving = _serving(si, mi, e)
    klass = si[e + E_CLASS]
    if not serving:  # one in service at the state's time waited before it
        _observe(si, sf, 1 + a, now, now - sf[ef + EF_QUEUED], w)
        if mi[M_USES_CLS]:
            _observe(si, sf, 2 + mi[M_NACT] + a * mi[M_NCLS] + klass, now, now - sf[ef + EF_QUEUED], w)
    _log(si, sf, now, T_START, si[e + E_NUM], a)
    b = _act(mi, a)
    if serving:  # what is left of its duration (twin.starting); no set-up
        si[si[S_PENDING] + si[e + E_NUM] - 1] = 0
        duration = sf[si[SF_PRESET] + ROW * (si[e + E_NUM] - 1) + PRE_REMAINING]
        if mi[M_SETUP] and needs:
            _remember(si, e, klass)
    else:
        d = _alt_duration(si, mi, e, a)  # a skilled pool's own duration, else the class's
        if d < 0 and mi[M_USES_CLS]:
            d = mi[_cls_act(mi, a, klass) + CA_DUR]
        if d < 0:
            d = mi[b + AC_DUR]
        duration = _sample(mi, mf, d, _generator(rg, mi[b + AC_DUR_STREAM]))
        if mi[M_SETUP] and needs:
            duration = _setup(si, sf, mi, mf, rg, slot, a, duration, now)
    hours = mi[b + AC_HOURS]
    if hours >= 0:  # Model._serve: that much working time, paused while closed
        duration = _profile_next(mf, mi[M_PROF] + PROF_W * hours, now, duration, mf[F_HORIZON]) - now
    sf[ef + EF_REMAINING] = duration
    if needs and mi[b + AC_CAN_FAIL]:
        _wait_or_hold(si, sf, slot, now)
    else:
        token = si[C_SEQ]
        si[e + E_TOKEN] = token
        _push(si, sf, now + duration, NORMAL, HOLD_END, slot, token)


@njit
def _setup(si, sf, mi, mf, rg, slot, a, duration, now):
    """Model._setup: a set-up first where a unit the job holds last served another class; each
    unit then remembers this class."""
    e = _ent(si, slot)
    klass = si[e + E_CLASS]
    d = mi[_cls_act(mi, a, klass) + CA_SETUP]
    if d >= 0:
        switch = False
        for i in range(si[e + E_NHELD]):
            last = si[si[S_ULAST] + si[e + E_HELD + i]]
            if last >= 0 and last != klass:
                switch = True
        if switch:
            duration = duration + _sample(mi, mf, d, _generator(rg, mi[_act(mi, a) + AC_SETUP_STREAM]))
            if now >= mf[F_WARMUP]:
                si[si[S_SETUPS] + a] += 1
            _trace(si, sf, now, T_SETUP, si[e + E_NUM], a)
    _remember(si, e, klass)
    return duration


@njit
def _remember(si, e, klass):
    for i in range(si[e + E_NHELD]):
        si[si[S_ULAST] + si[e + E_HELD + i]] = klass


@njit
def _wait_or_hold(si, sf, slot, now):
    """The head of Model._work's loop: wait while a held unit is down, else hold."""
    e = _ent(si, slot)
    if si[e + E_DOWN] > 0:
        si[e + E_RESUME] = 1
    else:
        _hold(si, sf, slot, now)


@njit
def _hold(si, sf, slot, now):
    """The interruptible timed hold of Model._work."""
    e, ef = _ent(si, slot), _entf(si, slot)
    sf[ef + EF_STARTED] = now
    si[e + E_RUNNING] = 1
    token = si[C_SEQ]
    si[e + E_TOKEN] = token
    _push(si, sf, now + sf[ef + EF_REMAINING], NORMAL, HOLD_END, slot, token)


@njit
def _interrupted(si, sf, slot, now):
    e, ef = _ent(si, slot), _entf(si, slot)
    si[e + E_TOKEN] = -1  # its pending timeout is now stale
    _count_time_left(sf, ef, now)
    _wait_or_hold(si, sf, slot, now)


# -- Model._release, Step.choose_next, the end of Model._entity --------------------------
@njit
def _finish(si, sf, mi, mf, rg, slot, now):
    e = _ent(si, slot)
    a = si[e + E_STEP]
    w = mf[F_WARMUP]
    si[e + E_TOKEN] = -1
    si[e + E_RUNNING] = 0
    _log(si, sf, now, T_END, si[e + E_NUM], a)  # before the release: the grants it makes follow it
    if mi[M_WEAR] & 2:
        _jobs_done(si, sf, mi, e, now)
    if mi[M_MAKE]:
        _produce(si, sf, mi, a, now, w)
    nxt = _choose_next(mi, mf, rg, a, si[e + E_CLASS])
    if _has(mi, 0, a):
        if mi[M_CARRY] and _blocks(si, mi, nxt):
            si[_carried(si, e)] = si[e + E_NHELD]  # released once the next step lets it in
        else:
            _release_units(si, sf, mi, slot, now, w)
    if now >= w:
        si[si[S_COMPLETED] + a] += 1
    if nxt >= 0:
        _visit(si, sf, mi, mf, rg, slot, nxt, now)
    else:
        _leave(si, sf, mi, slot, now, w, True)


@njit
def _produce(si, sf, mi, a, now, w):
    """Model._produce: the step's output on hand and in the position, then one dispatch of
    those materials' lines."""
    b = _act(mi, a)
    lo, hi = mi[b + AC_MAKE_LO], mi[b + AC_MAKE_HI]
    if hi == lo:
        return
    r, n_pool = mi[M_REQ], mi[M_NPOOL]
    n = 0
    for k in range(lo, hi):
        line, amount = mi[r + 2 * k], mi[r + 2 * k + 1]
        s = line - n_pool
        si[si[S_POSITION] + s] += amount
        si[si[S_FREE] + line] += amount
        _stock_record(sf, mi, s, now, si[si[S_FREE] + line], w)
        _trace(si, sf, now, T_PRODUCE, amount, s)
    for k in range(lo, hi):
        n = _dh_push_head(si, 1, mi[r + 2 * k], n)
    if n > 0:
        _dispatch_loop(si, sf, mi, 1, n, now, w)


@njit
def _blocks(si, mi, nxt):
    """Whether the next step (after rerouting) blocks when full."""
    if nxt < 0:
        return False
    target = nxt if si[si[S_REDIRECT] + nxt] < 0 else si[si[S_REDIRECT] + nxt]
    return mi[_act(mi, target) + AC_BLOCK] != 0


@njit
def _branches(mi, a, klass):
    """The rows [lo, hi) of activity a's successors for this class: its class's own, or the
    activity's."""
    b = _act(mi, a)
    if mi[M_USES_CLS]:
        row = mi[_cls_act(mi, a, klass) + CA_SUCC]
        return mi[mi[M_SUCC_PTR] + row], mi[mi[M_SUCC_PTR] + row + 1]
    return mi[b + AC_SUCC_LO], mi[b + AC_SUCC_HI]


@njit
def _choose_next(mi, mf, rg, a, klass):
    """Successor of activity a for this class (-1: leave); one uniform draw unless there is
    one way on."""
    b = _act(mi, a)
    lo, hi = _branches(mi, a, klass)
    to = mi[M_SUCC_TO]
    if hi - lo == 1:
        return mi[to + lo]
    u = _generator(rg, mi[b + AC_BRANCH]).random()
    cumulative = 0.0
    for k in range(lo, hi):
        cumulative += mf[mi[M_SUCC_P] + k]
        if u < cumulative:
            return mi[to + k]
    return mi[to + hi - 1]


@njit
def _choose_open(mi, mf, rg, a, klass):
    """Step.choose_open: the successor of activity a for an entity known to be still open (its
    branches but the exit, renormalised; -1 where there are none)."""
    b = _act(mi, a)
    lo, hi = _branches(mi, a, klass)
    to = mi[M_SUCC_TO]
    n, total, last = 0, 0.0, -1
    for k in range(lo, hi):
        if mi[to + k] >= 0:
            n += 1
            total += mf[mi[M_SUCC_P] + k]
            last = mi[to + k]
    if n <= 1:
        return last
    x = _generator(rg, mi[b + AC_BRANCH]).random() * total
    cumulative = 0.0
    for k in range(lo, hi):
        if mi[to + k] >= 0:
            cumulative += mf[mi[M_SUCC_P] + k]
            if x < cumulative:
                return mi[to + k]
    return last


@njit
def _leave(si, sf, mi, slot, now, w, served):
    """The end of Model._entity; those who gave up or were turned away count in no
    completion KPI."""
    e = _ent(si, slot)
    _level_add(sf, 0, now, -1.0, w)
    if served:
        _completed(si, sf, mi, slot, now, w)
    _trace(si, sf, now, T_LEAVE, si[e + E_NUM], -1)
    _free_slot(si, slot)


@njit
def _free_slot(si, slot):
    """The slot back on the stack of free ones."""
    si[_ent(si, si[C_ENT_FREE]) + E_FREE] = slot
    si[C_ENT_FREE] += 1
    si[C_ALIVE] -= 1


@njit
def _completed(si, sf, mi, slot, now, w):
    cycle = now - sf[_entf(si, slot) + EF_BORN]
    _observe(si, sf, 0, now, cycle, w)
    if mi[M_USES_CLS]:
        n_act, n_cls = mi[M_NACT], mi[M_NCLS]
        _observe(si, sf, 2 + n_act + n_act * n_cls + si[_ent(si, slot) + E_CLASS], now, cycle, w)
    due = sf[_entf(si, slot) + EF_DUE]
    if not math.isnan(due):
        late = now - due
        if late < 0.0:
            late = 0.0
        _observe(si, sf, 1 + mi[M_NACT], now, late, w)
        if now >= w and now > due:
            si[si[S_EXTRA]] += 1
        if mi[M_USES_CLS] and now >= w:  # Model._entity: due and late by class
            c = si[S_CLSDUE] + 2 * si[_ent(si, slot) + E_CLASS]
            si[c] += 1
            if now > due:
                si[c + 1] += 1


# -- arrivals (Model._arrivals, _arrive, _surge) ------------------------------------------
@njit
def _new_entity(si, num, a):
    if si[C_ENT_FREE] > 0:
        si[C_ENT_FREE] -= 1
        slot = si[_ent(si, si[C_ENT_FREE]) + E_FREE]
    else:
        slot = si[C_ENT_NEW]
        si[C_ENT_NEW] += 1
    si[C_ALIVE] += 1
    e = _ent(si, slot)
    si[e + E_NUM], si[e + E_STEP], si[e + E_PHASE] = num, a, 0
    si[e + E_DOWN], si[e + E_RUNNING], si[e + E_RESUME], si[e + E_TOKEN], si[e + E_NHELD] = 0, 0, 0, -1, 0
    return slot


@njit
def _arrival(si, sf, mi, mf, rg, k, now, surge):
    """A new entity; its process starts as an URGENT event at `now`.

    That event would be the very next one popped unless an URGENT event at `now` is
    already waiting, so then (and only if arrays have room) it runs at once, skipping a
    heap push and pop; its sequence number is used up either way, keeping later ties."""
    si[C_ENTITIES] += 1
    num = si[C_ENTITIES]
    _log(si, sf, now, T_ARRIVAL, num, k)
    b = mi[M_ARR] + ARR_W * k
    slot = _new_entity(si, num, mi[b + A_ROUTE])
    if mi[M_USES_CLS]:
        row = _draw_class(mi, mf, rg, k, surge)
        si[_ent(si, slot) + E_CLASS] = mi[mi[M_CLS_OF] + row]
        _trace(si, sf, now, T_CLASS, num, mi[mi[M_CLS_OF] + row])  # Model._arrive: traced, not counted
        due = mf[mi[M_CLS_DUE] + row]
    else:  # one class per stream, its due allowance the stream's
        si[_ent(si, slot) + E_CLASS] = mi[b + A_CLASS]
        due = mf[mi[M_ARR_DUE] + k]
    sf[_entf(si, slot) + EF_DUE] = now + due if due >= 0.0 else math.nan
    seq = si[C_SEQ]
    si[C_SEQ] = seq + 1
    urgent_waiting = si[C_HEAP] > 0 and sf[si[SF_HEAP]] == now and si[si[S_HEAP]] < PRIORITY_SHIFT
    if surge < 0:
        _next_arrival(si, sf, mi, mf, rg, k, now)
    else:
        _next_surge(si, sf, mi, mf, rg, surge, now)
    if urgent_waiting or not _room(si, mi):
        _push_key(si, sf, now, URGENT * PRIORITY_SHIFT + seq, INIT_ENTITY, slot, 0)
    else:
        _start_entity(si, sf, mi, mf, rg, slot, now)


@njit
def _draw_class(mi, mf, rg, k, surge):
    """The class row of a new entity of arrival k (Model._arrive: one uniform draw over the
    stream's class probabilities, or those of the demand surge that brought it, none when
    there is one class)."""
    b = mi[M_ARR_CLS] + ARR_CLS_W * k
    if surge >= 0 and mi[mi[M_ST_CLS] + ARR_CLS_W * surge + ACL_HI] > mi[mi[M_ST_CLS] + ARR_CLS_W * surge]:
        b = mi[M_ST_CLS] + ARR_CLS_W * surge  # the same three columns: lo, hi, stream
    lo, hi = mi[b + ACL_LO], mi[b + ACL_HI]
    if hi - lo == 1:
        return lo
    u = _generator(rg, mi[b + ACL_STREAM]).random()
    cumulative = 0.0
    for row in range(lo, hi):
        cumulative += mf[mi[M_CLS_P] + row]
        if u < cumulative:
            return row
    return hi - 1


@njit
def _start_entity(si, sf, mi, mf, rg, slot, now):
    sf[_entf(si, slot) + EF_BORN] = now
    _level_add(sf, 0, now, 1.0, mf[F_WARMUP])
    _visit(si, sf, mi, mf, rg, slot, si[_ent(si, slot) + E_STEP], now)


# -- a state's entities (Model._start_processes, _resume; twin.starting) --------------------
@njit
def _state_entities(si, sf, mi):
    """The state's entities, numbered 1.. in their rows' order, each started by an URGENT
    INIT_STATE event at t = 0 after every other process."""
    n = mi[M_NSTATE]
    for i in range(n):
        r = si[SF_PRESET] + ROW * i
        slot = _new_entity(si, i + 1, int(sf[r + PRE_STEP]))
        si[_ent(si, slot) + E_CLASS] = int(sf[r + PRE_CLASS])
        ef = _entf(si, slot)
        sf[ef + EF_BORN], sf[ef + EF_DUE] = sf[r + PRE_BORN], sf[r + PRE_DUE]
        si[si[S_PENDING] + i] = 1
        _push(si, sf, 0.0, URGENT, INIT_STATE, slot, 0)
    si[C_ENTITIES] = n


@njit
def _state_start(si, sf, mi, mf, rg, slot, now):
    """Model._resume: on from where it was; between steps, routed on from the step it finished."""
    e = _ent(si, slot)
    _level_add(sf, 0, now, 1.0, mf[F_WARMUP])
    i = si[e + E_NUM] - 1
    if sf[si[SF_PRESET] + ROW * i + PRE_KIND] == PRESET_BETWEEN:  # its next wait counts from since
        nxt = _choose_open(mi, mf, rg, si[e + E_STEP], si[e + E_CLASS])
        if nxt >= 0:
            _visit(si, sf, mi, mf, rg, slot, nxt, now)
        else:
            _leave(si, sf, mi, slot, now, mf[F_WARMUP], True)
    else:
        _visit(si, sf, mi, mf, rg, slot, si[e + E_STEP], now)


@njit
def _preset_visit(si, sf, slot):
    """A state's entity at a visit: the first one began at its since (still pending for one in
    service: its duration); a later one is a plain visit."""
    i = si[_ent(si, slot) + E_NUM] - 1
    p = si[S_PENDING] + i
    if si[p] == 1:
        r = si[SF_PRESET] + ROW * i
        sf[_entf(si, slot) + EF_QUEUED] = sf[r + PRE_SINCE]
        si[p] = 2 if sf[r + PRE_KIND] == PRESET_SERVING else 0
    else:
        si[p] = 0


@njit
def _serving(si, mi, e):
    """Whether entity row e is a state's entity starting again the service it was in."""
    num = si[e + E_NUM]
    return num <= mi[M_NSTATE] and si[si[S_PENDING] + num - 1] == 2


@njit
def _next_arrival(si, sf, mi, mf, rg, k, now):
    b = mi[M_ARR] + ARR_W * k
    p = mi[b + A_PROFILE]
    if p < 0:
        gap = _sample(mi, mf, mi[b + A_DIST], _generator(rg, mi[b + A_STREAM]))
    else:  # SimPy engine: timeout(profile.next_arrival(now, E, horizon) - now)
        mass = _generator(rg, mi[b + A_STREAM]).exponential(1.0)
        gap = _profile_next(mf, mi[M_PROF] + PROF_W * p, now, mass, mf[F_HORIZON]) - now
    _push(si, sf, now + gap, NORMAL, ARRIVAL, k, 0)


@njit
def _next_surge(si, sf, mi, mf, rg, j, now):
    """The next extra arrival of a demand surge: Poisson at (factor - 1) x the stream's rate."""
    b, q = mi[M_STRESS] + STRESS_W * j, mi[M_STRESS_F] + STRESS_FW * j
    k = mi[b + ST_TARGET]
    rng = _generator(rg, mi[b + ST_STREAM])
    p = mi[mi[M_ARR] + ARR_W * k + A_PROFILE]
    if p < 0:
        gap = rng.exponential(mf[q + STF_MEAN])
    else:
        mass = rng.exponential(1.0) / mf[q + STF_MEAN]
        gap = _profile_next(mf, mi[M_PROF] + PROF_W * p, now, mass, mf[F_HORIZON]) - now
    _push(si, sf, now + gap, NORMAL, SURGE, j, 0)


@njit
def _profile_next(mf, q, now, mass, limit):
    """twin.calendar.RateProfile.next_arrival, float operation for float; profile at mf[q:]."""
    slot, offset = mf[q], mf[q + 1]
    k = math.floor((offset + now) / slot)
    t = now
    while True:
        end = (k + 1) * slot - offset
        if end > t:
            rate = mf[q + 2 + k % HOURS_PER_WEEK]
            if rate > 0.0:
                step = rate * (end - t)
                if mass <= step:
                    return t + mass / rate
                mass -= step
            t = end
            if t >= limit:
                return t
        k += 1


# -- batches (Model._join_batch, _batch_due, _form, _batch) ------------------------------
@njit
def _join_batch(si, sf, mi, mf, slot, a, now):
    """Count in the queue, join the batch gathering at `a` (the first member makes it and
    starts its timeout), and form it when full, or when due and big enough."""
    w = mf[F_WARMUP]
    _level_add(sf, 1 + a, now, 1.0, w)
    _watch(si, sf, mi, ON_QUEUE, a, now)
    e = _ent(si, slot)
    si[e + E_PHASE] = WAIT_BATCH
    si[_bwords(si, mi, e)] = 0
    at = si[S_BFORM] + a
    if si[at] == 0:
        batch = _new_entity(si, si[e + E_NUM], a)
        bb = _ent(si, batch)
        si[bb + E_CLASS] = si[e + E_CLASS]
        si[bb + E_PHASE] = GATHERING
        si[bb + E_DOWN] = 0  # members
        si[at] = batch + 1
        timeout = mf[mi[M_BATCH_F] + a]
        if timeout < math.inf:
            token = si[C_SEQ]
            si[bb + E_TOKEN] = token
            _push(si, sf, now + timeout, NORMAL, BATCH_DUE, batch, token)
        si[_bwords(si, mi, bb)] = slot + 1
    else:
        batch = si[at] - 1
        bb = _ent(si, batch)
        si[_bwords(si, mi, _ent(si, si[_bwords(si, mi, bb) + 1] - 1))] = slot + 1
    si[_bwords(si, mi, bb) + 1] = slot + 1
    si[bb + E_DOWN] += 1
    b = _act(mi, a)
    if si[bb + E_DOWN] >= (mi[b + AC_BATCH_MIN] if si[bb + E_RESUME] else mi[b + AC_BATCH]):
        _form(si, sf, mi, a, now)


@njit
def _batch_due(si, sf, mi, batch, token, now):
    """The batch's timeout: unless it left full before, it leaves now if big enough, else once it is."""
    bb = _ent(si, batch)
    if si[bb + E_TOKEN] != token or si[bb + E_PHASE] != GATHERING:
        return
    si[bb + E_RESUME] = 1
    a = si[bb + E_STEP]
    if si[bb + E_DOWN] >= mi[_act(mi, a) + AC_BATCH_MIN]:
        _form(si, sf, mi, a, now)


@njit
def _form(si, sf, mi, a, now):
    """The batch gathering at `a` leaves: its process starts (an URGENT event)."""
    at = si[S_BFORM] + a
    batch = si[at] - 1
    si[at] = 0
    bb = _ent(si, batch)
    si[bb + E_PHASE], si[bb + E_TOKEN], si[bb + E_DOWN], si[bb + E_RESUME] = 0, -1, 0, 0
    _push(si, sf, now, URGENT, BATCH_START, batch, 0)


@njit
def _batch_go(si, sf, mi, mf, rg, batch, now):
    """Model._batch up to its wait: ask for the step's units once, for the whole batch."""
    a = si[_ent(si, batch) + E_STEP]
    si[_ent(si, batch) + E_NHELD] = 0
    if _has(mi, 0, a) and not _request(si, sf, mi, 0, batch, now, mf[F_WARMUP]):
        si[_ent(si, batch) + E_PHASE] = BATCH_UNITS
        return
    _batch_start(si, sf, mi, mf, rg, batch, now)


@njit
def _batch_start(si, sf, mi, mf, rg, batch, now):
    """Each member's wait ends and it starts; one duration for the batch."""
    bb = _ent(si, batch)
    a = si[bb + E_STEP]
    w = mf[F_WARMUP]
    m = si[_bwords(si, mi, bb)]
    while m:
        e, waited = _ent(si, m - 1), now - sf[_entf(si, m - 1) + EF_QUEUED]
        _level_add(sf, 1 + a, now, -1.0, w)
        _observe(si, sf, 1 + a, now, waited, w)
        if mi[M_USES_CLS]:
            _observe(si, sf, 2 + mi[M_NACT] + a * mi[M_NCLS] + si[e + E_CLASS], now, waited, w)
        _log(si, sf, now, T_START, si[e + E_NUM], a)
        m = si[_bwords(si, mi, e)]
    b = _act(mi, a)
    d = _alt_duration(si, mi, bb, a)
    if d < 0:
        d = mi[b + AC_DUR]
    duration = _sample(mi, mf, d, _generator(rg, mi[b + AC_DUR_STREAM]))
    if mi[M_SETUP] and _has(mi, 0, a):  # a batch takes no set-up, but its units remember
        _remember(si, bb, si[bb + E_CLASS])
    hours = mi[b + AC_HOURS]
    if hours >= 0:
        duration = _profile_next(mf, mi[M_PROF] + PROF_W * hours, now, duration, mf[F_HORIZON]) - now
    sf[_entf(si, batch) + EF_REMAINING] = duration
    si[bb + E_PHASE] = BATCH_HOLD
    if _has(mi, 0, a) and mi[b + AC_CAN_FAIL]:
        _wait_or_hold(si, sf, batch, now)
    else:
        token = si[C_SEQ]
        si[bb + E_TOKEN] = token
        _push(si, sf, now + duration, NORMAL, HOLD_END, batch, token)


@njit
def _batch_end(si, sf, mi, mf, batch, now):
    """Every member ends, the units go back once, and the members are woken in order."""
    bb = _ent(si, batch)
    a = si[bb + E_STEP]
    w = mf[F_WARMUP]
    si[bb + E_TOKEN] = -1
    si[bb + E_RUNNING] = 0
    n = 0
    m = si[_bwords(si, mi, bb)]
    while m:
        _log(si, sf, now, T_END, si[_ent(si, m - 1) + E_NUM], a)
        n += 1
        m = si[_bwords(si, mi, _ent(si, m - 1))]
    if mi[M_WEAR] & 2:  # one batch is one job
        _jobs_done(si, sf, mi, bb, now)
    if _has(mi, 0, a):
        _release_units(si, sf, mi, batch, now, w)
    if now >= w:
        si[si[S_COMPLETED] + a] += n
    m = si[_bwords(si, mi, bb)]
    while m:
        _push(si, sf, now, NORMAL, BATCH_DONE, m - 1, 0)
        m = si[_bwords(si, mi, _ent(si, m - 1))]
    _free_slot(si, batch)


@njit
def _member_done(si, sf, mi, mf, rg, slot, now):
    """A member woken after its batch: on along its own branch, or out."""
    e = _ent(si, slot)
    si[e + E_PHASE] = 0
    nxt = _choose_next(mi, mf, rg, si[e + E_STEP], si[e + E_CLASS])
    if nxt >= 0:
        _visit(si, sf, mi, mf, rg, slot, nxt, now)
    else:
        _leave(si, sf, mi, slot, now, mf[F_WARMUP], True)
