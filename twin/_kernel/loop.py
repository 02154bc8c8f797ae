"""The event loop: a replication from start to horizon, state series and results.

`_start` starts the processes at t = 0, `_handle` (with `_handle_rare`) dispatches an event
to its handler, `_run` pops events until the horizon or until the arrays must grow;
`_snapshots` records the state series; `_simulate` runs one replication (growing the
state when `_run` asks) and `simulate_kernel`, the one entry point, returns its statistics,
trace and series. It releases the GIL (`nogil=True`), so Python threads run replications in
parallel (twin.engine_fast.simulate_many_fast): a `prange` variant would be a second, parallel
specialisation of the whole loop, doubling the compile time for no speed. Reference in the SimPy engine:
Model._start_processes, Model.run, Model._run_sampled, Model._snapshot, Model.record (its
inputs), twin.engine_simpy.simulate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from twin._kernel.entities import (
    _after_units,
    _arrival,
    _batch_due,
    _batch_end,
    _batch_go,
    _batch_start,
    _elsewhere,
    _finish,
    _interrupted,
    _let_in_woken,
    _member_done,
    _next_arrival,
    _resumed,
    _start_activity,
    _start_entity,
    _state_entities,
    _state_start,
    _wait_or_hold,
)
from twin._kernel.events import (
    ARRIVAL,
    BATCH_DONE,
    BATCH_DUE,
    BATCH_HOLD,
    BATCH_START,
    BATCH_UNITS,
    DELIVERY,
    DISRUPT_END,
    DISRUPT_START,
    DUE,
    FAIL,
    GRANTED,
    HOLD_END,
    INIT_ARRIVAL,
    INIT_DELIVERY,
    INIT_DISRUPT,
    INIT_ENTITY,
    INIT_FAIL,
    INIT_REVIEW,
    INIT_SHIFT,
    INIT_STATE,
    INIT_STRESS,
    INTERRUPT,
    LET_IN,
    NORMAL,
    PREEMPTED,
    RECOVERED,
    RENEGE,
    REPAIR,
    RESUME,
    REVIEW,
    SHIFT,
    URGENT,
    WAIT_CREW,
    WAIT_RESUME,
    WAIT_STOCK,
    WAIT_UNITS,
    WEEK_DUE,
    WORN,
    _next_grant,
    _pop,
    _push,
)
from twin._kernel.layout import (
    C_EVENTS,
    C_HEAP,
    C_TRACE,
    E_PHASE,
    E_TOKEN,
    F_HORIZON,
    F_WARMUP,
    FAILURE_RATE,
    LEAD_TIME,
    M_BATCH,
    M_CARRY,
    M_MAT_F,
    M_NACT,
    M_NARR,
    M_NCLS,
    M_NLV,
    M_NMAT,
    M_NPOOL,
    M_NRULE,
    M_NSTATE,
    M_NSTRESS,
    M_NSUP,
    M_NUNIT,
    M_STRESS,
    MATF_W,
    MT_POLICY,
    MT_SUP_LO,
    MTF_FIRST,
    P_CARE,
    P_FAILS,
    P_HAS_CAL,
    P_UNIT_HI,
    P_UNIT_LO,
    POLICY_PERIODIC,
    PRO_LEAD,
    PRO_MATERIAL,
    PRO_QUANTITY,
    PRO_SUPPLIER,
    PRO_W,
    ROW,
    S_CARE,
    S_CLSDUE,
    S_COMPLETED,
    S_DEAD,
    S_EXTRA,
    S_FILLED,
    S_FREE,
    S_LOSTS,
    S_POSITION,
    S_QCOUNT,
    S_REQUESTS,
    S_SETUPS,
    S_SUPORD,
    S_TACOUNT,
    S_TR,
    SF_CREW,
    SF_DEAD,
    SF_DEL,
    SF_HEAP,
    SF_PRESET,
    SF_TA,
    SF_TR,
    SF_UDOWN,
    ST_KIND,
    STRESS_W,
    SU_DISRUPT,
    SU_DURATION,
    SU_DURATION_STREAM,
    SU_EVERY,
    SU_EVERY_STREAM,
    TR_W,
    _copy,
    _ent,
    _grow,
    _mat,
    _new_state,
    _pool,
    _room,
    _sup,
    _tallies,
)
from twin._kernel.policies import _handle_policy
from twin._kernel.queueing import _renege
from twin._kernel.rng import _data, _generator, _sample
from twin._kernel.shifts import _next_shift, _shift
from twin._kernel.stock import (
    _delivery_due,
    _disrupt,
    _disruption_end,
    _new_delivery,
    _periodic_review,
    _recovered,
    _review,
)
from twin._kernel.upkeep import _crew_arrived, _down, _unit_next, _up, _weekly_due, _worn


@njit
def _open_orders(si, sf, mi, rows, n):
    """Model._start_processes: a state's open orders, on order already, each delivered when due."""
    for k in range(n):
        r = PRO_W * k
        s, q = int(rows[r + PRO_MATERIAL]), int(rows[r + PRO_QUANTITY])
        si[si[S_POSITION] + s] += q
        v = mi[_mat(mi, s) + MT_SUP_LO] + int(rows[r + PRO_SUPPLIER])
        d = _new_delivery(si, sf, s, v, q, rows[r + PRO_LEAD])
        _push(si, sf, 0.0, URGENT, INIT_DELIVERY, d, 0)


