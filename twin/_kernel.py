"""The fast engine's event loop: the SimPy engine's processes as a Numba state machine.

Sameness with `twin.engine_simpy` rests on reproducing SimPy's event order exactly:

- the event queue is a heap ordered by (time, priority, seq): priority URGENT (0) for a
  process start (SimPy's Initialize) and an interruption, NORMAL (1) for everything
  else; `seq` is a counter taken at each push, as SimPy's event id is taken at each
  `schedule`. Every place where the SimPy engine starts a process or yields an event
  is one push here, in the same order. (SimPy also schedules events nobody waits for,
  such as a finished process; those are no-ops and are not pushed: skipping them
  leaves the relative order of the others unchanged.)
- a timeout of `d` is due at `now + d` (that float expression, as SimPy computes it);
  a shift change at `t` is a timeout of `t - now`, hence due at `now + (t - now)`.
- `env.run(until=h)` stops before anything due at `h`: events due at or after the
  horizon never run.
- grants happen synchronously inside `request` and `dispatch` (twin.allocation), in
  request order; a waiting requester is woken by a NORMAL event at the grant time.
- an interrupted hold leaves its timeout in the queue; it is recognised as stale
  by its token (the seq of the push that a hold is waiting for).

Data layout (what makes it fast). The compiled twin enters as two flat arrays, `mi`
(int64) and `mf` (float64), built by `pack_twin`: a header of sizes and table offsets
(`M_*`), then fixed-width rows per arrival, activity, unit, pool and material and the
CSR lists. The live state is two flat arrays too, `si` (int64) and `sf` (float64), laid
out by `_layout`: counters and section offsets first (`C_*`, `K_*`, `S_*`), then the
fixed-size sections (units, pools, statistics, materials), then the growable ones
(event heap, entity table, FIFO lines, dispatch heap, deliveries, trace). Helpers take
these few plain arrays and scalars, so Numba calls (and LLVM inlines) them cheaply;
a tuple of many arrays costs a reference-count update per array per call. When the loop
sees that a growable section might not hold one more event's worth (`_room`), `_grow`
returns bigger arrays with every section copied over (memory follows what is in the
system, not the horizon).
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

# Event kinds (heap payload: kind, a, b).
INIT_SHIFT, SHIFT, INIT_FAIL, FAIL, REPAIR = 0, 1, 2, 3, 4
INIT_DISRUPT, DISRUPT_START, DISRUPT_END, RECOVERED = 5, 6, 7, 8
INIT_DELIVERY, DELIVERY, INIT_ARRIVAL, ARRIVAL = 9, 10, 11, 12
INIT_ENTITY, GRANTED, HOLD_END, INTERRUPT, RESUME = 13, 14, 15, 16, 17
INIT_STRESS, STRESS_START, STRESS_END, SURGE = 18, 19, 20, 21  # a = stress row
ACTIVATE, BACKUP_DELIVERY, OVERTIME_END, REROUTE_END, DOWN_CHECK = 22, 23, 24, 25, 26  # a = rule

URGENT, NORMAL = 0, 1
PRIORITY_SHIFT = 1 << 62  # heap key = priority * PRIORITY_SHIFT + seq

# Trace kinds; engine_fast maps them to the SimPy engine's strings.
T_ARRIVAL, T_START, T_END, T_LEAVE, T_FAILURE, T_REPAIR, T_SHIFT, T_ORDER, T_DELIVERY = range(9)
T_GRANT = 9  # units handed to a request (traced, not counted)
T_CONTINGENCY = 10  # a rule fired (subject and name: the rule)
T_BY = 11  # the skilled pool a grant took a unit of (traced, not counted)

# What an entity waits for when woken by GRANTED.
WAIT_UNITS, WAIT_STOCK = 1, 2

# -- the packed twin (mi: int64, mf: float64) -------------------------------------------
# mi header: sizes, then offsets of the int tables in mi, then offsets of float tables in mf.
M_NACT, M_NPOOL, M_NUNIT, M_NMAT, M_NARR, M_NDIST, M_NLV, M_HELD, M_MOST = range(9)
M_DCODE, M_EMP_PTR, M_ARR, M_ACT, M_REQ, M_SUCC_TO, M_UNIT, M_POOL, M_CAL_LEVELS, M_MAT = range(9, 19)
M_DPAR, M_EMP_VAL, M_SUCC_P, M_CAL_POINTS, M_POOL_F = range(19, 24)
M_LV_POOL, M_LV_STOCK = 24, 25
M_PROF = 26  # in mf: per rate profile [slot, offset, 168 rates] (PROF_W floats)
M_NSTRESS, M_NRULE, M_STRESS, M_RULE = 27, 28, 29, 30  # counts; int rows in mi
M_STRESS_F, M_RULE_F, M_ARR_DUE = 31, 32, 33  # float rows in mf
M_ROOM_HEAP, M_ROOM_TRACE = 34, 35  # what one event may add (see _room), fixed when packed
M_ALT = 36  # skilled pools: rows (pool, duration dist or -1), AC_ALT_LO..AC_ALT_HI per activity
M_HEADER = 37
F_HORIZON, F_WARMUP = 0, 1  # mf[0], mf[1]
# Row layouts.
A_DIST, A_ROUTE, A_STREAM, A_PROFILE, ARR_W = 0, 1, 2, 3, 4  # A_PROFILE: -1 renewal, else profile row
HOURS_PER_WEEK = 168
ST_KIND, ST_TARGET, ST_UNITS, ST_STREAM, STRESS_W = 0, 1, 2, 3, 4
STF_START, STF_END, STF_FACTOR, STF_MEAN, STRESS_FW = 0, 1, 2, 3, 4
OUTAGE, EQUIPMENT_DOWN, ABSENCE, DEMAND_SURGE, FAILURE_RATE, LEAD_TIME = 0, 1, 2, 3, 4, 5  # STRESS_CODES
RU_TRIGGER, RU_WATCH, RU_LEVEL, RU_ACTION, RU_TARGET, RU_TO, RU_AMOUNT = 0, 1, 2, 3, 4, 5, 6
RU_LEAD, RU_LEAD_STREAM, RU_MAX, RULE_W = 7, 8, 9, 10
RF_FOR, RF_DELAY, RF_DURATION, RULE_FW = 0, 1, 2, 3
ON_STOCK, ON_QUEUE, ON_DOWN = 0, 1, 2  # TRIGGER_CODES
DO_ORDER, DO_OVERTIME, DO_REROUTE = 0, 1, 2  # ACTION_CODES
LV_PER_POOL = 5  # busy, available, up, on duty, overtime
PROF_W = 2 + HOURS_PER_WEEK
AC_DUR, AC_DUR_STREAM, AC_BRANCH, AC_CAN_FAIL, AC_REQ, AC_SUCC_LO, AC_SUCC_HI = 0, 1, 2, 3, 4, 8, 9
# AC_HOURS: -1 clock time, else the profile row of its working time; AC_ALT_*: its skilled pools
AC_HOURS, AC_ALT_LO, AC_ALT_HI, ACT_W = 10, 11, 12, 13
U_POOL, U_INDEX, U_UP_STREAM, U_REPAIR_STREAM, UNIT_W = 0, 1, 2, 3, 4
P_CAP, P_DUTY0, P_UNIT_LO, P_UNIT_HI, P_HAS_CAL, P_CAL_LO, P_CAL_HI = 0, 1, 2, 3, 4, 5, 6
P_FAILS, P_FAIL_UP, P_FAIL_REPAIR, POOL_W = 7, 8, 9, 10
MT_INITIAL, MT_POLICY, MT_POINT, MT_UP_TO, MT_QUANTITY, MT_LEAD, MT_LEAD_STREAM = 0, 1, 2, 3, 4, 5, 6
MT_DISRUPT, MT_EVERY, MT_DURATION, MT_EVERY_STREAM, MT_DURATION_STREAM, MAT_W = 7, 8, 9, 10, 11, 12
# AC_REQ..AC_REQ+3: (lo, hi) pair indices of the unit requests, then of the stock requests;
# pair k is (line, amount) at mi[mi[M_REQ] + 2k]; line = pool, or n_pools + material.

# -- the state (si: int64, sf: float64) ------------------------------------------------------
C_SEQ, C_HEAP, C_ENTITIES, C_ALIVE, C_EVENTS, C_TRACE, C_TRACE_ON = 0, 1, 2, 3, 4, 5, 6
C_MADE = 7  # 7: unit requests made, 8: stock requests made
C_ENT_FREE, C_ENT_NEW, C_DEL_FREE, C_DEL_NEW, C_DEL_LIVE = 9, 10, 11, 12, 13
C_PHEAD, C_PTAIL = 14, 15  # grants not yet pushed (see _grant), as entity slot + 1; 0: none
N_COUNTERS = 16
K_ENT, K_HEAP, K_DH, K_DEL, K_TR, K_EW = 16, 17, 18, 19, 20, 21
S_UJOB, S_UFAILED, S_ONDUTY, S_CALWK, S_CALBI, S_CALCUR = 22, 23, 24, 25, 26, 27
S_TACOUNT, S_COMPLETED, S_POSITION, S_REQUESTS, S_FILLED, S_DISRUPTED = 28, 29, 30, 31, 32, 33
S_WHEAD, S_WTAIL, S_FREE, S_LHEAD, S_LLEN = 34, 35, 36, 37, 38
S_HEAP, S_ENT, S_LINES, S_DH, S_DEL, S_TR = 39, 40, 41, 42, 43, 44
SF_TA, SF_HEAP, SF_ENT, SF_DEL, SF_TR = 45, 46, 47, 48, 49
S_FIXED_END, SF_FIXED_END = 50, 51
S_PLEVEL, S_PABSENT, S_PEXTRA, S_PDOWN = 52, 53, 54, 55  # per pool: calendar level, absent, overtime, down
S_EXTRA = 56  # counts: late, then repairs per pool, then activations per rule
S_RARMED, S_RFIRED, S_REPOCH, S_REDIRECT, SF_RSINCE = 57, 58, 59, 60, 61  # rules; reroute per activity
SF_RTIMES = 62  # per rule (for, delay), copied from mf so that grants can fire rules
S_HEADER = 63
# sf starts with the levels, 3 floats each (value, last, area). Level rows: 0 wip, 1+a queue
# of activity a, then 5 per pool (busy, available, up, on duty, overtime), then 2 per
# material (on hand, empty). Tally rows (count in si, total in sf): 0 cycle time, 1+a wait
# at activity a, 1+n_act tardiness.
# Entity rows (int): number, step, phase, down, running, resume, token, units held, a slot of
# the free-slot stack, request seq and granted flag per allocator, then the held units (a
# skilled step's unit of its `one_of` pool last).
E_NUM, E_STEP, E_PHASE, E_DOWN, E_RUNNING, E_RESUME, E_TOKEN, E_NHELD, E_FREE = range(9)
E_SEQ, E_GRANTED, E_PKEY, E_PNEXT, E_HELD = 9, 11, 13, 14, 15
EF_BORN, EF_QUEUED, EF_STARTED, EF_REMAINING, EF_DUE, EF_W = 0, 1, 2, 3, 4, 5  # EF_DUE -1: none
H_KEY, H_KIND, H_A, H_B, HEAP_W = 0, 1, 2, 3, 4  # heap rows (int); times in sf
D_STOCK, D_QTY, D_NEXT, D_FREE, DEL_W = 0, 1, 2, 3, 4  # delivery rows (int); lead in sf
TR_KIND, TR_SUBJECT, TR_NAME, TR_W = 0, 1, 2, 3  # trace rows (int); times in sf


def pack_twin(c) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """CompiledTwin -> (mi, mf), the kernel's two flat arrays (see the module docstring)."""
    n_act, n_pool, n_unit = len(c.act_dur), len(c.pool_cap), len(c.unit_pool)
    n_mat, n_arr, n_dist = len(c.mat_initial), len(c.arr_dist), len(c.dist_code)
    head = np.zeros(M_HEADER, np.int64)
    ints: list[np.ndarray] = [head]
    floats: list[np.ndarray] = [np.asarray(c.clock, np.float64)]
    sizes = [M_HEADER, 2]

    def put(key: int, values: object, into: int = 0) -> None:
        x = np.ascontiguousarray(values, dtype=np.int64 if into == 0 else np.float64).reshape(-1)
        head[key] = sizes[into]
        (ints if into == 0 else floats).append(x)
        sizes[into] += x.size

    req: list[tuple[int, int]] = []
    act = np.zeros((n_act, ACT_W), np.int64)
    held, most = 1, 1
    for a in range(n_act):
        lo, hi = c.need_ptr[a], c.need_ptr[a + 1]
        act[a, AC_REQ], act[a, AC_REQ + 1] = len(req), len(req) + hi - lo
        req += [(int(c.need_pool[k]), int(c.need_amount[k])) for k in range(lo, hi)]
        alo, ahi = c.alt_ptr[a], c.alt_ptr[a + 1]
        act[a, AC_ALT_LO], act[a, AC_ALT_HI] = alo, ahi
        held = max(held, int(c.need_amount[lo:hi].sum()) + int(ahi > alo))
        ulo, uhi = c.use_ptr[a], c.use_ptr[a + 1]
        act[a, AC_REQ + 2], act[a, AC_REQ + 3] = len(req), len(req) + uhi - ulo
        req += [(n_pool + int(c.use_mat[k]), int(c.use_amount[k])) for k in range(ulo, uhi)]
        most = max(most, int(hi - lo + ahi - alo), int(uhi - ulo))
    act[:, AC_DUR], act[:, AC_DUR_STREAM] = c.act_dur, c.act_dur_stream
    act[:, AC_BRANCH], act[:, AC_CAN_FAIL] = c.act_branch_stream, c.act_can_fail
    act[:, AC_SUCC_LO], act[:, AC_SUCC_HI] = c.succ_ptr[:-1], c.succ_ptr[1:]
    act[:, AC_HOURS] = c.act_hours
    unit_index = np.array([u - c.unit_ptr[p] for u, p in enumerate(c.unit_pool)], np.int64)
    pool = np.column_stack([c.pool_cap, c.pool_on_duty0, c.unit_ptr[:-1], c.unit_ptr[1:], c.pool_has_cal,
                            c.cal_ptr[:-1], c.cal_ptr[1:], c.pool_fails, c.fail_up, c.fail_repair])
    mat = np.column_stack([c.mat_initial, c.mat_policy, c.mat_point, c.mat_up_to, c.mat_quantity, c.mat_lead,
                           c.mat_lead_stream, c.mat_disrupt, c.mat_every, c.mat_duration, c.mat_every_stream,
                           c.mat_duration_stream])
    head[M_NACT], head[M_NPOOL], head[M_NUNIT], head[M_NMAT] = n_act, n_pool, n_unit, n_mat
    head[M_NARR], head[M_NDIST] = n_arr, n_dist
    head[M_NLV] = 1 + n_act + LV_PER_POOL * n_pool + 2 * n_mat
    head[M_HELD], head[M_MOST] = held, most
    head[M_LV_POOL], head[M_LV_STOCK] = 1 + n_act, 1 + n_act + LV_PER_POOL * n_pool
    n_rule = len(c.ru_trigger)
    head[M_NSTRESS], head[M_NRULE] = len(c.st_kind), n_rule
    # Heap items one event may add beyond one per live entity: orders, interrupts of units
    # failing together, rule firings and their follow-ups; trace rows beyond deliveries:
    # orders, grants (one per unit), units failing together, rule firings and backup orders.
    head[M_ROOM_HEAP] = n_mat + n_unit + 3 * n_rule + 8
    head[M_ROOM_TRACE] = 2 * n_mat + 3 * n_unit + 3 * n_rule + 8  # + a skilled pool per grant
    put(M_DCODE, c.dist_code)
    put(M_EMP_PTR, c.emp_ptr)
    put(M_ARR, np.column_stack([c.arr_dist, c.arr_route, c.arr_stream, c.arr_profile]))
    put(M_ACT, act)
    put(M_REQ, np.array(req, np.int64).reshape(-1, 2))
    put(M_SUCC_TO, c.succ_to)
    put(M_UNIT, np.column_stack([c.unit_pool, unit_index, c.unit_up_stream, c.unit_repair_stream]))
    put(M_POOL, pool.reshape(n_pool, POOL_W))
    put(M_CAL_LEVELS, c.cal_levels)
    put(M_MAT, mat.reshape(n_mat, MAT_W))
    put(M_DPAR, c.dist_par, 1)
    put(M_EMP_VAL, c.emp_val, 1)
    put(M_SUCC_P, c.succ_p, 1)
    put(M_CAL_POINTS, c.cal_points, 1)
    put(M_POOL_F, np.column_stack([c.cal_week, c.cal_offset]), 1)
    put(M_PROF, np.column_stack([c.prof_clock, c.prof_rates]), 1)
    put(M_STRESS, np.column_stack([c.st_kind, c.st_target, c.st_units, c.st_stream]))
    put(M_STRESS_F, np.column_stack([c.st_window, c.st_factor, c.st_mean]), 1)
    put(M_RULE, np.column_stack([c.ru_trigger, c.ru_watch, c.ru_level, c.ru_action, c.ru_target, c.ru_to,
                                 c.ru_amount, c.ru_lead, c.ru_lead_stream, c.ru_max]))
    put(M_RULE_F, c.ru_times, 1)
    put(M_ARR_DUE, c.arr_due, 1)
    put(M_ALT, np.column_stack([c.alt_pool, c.alt_dur]).reshape(-1, 2))
    return np.concatenate(ints), np.concatenate(floats)


