"""The event queue and what is recorded: event kinds, the heap, deferred grants, log, trace,
levels and tallies.

The heap is ordered by (time, priority, seq) as SimPy's queue (see the package docstring
for the argument); `_push` takes a sequence number, `_pop` takes the next event. A grant
that wakes a waiting requester (`_defer_grant`) takes its sequence number at once but is
pushed only when needed (`_flush_grants`, `_next_grant`). `_log` counts an event (and
traces it), `_trace` only traces; `_level_set`, `_level_add` and `_observe` are the time-
weighted levels and tallies, with the same float operations. Reference in the SimPy
engine: simpy.Environment's queue (schedule, step), Model.log, twin.monitors (Level,
Tally), twin.stock.Stock.record (`_stock_record`).
"""

from __future__ import annotations

from numba import njit
from numba.extending import register_jitable

from twin._kernel.layout import (
    C_EVENTS,
    C_HEAP,
    C_PHEAD,
    C_PTAIL,
    C_SEQ,
    C_TRACE,
    C_TRACE_ON,
    E_PKEY,
    E_PNEXT,
    EF_REMAINING,
    EF_STARTED,
    H_A,
    H_B,
    H_KEY,
    H_KIND,
    HEAP_W,
    M_LV_STOCK,
    S_HEAP,
    S_TACOUNT,
    S_TR,
    SF_HEAP,
    SF_TA,
    SF_TR,
    TR_W,
    _ent,
    _room,
)

# Event kinds (heap payload: kind, a, b).
INIT_SHIFT, SHIFT, INIT_FAIL, FAIL, REPAIR = 0, 1, 2, 3, 4
INIT_DISRUPT, DISRUPT_START, DISRUPT_END, RECOVERED = 5, 6, 7, 8
INIT_DELIVERY, DELIVERY, INIT_ARRIVAL, ARRIVAL = 9, 10, 11, 12
INIT_ENTITY, GRANTED, HOLD_END, INTERRUPT, RESUME = 13, 14, 15, 16, 17
INIT_STRESS, STRESS_START, STRESS_END, SURGE = 18, 19, 20, 21  # a = stress row
ACTIVATE, BACKUP_DELIVERY, OVERTIME_END, REROUTE_END, DOWN_CHECK = 22, 23, 24, 25, 26  # a = rule
RENEGE, PREEMPTED = 27, 28  # a = entity slot; RENEGE's b: the patience timer's token
BATCH_START, BATCH_DUE, BATCH_DONE = 29, 30, 31  # a = batch slot (DUE's b: its timer's token), member
INIT_REVIEW, REVIEW = 32, 33  # periodic review: a = material; REVIEW's b: the review's number
SWITCH_END = 34  # a = rule
WORN, WEEK_DUE, DUE = 35, 36, 37  # a = unit; b: WORN its timeout's token, WEEK_DUE its up spell, DUE kind
INIT_STATE = 38  # a = the slot of an entity of the state the replication starts from

URGENT, NORMAL = 0, 1
PRIORITY_SHIFT = 1 << 62  # heap key = priority * PRIORITY_SHIFT + seq

# Trace kinds; engine_fast maps them to the SimPy engine's strings.
T_ARRIVAL, T_START, T_END, T_LEAVE, T_FAILURE, T_REPAIR, T_SHIFT, T_ORDER, T_DELIVERY = range(9)
T_GRANT = 9  # units handed to a request (traced, not counted)
T_CONTINGENCY = 10  # a rule fired (subject and name: the rule)
T_BY = 11  # the skilled pool a grant took a unit of (traced, not counted)
T_RENEGE, T_LOST, T_BALK, T_PREEMPT, T_BLOCKED = 12, 13, 14, 15, 16  # subject: entity, name: activity
T_CLASS = 17  # a new entity's class (traced, not counted; only where the twin uses classes)
T_MAINTENANCE, T_MAINTAINED, T_CREW = 18, 19, 20  # subject: unit index, name: pool; T_CREW traced only
T_PRODUCE = 21  # stock a step produced (subject: amount, name: material; traced, not counted)
T_LOST_SALE = 22  # subject: entity, name: the material it found too little of (shortage: lose)
T_SETUP = 24  # a job's set-up (subject: entity, name: activity; traced, not counted)
T_SUPPLIER = 23  # who an order of several suppliers' material went to (subject: quantity; not counted)