@njit
def _start(si, sf, mi):
    """Model._start_processes at t = 0 (reviews are done by the caller: they draw); a unit down
    at a state's time fails at once (Model._down_now)."""
    for p in range(mi[M_NPOOL]):
        if mi[_pool(mi, p) + P_HAS_CAL]:
            _push(si, sf, 0.0, URGENT, INIT_SHIFT, p, 0)
    for p in range(mi[M_NPOOL]):
        b = _pool(mi, p)
        if mi[b + P_FAILS] or mi[b + P_CARE]:
            for u in range(mi[b + P_UNIT_LO], mi[b + P_UNIT_HI]):
                if math.isnan(sf[si[SF_UDOWN] + u]):
                    _push(si, sf, 0.0, URGENT, INIT_FAIL, u, 0)
                else:
                    _push(si, sf, 0.0, URGENT, FAIL, u, 0)
    for v in range(mi[M_NSUP]):  # material by material, each one's suppliers in order
        if mi[_sup(mi, v) + SU_DISRUPT]:
            _push(si, sf, 0.0, URGENT, INIT_DISRUPT, v, 0)


@njit
def _handle(si, sf, mi, mf, rg, now, kind, a, b):
    if kind == HOLD_END:
        e = _ent(si, a)
        if si[e + E_TOKEN] == b:  # else: the timeout of an interrupted hold
            if mi[M_BATCH] and si[e + E_PHASE] == BATCH_HOLD:
                _batch_end(si, sf, mi, mf, a, now)
            else:
                _finish(si, sf, mi, mf, rg, a, now)
    elif kind == ARRIVAL:
        _arrival(si, sf, mi, mf, rg, a, now, -1)
    elif kind == INIT_ENTITY:
        _start_entity(si, sf, mi, mf, rg, a, now)
    elif kind == GRANTED:
        _granted_to(si, sf, mi, mf, rg, a, now)
    elif kind == INTERRUPT:
        _interrupted(si, sf, a, now)
    elif kind == RESUME:
        _wait_or_hold(si, sf, a, now)  # `while job.down`: a unit may have failed meanwhile
    elif kind == INIT_ARRIVAL:
        _next_arrival(si, sf, mi, mf, rg, a, now)
    elif kind == RENEGE:
        _renege(si, sf, mi, a, b, now, mf[F_WARMUP])
    elif kind == PREEMPTED:
        _resumed(si, sf, a, now)
    elif kind == BATCH_DONE:
        _member_done(si, sf, mi, mf, rg, a, now)
    elif kind == BATCH_START:
        _batch_go(si, sf, mi, mf, rg, a, now)
    elif kind == BATCH_DUE:
        _batch_due(si, sf, mi, a, b, now)
    else:
        _handle_rare(si, sf, mi, mf, rg, now, kind, a, b)


