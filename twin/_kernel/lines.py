"""FIFO lines and grants: allocation of several pools at once, in request order.

Each pool and each material has a FIFO line (a ring buffer of entity slots) and a free
count; a request joins the line of every pool it needs (`_request`) and is granted when it
is first in all of them with enough free (`_grantable`, `_grant`), at once or later by a
dispatch (`_dispatch_one`, `_dispatch_needs`), which grants in request order through a
heap of line heads. A skilled step (`one_of`) waits in the lines of all its pools and takes
a unit of the first that can serve it. With priorities a line is ordered by request key
(level, then request order: `_line_insert`); a request may leave its lines unserved
(`_withdraw`, `_cancel`) or join them again at its old key when preempted (`_requeue`).
Reference in the SimPy engine: twin.allocation.FifoAllocator (request, dispatch, withdraw,
cancel, requeue, _grantable, _grant, _choice) and Model._take_units, _take_stock, _release.
"""

from __future__ import annotations

from numba import njit
from numba.extending import register_jitable

from twin._kernel.blocking import _let_in
from twin._kernel.events import BLOCKED, LET_IN, T_BY, T_GRANT, _defer_grant, _stock_record, _trace
from twin._kernel.layout import (
    AC_ALT_HI,
    AC_ALT_LO,
    C_MADE,
    CA_LEVEL,
    E_CLASS,
    E_GRANTED,
    E_HELD,
    E_NHELD,
    E_NUM,
    E_PHASE,
    E_SEQ,
    E_STEP,
    K_ENT,
    LEVEL_SHIFT,
    M_ALT,
    M_HAS_PRIO,
    M_NACT,
    M_NPOOL,
    M_REQ,
    ON_STOCK,
    S_DH,
    S_FREE,
    S_LHEAD,
    S_LINES,
    S_LLEN,
    U_POOL,
    _act,
    _cls_act,
    _ent,
    _reqs,
    _unit,
)
from twin._kernel.pools import _pool_release, _pool_take
from twin._kernel.triggers import _watch


# -- FIFO lines: ring buffers of entity slots, one per pool and per material -------------
# Allocator al = 0 hands out units (lines 0..n_pools-1), al = 1 stock (lines n_pools..).
@njit
def _line_head(si, line):
    if si[si[S_LLEN] + line] == 0:
        return -1
    return si[si[S_LINES] + line * si[K_ENT] + si[si[S_LHEAD] + line]]


@njit
def _line_append(si, line, slot):
    cap, n = si[K_ENT], si[si[S_LLEN] + line]
    si[si[S_LINES] + line * cap + (si[si[S_LHEAD] + line] + n) % cap] = slot
    si[si[S_LLEN] + line] = n + 1


@register_jitable  # called with constant arguments: see the note above events._push
def _line_insert(si, al, line, slot):
    """twin.allocation._enqueue: behind every request with a smaller key (keys are unique)."""
    cap, n = si[K_ENT], si[si[S_LLEN] + line]
    base, head = si[S_LINES] + line * cap, si[si[S_LHEAD] + line]
    key = si[_ent(si, slot) + E_SEQ + al]
    i = n
    while i > 0:
        before = si[base + (head + i - 1) % cap]
        if si[_ent(si, before) + E_SEQ + al] < key:
            break
        si[base + (head + i) % cap] = before
        i -= 1
    si[base + (head + i) % cap] = slot
    si[si[S_LLEN] + line] = n + 1


@register_jitable  # called with constant arguments: see the note above events._push
def _line_join(si, al, line, slot, prio):
    """Join a line: at the end (plain FIFO), or by key where the twin has priorities."""
    if prio:
        _line_insert(si, al, line, slot)
    else:
        _line_append(si, line, slot)


@njit
def _line_remove(si, line, slot):
    """Take `slot` out of a line, wherever it stands (a skilled request served elsewhere)."""
    cap = si[K_ENT]
    base, head, n = si[S_LINES] + line * cap, si[si[S_LHEAD] + line], si[si[S_LLEN] + line]
    i = 0
    while si[base + (head + i) % cap] != slot:
        i += 1
    if i == 0:
        si[si[S_LHEAD] + line] = (head + 1) % cap
    else:
        for j in range(i, n - 1):
            si[base + (head + j) % cap] = si[base + (head + j + 1) % cap]
    si[si[S_LLEN] + line] = n - 1


# -- skilled steps: one unit of any of several pools (FifoAllocator._choice) ------------
@njit
def _alt_choice(si, mi, a, slot):
    """FifoAllocator._choice: the first skilled-pool row where `slot` is first in line and
    a unit is free; -1 if none."""
    b, t = _act(mi, a), mi[M_ALT]
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        line = mi[t + 2 * k]
        if _line_head(si, line) == slot and si[si[S_FREE] + line] > 0:
            return k
    return -1


@register_jitable  # called with constant arguments: see the note above events._push
def _has_alt(mi, al, a):
    b = _act(mi, a)
    return al == 0 and mi[b + AC_ALT_HI] > mi[b + AC_ALT_LO]