# What an entity waits for when woken by GRANTED (0: it waits on no event, so a grant made
# meanwhile wakes nobody: Request.on_grant is None).
WAIT_UNITS, WAIT_STOCK, WAIT_RESUME, RENEGED = 1, 2, 3, 4
BLOCKED, LET_IN = 5, 6  # blocked before a full activity; let into its queue (or granted), not yet woken
WAIT_CREW = 7  # a repair or maintenance waiting for its crew (twin._kernel.upkeep)
WAIT_BATCH, GATHERING, BATCH_UNITS, BATCH_HOLD = 8, 9, 10, 11  # a member; a batch: forming, for units, held


# -- statistics (twin.monitors, same float operations) ------------------------------
@register_jitable  # called with constant arguments: see the note above _push
def _level_set(sf, i, now, value, warmup):
    j = 3 * i
    last = sf[j + 1]
    since = last if last > warmup else warmup
    if now > since:
        sf[j + 2] += sf[j] * (now - since)
    sf[j + 1] = now
    sf[j] = value


@register_jitable  # called with constant arguments: see the note above _push
def _level_add(sf, i, now, delta, warmup):
    _level_set(sf, i, now, sf[3 * i] + delta, warmup)


@njit
def _observe(si, sf, i, now, value, warmup):
    if now >= warmup:
        si[si[S_TACOUNT] + i] += 1
        sf[si[SF_TA] + i] += value


@njit
def _count_time_left(sf, ef, now):
    """Job.count_time_left: a hold stopped at `now` keeps what is left of it, never below 0
    (a stop at the very end of a hold can round to a hair under it)."""
    left = sf[ef + EF_REMAINING] - (now - sf[ef + EF_STARTED])
    sf[ef + EF_REMAINING] = left if left > 0.0 else 0.0


@njit
def _stock_record(sf, mi, s, now, on_hand, w):
    i = mi[M_LV_STOCK] + 2 * s
    _level_set(sf, i, now, on_hand, w)
    _level_set(sf, i + 1, now, 1.0 if on_hand == 0 else 0.0, w)


# -- event queue --------------------------------------------------------------------
# _push, _push_key, _trace and _log are register_jitable, not njit: they are called with constant
# kinds from some forty places, and Numba types a constant argument of an njit function as its
# literal value, compiling the function (and the heap's sift) once per constant; an overload
# is typed with plain integers first, so each is compiled once (a seventh less compile time).
# So are the helpers called with a constant line, level or flag elsewhere (lines._grant and
# _dispatch_loop were compiled four times each: 9 s of a cold compile).
@register_jitable
def _push(si, sf, time, priority, kind, a, b):
    seq = si[C_SEQ]
    si[C_SEQ] = seq + 1
    _push_key(si, sf, time, priority * PRIORITY_SHIFT + seq, kind, a, b)
    return seq


@register_jitable
def _push_key(si, sf, time, key, kind, a, b):
    i = si[C_HEAP]
    si[C_HEAP] = i + 1
    hi, hf = si[S_HEAP], si[SF_HEAP]
    while i > 0:  # sift up
        parent = (i - 1) >> 1
        tp = sf[hf + parent]
        q = hi + HEAP_W * parent
        kp = si[q]
        if tp < time or (tp == time and kp < key):
            break
        r = hi + HEAP_W * i
        sf[hf + i] = tp
        si[r], si[r + 1], si[r + 2], si[r + 3] = kp, si[q + 1], si[q + 2], si[q + 3]
        i = parent
    r = hi + HEAP_W * i
    sf[hf + i] = time
    si[r], si[r + 1], si[r + 2], si[r + 3] = key, kind, a, b