@njit
def _granted_to(si, sf, mi, mf, rg, a, now):
    """Entity slot `a` was granted what it waited for: it goes on from where it waited."""
    phase = si[_ent(si, a) + E_PHASE]
    if phase == WAIT_UNITS:
        _after_units(si, sf, mi, mf, rg, a, now)
    elif phase == WAIT_STOCK:
        _start_activity(si, sf, mi, mf, rg, a, now)
    elif phase == WAIT_RESUME:
        _wait_or_hold(si, sf, a, now)
    elif phase == LET_IN:
        _let_in_woken(si, sf, mi, mf, rg, a, now)
    elif phase == WAIT_CREW:
        _crew_arrived(si, sf, mi, mf, rg, a, now)
    elif phase == BATCH_UNITS:
        _batch_start(si, sf, mi, mf, rg, a, now)
    else:  # RENEGED
        _elsewhere(si, sf, mi, mf, rg, a, now)


@njit
def _handle_rare(si, sf, mi, mf, rg, now, kind, a, b):
    w = mf[F_WARMUP]
    if kind == INIT_FAIL:
        _unit_next(si, sf, mi, mf, rg, a, now)
    elif kind == REPAIR:
        _up(si, sf, mi, mf, rg, a, b, now, w)
    elif kind == FAIL:
        _down(si, sf, mi, mf, rg, a, b, now, w)
    elif kind == INIT_SHIFT:
        _next_shift(si, sf, mi, mf, a, now)
    elif kind == SHIFT:
        _shift(si, sf, mi, mf, a, b, now)
    elif kind == INIT_DELIVERY:
        _push(si, sf, now + sf[si[SF_DEL] + a], NORMAL, DELIVERY, a, 0)
    elif kind == DELIVERY:
        _delivery_due(si, sf, mi, a, now, w)
    elif kind == RECOVERED:
        _recovered(si, sf, mi, a, now, w)
    elif kind == INIT_DISRUPT:  # a: the supplier
        vb = _sup(mi, a)
        every = _sample(mi, mf, mi[vb + SU_EVERY], _generator(rg, mi[vb + SU_EVERY_STREAM]))
        _push(si, sf, now + every, NORMAL, DISRUPT_START, a, 0)
    elif kind == DISRUPT_START:
        _disrupt(si, sf, a, 1, now)
        vb = _sup(mi, a)
        duration = _sample(mi, mf, mi[vb + SU_DURATION], _generator(rg, mi[vb + SU_DURATION_STREAM]))
        _push(si, sf, now + duration, NORMAL, DISRUPT_END, a, 0)
    elif kind == WORN:
        _worn(si, sf, a, b, now)
    elif kind == WEEK_DUE:
        _weekly_due(si, sf, a, b, now)
    elif kind == DUE:
        _down(si, sf, mi, mf, rg, a, b, now, w)
    elif kind == DISRUPT_END:
        _disruption_end(si, sf, mi, mf, rg, a, now)
    elif kind == INIT_REVIEW:  # Model._reviews: the first review at first_review
        at = mf[mi[M_MAT_F] + MATF_W * a + MTF_FIRST]
        _push(si, sf, now + (at - now), NORMAL, REVIEW, a, 0)
    elif kind == REVIEW:
        _periodic_review(si, sf, mi, mf, rg, a, b, now)
    elif kind == INIT_STATE:
        _state_start(si, sf, mi, mf, rg, a, now)
    else:
        _handle_policy(si, sf, mi, mf, rg, now, kind, a, b)


@njit
def _run(si, sf, mi, mf, rg, po, at, n_samples, every):
    """Process events until the horizon (True) or until arrays must grow (False).

    State series (none when n_samples is 0): sample k, due at s = k * every, is the state
    after every event due before s, written to row k of `po` (see `_snapshot`) right before
    the first event due at or after s is popped; samples due after the last event are the
    final state. at[0] is the next sample to take (kept across growth). No event is
    scheduled for it, so the event order is the same with or without samples."""
    horizon = mf[F_HORIZON]
    blocking = mi[M_CARRY]
    stop = _next_stop(at, n_samples, every, horizon)
    while si[C_HEAP] > 0:
        if not _room(si, mi):
            return False
        t = sf[si[SF_HEAP]]
        if t >= stop:  # min(horizon, next sample): one comparison, as without samples
            if t >= horizon:
                break
            stop = _snapshots(si, sf, mi, po, at, n_samples, every, t, horizon)
        now, kind, a, b = _pop(si, sf)
        _handle(si, sf, mi, mf, rg, now, kind, a, b)
        slot = _next_grant(si, sf, mi, now)
        while slot >= 0:  # as _handle(... GRANTED, slot, 0), without compiling _handle for it again
            _granted_to(si, sf, mi, mf, rg, slot, now)
            slot = _next_grant(si, sf, mi, now)
        if blocking and si[si[S_DEAD]]:  # blocking locked the run (Model._deadlock raises)
            break
    _snapshots(si, sf, mi, po, at, n_samples, every, math.inf, horizon)
    return True