@njit
def _skilled_pool(si, mi, e, a):
    """The `one_of` pool serving entity row `e` at step `a` (its last held unit's); -1 if none."""
    if not _has_alt(mi, 0, a) or si[e + E_NHELD] == 0:
        return -1
    return mi[_unit(mi, si[e + E_HELD + si[e + E_NHELD] - 1]) + U_POOL]


@njit
def _alt_duration(si, mi, e, a):
    """The duration distribution of the `one_of` pool serving row `e`, or -1: the step's."""
    b, t, pool = _act(mi, a), mi[M_ALT], _skilled_pool(si, mi, e, a)
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        if mi[t + 2 * k] == pool:
            return mi[t + 2 * k + 1]
    return -1


@njit
def _push_alt_heads(si, mi, a, n):
    b, t = _act(mi, a), mi[M_ALT]
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        n = _dh_push_head(si, 0, mi[t + 2 * k], n)
    return n


# -- request and grant (FifoAllocator.request, _grantable, _grant) -----------------------
@register_jitable  # called with constant arguments: see the note above events._push
def _grantable(si, mi, al, slot):
    a = si[_ent(si, slot) + E_STEP]
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    for k in range(lo, hi):
        line = mi[r + 2 * k]
        if _line_head(si, line) != slot or si[si[S_FREE] + line] < mi[r + 2 * k + 1]:
            return False
    return not _has_alt(mi, al, a) or _alt_choice(si, mi, a, slot) >= 0


@register_jitable  # called with constant arguments: see the note above events._push
def _grant(si, sf, mi, al, slot, now, notify, w):
    e = _ent(si, slot)
    lo, hi = _reqs(mi, al, si[e + E_STEP])
    r, cap = mi[M_REQ], si[K_ENT]
    for k in range(lo, hi):
        line = mi[r + 2 * k]
        si[si[S_LHEAD] + line] = (si[si[S_LHEAD] + line] + 1) % cap
        si[si[S_LLEN] + line] -= 1
        si[si[S_FREE] + line] -= mi[r + 2 * k + 1]
    chosen = -1
    if _has_alt(mi, al, si[e + E_STEP]):
        b, t = _act(mi, si[e + E_STEP]), mi[M_ALT]
        chosen = mi[t + 2 * _alt_choice(si, mi, si[e + E_STEP], slot)]
        si[si[S_FREE] + chosen] -= 1
        for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
            _line_remove(si, mi[t + 2 * k], slot)
    si[e + E_GRANTED] |= 1 << al
    for k in range(lo, hi):  # hand out units / record the stock taken
        line = mi[r + 2 * k]
        if al == 0:
            _pool_take(si, sf, mi, line, now, mi[r + 2 * k + 1], slot, w)
        else:
            _stock_record(sf, mi, line - mi[M_NPOOL], now, si[si[S_FREE] + line], w)
            _watch(si, sf, mi, ON_STOCK, line - mi[M_NPOOL], now)
    if chosen >= 0:
        _pool_take(si, sf, mi, chosen, now, 1, slot, w)
    if al == 0 and si[e + E_STEP] < mi[M_NACT]:  # Model._take_units: traced, not counted (not crews)
        _trace(si, sf, now, T_GRANT, si[e + E_NUM], si[e + E_STEP])
        if chosen >= 0:
            _trace(si, sf, now, T_BY, si[e + E_NUM], chosen)
    if notify and si[e + E_PHASE]:  # the requester waits on an event; succeed() schedules it now
        if si[e + E_PHASE] == BLOCKED:  # granted while blocked before a full activity
            _let_in(si, sf, mi, slot, now, w)
        elif si[e + E_PHASE] != LET_IN:  # let in and not yet woken: that wake is the one (Model._let_in)
            _defer_grant(si, slot)


@register_jitable  # called with constant arguments: see the note above events._push
def _granted(si, e, al):
    return (si[e + E_GRANTED] >> al) & 1


@njit
def _request(si, sf, mi, al, slot, now, w):
    """Join the lines of every pool needed; True when granted at once. The request's key is
    its class's priority level here, then the order of requests (twin.allocation)."""
    e = _ent(si, slot)
    a = si[e + E_STEP]
    level = mi[_cls_act(mi, a, si[e + E_CLASS]) + CA_LEVEL] if mi[M_HAS_PRIO] else 0
    si[e + E_SEQ + al] = (level << LEVEL_SHIFT) + si[C_MADE + al]
    si[C_MADE + al] += 1
    si[e + E_GRANTED] &= ~(1 << al)
    _join_lines(si, mi, al, a, slot)
    if _grantable(si, mi, al, slot):
        _grant(si, sf, mi, al, slot, now, False, w)
        return True
    return False


@register_jitable  # called with constant arguments: see the note above events._push
def _join_lines(si, mi, al, a, slot):
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    prio = mi[M_HAS_PRIO]
    for k in range(lo, hi):
        _line_join(si, al, mi[r + 2 * k], slot, prio)
    if _has_alt(mi, al, a):
        b, t = _act(mi, a), mi[M_ALT]
        for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
            _line_join(si, al, mi[t + 2 * k], slot, prio)


