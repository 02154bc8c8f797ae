"""When the contingency rules fire, and how much the stresses scale a rate.

`_watch` checks the rules on a trigger watching one item (a material's stock, an
activity's queue), `_check` fires an armed rule whose condition holds (`_holds`),
`_units_down` and `_units_up` start and end the spells of `down` rules, `_rearm` arms a
rule again after its action. `_stress_factor` is the product of the factors of the stress
windows of a kind holding now (`_lead_factor`: of lead_time windows on one supplier). These
are called from the allocation and the failures, which is why they sit below them; what the
rules and stresses do is in `policies`.
Reference in the SimPy engine: Model._holds, _check, _fire (the firing), _units_down,
_units_up, _rearm, Watch; twin.engine_simpy._factor.
"""

from __future__ import annotations

from numba import njit

from twin._kernel.events import ACTIVATE, DOWN_CHECK, NORMAL, T_CONTINGENCY, _log, _push
from twin._kernel.layout import (
    LEAD_TIME,
    M_NPOOL,
    M_NRULE,
    M_NSTRESS,
    M_RULE,
    M_STRESS,
    M_STRESS_F,
    ON_DOWN,
    ON_QUEUE,
    ON_STOCK,
    RU_LEVEL,
    RU_MAX,
    RU_TRIGGER,
    RU_WATCH,
    RULE_W,
    S_FREE,
    S_PDOWN,
    S_RARMED,
    S_REPOCH,
    S_RFIRED,
    SF_RSINCE,
    SF_RTIMES,
    ST_KIND,
    ST_SUPPLIER,
    ST_TARGET,
    STF_END,
    STF_FACTOR,
    STF_START,
    STRESS_FW,
    STRESS_W,
)


# -- contingency rules (Model._holds, _check, _units_down, _units_up, _rearm) ------------
@njit
def _rule(mi, r):
    return mi[M_RULE] + RULE_W * r


@njit
def _holds(si, sf, mi, r, now):
    b = _rule(mi, r)
    trigger, watch, level = mi[b + RU_TRIGGER], mi[b + RU_WATCH], mi[b + RU_LEVEL]
    if trigger == ON_STOCK:
        return si[si[S_FREE] + mi[M_NPOOL] + watch] < level
    if trigger == ON_QUEUE:
        return sf[3 * (1 + watch)] > level
    since = sf[si[SF_RSINCE] + r]
    return since >= 0.0 and now - since >= sf[si[SF_RTIMES] + 2 * r]


@njit
def _check(si, sf, mi, r, now):
    if si[si[S_RARMED] + r] and _holds(si, sf, mi, r, now):
        si[si[S_RARMED] + r] = 0
        si[si[S_RFIRED] + r] += 1
        _log(si, sf, now, T_CONTINGENCY, r, r)
        _push(si, sf, now + sf[si[SF_RTIMES] + 2 * r + 1], NORMAL, ACTIVATE, r, 0)


@njit
def _watch(si, sf, mi, trigger, watch, now):
    """Check the rules on `trigger` that watch item `watch` (a material, an activity)."""
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == trigger and mi[b + RU_WATCH] == watch:
            _check(si, sf, mi, r, now)


@njit
def _units_down(si, sf, mi, p, now):
    """Model._units_down: start the clock of `down` rules whose count is now reached."""
    count = si[si[S_PDOWN] + p]
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == ON_DOWN and mi[b + RU_WATCH] == p and count == mi[b + RU_LEVEL]:
            sf[si[SF_RSINCE] + r] = now
            si[si[S_REPOCH] + r] += 1
            _push(si, sf, now + sf[si[SF_RTIMES] + 2 * r], NORMAL, DOWN_CHECK, r, si[si[S_REPOCH] + r])


@njit
def _units_up(si, sf, mi, p):
    """Model._units_up, before the repair is booked: spells end for rules it drops below."""
    count = si[si[S_PDOWN] + p]
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == ON_DOWN and mi[b + RU_WATCH] == p and count == mi[b + RU_LEVEL]:
            sf[si[SF_RSINCE] + r] = -1.0
            si[si[S_REPOCH] + r] += 1


@njit
def _rearm(si, sf, mi, r, now):
    most = mi[_rule(mi, r) + RU_MAX]
    if most < 0 or si[si[S_RFIRED] + r] < most:
        si[si[S_RARMED] + r] = 1
        _check(si, sf, mi, r, now)


# -- stresses (twin.engine_simpy._factor) ---------------------------------------------
@njit
def _lead_factor(mi, mf, s, v, now):
    """Model.slow_supply: the product of the factors of the lead_time windows holding now on
    material s's supplier v (those naming it, and those naming no supplier)."""
    factor = 1.0
    for j in range(mi[M_NSTRESS]):
        b, q = mi[M_STRESS] + STRESS_W * j, mi[M_STRESS_F] + STRESS_FW * j
        if (mi[b + ST_KIND] == LEAD_TIME and mi[b + ST_TARGET] == s
                and (mi[b + ST_SUPPLIER] < 0 or mi[b + ST_SUPPLIER] == v)
                and mf[q + STF_START] <= now < mf[q + STF_END]):
            factor *= mf[q + STF_FACTOR]
    return factor



@njit
def _stress_factor(mi, mf, kind, target, now):
    """Model._factor: the product of the factors of `kind` windows on `target` holding now."""
    factor = 1.0
    for j in range(mi[M_NSTRESS]):
        b, q = mi[M_STRESS] + STRESS_W * j, mi[M_STRESS_F] + STRESS_FW * j
        if (mi[b + ST_KIND] == kind and mi[b + ST_TARGET] == target
                and mf[q + STF_START] <= now < mf[q + STF_END]):
            factor *= mf[q + STF_FACTOR]
    return factor