# -- raw access: no reference counting in the hot loop ------------------------------------
@intrinsic
def _data(typingctx, arr):
    """The data pointer of a C-contiguous array (the caller keeps the array alive)."""
    sig = types.CPointer(arr.dtype)(arr)

    def codegen(context, builder, sig, args):
        return context.make_array(sig.args[0])(context, builder, args[0]).data

    return sig, codegen


RNG_FIELDS = 6  # per stream: state_address, state, next_uint64, next_uint32, next_double, bit_generator
_GENERATOR = types.NumPyRandomGeneratorType("NumPyRandomGeneratorType")
_BIT_GENERATOR = types.NumPyRandomBitGeneratorType("bit_generator")


@intrinsic
def _generator(typingctx, table, k):
    """Stream k of a `rng_table` (as a pointer) as a numba Generator, without reference
    counting: the fields numba's own unboxing reads from `bit_generator.ctypes`, and no
    meminfo (the Python Generators stay alive in the caller while the kernel runs)."""
    sig = _GENERATOR(table, k)

    def codegen(context, builder, sig, args):
        ptr, index = args
        base = builder.mul(index, ir.Constant(index.type, RNG_FIELDS))
        values = [builder.load(builder.gep(ptr, [builder.add(base, ir.Constant(index.type, j))]))
                  for j in range(RNG_FIELDS)]
        bits = cgutils.create_struct_proxy(_BIT_GENERATOR)(context, builder)
        bits.parent = cgutils.get_null_value(bits.parent.type)
        (bits.state_address, bits.state, bits.fnptr_next_uint64, bits.fnptr_next_uint32,
         bits.fnptr_next_double, bits.bit_generator) = values
        gen = cgutils.create_struct_proxy(_GENERATOR)(context, builder)
        gen.bit_generator = bits._getvalue()
        gen.meminfo = cgutils.get_null_value(gen.meminfo.type)
        gen.parent = cgutils.get_null_value(gen.parent.type)
        return gen._getvalue()

    return sig, codegen


