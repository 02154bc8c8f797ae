"""The data layout: the packed twin (`mi`, `mf`) and a replication's state (`si`, `sf`).

Holds the header and row constants of both (`M_*`, `F_*` and the row layouts `A_*`, `AC_*`,
`U_*`, `P_*`, `MT_*`, `ST_*`, `RU_*` of the packed twin; `C_*`, `K_*`, `S_*`, `SF_*` and
the rows `E_*`, `EF_*`, `H_*`, `D_*`, `TR_*` of the state), `pack_twin` (a
twin.compile.CompiledTwin as two flat arrays), the row helpers (`_act`, `_pool`, `_ent`,
...), `_layout` and `_new_state` (a replication's zeroed then initial state), `_room`
and `_grow` (when the growable sections might overflow, and bigger arrays with everything
copied over). Reference in the SimPy engine: what twin.engine_simpy.Model.__init__ builds
(its Pools, Stocks, FifoAllocators, Levels and Tallies), flattened; see the package
docstring for why the state is two flat arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable

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
# Classes: counts and flags; per activity x class rows (CA_*); all successor rows' CSR pointers
# (rows 0..n_act-1 the activities' own, then per-class branches); per arrival its class rows
# (ACL_*: lo, hi, stream), the class of each row, and in mf each row's probability and due
# allowance (-1: none); in mf the join probabilities (AC_JOIN_LO..AC_JOIN_HI per activity).
M_NCLS, M_USES_CLS, M_HAS_PRIO, M_CLS_ACT, M_SUCC_PTR, M_ARR_CLS, M_CLS_OF = 37, 38, 39, 40, 41, 42, 43
M_CLS_P, M_CLS_DUE, M_JOIN_P = 44, 45, 46
M_CARRY = 47  # 1 if some activity blocks when full: entity rows then end in E_CARRY, E_BNEXT
M_QUEUEING = 48  # 1 if some activity has patience, a waiting room, balking or preemption
M_ST_CLS = 49  # per stress: its own class rows (ACL_LO, ACL_HI; equal: the stream's) and stream
# Planned maintenance and crews: per pool in mf its age limit (inf: none), and all weekly
# maintenance times (P_CARE_LO..P_CARE_HI per pool). A crew is a hidden activity row after the
# n_act real ones (M_NACT counts only those), whose unit requests are the crew: a repair or a
# maintenance asks for it with a slot of the entity table, as work asks for its units.
M_CARE_EVERY, M_CARE_TIMES = 50, 51
# Batches: 1 if some activity batches (entity rows then have two more words, see _bwords), and
# in mf each activity's batch timeout (inf: none).
M_BATCH, M_BATCH_F = 52, 53
M_MAKE = 54  # 1 if some activity produces stock
M_MAT_F = 55  # per material in mf: periodic review (period, first review time), MATF_W floats
M_NSUP, M_SUP, M_SUP_F = 56, 57, 58  # suppliers: count, int rows (SU_*), each one's share in mf
M_SETUP = 59  # 1 if some activity takes set-ups: units then remember the class they last served
M_WEAR = 60  # bit 1: some pool wears by operating time, bit 2: by jobs (P_WEAR: 1, 2)
M_NSTATE = 61  # entities started from a state (twin.starting): numbers 1..M_NSTATE, rows at SF_PRESET
M_HEADER = 62
F_HORIZON, F_WARMUP = 0, 1  # mf[0], mf[1]
# Row layouts.
A_DIST, A_ROUTE, A_STREAM, A_PROFILE = 0, 1, 2, 3  # A_PROFILE: -1 renewal, else profile row
A_CLASS, ARR_W = 4, 5  # A_CLASS: the class of its entities where the twin does not use classes
HOURS_PER_WEEK = 168
ST_KIND, ST_TARGET, ST_UNITS, ST_STREAM, ST_SUPPLIER, STRESS_W = 0, 1, 2, 3, 4, 5  # ST_SUPPLIER -1: all
STF_START, STF_END, STF_FACTOR, STF_MEAN, STRESS_FW = 0, 1, 2, 3, 4
OUTAGE, EQUIPMENT_DOWN, ABSENCE, DEMAND_SURGE, FAILURE_RATE, LEAD_TIME = 0, 1, 2, 3, 4, 5  # STRESS_CODES
RU_TRIGGER, RU_WATCH, RU_LEVEL, RU_ACTION, RU_TARGET, RU_TO, RU_AMOUNT = 0, 1, 2, 3, 4, 5, 6
RU_LEAD, RU_LEAD_STREAM, RU_MAX, RULE_W = 7, 8, 9, 10
RF_FOR, RF_DELAY, RF_DURATION, RULE_FW = 0, 1, 2, 3
ON_STOCK, ON_QUEUE, ON_DOWN = 0, 1, 2  # TRIGGER_CODES
DO_ORDER, DO_OVERTIME, DO_REROUTE, DO_SWITCH = 0, 1, 2, 3  # ACTION_CODES
LV_PER_POOL = 5  # busy, available, up, on duty, overtime
PROF_W = 2 + HOURS_PER_WEEK
AC_DUR, AC_DUR_STREAM, AC_BRANCH, AC_CAN_FAIL, AC_REQ, AC_SUCC_LO, AC_SUCC_HI = 0, 1, 2, 3, 4, 8, 9
# AC_HOURS: -1 clock time, else the profile row of its working time; AC_ALT_*: its skilled pools
AC_HOURS, AC_ALT_LO, AC_ALT_HI = 10, 11, 12
# waiting: patience stream, waiting room (-1: unbounded), join probabilities, balk stream, where
# those who renege or are turned away go (-1: leave), whether a higher class preempts
AC_PATIENCE_STREAM, AC_QCAP, AC_JOIN_LO, AC_JOIN_HI, AC_BALK_STREAM = 13, 14, 15, 16, 17
AC_ABANDON_TO, AC_LOST_TO, AC_PREEMPT, AC_BLOCK = 18, 19, 20, 21  # AC_BLOCK: when_full block
AC_BATCH, AC_BATCH_MIN = 22, 23  # batch size (0: none), the fewest after its timeout
AC_MAKE_LO, AC_MAKE_HI = 24, 25  # pair indices (line, amount) of what it produces
AC_SETUP_STREAM, ACT_W = 26, 27  # -1: no set-ups
CA_LEVEL, CA_DUR, CA_PATIENCE, CA_SUCC, CA_SETUP, CLS_ACT_W = 0, 1, 2, 3, 4, 5  # activity x class rows
ACL_LO, ACL_HI, ACL_STREAM, ARR_CLS_W = 0, 1, 2, 3  # per arrival: its class rows
LEVEL_SHIFT = 40  # request key = level << LEVEL_SHIFT + request seq (twin.allocation)
U_POOL, U_INDEX, U_UP_STREAM, U_REPAIR_STREAM, U_CARE_STREAM, UNIT_W = 0, 1, 2, 3, 4, 5
P_CAP, P_DUTY0, P_UNIT_LO, P_UNIT_HI, P_HAS_CAL, P_CAL_LO, P_CAL_HI = 0, 1, 2, 3, 4, 5, 6
P_FAILS, P_FAIL_UP, P_FAIL_REPAIR = 7, 8, 9
# planned maintenance (weekly times P_CARE_LO..P_CARE_HI), the crews' hidden activities (-1: none)
P_CARE, P_CARE_DUR, P_CARE_LO, P_CARE_HI, P_CREW, P_CARE_CREW = 10, 11, 12, 13, 14, 15
P_WEAR, POOL_W = 16, 17  # how its units age: 0 calendar, 1 operating time, 2 jobs
MT_INITIAL, MT_POLICY, MT_POINT, MT_UP_TO, MT_QUANTITY = 0, 1, 2, 3, 4
# MT_SUP_LO..MT_SUP_HI: its supplier rows; MT_CHOICE_STREAM: the draw of a split by share (-1: none)
MT_SUP_LO, MT_SUP_HI, MT_CHOICE_STREAM = 5, 6, 7
MT_SHORTAGE, MAT_W = 8, 9  # MT_SHORTAGE 1: a request finding too little on hand is lost
SU_MAT, SU_LEAD, SU_LEAD_STREAM, SU_DISRUPT, SU_EVERY, SU_DURATION = 0, 1, 2, 3, 4, 5
SU_EVERY_STREAM, SU_DURATION_STREAM, SU_NAMED, SUP_W = 6, 7, 8, 9  # SU_NAMED: one of `suppliers`
MTF_REVIEW, MTF_FIRST, MATF_W = 0, 1, 2
# MT_POLICY codes (twin.compile): none, (s,S), (r,Q), periodic up to (MT_POINT -1: no point)
POLICY_NONE, POLICY_UP_TO, POLICY_QUANTITY, POLICY_PERIODIC = 0, 1, 2, 3
# AC_REQ..AC_REQ+3: (lo, hi) pair indices of the unit requests, then of the stock requests;
# pair k is (line, amount) at mi[mi[M_REQ] + 2k]; line = pool, or n_pools + material.

# -- the state (si: int64, sf: float64) ------------------------------------------------------
C_SEQ, C_HEAP, C_ENTITIES, C_ALIVE, C_EVENTS, C_TRACE, C_TRACE_ON = 0, 1, 2, 3, 4, 5, 6
C_MADE = 7  # 7: unit requests made, 8: stock requests made
C_ENT_FREE, C_ENT_NEW, C_DEL_FREE, C_DEL_NEW, C_DEL_LIVE = 9, 10, 11, 12, 13
C_PHEAD, C_PTAIL = 14, 15  # grants not yet pushed (see events._defer_grant), as entity slot + 1; 0: none
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
S_QCOUNT = 63  # per activity: reached, abandoned, lost, balked (after the warm-up)
# Blocking: per activity the first and last entity blocked before it (slot + 1; 0: none), and
# a deadlock found: [found, then per activity 1 if it is among the locked ones]; its time.
S_BHEAD, S_BTAIL, S_DEAD, SF_DEAD = 64, 65, 66, 67
S_CLSDUE = 68  # per class: due entities leaving after the warm-up, and how many were late
S_CARE, SF_CREW = 69, 70  # per pool: (maintenances, crew waits) after the warm-up; the waits' total
S_BFORM = 71  # per activity: the batch gathering there (slot + 1; 0: none)
S_LOSTS = 72  # per material: requests lost for want of stock (shortage: lose), after the warm-up
S_SUPORD, S_SWITCH = 73, 74  # orders per supplier after the warm-up; per material a switch (-1: none)
S_ULAST, S_SETUPS = 75, 76  # per unit the class it last served (-1: none); per activity set-ups
# Wear by use, per unit: ints (wearing, for maintenance, up spell number, token of its wear
# timeout or -1), floats (use left, working since).
S_UWEAR, SF_UWEAR = 77, 78
UW_WEARING, UW_KIND, UW_CYCLE, UW_TIMER, UWEAR_W = 0, 1, 2, 3, 4
# A state's entities: per entity its start row (twin.starting.ROW floats), and what of it is
# still to apply (1: its first visit's since; 2: in service, its remaining duration; 0: none).
S_PENDING, SF_PRESET = 79, 80
SF_UDOWN = 81  # per unit: the repair time left of a unit down at a state's time (nan: none)
# A start row's columns: twin.starting's KIND..REMAINING (the kernels import nothing else of twin;
# tests/test_forecast.py checks they agree).
PRE_KIND, PRE_STEP, PRE_CLASS, PRE_SINCE, PRE_BORN, PRE_DUE, PRE_REMAINING, ROW = range(8)
PRESET_WAITING, PRESET_SERVING, PRESET_BETWEEN = 0, 1, 2
PRO_MATERIAL, PRO_SUPPLIER, PRO_QUANTITY, PRO_LEAD, PRO_W = range(5)  # twin.starting's ORDER row
S_HEADER = 82
# sf starts with the levels, 3 floats each (value, last, area). Level rows: 0 wip, 1+a queue
# of activity a, then 5 per pool (busy, available, up, on duty, overtime), then 2 per
# material (on hand, empty). Tally rows (count in si, total in sf): 0 cycle time, 1+a wait
# at activity a, 1+n_act tardiness, then (when the twin uses classes) 2+n_act+a*n_cls+c the
# wait of class c at activity a and 2+n_act+n_act*n_cls+c the cycle time of class c.
# Entity rows (int): number, step, phase, down, running, resume, token, units held, a slot of
# the free-slot stack, request key per allocator (level << LEVEL_SHIFT + seq), granted flags
# (bit al), class, then the held units (a skilled step's unit of its `one_of` pool last).
# 16 words for a one-unit step: the row width M/M/c runs fastest with. Where some activity
# blocks when full, rows end in two more words (at K_EW - 2, K_EW - 1): the number of units
# carried from the step before (the first held units) and the next entity blocked before the
# same activity (slot + 1; 0: none). Where some activity batches, two words follow the held
# units (`_bwords`). A batch is a row of its own: number and class of its first member, its
# step, its members (counted in E_DOWN, its timeout passed in E_RESUME, while it gathers).
E_NUM, E_STEP, E_PHASE, E_DOWN, E_RUNNING, E_RESUME, E_TOKEN, E_NHELD, E_FREE = range(9)
E_SEQ, E_GRANTED, E_CLASS, E_PKEY, E_PNEXT, E_HELD = 9, 11, 12, 13, 14, 15
EF_BORN, EF_QUEUED, EF_STARTED, EF_REMAINING, EF_DUE, EF_W = 0, 1, 2, 3, 4, 5  # EF_DUE -1: none
H_KEY, H_KIND, H_A, H_B, HEAP_W = 0, 1, 2, 3, 4  # heap rows (int); times in sf
D_STOCK, D_QTY, D_NEXT, D_FREE, D_SUP, DEL_W = 0, 1, 2, 3, 4, 5  # delivery rows (int); lead in sf
TR_KIND, TR_SUBJECT, TR_NAME, TR_W = 0, 1, 2, 3  # trace rows (int); times in sf


def pack_twin(c) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """CompiledTwin -> (mi, mf), the kernel's two flat arrays (see the package docstring)."""
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
    held, most, blocking = 1, 1, 0
    for a in range(n_act):
        lo, hi = c.need_ptr[a], c.need_ptr[a + 1]
        act[a, AC_REQ], act[a, AC_REQ + 1] = len(req), len(req) + hi - lo
        req += [(int(c.need_pool[k]), int(c.need_amount[k])) for k in range(lo, hi)]
        alo, ahi = c.alt_ptr[a], c.alt_ptr[a + 1]
        act[a, AC_ALT_LO], act[a, AC_ALT_HI] = alo, ahi
        held = max(held, int(c.need_amount[lo:hi].sum()) + int(ahi > alo))
        if c.act_block[a]:
            blocking = max(blocking, int(c.need_amount[lo:hi].sum()) + int(ahi > alo))
        ulo, uhi = c.use_ptr[a], c.use_ptr[a + 1]
        act[a, AC_REQ + 2], act[a, AC_REQ + 3] = len(req), len(req) + uhi - ulo
        req += [(n_pool + int(c.use_mat[k]), int(c.use_amount[k])) for k in range(ulo, uhi)]
        most = max(most, int(hi - lo + ahi - alo), int(uhi - ulo))
        mlo, mhi = c.make_ptr[a], c.make_ptr[a + 1]
        act[a, AC_MAKE_LO], act[a, AC_MAKE_HI] = len(req), len(req) + mhi - mlo
        req += [(n_pool + int(c.make_mat[k]), int(c.make_amount[k])) for k in range(mlo, mhi)]
    act[:, AC_DUR], act[:, AC_DUR_STREAM] = c.act_dur, c.act_dur_stream
    act[:, AC_BRANCH], act[:, AC_CAN_FAIL] = c.act_branch_stream, c.act_can_fail
    act[:, AC_SUCC_LO], act[:, AC_SUCC_HI] = c.succ_ptr[:n_act], c.succ_ptr[1:n_act + 1]
    act[:, AC_HOURS] = c.act_hours
    act[:, AC_PATIENCE_STREAM], act[:, AC_QCAP] = c.act_patience_stream, c.act_qcap
    act[:, AC_JOIN_LO], act[:, AC_JOIN_HI] = c.join_ptr[:-1], c.join_ptr[1:]
    act[:, AC_BALK_STREAM] = c.act_balk_stream
    act[:, AC_ABANDON_TO], act[:, AC_LOST_TO] = c.act_abandon_to, c.act_lost_to
    act[:, AC_PREEMPT], act[:, AC_BLOCK] = c.act_preempt, c.act_block
    act[:, AC_BATCH], act[:, AC_BATCH_MIN] = c.act_batch, c.act_batch_min
    head[M_BATCH] = int(c.act_batch.any())
    head[M_MAKE] = int(len(c.make_mat) > 0)
    act[:, AC_SETUP_STREAM] = c.act_setup_stream
    head[M_SETUP] = int((c.act_setup_stream >= 0).any())
    head[M_WEAR] = int((c.pool_wear == 1).any()) + 2 * int((c.pool_wear == 2).any())
    n_crew = len(c.crew_level)
    crews = np.zeros((n_crew, ACT_W), np.int64)  # hidden activities: only their unit requests
    crews[:, AC_ABANDON_TO:AC_LOST_TO + 1] = -1
    crews[:, AC_QCAP], crews[:, AC_HOURS], crews[:, AC_PATIENCE_STREAM], crews[:, AC_BRANCH] = -1, -1, -1, -1
    for k in range(n_crew):
        lo, hi = c.crew_ptr[k], c.crew_ptr[k + 1]
        crews[k, AC_REQ], crews[k, AC_REQ + 1] = len(req), len(req) + hi - lo
        crews[k, AC_REQ + 2], crews[k, AC_REQ + 3] = len(req) + hi - lo, len(req) + hi - lo
        req += [(int(c.crew_pool[i]), int(c.crew_amount[i])) for i in range(lo, hi)]
        held = max(held, int(c.crew_amount[lo:hi].sum()))
        most = max(most, int(hi - lo))
    act = np.vstack([act, crews])
    n_cls = int(c.cls_flags[0])
    crew_cls = np.zeros((n_crew * n_cls, CLS_ACT_W), np.int64)  # every class row: the crew's level
    crew_cls[:, CA_LEVEL] = np.repeat(c.crew_level, n_cls)
    crew_cls[:, CA_DUR], crew_cls[:, CA_PATIENCE], crew_cls[:, CA_SETUP] = -1, -1, -1
    unit_index = np.array([u - c.unit_ptr[p] for u, p in enumerate(c.unit_pool)], np.int64)
    crew_act = np.where(c.pool_crew >= 0, n_act + c.pool_crew, -1).reshape(-1, 2)
    pool = np.column_stack([c.pool_cap, c.pool_on_duty0, c.unit_ptr[:-1], c.unit_ptr[1:], c.pool_has_cal,
                            c.cal_ptr[:-1], c.cal_ptr[1:], c.pool_fails, c.fail_up, c.fail_repair,
                            c.pool_care, c.care_dur, c.care_ptr[:-1], c.care_ptr[1:], crew_act[:, 0],
                            crew_act[:, 1], c.pool_wear])
    mat = np.column_stack([c.mat_initial, c.mat_policy, c.mat_point, c.mat_up_to, c.mat_quantity,
                           c.mat_sup_ptr[:-1], c.mat_sup_ptr[1:], c.mat_choice_stream, c.mat_shortage])
    n_sup = len(c.sup_lead)
    sup_mat = np.repeat(np.arange(n_mat), np.diff(c.mat_sup_ptr))
    sup = np.column_stack([sup_mat, c.sup_lead, c.sup_lead_stream, c.sup_disrupt, c.sup_every, c.sup_duration,
                           c.sup_every_stream, c.sup_duration_stream, c.sup_named])
    head[M_NACT], head[M_NPOOL], head[M_NUNIT], head[M_NMAT] = n_act, n_pool, n_unit, n_mat
    head[M_NARR], head[M_NDIST] = n_arr, n_dist
    head[M_NLV] = 1 + n_act + LV_PER_POOL * n_pool + 2 * n_mat
    head[M_HELD], head[M_MOST] = held + blocking, most  # blocked: the units carried, then its own
    head[M_CARRY] = int(blocking > 0)
    head[M_QUEUEING] = int(bool((c.act_patience_stream >= 0).any() or (c.act_qcap >= 0).any()
                                or (c.join_ptr[1:] > c.join_ptr[:-1]).any() or c.act_preempt.any()))
    head[M_LV_POOL], head[M_LV_STOCK] = 1 + n_act, 1 + n_act + LV_PER_POOL * n_pool
    n_rule = len(c.ru_trigger)
    head[M_NSTRESS], head[M_NRULE] = len(c.st_kind), n_rule
    # Heap items one event may add beyond one per live entity: orders, interrupts of units
    # failing together, rule firings and their follow-ups; trace rows beyond deliveries:
    # orders, grants (one per unit), units failing together, rule firings and backup orders.
    # A renege, a preemption or a chain of turned-away visits adds a few more of each.
    head[M_ROOM_HEAP] = n_mat + n_unit + 3 * n_rule + 12
    head[M_ROOM_TRACE] = 3 * n_mat + 3 * n_unit + 3 * n_rule + 2 * n_act + 12  # + a skilled pool per grant
    head[M_NCLS], head[M_USES_CLS], head[M_HAS_PRIO] = c.cls_flags
    put(M_DCODE, c.dist_code)
    put(M_EMP_PTR, c.emp_ptr)
    put(M_ARR, np.column_stack([c.arr_dist, c.arr_route, c.arr_stream, c.arr_profile,
                                c.arr_cls[c.arr_cls_ptr[:-1]]]))
    put(M_ACT, act)
    put(M_REQ, np.array(req, np.int64).reshape(-1, 2))
    put(M_SUCC_TO, c.succ_to)
    put(M_UNIT, np.column_stack([c.unit_pool, unit_index, c.unit_up_stream, c.unit_repair_stream,
                                 c.unit_care_stream]))
    put(M_POOL, pool.reshape(n_pool, POOL_W))
    put(M_CAL_LEVELS, c.cal_levels)
    put(M_MAT, mat.reshape(n_mat, MAT_W))
    put(M_DPAR, c.dist_par, 1)
    put(M_EMP_VAL, c.emp_val, 1)
    put(M_SUCC_P, c.succ_p, 1)
    put(M_CAL_POINTS, c.cal_points, 1)
    put(M_POOL_F, np.column_stack([c.cal_week, c.cal_offset]), 1)
    put(M_PROF, np.column_stack([c.prof_clock, c.prof_rates]), 1)
    put(M_STRESS, np.column_stack([c.st_kind, c.st_target, c.st_units, c.st_stream, c.st_supplier]))
    put(M_STRESS_F, np.column_stack([c.st_window, c.st_factor, c.st_mean]), 1)
    put(M_RULE, np.column_stack([c.ru_trigger, c.ru_watch, c.ru_level, c.ru_action, c.ru_target, c.ru_to,
                                 c.ru_amount, c.ru_lead, c.ru_lead_stream, c.ru_max]))
    put(M_RULE_F, c.ru_times, 1)
    put(M_ARR_DUE, c.arr_due, 1)
    put(M_ALT, np.column_stack([c.alt_pool, c.alt_dur]).reshape(-1, 2))
    put(M_CLS_ACT, np.vstack([np.column_stack([c.act_level, c.act_cdur, c.act_patience, c.act_csucc,
                                               c.act_csetup]),
                              crew_cls]))
    put(M_SUCC_PTR, c.succ_ptr)
    put(M_ARR_CLS, np.column_stack([c.arr_cls_ptr[:-1], c.arr_cls_ptr[1:], c.arr_cls_stream]))
    put(M_CLS_OF, c.arr_cls)
    put(M_CLS_P, c.arr_cls_p, 1)
    put(M_CLS_DUE, c.arr_cls_due, 1)
    put(M_JOIN_P, c.join_p, 1)
    put(M_ST_CLS, c.st_cls)
    put(M_CARE_EVERY, c.care_every, 1)
    put(M_CARE_TIMES, c.care_times, 1)
    put(M_BATCH_F, c.act_batch_timeout, 1)
    put(M_MAT_F, c.mat_review, 1)
    head[M_NSUP] = n_sup
    put(M_SUP, sup.reshape(n_sup, SUP_W))
    put(M_SUP_F, c.sup_share, 1)
    return np.concatenate(ints), np.concatenate(floats)