@njit
def _withdraw(si, mi, al, slot):
    """FifoAllocator.withdraw: out of every line of the request (it was not granted)."""
    a = si[_ent(si, slot) + E_STEP]
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    for k in range(lo, hi):
        _line_remove(si, mi[r + 2 * k], slot)
    if _has_alt(mi, al, a):
        b, t = _act(mi, a), mi[M_ALT]
        for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
            _line_remove(si, mi[t + 2 * k], slot)


@njit
def _cancel(si, sf, mi, al, slot, now, w):
    """FifoAllocator.cancel: leave the lines, then dispatch them."""
    _withdraw(si, mi, al, slot)
    a = si[_ent(si, slot) + E_STEP]
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    n = 0
    for k in range(lo, hi):
        n = _dh_push_head(si, al, mi[r + 2 * k], n)
    if _has_alt(mi, al, a):
        n = _push_alt_heads(si, mi, a, n)
    if n > 0:
        _dispatch_loop(si, sf, mi, al, n, now, w)


@njit
def _requeue(si, mi, slot):
    """FifoAllocator.requeue: a preempted job waits again for units at its old key."""
    e = _ent(si, slot)
    si[e + E_GRANTED] &= ~1
    _join_lines(si, mi, 0, si[e + E_STEP], slot)


@njit
def _give_back(si, sf, mi, slot, now, w):
    """Every unit held back to its pool (no dispatch yet); returns the skilled pool it had."""
    e = _ent(si, slot)
    chosen = _skilled_pool(si, mi, e, si[e + E_STEP])
    for i in range(si[e + E_NHELD]):
        u = si[e + E_HELD + i]
        p = mi[_unit(mi, u) + U_POOL]
        si[si[S_FREE] + p] += _pool_release(si, sf, mi, u, now, w)
    si[e + E_NHELD] = 0
    return chosen


@njit
def _release_units(si, sf, mi, slot, now, w):
    """Model._release: give back every unit held, then dispatch their pools."""
    chosen = _give_back(si, sf, mi, slot, now, w)
    _dispatch_needs(si, sf, mi, 0, si[_ent(si, slot) + E_STEP], chosen, now, w)


# -- dispatch (FifoAllocator.dispatch): a heap of line heads by request order -----------
@njit
def _dh_push(si, n, seq, slot):
    """Push onto the dispatch heap (min by request seq) holding n items; returns n + 1."""
    dh = si[S_DH]
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if si[dh + 2 * parent] <= seq:
            break
        si[dh + 2 * i], si[dh + 2 * i + 1] = si[dh + 2 * parent], si[dh + 2 * parent + 1]
        i = parent
    si[dh + 2 * i], si[dh + 2 * i + 1] = seq, slot
    return n + 1


@njit
def _dh_pop(si, n):
    dh = si[S_DH]
    slot = si[dh + 1]
    n -= 1
    seq, last = si[dh + 2 * n], si[dh + 2 * n + 1]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and si[dh + 2 * c + 2] < si[dh + 2 * c]:
            c += 1
        if seq <= si[dh + 2 * c]:
            break
        si[dh + 2 * i], si[dh + 2 * i + 1] = si[dh + 2 * c], si[dh + 2 * c + 1]
        i = c
    if n > 0:
        si[dh + 2 * i], si[dh + 2 * i + 1] = seq, last
    return slot, n


@register_jitable  # called with constant arguments: see the note above events._push
def _dh_push_head(si, al, line, n):
    head = _line_head(si, line)
    if head >= 0:
        n = _dh_push(si, n, si[_ent(si, head) + E_SEQ + al], head)
    return n


@register_jitable  # called with constant arguments: see the note above events._push
def _dispatch_loop(si, sf, mi, al, n, now, w):
    """Grant, in key order, every request that has become first in all its lines."""
    r = mi[M_REQ]
    while n > 0:
        slot, n = _dh_pop(si, n)
        if _granted(si, _ent(si, slot), al) or not _grantable(si, mi, al, slot):
            continue
        _grant(si, sf, mi, al, slot, now, True, w)
        a = si[_ent(si, slot) + E_STEP]
        lo, hi = _reqs(mi, al, a)
        for k in range(lo, hi):
            n = _dh_push_head(si, al, mi[r + 2 * k], n)
        if _has_alt(mi, al, a):
            n = _push_alt_heads(si, mi, a, n)


@njit
def _dispatch_one(si, sf, mi, al, line, now, w):
    n = _dh_push_head(si, al, line, 0)
    if n > 0:
        _dispatch_loop(si, sf, mi, al, n, now, w)


@njit
def _dispatch_needs(si, sf, mi, al, a, chosen, now, w):
    """After a release: the lines of the pools it needs, and of the skilled pool it had."""
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    n = 0
    for k in range(lo, hi):
        n = _dh_push_head(si, al, mi[r + 2 * k], n)
    if chosen >= 0:
        n = _dh_push_head(si, al, chosen, n)
    if n > 0:
        _dispatch_loop(si, sf, mi, al, n, now, w)
