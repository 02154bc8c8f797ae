"""Materials: reorder reviews, lost sales, deliveries and supplier disruptions.

`_review` is a continuous review (a no-op for periodic review, which `_periodic_review` does
on its own clock): `_order` orders what the policy asks for (its lead time scaled by the
stresses on it), `_lost_sale` tells whether a request of a step finds too little of a
`shortage: lose` material on hand, `_new_delivery` books the order, `_delivery_due` and
`_deliver` bring it in (waiting while the supplier is disrupted), `_recovered` resumes
the waiting deliveries in order, `_disrupt` and `_disruption_end` count the causes of a
disruption. Reference in the SimPy engine: Model._review, _reviews, _order, _consume (the lost
sale), _delivery, _disruptions, _disrupt; twin.stock.Stock (order_quantity).
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import (
    DISRUPT_START,
    INIT_DELIVERY,
    NORMAL,
    RECOVERED,
    REVIEW,
    T_DELIVERY,
    T_ORDER,
    T_SUPPLIER,
    URGENT,
    _log,
    _push,
    _stock_record,
    _trace,
)
from twin._kernel.layout import (
    C_DEL_FREE,
    C_DEL_LIVE,
    C_DEL_NEW,
    D_FREE,
    D_NEXT,
    D_QTY,
    D_STOCK,
    D_SUP,
    DEL_W,
    F_WARMUP,
    M_MAT_F,
    M_NPOOL,
    M_REQ,
    M_SUP_F,
    MATF_W,
    MT_CHOICE_STREAM,
    MT_POINT,
    MT_POLICY,
    MT_QUANTITY,
    MT_SHORTAGE,
    MT_SUP_HI,
    MT_SUP_LO,
    MT_UP_TO,
    MTF_FIRST,
    MTF_REVIEW,
    POLICY_PERIODIC,
    POLICY_UP_TO,
    S_DEL,
    S_DISRUPTED,
    S_FREE,
    S_POSITION,
    S_SUPORD,
    S_SWITCH,
    S_WHEAD,
    S_WTAIL,
    SF_DEL,
    SU_EVERY,
    SU_EVERY_STREAM,
    SU_LEAD,
    SU_LEAD_STREAM,
    SU_NAMED,
    _mat,
    _sup,
)
from twin._kernel.lines import _dispatch_one
from twin._kernel.rng import _generator, _sample
from twin._kernel.triggers import _lead_factor


@njit
def _review(si, sf, mi, mf, rg, s, now):
    """A continuous review (at t = 0 and at each request); periodic review has its own clock."""
    if mi[_mat(mi, s) + MT_POLICY] != POLICY_PERIODIC:
        _order(si, sf, mi, mf, rg, s, now)


@njit
def _periodic_review(si, sf, mi, mf, rg, s, k, now):
    """Review k (Model._reviews): order, then the next review at first + (k + 1) * period."""
    _order(si, sf, mi, mf, rg, s, now)
    q = mi[M_MAT_F] + MATF_W * s
    at = mf[q + MTF_FIRST] + (k + 1) * mf[q + MTF_REVIEW]
    _push(si, sf, now + (at - now), NORMAL, REVIEW, s, k + 1)


@njit
def _order_quantity(mi, s, position):
    """twin.stock.Stock.order_quantity."""
    b = _mat(mi, s)
    policy, point, up_to = mi[b + MT_POLICY], mi[b + MT_POINT], mi[b + MT_UP_TO]
    if policy == POLICY_PERIODIC:
        if position >= up_to or (point >= 0 and position > point):
            return 0
        return up_to - position
    if policy == 0 or position > point:
        return 0
    if policy == POLICY_UP_TO:
        return up_to - position
    q = mi[b + MT_QUANTITY]
    return (point - position) // q * q + q


@njit
def _lost_sale(si, mi, lo, hi):
    """Model._consume: the first `shortage: lose` material among the stock requests lo..hi of
    a step with less on hand than the step takes, or -1."""
    r, n_pool = mi[M_REQ], mi[M_NPOOL]
    for k in range(lo, hi):
        s = mi[r + 2 * k] - n_pool
        if mi[_mat(mi, s) + MT_SHORTAGE] and si[si[S_FREE] + n_pool + s] < mi[r + 2 * k + 1]:
            return s
    return -1


@njit
def _order(si, sf, mi, mf, rg, s, now):
    """Model._order: what the policy asks for, from the supplier `_vendor` picks, its lead
    time scaled by the lead_time stresses on it."""
    quantity = _order_quantity(mi, s, si[si[S_POSITION] + s])
    if quantity:
        si[si[S_POSITION] + s] += quantity
        _log(si, sf, now, T_ORDER, quantity, s)
        v = _vendor(si, mi, mf, rg, s)
        vb = _sup(mi, v)
        if now >= mf[F_WARMUP]:  # every supplier's orders: the cost per order counts them
            si[si[S_SUPORD] + v] += 1
        if mi[vb + SU_NAMED]:  # one of several suppliers: traced (not as an event)
            _trace(si, sf, now, T_SUPPLIER, quantity, v)
        lead = _sample(mi, mf, mi[vb + SU_LEAD], _generator(rg, mi[vb + SU_LEAD_STREAM]))
        lead = lead * _lead_factor(mi, mf, s, v, now)
        d = _new_delivery(si, sf, s, v, quantity, lead)
        _push(si, sf, now, URGENT, INIT_DELIVERY, d, 0)


@njit
def _vendor(si, mi, mf, rg, s):
    """twin.stock.Stock.vendor: a switch's supplier; else by share (drawn whether or not a
    switch holds); else the first supplier not disrupted (all disrupted: the primary)."""
    b = _mat(mi, s)
    lo, hi, stream = mi[b + MT_SUP_LO], mi[b + MT_SUP_HI], mi[b + MT_CHOICE_STREAM]
    u = _generator(rg, stream).random() if stream >= 0 else -1.0
    switched = si[si[S_SWITCH] + s]
    if switched >= 0:
        return switched
    if stream >= 0:
        cumulative = 0.0
        for v in range(lo, hi):
            cumulative += mf[mi[M_SUP_F] + v]
            if u < cumulative:
                return v
        return hi - 1
    for v in range(lo, hi):
        if si[si[S_DISRUPTED] + v] == 0:
            return v
    return lo


@njit
def _new_delivery(si, sf, s, v, quantity, lead):
    if si[C_DEL_FREE] > 0:
        si[C_DEL_FREE] -= 1
        d = si[si[S_DEL] + DEL_W * si[C_DEL_FREE] + D_FREE]
    else:
        d = si[C_DEL_NEW]
        si[C_DEL_NEW] += 1
    si[C_DEL_LIVE] += 1
    r = si[S_DEL] + DEL_W * d
    si[r + D_STOCK], si[r + D_QTY], si[r + D_NEXT], si[r + D_SUP] = s, quantity, -1, v
    sf[si[SF_DEL] + d] = lead
    return d


@njit
def _delivery_due(si, sf, mi, d, now, w):
    """A delivery's lead time is over; it waits while its supplier is disrupted."""
    r = si[S_DEL] + DEL_W * d
    v = si[r + D_SUP]
    if not si[si[S_DISRUPTED] + v]:
        _deliver(si, sf, mi, d, now, w)
        return
    si[r + D_NEXT] = -1
    tail = si[si[S_WTAIL] + v]
    if tail >= 0:
        si[si[S_DEL] + DEL_W * tail + D_NEXT] = d
    else:
        si[si[S_WHEAD] + v] = d
    si[si[S_WTAIL] + v] = d