# -- row access --------------------------------------------------------------------------
@njit
def _act(mi, a):
    return mi[M_ACT] + ACT_W * a


@njit
def _unit(mi, u):
    return mi[M_UNIT] + UNIT_W * u


@njit
def _pool(mi, p):
    return mi[M_POOL] + POOL_W * p


@njit
def _mat(mi, s):
    return mi[M_MAT] + MAT_W * s


@njit
def _sup(mi, v):
    return mi[M_SUP] + SUP_W * v


@njit
def _ent(si, slot):
    return si[S_ENT] + si[K_EW] * slot


@njit
def _entf(si, slot):
    return si[SF_ENT] + EF_W * slot


@njit
def _bwords(si, mi, e):
    """Where row `e` keeps its batch words (after its held units, before the carried ones): a
    member the next member (slot + 1; 0: none), a batch its first and last members."""
    return e + E_HELD + mi[M_HELD]


@njit
def _cls_act(mi, a, klass):
    """Row of activity a x class `klass` (CA_*)."""
    return mi[M_CLS_ACT] + CLS_ACT_W * (a * mi[M_NCLS] + klass)


@register_jitable  # called with constant arguments: see the note above events._push
def _reqs(mi, al, a):
    """(lo, hi) pair indices of activity a's requests to allocator al (0 units, 1 stock)."""
    b = _act(mi, a) + AC_REQ + 2 * al
    return mi[b], mi[b + 1]