def rng_table(generators: list[np.random.Generator]) -> np.ndarray:
    """(n, RNG_FIELDS) uint64: what `_generator` needs of each Generator (keep them alive)."""
    rows = []
    for g in generators:
        c = g.bit_generator.ctypes
        rows.append((c.state_address, c.state.value, *_functions(g.bit_generator, c), c.bit_generator.value))
    return np.array(rows, dtype=np.uint64).reshape(-1, RNG_FIELDS)


_FUNCTIONS: dict[type, tuple[int, int, int]] = {}


def _functions(bit_generator: object, c: object) -> tuple[int, int, int]:
    """next_uint64, next_uint32, next_double of a bit generator type (the same C functions
    for every instance of the type)."""
    kind = type(bit_generator)
    if kind not in _FUNCTIONS:
        import ctypes

        _FUNCTIONS[kind] = tuple(  # type: ignore[assignment]
            ctypes.cast(getattr(c, name), ctypes.c_void_p).value for name in ("next_uint64", "next_uint32",
                                                                                 "next_double"))
    return _FUNCTIONS[kind]


# -- row access --------------------------------------------------------------------------
@njit(cache=True)
def _act(mi, a):
    return mi[M_ACT] + ACT_W * a


@njit(cache=True)
def _unit(mi, u):
    return mi[M_UNIT] + UNIT_W * u


@njit(cache=True)
def _pool(mi, p):
    return mi[M_POOL] + POOL_W * p


@njit(cache=True)
def _mat(mi, s):
    return mi[M_MAT] + MAT_W * s


@njit(cache=True)
def _ent(si, slot):
    return si[S_ENT] + si[K_EW] * slot


@njit(cache=True)
def _entf(si, slot):
    return si[SF_ENT] + EF_W * slot


@njit(cache=True)
def _reqs(mi, al, a):
    """(lo, hi) pair indices of activity a's requests to allocator al (0 units, 1 stock)."""
    b = _act(mi, a) + AC_REQ + 2 * al
    return mi[b], mi[b + 1]


# -- statistics (twin.monitors, same float operations) ------------------------------
@njit(cache=True)
def _level_set(sf, i, now, value, warmup):
    j = 3 * i
    last = sf[j + 1]
    since = last if last > warmup else warmup
    if now > since:
        sf[j + 2] += sf[j] * (now - since)
    sf[j + 1] = now
    sf[j] = value


@njit(cache=True)
def _level_add(sf, i, now, delta, warmup):
    _level_set(sf, i, now, sf[3 * i] + delta, warmup)


@njit(cache=True)
def _observe(si, sf, i, now, value, warmup):
    if now >= warmup:
        si[si[S_TACOUNT] + i] += 1
        sf[si[SF_TA] + i] += value


# -- event queue --------------------------------------------------------------------
@njit(cache=True)
def _push(si, sf, time, priority, kind, a, b):
    seq = si[C_SEQ]
    si[C_SEQ] = seq + 1
    _push_key(si, sf, time, priority * PRIORITY_SHIFT + seq, kind, a, b)
    return seq


@njit(cache=True)
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


@njit(cache=True)
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


# -- log and trace ------------------------------------------------------------------
@njit(cache=True)
def _trace(si, sf, now, kind, subject, name):
    if si[C_TRACE_ON]:
        i = si[C_TRACE]
        sf[si[SF_TR] + i] = now
        r = si[S_TR] + TR_W * i
        si[r], si[r + 1], si[r + 2] = kind, subject, name
        si[C_TRACE] = i + 1


@njit(cache=True)
def _log(si, sf, now, kind, subject, name):
    """One counted event (Model.log)."""
    si[C_EVENTS] += 1
    if si[C_TRACE_ON]:
        _trace(si, sf, now, kind, subject, name)


# -- random variates (twin.distributions, same generator calls) ----------------------
@njit(cache=True)
def _sample(mi, mf, d, rng):
    code = mi[mi[M_DCODE] + d]
    q = mi[M_DPAR] + 3 * d
    if code == 0:
        return rng.exponential(mf[q])
    if code == 1:
        return rng.gamma(mf[q], mf[q + 1])
    if code == 2:
        return rng.lognormal(mf[q], mf[q + 1])
    if code == 3:
        while True:  # normal truncated at 0 by rejection
            x = rng.normal(mf[q], mf[q + 1])
            if x >= 0.0:
                return x
    if code == 4:
        return mf[q + 1] * rng.weibull(mf[q])
    if code == 5:
        return rng.uniform(mf[q], mf[q + 1])
    if code == 6:
        return rng.triangular(mf[q], mf[q + 1], mf[q + 2])
    if code == 7:
        return mf[q]
    lo, hi = mi[mi[M_EMP_PTR] + d], mi[mi[M_EMP_PTR] + d + 1]
    return mf[mi[M_EMP_VAL] + lo + int(rng.random() * (hi - lo))]


@njit(cache=True)
def _choose_next(mi, mf, rg, a):
    """Successor of activity a (-1: leave); one uniform draw unless there is one way on."""
    b = _act(mi, a)
    lo, hi = mi[b + AC_SUCC_LO], mi[b + AC_SUCC_HI]
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


# -- pools (twin.pools) --------------------------------------------------------------
@njit(cache=True)
def _is_free(si, mi, u):
    b = _unit(mi, u)
    return (si[si[S_UJOB] + u] < 0 and si[si[S_UFAILED] + u] == 0
            and mi[b + U_INDEX] < si[si[S_ONDUTY] + mi[b + U_POOL]])


@njit(cache=True)
def _pool_take(si, sf, mi, p, now, count, slot, w):
    e = _ent(si, slot)
    taken = 0
    b = _pool(mi, p)
    for u in range(mi[b + P_UNIT_LO], mi[b + P_UNIT_HI]):
        if _is_free(si, mi, u):
            si[si[S_UJOB] + u] = slot
            n = si[e + E_NHELD]
            si[e + E_HELD + n] = u
            si[e + E_NHELD] = n + 1
            taken += 1
            if taken == count:
                break
    _level_add(sf, mi[M_LV_POOL] + LV_PER_POOL * p, now, count, w)


@njit(cache=True)
def _pool_release(si, sf, mi, u, now, w):
    """Free a unit after its job; 1 if it is free for others (still on shift)."""
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    si[si[S_UJOB] + u] = -1
    _level_add(sf, lv, now, -1.0, w)
    if mi[b + U_INDEX] < si[si[S_ONDUTY] + p]:
        return 1
    _level_add(sf, lv + 1, now, -1.0, w)
    return 0