@njit
def _deliver(si, sf, mi, d, now, w):
    r = si[S_DEL] + DEL_W * d
    s, quantity = si[r + D_STOCK], si[r + D_QTY]
    line = mi[M_NPOOL] + s
    _log(si, sf, now, T_DELIVERY, quantity, s)
    si[si[S_FREE] + line] += quantity
    _stock_record(sf, mi, s, now, si[si[S_FREE] + line], w)
    si[si[S_DEL] + DEL_W * si[C_DEL_FREE] + D_FREE] = d
    si[C_DEL_FREE] += 1
    si[C_DEL_LIVE] -= 1
    _dispatch_one(si, sf, mi, 1, line, now, w)


@njit
def _recovered(si, sf, mi, v, now, w):
    """Supplier v's `recovered` event: waiting deliveries resume in the order they waited."""
    d = si[si[S_WHEAD] + v]
    si[si[S_WHEAD] + v], si[si[S_WTAIL] + v] = -1, -1
    while d >= 0:
        nxt = si[si[S_DEL] + DEL_W * d + D_NEXT]
        _delivery_due(si, sf, mi, d, now, w)
        d = nxt


@njit
def _disrupt(si, sf, v, change, now):
    """Model._disrupt: one cause more (or less) holds supplier v's deliveries."""
    si[si[S_DISRUPTED] + v] += change
    # recovered.succeed() when the last cause ends; with nobody waiting it is a no-op
    if si[si[S_DISRUPTED] + v] == 0 and si[si[S_WHEAD] + v] >= 0:
        _push(si, sf, now, NORMAL, RECOVERED, v, 0)


@njit
def _disruption_end(si, sf, mi, mf, rg, v, now):
    _disrupt(si, sf, v, -1, now)
    b = _sup(mi, v)
    every = _sample(mi, mf, mi[b + SU_EVERY], _generator(rg, mi[b + SU_EVERY_STREAM]))
    _push(si, sf, now + every, NORMAL, DISRUPT_START, v, 0)
