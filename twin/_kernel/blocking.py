"""Blocking after service: the lists of entities blocked before a full activity.

An entity whose next activity blocks when full (`when_full: block`) and is full stays where
it is, holding the units of the step it finished (carried: the first `carried` of its held
units), and joins that activity's list of blocked entities (a singly linked list through
the entity rows). `_let_in` takes it off the list when there is room or its request was
granted: it counts in the queue at once and is woken (LET_IN) to give the carried units
back. Reference in the SimPy engine: Model._blocked and Model._let_in, Step.blocked.
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import LET_IN, _defer_grant, _level_add
from twin._kernel.layout import E_PHASE, E_STEP, K_EW, ON_QUEUE, S_BHEAD, S_BTAIL, _ent
from twin._kernel.triggers import _watch


@njit
def _carried(si, e):
    """Where row `e` keeps the number of units it carries from the step before."""
    return e + si[K_EW] - 2


@njit
def _bnext(si, e):
    return e + si[K_EW] - 1


@njit
def _block_append(si, a, slot):
    e = _ent(si, slot)
    si[_bnext(si, e)] = 0
    tail = si[si[S_BTAIL] + a]
    if tail:
        si[_bnext(si, _ent(si, tail - 1))] = slot + 1
    else:
        si[si[S_BHEAD] + a] = slot + 1
    si[si[S_BTAIL] + a] = slot + 1


@njit
def _block_remove(si, a, slot):
    """Take `slot` off activity a's blocked list, wherever it stands."""
    prev, cur = 0, si[si[S_BHEAD] + a]
    while cur != slot + 1:
        prev, cur = cur, si[_bnext(si, _ent(si, cur - 1))]
    after = si[_bnext(si, _ent(si, slot))]
    if prev:
        si[_bnext(si, _ent(si, prev - 1))] = after
    else:
        si[si[S_BHEAD] + a] = after
    if si[si[S_BTAIL] + a] == slot + 1:
        si[si[S_BTAIL] + a] = prev


@njit
def _let_in(si, sf, mi, slot, now, w):
    """Model._let_in: off the list, into the queue, woken (its wake event scheduled now)."""
    e = _ent(si, slot)
    a = si[e + E_STEP]
    _block_remove(si, a, slot)
    _level_add(sf, 1 + a, now, 1.0, w)
    _watch(si, sf, mi, ON_QUEUE, a, now)
    si[e + E_PHASE] = LET_IN
    _defer_grant(si, slot)