@njit
def _pop(si, sf):
    hi, hf = si[S_HEAP], si[SF_HEAP]
    top = (sf[hf], si[hi + H_KIND], si[hi + H_A], si[hi + H_B])
    n = si[C_HEAP] - 1
    si[C_HEAP] = n
    q = hi + HEAP_W * n
    time, key, kind, a, b = sf[hf + n], si[q], si[q + 1], si[q + 2], si[q + 3]
    i = 0
    while True:  # sift the last item down from the root
        c = 2 * i + 1
        if c >= n:
            break
        tc, kc = sf[hf + c], si[hi + HEAP_W * c]
        if c + 1 < n:
            tr, kr = sf[hf + c + 1], si[hi + HEAP_W * (c + 1)]
            if tr < tc or (tr == tc and kr < kc):
                c += 1
                tc, kc = tr, kr
        if time < tc or (time == tc and key < kc):
            break
        r, q = hi + HEAP_W * i, hi + HEAP_W * c
        sf[hf + i] = tc
        si[r], si[r + 1], si[r + 2], si[r + 3] = kc, si[q + 1], si[q + 2], si[q + 3]
        i = c
    if n > 0:
        r = hi + HEAP_W * i
        sf[hf + i] = time
        si[r], si[r + 1], si[r + 2], si[r + 3] = key, kind, a, b
    return top


# -- deferred grants -----------------------------------------------------------------
@njit
def _defer_grant(si, slot):
    """succeed() of a waiting request: its GRANTED event takes its sequence number now but
    joins a FIFO of deferred grants; `_run` handles it at once when it is the next event,
    else pushes it (the same order as pushing it here, without the heap work)."""
    seq = si[C_SEQ]
    si[C_SEQ] = seq + 1
    e = _ent(si, slot)
    si[e + E_PKEY] = NORMAL * PRIORITY_SHIFT + seq
    si[e + E_PNEXT] = 0
    if si[C_PTAIL]:
        si[_ent(si, si[C_PTAIL] - 1) + E_PNEXT] = slot + 1
    else:
        si[C_PHEAD] = slot + 1
    si[C_PTAIL] = slot + 1


@njit
def _flush_grants(si, sf, now):
    """Push every deferred grant into the heap with the key it was given."""
    while si[C_PHEAD]:
        slot = si[C_PHEAD] - 1
        e = _ent(si, slot)
        si[C_PHEAD] = si[e + E_PNEXT]
        _push_key(si, sf, now, si[e + E_PKEY], GRANTED, slot, 0)
    si[C_PTAIL] = 0


@njit
def _next_grant(si, sf, mi, now):
    """The first deferred grant if it is the next event to run (room permitting), else -1
    after pushing them all."""
    if not si[C_PHEAD]:
        return -1
    slot = si[C_PHEAD] - 1
    e = _ent(si, slot)
    earlier = si[C_HEAP] > 0 and sf[si[SF_HEAP]] == now and si[si[S_HEAP] + H_KEY] < si[e + E_PKEY]
    if earlier or not _room(si, mi):
        _flush_grants(si, sf, now)
        return -1
    si[C_PHEAD] = si[e + E_PNEXT]
    if not si[C_PHEAD]:
        si[C_PTAIL] = 0
    return slot


# -- log and trace ------------------------------------------------------------------
@register_jitable
def _trace(si, sf, now, kind, subject, name):
    if si[C_TRACE_ON]:
        i = si[C_TRACE]
        sf[si[SF_TR] + i] = now
        r = si[S_TR] + TR_W * i
        si[r], si[r + 1], si[r + 2] = kind, subject, name
        si[C_TRACE] = i + 1


@register_jitable
def _log(si, sf, now, kind, subject, name):
    """One counted event (Model.log)."""
    si[C_EVENTS] += 1
    if si[C_TRACE_ON]:
        _trace(si, sf, now, kind, subject, name)