# -- layout and growth ----------------------------------------------------------------
@njit
def _tallies(mi):
    """Tally rows: cycle time, waits, tardiness, then per-class waits and cycle times."""
    n_act, n_cls = mi[M_NACT], mi[M_NCLS]
    return 2 + n_act + (n_act * n_cls + n_cls if mi[M_USES_CLS] else 0)


@njit
def _dispatch_size(mi, n_ent):
    """Dispatch heap bound: the first heads, then each grant pushes one head per pool it used."""
    return mi[M_NPOOL] + mi[M_NMAT] + n_ent * (mi[M_MOST] + 1)


@njit
def _layout(mi, k_ent, k_heap, k_del, k_tr):
    """Zeroed state arrays with their header filled in for these capacities."""
    n_pool, n_unit, n_mat, n_act = mi[M_NPOOL], mi[M_NUNIT], mi[M_NMAT], mi[M_NACT]
    n_rule, n_sup = mi[M_NRULE], mi[M_NSUP]
    n_lines = n_pool + n_mat
    k_dh = _dispatch_size(mi, k_ent)
    ew = E_HELD + mi[M_HELD] + 2 * mi[M_CARRY] + 2 * mi[M_BATCH]
    h = np.zeros(S_HEADER, np.int64)
    h[K_ENT], h[K_HEAP], h[K_DH], h[K_DEL], h[K_TR], h[K_EW] = k_ent, k_heap, k_dh, k_del, k_tr, ew
    pos = S_HEADER
    for key, size in ((S_UJOB, n_unit), (S_UFAILED, n_unit), (S_ONDUTY, n_pool), (S_CALWK, n_pool),
                      (S_CALBI, n_pool), (S_CALCUR, n_pool), (S_TACOUNT, _tallies(mi)), (S_COMPLETED, n_act),
                      (S_POSITION, n_mat), (S_REQUESTS, n_mat), (S_FILLED, n_mat), (S_DISRUPTED, n_sup),
                      (S_WHEAD, n_sup), (S_WTAIL, n_sup), (S_FREE, n_lines), (S_LHEAD, n_lines),
                      (S_LLEN, n_lines), (S_PLEVEL, n_pool), (S_PABSENT, n_pool), (S_PEXTRA, n_pool),
                      (S_PDOWN, n_pool), (S_EXTRA, 1 + n_pool + n_rule), (S_RARMED, n_rule),
                      (S_RFIRED, n_rule), (S_REPOCH, n_rule), (S_REDIRECT, n_act), (S_QCOUNT, 4 * n_act),
                      (S_BHEAD, n_act), (S_BTAIL, n_act), (S_DEAD, 1 + n_act),
                      (S_CLSDUE, 2 * mi[M_NCLS]), (S_CARE, 2 * n_pool), (S_BFORM, n_act),
                      (S_LOSTS, n_mat), (S_SUPORD, n_sup), (S_SWITCH, n_mat), (S_ULAST, n_unit),
                      (S_SETUPS, n_act), (S_UWEAR, UWEAR_W * n_unit), (S_PENDING, mi[M_NSTATE])):
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
    fpos += _tallies(mi)
    h[SF_RSINCE] = fpos
    fpos += n_rule
    h[SF_RTIMES] = fpos
    fpos += 2 * n_rule
    h[SF_DEAD] = fpos
    fpos += 1
    h[SF_CREW] = fpos
    fpos += n_pool
    h[SF_UWEAR] = fpos
    fpos += 2 * n_unit
    h[SF_PRESET] = fpos
    fpos += ROW * mi[M_NSTATE]
    h[SF_UDOWN] = fpos
    fpos += n_unit
    h[SF_FIXED_END] = fpos
    for key, size in ((SF_HEAP, k_heap), (SF_ENT, EF_W * k_ent), (SF_DEL, k_del), (SF_TR, k_tr)):
        h[key] = fpos
        fpos += size
    si[:S_HEADER] = h
    return si, np.zeros(fpos, np.float64)


