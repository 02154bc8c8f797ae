"""What the stresses and contingency rules do when their events come.

`_stress_edge` starts or ends a stress window (an outage, absence or equipment down),
`_activate` carries out a rule's action (a backup order, overtime, a reroute), and
`_handle_policy` handles their events: window edges, surges' arrivals, activations and the
ends of actions. When a rule fires, and the stress factors, are in `triggers`. Reference in
the SimPy engine: Model._stress, _stress_edge, _surge, _activate, _backup_delivery,
_overtime_end, _reroute_end, _down_check.
"""

from __future__ import annotations

from numba import njit

from twin._kernel.entities import _arrival, _next_surge
from twin._kernel.events import (
    ACTIVATE,
    BACKUP_DELIVERY,
    DOWN_CHECK,
    INIT_STRESS,
    NORMAL,
    OVERTIME_END,
    REROUTE_END,
    STRESS_END,
    STRESS_START,
    SURGE,
    SWITCH_END,
    T_DELIVERY,
    T_ORDER,
    _log,
    _push,
    _stock_record,
)
from twin._kernel.failures import _fail, _repair
from twin._kernel.layout import (
    ABSENCE,
    DEMAND_SURGE,
    DO_ORDER,
    DO_OVERTIME,
    DO_SWITCH,
    F_WARMUP,
    M_NPOOL,
    M_RULE_F,
    M_STRESS,
    M_STRESS_F,
    MT_SUP_HI,
    MT_SUP_LO,
    OUTAGE,
    P_UNIT_LO,
    RF_DURATION,
    RU_ACTION,
    RU_AMOUNT,
    RU_LEAD,
    RU_LEAD_STREAM,
    RU_TARGET,
    RU_TO,
    RULE_FW,
    S_EXTRA,
    S_FREE,
    S_PABSENT,
    S_PEXTRA,
    S_POSITION,
    S_REDIRECT,
    S_REPOCH,
    S_SWITCH,
    ST_KIND,
    ST_SUPPLIER,
    ST_TARGET,
    ST_UNITS,
    STF_END,
    STF_START,
    STRESS_FW,
    STRESS_W,
    _mat,
    _pool,
)
from twin._kernel.lines import _dispatch_one
from twin._kernel.rng import _generator, _sample
from twin._kernel.shifts import _set_duty
from twin._kernel.stock import _disrupt
from twin._kernel.triggers import _check, _rearm, _rule


@njit
def _stress_edge(si, sf, mi, mf, j, change, now):
    b = mi[M_STRESS] + STRESS_W * j
    kind, target, units = mi[b + ST_KIND], mi[b + ST_TARGET], mi[b + ST_UNITS]
    w = mf[F_WARMUP]
    if kind == OUTAGE:  # one supplier of the material, or all of them in order
        mb, one = _mat(mi, target), mi[b + ST_SUPPLIER]
        for v in range(mi[mb + MT_SUP_LO], mi[mb + MT_SUP_HI]):
            if one < 0 or one == v:
                _disrupt(si, sf, v, change, now)
    elif kind == ABSENCE:
        si[si[S_PABSENT] + target] += change * units
        _set_duty(si, sf, mi, target, now, w)
    else:  # EQUIPMENT_DOWN: units 0..units-1
        first = mi[_pool(mi, target) + P_UNIT_LO]
        for u in range(first, first + units):
            if change > 0:
                _fail(si, sf, mi, u, now, w, 0)
            else:
                _repair(si, sf, mi, u, now, w, 0)


@njit
def _activate(si, sf, mi, mf, rg, r, now):
    b = _rule(mi, r)
    w = mf[F_WARMUP]
    if now >= w:
        si[si[S_EXTRA] + 1 + mi[M_NPOOL] + r] += 1
    action, target, amount = mi[b + RU_ACTION], mi[b + RU_TARGET], mi[b + RU_AMOUNT]
    duration = mf[mi[M_RULE_F] + RULE_FW * r + RF_DURATION]
    if action == DO_ORDER:
        si[si[S_POSITION] + target] += amount
        _log(si, sf, now, T_ORDER, amount, target)
        lead = _sample(mi, mf, mi[b + RU_LEAD], _generator(rg, mi[b + RU_LEAD_STREAM]))
        _push(si, sf, now + lead, NORMAL, BACKUP_DELIVERY, r, 0)
    elif action == DO_OVERTIME:
        si[si[S_PEXTRA] + target] += amount
        _set_duty(si, sf, mi, target, now, w)
        _push(si, sf, now + duration, NORMAL, OVERTIME_END, r, 0)
    elif action == DO_SWITCH:  # the material's orders go to this supplier for a while
        si[si[S_SWITCH] + target] = mi[b + RU_TO]
        _push(si, sf, now + duration, NORMAL, SWITCH_END, r, 0)
    else:
        si[si[S_REDIRECT] + target] = mi[b + RU_TO]
        _push(si, sf, now + duration, NORMAL, REROUTE_END, r, 0)


@njit
def _handle_policy(si, sf, mi, mf, rg, now, kind, a, b):
    w = mf[F_WARMUP]
    if kind == INIT_STRESS:
        start = mf[mi[M_STRESS_F] + STRESS_FW * a + STF_START]
        _push(si, sf, now + (start - now), NORMAL, STRESS_START, a, 0)
    elif kind == STRESS_START:
        if mi[mi[M_STRESS] + STRESS_W * a + ST_KIND] == DEMAND_SURGE:
            _next_surge(si, sf, mi, mf, rg, a, now)
        else:
            _stress_edge(si, sf, mi, mf, a, 1, now)
            end = mf[mi[M_STRESS_F] + STRESS_FW * a + STF_END]
            _push(si, sf, now + (end - now), NORMAL, STRESS_END, a, 0)
    elif kind == STRESS_END:
        _stress_edge(si, sf, mi, mf, a, -1, now)
    elif kind == SURGE:
        if now < mf[mi[M_STRESS_F] + STRESS_FW * a + STF_END]:
            _arrival(si, sf, mi, mf, rg, mi[mi[M_STRESS] + STRESS_W * a + ST_TARGET], now, a)
    elif kind == ACTIVATE:
        _activate(si, sf, mi, mf, rg, a, now)
    elif kind == BACKUP_DELIVERY:
        rb = _rule(mi, a)
        s, quantity = mi[rb + RU_TARGET], mi[rb + RU_AMOUNT]
        line = mi[M_NPOOL] + s
        _log(si, sf, now, T_DELIVERY, quantity, s)
        si[si[S_FREE] + line] += quantity
        _stock_record(sf, mi, s, now, si[si[S_FREE] + line], w)
        _dispatch_one(si, sf, mi, 1, line, now, w)
        _rearm(si, sf, mi, a, now)
    elif kind == OVERTIME_END:
        rb = _rule(mi, a)
        p = mi[rb + RU_TARGET]
        si[si[S_PEXTRA] + p] -= mi[rb + RU_AMOUNT]
        _set_duty(si, sf, mi, p, now, w)
        _rearm(si, sf, mi, a, now)
    elif kind == REROUTE_END:
        si[si[S_REDIRECT] + mi[_rule(mi, a) + RU_TARGET]] = -1
        _rearm(si, sf, mi, a, now)
    elif kind == SWITCH_END:
        si[si[S_SWITCH] + mi[_rule(mi, a) + RU_TARGET]] = -1
        _rearm(si, sf, mi, a, now)
    elif kind == DOWN_CHECK and si[si[S_REPOCH] + a] == b:  # the spell it checks is still on
        _check(si, sf, mi, a, now)