# -- state series (Model._run_sampled, _snapshot) -------------------------------------------
@njit
def series_width(mi):
    """Columns of a state sample: WIP, queue per activity, stock on hand per material, backlog."""
    return 2 + mi[M_NACT] + mi[M_NMAT]


@njit
def _next_stop(at, n_samples, every, horizon):
    if at[0] < n_samples:
        return min(horizon, at[0] * every)
    return horizon


@njit
def _snapshots(si, sf, mi, po, at, n_samples, every, t, horizon):
    """Take every sample due at or before t (all of them for t = inf); the next stop."""
    while at[0] < n_samples and at[0] * every <= t:
        _snapshot(si, sf, mi, po, at[0])
        at[0] += 1
    return _next_stop(at, n_samples, every, horizon)


@njit
def _snapshot(si, sf, mi, po, k):
    """Row k: the WIP level, each activity's queue level, each material's free stock, and
    the backlog (the queue levels summed in activity order) -- Model._snapshot's values."""
    n_act, n_mat, n_pool = mi[M_NACT], mi[M_NMAT], mi[M_NPOOL]
    r = k * series_width(mi)
    po[r] = sf[0]
    backlog = 0.0
    for a in range(n_act):
        q = sf[3 * (1 + a)]
        po[r + 1 + a] = q
        backlog += q
    for s in range(n_mat):
        po[r + 1 + n_act + s] = si[si[S_FREE] + n_pool + s]
    po[r + 1 + n_act + n_mat] = backlog


# -- a replication ---------------------------------------------------------------------------
@njit
def _simulate(mi, mf, rg, trace_on, out, every, start):
    """One replication on arrays; every helper below works on their raw data pointers.
    `out`: room for the state series (n_samples x series_width floats, flat; may be empty);
    `start`: the rows of a state's entities (mi[M_NSTATE] of them; twin.starting)."""
    n_samples = out.size // series_width(mi)
    at = np.zeros(1, np.int64)
    po, pat = _data(out), _data(at)
    n_state, n_unit = ROW * mi[M_NSTATE], mi[M_NUNIT]
    n_orders = (start.size - n_state - n_unit) // PRO_W if start.size else 0
    si, sf = _new_state(mi, mf, trace_on, n_orders)
    if start.size:  # from a state (twin.starting): entity rows, repairs left, open orders
        sf[si[SF_PRESET]:si[SF_PRESET] + n_state] = start[:n_state]
        sf[si[SF_UDOWN]:si[SF_UDOWN] + n_unit] = start[n_state:n_state + n_unit]
        _open_orders(_data(si), _data(sf), _data(mi), start[n_state + n_unit:], n_orders)
    pi, pf, pmi, pmf, prg = _data(si), _data(sf), _data(mi), _data(mf), _data(rg)
    _start(pi, pf, pmi)
    for s in range(mi[M_NMAT]):  # initial reviews (periodic review: its process), after disruptions
        if mi[_mat(mi, s) + MT_POLICY] == POLICY_PERIODIC:
            _push(pi, pf, 0.0, URGENT, INIT_REVIEW, s, 0)
        else:
            _review(pi, pf, pmi, pmf, prg, s, 0.0)
    for k in range(mi[M_NARR]):
        _push(pi, pf, 0.0, URGENT, INIT_ARRIVAL, k, 0)
    for j in range(mi[M_NSTRESS]):  # processes of the windows that act in time
        kind = mi[mi[M_STRESS] + STRESS_W * j + ST_KIND]
        if kind != FAILURE_RATE and kind != LEAD_TIME:
            _push(pi, pf, 0.0, URGENT, INIT_STRESS, j, 0)
    _state_entities(pi, pf, pmi)
    while not _run(_data(si), _data(sf), pmi, pmf, prg, po, pat, n_samples, every):
        si, sf = _grow(si, sf, mi)
    return si, sf