@njit
def _new_state(mi, mf, trace_on, n_orders):
    """A replication's state at t = 0, with room for a state's entities and `n_orders` open orders."""
    n_pool, n_unit, n_mat = mi[M_NPOOL], mi[M_NUNIT], mi[M_NMAT]
    k_heap = 64 + 2 * (n_unit + n_pool + 2 * n_mat + mi[M_NARR] + mi[M_NSTATE] + n_orders)
    si, sf = _layout(mi, 64 + mi[M_NSTATE], k_heap, 16 + n_mat + n_orders, 64 + 4 * n_mat if trace_on else 0)
    si[C_TRACE_ON] = trace_on
    si[si[S_UJOB]:si[S_UJOB] + n_unit] = -1
    si[si[S_WHEAD]:si[S_WHEAD] + mi[M_NSUP]] = -1
    si[si[S_WTAIL]:si[S_WTAIL] + mi[M_NSUP]] = -1
    si[si[S_SWITCH]:si[S_SWITCH] + n_mat] = -1
    si[si[S_ULAST]:si[S_ULAST] + n_unit] = -1
    for u in range(n_unit):
        si[si[S_UWEAR] + UWEAR_W * u + UW_TIMER] = -1
    si[si[S_REDIRECT]:si[S_REDIRECT] + mi[M_NACT]] = -1
    sf[si[SF_UDOWN]:si[SF_UDOWN] + n_unit] = math.nan
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


@njit
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


@register_jitable  # called with constant arguments: see the note above events._push
def _copy(dst, d0, src, s0, n):
    for i in range(n):
        dst[d0 + i] = src[s0 + i]


@njit
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