@njit(cache=True)
def _pool_fail(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    was_free = _is_free(si, mi, u)
    has_job = si[si[S_UJOB] + u] >= 0
    counted = has_job or mi[b + U_INDEX] < si[si[S_ONDUTY] + p]
    si[si[S_UFAILED] + u] = 1
    si[si[S_PDOWN] + p] += 1
    _level_add(sf, lv + 2, now, -1.0, w)
    if counted:
        _level_add(sf, lv + 1, now, -1.0, w)
    if has_job:
        _level_add(sf, lv, now, -1.0, w)
    return was_free


@njit(cache=True)
def _pool_repair(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    has_job = si[si[S_UJOB] + u] >= 0
    si[si[S_UFAILED] + u] = 0
    si[si[S_PDOWN] + p] -= 1
    _level_add(sf, lv + 2, now, 1.0, w)
    if has_job or mi[b + U_INDEX] < si[si[S_ONDUTY] + p]:
        _level_add(sf, lv + 1, now, 1.0, w)
    if has_job:
        _level_add(sf, lv, now, 1.0, w)
    return _is_free(si, mi, u)


@njit(cache=True)
def _set_on_duty(si, sf, mi, p, now, level, w):
    old = si[si[S_ONDUTY] + p]
    si[si[S_ONDUTY] + p] = level
    step = 1 if level > old else -1
    b = _pool(mi, p)
    cap, first = mi[b + P_CAP], mi[b + P_UNIT_LO]
    lo = first + min(min(old, level), cap)
    hi = first + min(max(old, level), cap)
    changed = 0
    for u in range(lo, hi):
        if si[si[S_UJOB] + u] < 0 and si[si[S_UFAILED] + u] == 0:
            changed += 1
    lv = mi[M_LV_POOL] + LV_PER_POOL * p
    _level_add(sf, lv + 1, now, step * changed, w)
    _level_set(sf, lv + 3, now, level, w)
    base = min(cap, max(0, si[si[S_PLEVEL] + p] - si[si[S_PABSENT] + p]))
    _level_set(sf, lv + 4, now, level - base, w)
    return step * changed


@njit(cache=True)
def _set_duty(si, sf, mi, p, now, w):
    """Model._set_duty: a shift change, an absence or overtime sets the units on duty."""
    cap = mi[_pool(mi, p) + P_CAP]
    level = min(cap, max(0, si[si[S_PLEVEL] + p] - si[si[S_PABSENT] + p] + si[si[S_PEXTRA] + p]))
    _log(si, sf, now, T_SHIFT, level, p)
    si[si[S_FREE] + p] += _set_on_duty(si, sf, mi, p, now, level, w)
    if level > 0:
        _dispatch_one(si, sf, mi, 0, p, now, w)


# -- stock (twin.stock) ----------------------------------------------------------------
@njit(cache=True)
def _stock_record(sf, mi, s, now, on_hand, w):
    i = mi[M_LV_STOCK] + 2 * s
    _level_set(sf, i, now, on_hand, w)
    _level_set(sf, i + 1, now, 1.0 if on_hand == 0 else 0.0, w)


# -- FIFO allocation of several pools at once (twin.allocation) ------------------------
# Allocator al = 0 hands out units (lines 0..n_pools-1), al = 1 stock (lines n_pools..).
@njit(cache=True)
def _line_head(si, line):
    if si[si[S_LLEN] + line] == 0:
        return -1
    return si[si[S_LINES] + line * si[K_ENT] + si[si[S_LHEAD] + line]]


@njit(cache=True)
def _line_append(si, line, slot):
    cap, n = si[K_ENT], si[si[S_LLEN] + line]
    si[si[S_LINES] + line * cap + (si[si[S_LHEAD] + line] + n) % cap] = slot
    si[si[S_LLEN] + line] = n + 1


@njit(cache=True)
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


@njit(cache=True)
def _alt_choice(si, mi, a, slot):
    """FifoAllocator._choice: the first skilled-pool row where `slot` is first in line and
    a unit is free; -1 if none."""
    b, t = _act(mi, a), mi[M_ALT]
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        line = mi[t + 2 * k]
        if _line_head(si, line) == slot and si[si[S_FREE] + line] > 0:
            return k
    return -1


@njit(cache=True)
def _has_alt(mi, al, a):
    b = _act(mi, a)
    return al == 0 and mi[b + AC_ALT_HI] > mi[b + AC_ALT_LO]


@njit(cache=True)
def _skilled_pool(si, mi, e, a):
    """The `one_of` pool serving entity row `e` at step `a` (its last held unit's); -1 if none."""
    if not _has_alt(mi, 0, a) or si[e + E_NHELD] == 0:
        return -1
    return mi[_unit(mi, si[e + E_HELD + si[e + E_NHELD] - 1]) + U_POOL]


@njit(cache=True)
def _alt_duration(si, mi, e, a):
    """The duration distribution of the `one_of` pool serving row `e`, or -1: the step's."""
    b, t, pool = _act(mi, a), mi[M_ALT], _skilled_pool(si, mi, e, a)
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        if mi[t + 2 * k] == pool:
            return mi[t + 2 * k + 1]
    return -1


@njit(cache=True)
def _push_alt_heads(si, mi, a, n):
    b, t = _act(mi, a), mi[M_ALT]
    for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
        n = _dh_push_head(si, 0, mi[t + 2 * k], n)
    return n


@njit(cache=True)
def _grantable(si, mi, al, slot):
    a = si[_ent(si, slot) + E_STEP]
    lo, hi = _reqs(mi, al, a)
    r = mi[M_REQ]
    for k in range(lo, hi):
        line = mi[r + 2 * k]
        if _line_head(si, line) != slot or si[si[S_FREE] + line] < mi[r + 2 * k + 1]:
            return False
    return not _has_alt(mi, al, a) or _alt_choice(si, mi, a, slot) >= 0


@njit(cache=True)
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
    si[e + E_GRANTED + al] = 1
    for k in range(lo, hi):  # hand out units / record the stock taken
        line = mi[r + 2 * k]
        if al == 0:
            _pool_take(si, sf, mi, line, now, mi[r + 2 * k + 1], slot, w)
        else:
            _stock_record(sf, mi, line - mi[M_NPOOL], now, si[si[S_FREE] + line], w)
            _watch(si, sf, mi, ON_STOCK, line - mi[M_NPOOL], now)
    if chosen >= 0:
        _pool_take(si, sf, mi, chosen, now, 1, slot, w)
    if al == 0:  # Model._take_units: traced, not counted
        _trace(si, sf, now, T_GRANT, si[e + E_NUM], si[e + E_STEP])
        if chosen >= 0:
            _trace(si, sf, now, T_BY, si[e + E_NUM], chosen)
    if notify:  # the requester waits on an event; succeed() schedules it now
        _defer_grant(si, slot)


@njit(cache=True)
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


@njit(cache=True)
def _flush_grants(si, sf, now):
    """Push every deferred grant into the heap with the key it was given."""
    while si[C_PHEAD]:
        slot = si[C_PHEAD] - 1
        e = _ent(si, slot)
        si[C_PHEAD] = si[e + E_PNEXT]
        _push_key(si, sf, now, si[e + E_PKEY], GRANTED, slot, 0)
    si[C_PTAIL] = 0


@njit(cache=True)
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


@njit(cache=True)
def _request(si, sf, mi, al, slot, now, w):
    """Join the lines of every pool needed; True when granted at once."""
    e = _ent(si, slot)
    si[e + E_SEQ + al] = si[C_MADE + al]
    si[C_MADE + al] += 1
    si[e + E_GRANTED + al] = 0
    lo, hi = _reqs(mi, al, si[e + E_STEP])
    r = mi[M_REQ]
    for k in range(lo, hi):
        _line_append(si, mi[r + 2 * k], slot)
    if _has_alt(mi, al, si[e + E_STEP]):
        b, t = _act(mi, si[e + E_STEP]), mi[M_ALT]
        for k in range(mi[b + AC_ALT_LO], mi[b + AC_ALT_HI]):
            _line_append(si, mi[t + 2 * k], slot)
    if _grantable(si, mi, al, slot):
        _grant(si, sf, mi, al, slot, now, False, w)
        return True
    return False


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _dh_push_head(si, al, line, n):
    head = _line_head(si, line)
    if head >= 0:
        n = _dh_push(si, n, si[_ent(si, head) + E_SEQ + al], head)
    return n


@njit(cache=True)
def _dispatch_loop(si, sf, mi, al, n, now, w):
    """Grant, in request order, every request that has become first in all its lines."""
    r = mi[M_REQ]
    while n > 0:
        slot, n = _dh_pop(si, n)
        if si[_ent(si, slot) + E_GRANTED + al] or not _grantable(si, mi, al, slot):
            continue
        _grant(si, sf, mi, al, slot, now, True, w)
        a = si[_ent(si, slot) + E_STEP]
        lo, hi = _reqs(mi, al, a)
        for k in range(lo, hi):
            n = _dh_push_head(si, al, mi[r + 2 * k], n)
        if _has_alt(mi, al, a):
            n = _push_alt_heads(si, mi, a, n)


@njit(cache=True)
def _dispatch_one(si, sf, mi, al, line, now, w):
    n = _dh_push_head(si, al, line, 0)
    if n > 0:
        _dispatch_loop(si, sf, mi, al, n, now, w)


@njit(cache=True)
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


# -- entities: Model._entity / _visit / _work as a state machine ----------------------
@njit(cache=True)
def _has(mi, al, a):
    lo, hi = _reqs(mi, al, a)
    return hi > lo or _has_alt(mi, al, a)


@njit(cache=True)
def _visit(si, sf, mi, mf, rg, slot, a, now):
    e = _ent(si, slot)
    w = mf[F_WARMUP]
    if si[si[S_REDIRECT] + a] >= 0:  # a reroute rule is active
        a = si[si[S_REDIRECT] + a]
    si[e + E_STEP] = a
    sf[_entf(si, slot) + EF_QUEUED] = now
    si[e + E_NHELD] = 0
    needs = _has(mi, 0, a)
    if needs or _has(mi, 1, a):
        _level_add(sf, 1 + a, now, 1.0, w)
        _watch(si, sf, mi, ON_QUEUE, a, now)
        if needs and not _request(si, sf, mi, 0, slot, now, w):
            si[e + E_PHASE] = WAIT_UNITS
            return
    _after_units(si, sf, mi, mf, rg, slot, now)


@njit(cache=True)
def _after_units(si, sf, mi, mf, rg, slot, now):
    if _has(mi, 1, si[_ent(si, slot) + E_STEP]) and not _consume(si, sf, mi, mf, rg, slot, now):
        si[_ent(si, slot) + E_PHASE] = WAIT_STOCK
        return
    _start_activity(si, sf, mi, mf, rg, slot, now)


@njit(cache=True)
def _consume(si, sf, mi, mf, rg, slot, now):
    """Model._consume: lower positions and review, then request the stock together."""
    a = si[_ent(si, slot) + E_STEP]
    w = mf[F_WARMUP]
    lo, hi = _reqs(mi, 1, a)
    r, n_pool = mi[M_REQ], mi[M_NPOOL]
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
    return at_once


@njit(cache=True)
def _start_activity(si, sf, mi, mf, rg, slot, now):
    e, ef = _ent(si, slot), _entf(si, slot)
    a = si[e + E_STEP]
    w = mf[F_WARMUP]
    needs = _has(mi, 0, a)
    if needs or _has(mi, 1, a):
        _level_add(sf, 1 + a, now, -1.0, w)
    _observe(si, sf, 1 + a, now, now - sf[ef + EF_QUEUED], w)
    _log(si, sf, now, T_START, si[e + E_NUM], a)
    b = _act(mi, a)
    d = _alt_duration(si, mi, e, a)  # a skilled pool's own duration
    if d < 0:
        d = mi[b + AC_DUR]
    duration = _sample(mi, mf, d, _generator(rg, mi[b + AC_DUR_STREAM]))
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


@njit(cache=True)
def _wait_or_hold(si, sf, slot, now):
    """The head of Model._work's loop: wait while a held unit is down, else hold."""
    e = _ent(si, slot)
    if si[e + E_DOWN] > 0:
        si[e + E_RESUME] = 1
    else:
        _hold(si, sf, slot, now)


@njit(cache=True)
def _hold(si, sf, slot, now):
    """The interruptible timed hold of Model._work."""
    e, ef = _ent(si, slot), _entf(si, slot)
    sf[ef + EF_STARTED] = now
    si[e + E_RUNNING] = 1
    token = si[C_SEQ]
    si[e + E_TOKEN] = token
    _push(si, sf, now + sf[ef + EF_REMAINING], NORMAL, HOLD_END, slot, token)


@njit(cache=True)
def _interrupted(si, sf, slot, now):
    e, ef = _ent(si, slot), _entf(si, slot)
    si[e + E_TOKEN] = -1  # its pending timeout is now stale
    sf[ef + EF_REMAINING] -= now - sf[ef + EF_STARTED]
    _wait_or_hold(si, sf, slot, now)


@njit(cache=True)
def _finish(si, sf, mi, mf, rg, slot, now):
    e = _ent(si, slot)
    a = si[e + E_STEP]
    w = mf[F_WARMUP]
    si[e + E_TOKEN] = -1
    si[e + E_RUNNING] = 0
    _log(si, sf, now, T_END, si[e + E_NUM], a)  # before the release: the grants it makes follow it
    if _has(mi, 0, a):
        chosen = _skilled_pool(si, mi, e, a)
        for i in range(si[e + E_NHELD]):
            u = si[e + E_HELD + i]
            p = mi[_unit(mi, u) + U_POOL]
            si[si[S_FREE] + p] += _pool_release(si, sf, mi, u, now, w)
        si[e + E_NHELD] = 0
        _dispatch_needs(si, sf, mi, 0, a, chosen, now, w)
    if now >= w:
        si[si[S_COMPLETED] + a] += 1
    nxt = _choose_next(mi, mf, rg, a)
    if nxt >= 0:
        _visit(si, sf, mi, mf, rg, slot, nxt, now)
    else:
        _leave(si, sf, mi, slot, now, w)


@njit(cache=True)
def _leave(si, sf, mi, slot, now, w):
    e = _ent(si, slot)
    _level_add(sf, 0, now, -1.0, w)
    _observe(si, sf, 0, now, now - sf[_entf(si, slot) + EF_BORN], w)
    due = sf[_entf(si, slot) + EF_DUE]
    if due >= 0.0:
        late = now - due
        if late < 0.0:
            late = 0.0
        _observe(si, sf, 1 + mi[M_NACT], now, late, w)
        if now >= w and now > due:
            si[si[S_EXTRA]] += 1
    _trace(si, sf, now, T_LEAVE, si[e + E_NUM], -1)
    si[_ent(si, si[C_ENT_FREE]) + E_FREE] = slot
    si[C_ENT_FREE] += 1
    si[C_ALIVE] -= 1


@njit(cache=True)
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


# -- failures (Model._failures / _fail / _repair) --------------------------------------
@njit(cache=True)
def _fail(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    _log(si, sf, now, T_FAILURE, mi[b + U_INDEX], p)
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


@njit(cache=True)
def _repair(si, sf, mi, u, now, w):
    b = _unit(mi, u)
    p = mi[b + U_POOL]
    _log(si, sf, now, T_REPAIR, mi[b + U_INDEX], p)
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


# -- shifts (Model._shifts, WeeklyCalendar.changes) ------------------------------------
@njit(cache=True)
def _next_shift(si, sf, mi, mf, p, now):
    """Schedule the calendar's next change in (0, horizon], if any."""
    b = _pool(mi, p)
    lo = mi[b + P_CAL_LO]
    n = mi[b + P_CAL_HI] - lo
    week, offset = mf[mi[M_POOL_F] + 2 * p], mf[mi[M_POOL_F] + 2 * p + 1]
    wk, bi, cur = si[S_CALWK] + p, si[S_CALBI] + p, si[S_CALCUR] + p
    while True:
        base = si[wk] * week - offset
        t = base + mf[mi[M_CAL_POINTS] + lo + si[bi]]
        level = mi[mi[M_CAL_LEVELS] + lo + si[bi]]
        si[bi] += 1
        if si[bi] == n:
            si[bi] = 0
            si[wk] += 1
        if t > mf[F_HORIZON]:
            return
        if t > 0 and level != si[cur]:
            si[cur] = level
            _push(si, sf, now + (t - now), NORMAL, SHIFT, p, level)
            return


@njit(cache=True)
def _shift(si, sf, mi, mf, p, level, now):
    si[si[S_PLEVEL] + p] = level
    _set_duty(si, sf, mi, p, now, mf[F_WARMUP])
    _next_shift(si, sf, mi, mf, p, now)


# -- materials: review, orders, deliveries, disruptions --------------------------------
@njit(cache=True)
def _review(si, sf, mi, mf, rg, s, now):
    b = _mat(mi, s)
    policy, position, point = mi[b + MT_POLICY], si[si[S_POSITION] + s], mi[b + MT_POINT]
    if policy == 0 or position > point:
        return
    if policy == 1:
        quantity = mi[b + MT_UP_TO] - position
    else:
        q = mi[b + MT_QUANTITY]
        quantity = (point - position) // q * q + q
    if quantity:
        si[si[S_POSITION] + s] += quantity
        _log(si, sf, now, T_ORDER, quantity, s)
        lead = _sample(mi, mf, mi[b + MT_LEAD], _generator(rg, mi[b + MT_LEAD_STREAM]))
        lead = lead * _stress_factor(mi, mf, LEAD_TIME, s, now)
        d = _new_delivery(si, sf, s, quantity, lead)
        _push(si, sf, now, URGENT, INIT_DELIVERY, d, 0)


@njit(cache=True)
def _new_delivery(si, sf, s, quantity, lead):
    if si[C_DEL_FREE] > 0:
        si[C_DEL_FREE] -= 1
        d = si[si[S_DEL] + DEL_W * si[C_DEL_FREE] + D_FREE]
    else:
        d = si[C_DEL_NEW]
        si[C_DEL_NEW] += 1
    si[C_DEL_LIVE] += 1
    r = si[S_DEL] + DEL_W * d
    si[r + D_STOCK], si[r + D_QTY], si[r + D_NEXT] = s, quantity, -1
    sf[si[SF_DEL] + d] = lead
    return d


@njit(cache=True)
def _delivery_due(si, sf, mi, d, now, w):
    """A delivery's lead time is over; it waits while its supplier is disrupted."""
    r = si[S_DEL] + DEL_W * d
    s = si[r + D_STOCK]
    if not si[si[S_DISRUPTED] + s]:
        _deliver(si, sf, mi, d, now, w)
        return
    si[r + D_NEXT] = -1
    tail = si[si[S_WTAIL] + s]
    if tail >= 0:
        si[si[S_DEL] + DEL_W * tail + D_NEXT] = d
    else:
        si[si[S_WHEAD] + s] = d
    si[si[S_WTAIL] + s] = d


@njit(cache=True)
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


@njit(cache=True)
def _recovered(si, sf, mi, s, now, w):
    """The supplier's `recovered` event: waiting deliveries resume in the order they waited."""
    d = si[si[S_WHEAD] + s]
    si[si[S_WHEAD] + s], si[si[S_WTAIL] + s] = -1, -1
    while d >= 0:
        nxt = si[si[S_DEL] + DEL_W * d + D_NEXT]
        _delivery_due(si, sf, mi, d, now, w)
        d = nxt


@njit(cache=True)
def _disrupt(si, sf, s, change, now):
    """Model._disrupt: one cause more (or less) holds the supplier's deliveries."""
    si[si[S_DISRUPTED] + s] += change
    # recovered.succeed() when the last cause ends; with nobody waiting it is a no-op
    if si[si[S_DISRUPTED] + s] == 0 and si[si[S_WHEAD] + s] >= 0:
        _push(si, sf, now, NORMAL, RECOVERED, s, 0)


@njit(cache=True)
def _disruption_end(si, sf, mi, mf, rg, s, now):
    _disrupt(si, sf, s, -1, now)
    b = _mat(mi, s)
    every = _sample(mi, mf, mi[b + MT_EVERY], _generator(rg, mi[b + MT_EVERY_STREAM]))
    _push(si, sf, now + every, NORMAL, DISRUPT_START, s, 0)


# -- stresses (Model._stress, _stress_edge, _surge) -------------------------------------
@njit(cache=True)
def _stress_factor(mi, mf, kind, target, now):
    """Model._factor: the product of the factors of `kind` windows on `target` holding now."""
    factor = 1.0
    for j in range(mi[M_NSTRESS]):
        b, q = mi[M_STRESS] + STRESS_W * j, mi[M_STRESS_F] + STRESS_FW * j
        if (mi[b + ST_KIND] == kind and mi[b + ST_TARGET] == target
                and mf[q + STF_START] <= now < mf[q + STF_END]):
            factor *= mf[q + STF_FACTOR]
    return factor


@njit(cache=True)
def _stress_edge(si, sf, mi, mf, j, change, now):
    b = mi[M_STRESS] + STRESS_W * j
    kind, target, units = mi[b + ST_KIND], mi[b + ST_TARGET], mi[b + ST_UNITS]
    w = mf[F_WARMUP]
    if kind == OUTAGE:
        _disrupt(si, sf, target, change, now)
    elif kind == ABSENCE:
        si[si[S_PABSENT] + target] += change * units
        _set_duty(si, sf, mi, target, now, w)
    else:  # EQUIPMENT_DOWN: units 0..units-1
        first = mi[_pool(mi, target) + P_UNIT_LO]
        for u in range(first, first + units):
            if change > 0:
                _fail(si, sf, mi, u, now, w)
            else:
                _repair(si, sf, mi, u, now, w)


@njit(cache=True)
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


# -- contingency rules (Model._check, _fire, _activate, _rearm) ---------------------------
@njit(cache=True)
def _rule(mi, r):
    return mi[M_RULE] + RULE_W * r


@njit(cache=True)
def _holds(si, sf, mi, r, now):
    b = _rule(mi, r)
    trigger, watch, level = mi[b + RU_TRIGGER], mi[b + RU_WATCH], mi[b + RU_LEVEL]
    if trigger == ON_STOCK:
        return si[si[S_FREE] + mi[M_NPOOL] + watch] < level
    if trigger == ON_QUEUE:
        return sf[3 * (1 + watch)] > level
    since = sf[si[SF_RSINCE] + r]
    return since >= 0.0 and now - since >= sf[si[SF_RTIMES] + 2 * r]


@njit(cache=True)
def _check(si, sf, mi, r, now):
    if si[si[S_RARMED] + r] and _holds(si, sf, mi, r, now):
        si[si[S_RARMED] + r] = 0
        si[si[S_RFIRED] + r] += 1
        _log(si, sf, now, T_CONTINGENCY, r, r)
        _push(si, sf, now + sf[si[SF_RTIMES] + 2 * r + 1], NORMAL, ACTIVATE, r, 0)


@njit(cache=True)
def _watch(si, sf, mi, trigger, watch, now):
    """Check the rules on `trigger` that watch item `watch` (a material, an activity)."""
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == trigger and mi[b + RU_WATCH] == watch:
            _check(si, sf, mi, r, now)


@njit(cache=True)
def _units_down(si, sf, mi, p, now):
    """Model._units_down: start the clock of `down` rules whose count is now reached."""
    count = si[si[S_PDOWN] + p]
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == ON_DOWN and mi[b + RU_WATCH] == p and count == mi[b + RU_LEVEL]:
            sf[si[SF_RSINCE] + r] = now
            si[si[S_REPOCH] + r] += 1
            _push(si, sf, now + sf[si[SF_RTIMES] + 2 * r], NORMAL, DOWN_CHECK, r, si[si[S_REPOCH] + r])


@njit(cache=True)
def _units_up(si, sf, mi, p):
    """Model._units_up, before the repair is booked: spells end for rules it drops below."""
    count = si[si[S_PDOWN] + p]
    for r in range(mi[M_NRULE]):
        b = _rule(mi, r)
        if mi[b + RU_TRIGGER] == ON_DOWN and mi[b + RU_WATCH] == p and count == mi[b + RU_LEVEL]:
            sf[si[SF_RSINCE] + r] = -1.0
            si[si[S_REPOCH] + r] += 1


@njit(cache=True)
def _rearm(si, sf, mi, r, now):
    most = mi[_rule(mi, r) + RU_MAX]
    if most < 0 or si[si[S_RFIRED] + r] < most:
        si[si[S_RARMED] + r] = 1
        _check(si, sf, mi, r, now)


@njit(cache=True)
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
    else:
        si[si[S_REDIRECT] + target] = mi[b + RU_TO]
        _push(si, sf, now + duration, NORMAL, REROUTE_END, r, 0)


@njit(cache=True)
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
    elif kind == DOWN_CHECK and si[si[S_REPOCH] + a] == b:  # the spell it checks is still on
        _check(si, sf, mi, a, now)


# -- the loop ---------------------------------------------------------------------------
@njit(cache=True)
def _start(si, sf, mi):
    """Model._start_processes at t = 0 (reviews are done by the caller: they draw)."""
    for p in range(mi[M_NPOOL]):
        if mi[_pool(mi, p) + P_HAS_CAL]:
            _push(si, sf, 0.0, URGENT, INIT_SHIFT, p, 0)
    for p in range(mi[M_NPOOL]):
        b = _pool(mi, p)
        if mi[b + P_FAILS]:
            for u in range(mi[b + P_UNIT_LO], mi[b + P_UNIT_HI]):
                _push(si, sf, 0.0, URGENT, INIT_FAIL, u, 0)
    for s in range(mi[M_NMAT]):
        if mi[_mat(mi, s) + MT_DISRUPT]:
            _push(si, sf, 0.0, URGENT, INIT_DISRUPT, s, 0)


@njit(cache=True)
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
    due = mf[mi[M_ARR_DUE] + k]
    sf[_entf(si, slot) + EF_DUE] = now + due if due >= 0.0 else -1.0
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


@njit(cache=True)
def _start_entity(si, sf, mi, mf, rg, slot, now):
    sf[_entf(si, slot) + EF_BORN] = now
    _level_add(sf, 0, now, 1.0, mf[F_WARMUP])
    _visit(si, sf, mi, mf, rg, slot, si[_ent(si, slot) + E_STEP], now)


@njit(cache=True)
def _next_arrival(si, sf, mi, mf, rg, k, now):
    b = mi[M_ARR] + ARR_W * k
    p = mi[b + A_PROFILE]
    if p < 0:
        gap = _sample(mi, mf, mi[b + A_DIST], _generator(rg, mi[b + A_STREAM]))
    else:  # SimPy engine: timeout(profile.next_arrival(now, E, horizon) - now)
        mass = _generator(rg, mi[b + A_STREAM]).exponential(1.0)
        gap = _profile_next(mf, mi[M_PROF] + PROF_W * p, now, mass, mf[F_HORIZON]) - now
    _push(si, sf, now + gap, NORMAL, ARRIVAL, k, 0)


@njit(cache=True)
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


@njit(cache=True)
def _handle(si, sf, mi, mf, rg, now, kind, a, b):
    if kind == HOLD_END:
        if si[_ent(si, a) + E_TOKEN] == b:  # else: the timeout of an interrupted hold
            _finish(si, sf, mi, mf, rg, a, now)
    elif kind == ARRIVAL:
        _arrival(si, sf, mi, mf, rg, a, now, -1)
    elif kind == INIT_ENTITY:
        _start_entity(si, sf, mi, mf, rg, a, now)
    elif kind == GRANTED:
        if si[_ent(si, a) + E_PHASE] == WAIT_UNITS:
            _after_units(si, sf, mi, mf, rg, a, now)
        else:
            _start_activity(si, sf, mi, mf, rg, a, now)
    elif kind == INTERRUPT:
        _interrupted(si, sf, a, now)
    elif kind == RESUME:
        _wait_or_hold(si, sf, a, now)  # `while job.down`: a unit may have failed meanwhile
    elif kind == INIT_ARRIVAL:
        _next_arrival(si, sf, mi, mf, rg, a, now)
    else:
        _handle_rare(si, sf, mi, mf, rg, now, kind, a, b)


@njit(cache=True)
def _handle_rare(si, sf, mi, mf, rg, now, kind, a, b):
    w = mf[F_WARMUP]
    if kind in (INIT_FAIL, REPAIR):
        ub = _unit(mi, a)
        p = mi[ub + U_POOL]
        if kind == REPAIR:
            _repair(si, sf, mi, a, now, w)
            if now >= w:
                si[si[S_EXTRA] + 1 + p] += 1
        uptime = _sample(mi, mf, mi[_pool(mi, p) + P_FAIL_UP], _generator(rg, mi[ub + U_UP_STREAM]))
        uptime = uptime / _stress_factor(mi, mf, FAILURE_RATE, p, now)
        _push(si, sf, now + uptime, NORMAL, FAIL, a, 0)
    elif kind == FAIL:
        _fail(si, sf, mi, a, now, w)
        ub = _unit(mi, a)
        d = mi[_pool(mi, mi[ub + U_POOL]) + P_FAIL_REPAIR]
        repair = _sample(mi, mf, d, _generator(rg, mi[ub + U_REPAIR_STREAM]))
        _push(si, sf, now + repair, NORMAL, REPAIR, a, 0)
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
    elif kind == INIT_DISRUPT:
        mb = _mat(mi, a)
        every = _sample(mi, mf, mi[mb + MT_EVERY], _generator(rg, mi[mb + MT_EVERY_STREAM]))
        _push(si, sf, now + every, NORMAL, DISRUPT_START, a, 0)
    elif kind == DISRUPT_START:
        _disrupt(si, sf, a, 1, now)
        mb = _mat(mi, a)
        duration = _sample(mi, mf, mi[mb + MT_DURATION], _generator(rg, mi[mb + MT_DURATION_STREAM]))
        _push(si, sf, now + duration, NORMAL, DISRUPT_END, a, 0)
    elif kind == DISRUPT_END:
        _disruption_end(si, sf, mi, mf, rg, a, now)
    else:
        _handle_policy(si, sf, mi, mf, rg, now, kind, a, b)


@njit(cache=True)
def _room(si, mi):
    """Whether every growable section can take one more event's worth of changes."""
    n_mat = mi[M_NMAT]
    if si[C_ENT_NEW] + 1 > si[K_ENT]:  # an arrival takes a fresh slot
        return False
    if si[C_HEAP] + si[C_ALIVE] + mi[M_ROOM_HEAP] > si[K_HEAP]:  # grants, holds, orders, rules
        return False
    if si[C_DEL_NEW] + n_mat + 1 > si[K_DEL]:
        return False
    return not (si[C_TRACE_ON] and si[C_TRACE] + si[C_DEL_LIVE] + mi[M_ROOM_TRACE] > si[K_TR])


@njit(cache=True)
def _run(si, sf, mi, mf, rg, po, at, n_samples, every):
    """Process events until the horizon (True) or until arrays must grow (False).

    State series (none when n_samples is 0): sample k, due at s = k * every, is the state
    after every event due before s, written to row k of `po` (see `_snapshot`) right before
    the first event due at or after s is popped; samples due after the last event are the
    final state. at[0] is the next sample to take (kept across growth). No event is
    scheduled for it, so the event order is the same with or without samples."""
    horizon = mf[F_HORIZON]
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
        while slot >= 0:
            _handle(si, sf, mi, mf, rg, now, GRANTED, slot, 0)
            slot = _next_grant(si, sf, mi, now)
    _snapshots(si, sf, mi, po, at, n_samples, every, math.inf, horizon)
    return True


# -- state series -------------------------------------------------------------------------
@njit(cache=True)
def series_width(mi):
    """Columns of a state sample: WIP, queue per activity, stock on hand per material, backlog."""
    return 2 + mi[M_NACT] + mi[M_NMAT]


@njit(cache=True)
def _next_stop(at, n_samples, every, horizon):
    if at[0] < n_samples:
        return min(horizon, at[0] * every)
    return horizon


@njit(cache=True)
def _snapshots(si, sf, mi, po, at, n_samples, every, t, horizon):
    """Take every sample due at or before t (all of them for t = inf); the next stop."""
    while at[0] < n_samples and at[0] * every <= t:
        _snapshot(si, sf, mi, po, at[0])
        at[0] += 1
    return _next_stop(at, n_samples, every, horizon)


@njit(cache=True)
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


# -- layout and growth ----------------------------------------------------------------
@njit(cache=True)
def _dispatch_size(mi, n_ent):
    """Dispatch heap bound: the first heads, then each grant pushes one head per pool it used."""
    return mi[M_NPOOL] + mi[M_NMAT] + n_ent * (mi[M_MOST] + 1)


@njit(cache=True)
def _layout(mi, k_ent, k_heap, k_del, k_tr):
    """Zeroed state arrays with their header filled in for these capacities."""
    n_pool, n_unit, n_mat, n_act = mi[M_NPOOL], mi[M_NUNIT], mi[M_NMAT], mi[M_NACT]
    n_rule = mi[M_NRULE]
    n_lines = n_pool + n_mat
    k_dh = _dispatch_size(mi, k_ent)
    ew = E_HELD + mi[M_HELD]
    h = np.zeros(S_HEADER, np.int64)
    h[K_ENT], h[K_HEAP], h[K_DH], h[K_DEL], h[K_TR], h[K_EW] = k_ent, k_heap, k_dh, k_del, k_tr, ew
    pos = S_HEADER
    for key, size in ((S_UJOB, n_unit), (S_UFAILED, n_unit), (S_ONDUTY, n_pool), (S_CALWK, n_pool),
                      (S_CALBI, n_pool), (S_CALCUR, n_pool), (S_TACOUNT, 2 + n_act), (S_COMPLETED, n_act),
                      (S_POSITION, n_mat), (S_REQUESTS, n_mat), (S_FILLED, n_mat), (S_DISRUPTED, n_mat),
                      (S_WHEAD, n_mat), (S_WTAIL, n_mat), (S_FREE, n_lines), (S_LHEAD, n_lines),
                      (S_LLEN, n_lines), (S_PLEVEL, n_pool), (S_PABSENT, n_pool), (S_PEXTRA, n_pool),
                      (S_PDOWN, n_pool), (S_EXTRA, 1 + n_pool + n_rule), (S_RARMED, n_rule),
                      (S_RFIRED, n_rule), (S_REPOCH, n_rule), (S_REDIRECT, n_act)):
        h[key] = pos
        pos += size
    h[S_FIXED_END] = pos
    for key, size in ((S_HEAP, HEAP_W * k_heap), (S_ENT, ew * k_ent), (S_LINES, n_lines * k_ent),
                      (S_DH, 2 * k_dh), (S_DEL, DEL_W * k_del), (S_TR, TR_W * k_tr)):
        h[key] = pos
        pos += size
    si = np.zeros(pos, np.int64)
    fpos = 3 * mi[M_NLV]
    h[SF_TA] = fpos
    fpos += 2 + n_act
    h[SF_RSINCE] = fpos
    fpos += n_rule
    h[SF_RTIMES] = fpos
    fpos += 2 * n_rule
    h[SF_FIXED_END] = fpos
    for key, size in ((SF_HEAP, k_heap), (SF_ENT, EF_W * k_ent), (SF_DEL, k_del), (SF_TR, k_tr)):
        h[key] = fpos
        fpos += size
    si[:S_HEADER] = h
    return si, np.zeros(fpos, np.float64)


@njit(cache=True)
def _new_state(mi, mf, trace_on):
    n_pool, n_unit, n_mat = mi[M_NPOOL], mi[M_NUNIT], mi[M_NMAT]
    k_heap = 64 + 2 * (n_unit + n_pool + 2 * n_mat + mi[M_NARR])
    si, sf = _layout(mi, 64, k_heap, 16 + n_mat, 64 + 4 * n_mat if trace_on else 0)
    si[C_TRACE_ON] = trace_on
    si[si[S_UJOB]:si[S_UJOB] + n_unit] = -1
    si[si[S_WHEAD]:si[S_WHEAD] + n_mat] = -1
    si[si[S_WTAIL]:si[S_WTAIL] + n_mat] = -1
    si[si[S_REDIRECT]:si[S_REDIRECT] + mi[M_NACT]] = -1
    si[si[S_RARMED]:si[S_RARMED] + mi[M_NRULE]] = 1
    sf[si[SF_RSINCE]:si[SF_RSINCE] + mi[M_NRULE]] = -1.0
    for r in range(mi[M_NRULE]):
        q = mi[M_RULE_F] + RULE_FW * r
        sf[si[SF_RTIMES] + 2 * r], sf[si[SF_RTIMES] + 2 * r + 1] = mf[q + RF_FOR], mf[q + RF_DELAY]
    for p in range(n_pool):
        b = _pool(mi, p)
        duty, cap = mi[b + P_DUTY0], mi[b + P_CAP]
        si[si[S_ONDUTY] + p] = duty
        si[si[S_CALCUR] + p] = duty
        si[si[S_PLEVEL] + p] = duty
        si[si[S_FREE] + p] = min(duty, cap)
        lv = mi[M_LV_POOL] + LV_PER_POOL * p
        sf[3 * (lv + 1)] = duty
        sf[3 * (lv + 2)] = cap
        sf[3 * (lv + 3)] = duty
    for s in range(n_mat):
        initial = mi[_mat(mi, s) + MT_INITIAL]
        si[si[S_POSITION] + s] = initial
        si[si[S_FREE] + n_pool + s] = initial
        lv = mi[M_LV_STOCK] + 2 * s
        sf[3 * lv] = initial
        sf[3 * (lv + 1)] = 1.0 if initial == 0 else 0.0
    return si, sf


@njit(cache=True)
def _copy(dst, d0, src, s0, n):
    for i in range(n):
        dst[d0 + i] = src[s0 + i]


@njit(cache=True)
def _grow(si, sf, mi):
    """Bigger state arrays: every tight section doubled, everything copied over."""
    n_mat = mi[M_NMAT]
    k_ent, k_heap, k_del, k_tr = si[K_ENT], si[K_HEAP], si[K_DEL], si[K_TR]
    if si[C_ENT_NEW] + 1 > k_ent:
        k_ent *= 2
    while si[C_HEAP] + si[C_ALIVE] + mi[M_ROOM_HEAP] > k_heap:
        k_heap *= 2
    while si[C_DEL_NEW] + n_mat + 1 > k_del:
        k_del *= 2
    while si[C_TRACE_ON] and si[C_TRACE] + si[C_DEL_LIVE] + mi[M_ROOM_TRACE] > k_tr:
        k_tr = 2 * k_tr + 64
    ni, nf = _layout(mi, k_ent, k_heap, k_del, k_tr)
    _copy(ni, 0, si, 0, N_COUNTERS)
    _copy(ni, S_HEADER, si, S_HEADER, si[S_FIXED_END] - S_HEADER)  # fixed sections: same offsets
    _copy(nf, 0, sf, 0, si[SF_FIXED_END])
    _copy(ni, ni[S_HEAP], si, si[S_HEAP], HEAP_W * si[K_HEAP])
    _copy(nf, ni[SF_HEAP], sf, si[SF_HEAP], si[K_HEAP])
    _copy(ni, ni[S_ENT], si, si[S_ENT], si[K_EW] * si[K_ENT])
    _copy(nf, ni[SF_ENT], sf, si[SF_ENT], EF_W * si[K_ENT])
    old_cap = si[K_ENT]
    for line in range(mi[M_NPOOL] + n_mat):  # ring buffers, each unwrapped to start at 0
        head = si[si[S_LHEAD] + line]
        for i in range(si[si[S_LLEN] + line]):
            ni[ni[S_LINES] + line * k_ent + i] = si[si[S_LINES] + line * old_cap + (head + i) % old_cap]
        ni[ni[S_LHEAD] + line] = 0
    _copy(ni, ni[S_DEL], si, si[S_DEL], DEL_W * si[K_DEL])
    _copy(nf, ni[SF_DEL], sf, si[SF_DEL], si[K_DEL])
    _copy(ni, ni[S_TR], si, si[S_TR], TR_W * si[K_TR])
    _copy(nf, ni[SF_TR], sf, si[SF_TR], si[K_TR])
    return ni, nf


@njit(cache=True)
def _simulate(mi, mf, rg, trace_on, out, every):
    """One replication on arrays; every helper below works on their raw data pointers.
    `out`: room for the state series (n_samples x series_width floats, flat; may be empty)."""
    n_samples = out.size // series_width(mi)
    at = np.zeros(1, np.int64)
    po, pat = _data(out), _data(at)
    si, sf = _new_state(mi, mf, trace_on)
    pi, pf, pmi, pmf, prg = _data(si), _data(sf), _data(mi), _data(mf), _data(rg)
    _start(pi, pf, pmi)
    for s in range(mi[M_NMAT]):  # initial reviews, after disruptions start
        _review(pi, pf, pmi, pmf, prg, s, 0.0)
    for k in range(mi[M_NARR]):
        _push(pi, pf, 0.0, URGENT, INIT_ARRIVAL, k, 0)
    for j in range(mi[M_NSTRESS]):  # processes of the windows that act in time
        kind = mi[mi[M_STRESS] + STRESS_W * j + ST_KIND]
        if kind != FAILURE_RATE and kind != LEAD_TIME:
            _push(pi, pf, 0.0, URGENT, INIT_STRESS, j, 0)
    while not _run(_data(si), _data(sf), pmi, pmf, prg, po, pat, n_samples, every):
        si, sf = _grow(si, sf, mi)
    return si, sf


# -- results ------------------------------------------------------------------------------
@njit(cache=True)
def _stats_sizes(mi):
    n_act, n_mat = mi[M_NACT], mi[M_NMAT]
    extra = 1 + mi[M_NPOOL] + mi[M_NRULE]
    return 1 + (2 + n_act) + n_act + 2 * n_mat + extra, 3 * mi[M_NLV] + 2 + n_act


@njit(cache=True)
def _stats(si, sf, mi, oi, of):
    """Copy the KPI inputs: oi = [events, tally counts, completed, requests, filled, late,
    repairs per pool, activations per rule], of = [levels (value, last, area) ..., tally
    totals]."""
    n_act, n_mat = mi[M_NACT], mi[M_NMAT]
    oi[0] = si[C_EVENTS]
    _copy(oi, 1, si, si[S_TACOUNT], 2 + n_act)
    _copy(oi, 3 + n_act, si, si[S_COMPLETED], n_act)
    _copy(oi, 3 + 2 * n_act, si, si[S_REQUESTS], n_mat)
    _copy(oi, 3 + 2 * n_act + n_mat, si, si[S_FILLED], n_mat)
    _copy(oi, 3 + 2 * n_act + 2 * n_mat, si, si[S_EXTRA], 1 + mi[M_NPOOL] + mi[M_NRULE])
    _copy(of, 0, sf, 0, 3 * mi[M_NLV])
    _copy(of, 3 * mi[M_NLV], sf, si[SF_TA], 2 + n_act)


@njit(cache=True)
def simulate_kernel(mi, mf, rg, trace_on, n_samples, every):
    """One replication. `mi`, `mf`: `pack_twin` arrays; `rg`: `rng_table` of the Generators
    of the compiled twin's `sources`, in that order; `n_samples` state samples at times
    k * every (see `_run`). Returns (stats ints, stats floats, trace times, trace rows (kind,
    subject, name), series (n_samples x series_width, flat)); see `_stats`.
    """
    series = np.zeros(n_samples * series_width(mi), np.float64)
    si, sf = _simulate(mi, mf, rg, trace_on, series, every)
    ni, nf = _stats_sizes(mi)
    oi, of = np.zeros(ni, np.int64), np.zeros(nf, np.float64)
    _stats(si, sf, mi, oi, of)
    n = si[C_TRACE]
    times = sf[si[SF_TR]:si[SF_TR] + n].copy()
    rows = si[si[S_TR]:si[S_TR] + TR_W * n].copy().reshape((n, TR_W))
    return oi, of, times, rows, series


@njit(cache=True, parallel=True)
def simulate_many(mi, mf, rg, n_samples, every):
    """Replications in parallel (prange); rg[i] is replication i's `rng_table`. Returns
    the stats of every replication as rows of two 2-D arrays (see `_stats`), and their
    state series as rows of a third (n_samples x series_width each, flat)."""
    n = rg.shape[0]
    ni, nf = _stats_sizes(mi)
    oi, of = np.zeros((n, ni), np.int64), np.zeros((n, nf), np.float64)
    series = np.zeros((n, n_samples * series_width(mi)), np.float64)
    for r in prange(n):
        si, sf = _simulate(mi, mf, rg[r], False, series[r], every)
        _stats(si, sf, mi, oi[r], of[r])
    return oi, of, series