# -- results (Model.record's inputs) --------------------------------------------------------
@njit
def _int_sizes(mi):
    """The sections of the ints of `_stats`, in order: events, tally counts, completed,
    requests, filled, (late, repairs per pool, activations per rule), (reached, abandoned,
    lost, balked) per activity, per-class tally counts, (deadlock found, locked per
    activity), (due, late) per class, (maintenances, crew waits) per pool, lost sales per
    material, orders per supplier, set-ups per activity. engine_fast._record cuts them the same way."""
    n_act, n_mat = mi[M_NACT], mi[M_NMAT]
    return (1, 2 + n_act, n_act, n_mat, n_mat, 1 + mi[M_NPOOL] + mi[M_NRULE], 4 * n_act,
            _tallies(mi) - (2 + n_act), 1 + n_act, 2 * mi[M_NCLS], 2 * mi[M_NPOOL], n_mat, mi[M_NSUP], n_act)


@njit
def _stats_sizes(mi):
    ints = 0
    for n in _int_sizes(mi):
        ints += n
    return ints, 3 * mi[M_NLV] + _tallies(mi) + 1 + mi[M_NPOOL]


@njit
def _stats(si, sf, mi, oi, of):
    """Copy the KPI inputs: oi = the sections of `_int_sizes` one after another, from these
    places in si; of = [levels (value, last, area) ..., tally totals (per-class last), the
    deadlock's time, the crew waits' total per pool]."""
    starts = (C_EVENTS, si[S_TACOUNT], si[S_COMPLETED], si[S_REQUESTS], si[S_FILLED], si[S_EXTRA],
              si[S_QCOUNT], si[S_TACOUNT] + 2 + mi[M_NACT], si[S_DEAD], si[S_CLSDUE], si[S_CARE],
              si[S_LOSTS], si[S_SUPORD], si[S_SETUPS])
    sizes = _int_sizes(mi)
    at = 0
    for k in range(len(sizes)):
        _copy(oi, at, si, starts[k], sizes[k])
        at += sizes[k]
    _copy(of, 0, sf, 0, 3 * mi[M_NLV])
    _copy(of, 3 * mi[M_NLV], sf, si[SF_TA], _tallies(mi))
    of[3 * mi[M_NLV] + _tallies(mi)] = sf[si[SF_DEAD]]
    _copy(of, 3 * mi[M_NLV] + _tallies(mi) + 1, sf, si[SF_CREW], mi[M_NPOOL])


# The one specialisation of simulate_kernel: mi, mf, rg, trace_on, n_samples, every, start.
KERNEL_TYPES = (types.int64[::1], types.float64[::1], types.uint64[:, ::1], types.boolean, types.int64,
                types.float64, types.float64[::1])


@njit(cache=True, nogil=True)
def simulate_kernel(mi, mf, rg, trace_on, n_samples, every, start):
    """One replication. `mi`, `mf`: `pack_twin` arrays; `rg`: `rng_table` of the Generators
    of the compiled twin's `sources`, in that order; `n_samples` state samples at times
    k * every (see `_run`); `start`: a state's entities as twin.starting rows, flat (empty:
    start empty; mi[M_NSTATE] must count them). Returns (stats ints, stats floats, trace
    times, trace rows (kind, subject, name), series (n_samples x series_width, flat)); see `_stats`.
    """
    series = np.zeros(n_samples * series_width(mi), np.float64)
    si, sf = _simulate(mi, mf, rg, trace_on, series, every, start)
    ni, nf = _stats_sizes(mi)
    oi, of = np.zeros(ni, np.int64), np.zeros(nf, np.float64)
    _stats(si, sf, mi, oi, of)
    n = si[C_TRACE]
    times = sf[si[SF_TR]:si[SF_TR] + n].copy()
    rows = si[si[S_TR]:si[S_TR] + TR_W * n].copy().reshape((n, TR_W))
    return oi, of, times, rows, series
