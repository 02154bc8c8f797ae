"""Flatten a validated Twin into plain numpy arrays for the fast engine.

`compile_twin` is a pure function: the same spec gives equal arrays. Everything the
kernel needs is a number in an array; names (for the trace and the KPI keys) stay on
the spec. Tables:

- distributions: one row per distribution use, `dist_code` (see DIST_CODES) and up to
  three parameters in `dist_par`, already transformed exactly as
  `twin.distributions` transforms them before calling numpy (lognormal mean/sd ->
  mu/sigma, gamma mean/cv -> shape/scale); empirical values in CSR (`emp_ptr`, `emp_val`);
- random streams: `sources` holds the stream names (`twin.streams`); tables refer to
  streams by their position in it, and the wrapper creates them in that order;
- weekly rate profiles: `arr_profile` (row in the profile tables, -1: renewal arrivals
  from `arr_dist`), `prof_rates` (P, 168) arrivals per time unit per hour of the week and
  `prof_clock` (P, 2) one hour in time units and the week position of t = 0, exactly the
  floats of `twin.calendar.RateProfile`; activities with `working_hours` have their
  working time per time unit as further rows of the same tables (`act_hours`);
- variable-length lists (resources an activity needs, materials it consumes, its
  successors, shift breakpoints, units of a pool) are CSR: `X_ptr[i]:X_ptr[i+1]`;
- classes: `cls_flags` [number of classes, uses classes, has priorities]; per arrival its
  classes in CSR (`arr_cls_*`: class index, probability, due allowance or -1) and its class
  stream (-1: one class, no draw); per activity x class (row-major, `a * n_classes + c`) the
  priority level, duration row (-1: the activity's) and patience row (-1: none), and the
  successor row: rows 0..n_act-1 of `succ_ptr` are the activities' own successors, later
  rows are per-class branches (`class_next`); per activity the waiting room (-1: unbounded),
  the join probabilities in CSR, and where those who renege or are turned away go (-1: leave);
- stresses (`st_*`, one row per window, codes STRESS_CODES) and contingency rules (`ru_*`,
  one row per rule; TRIGGER_CODES, ACTION_CODES); `arr_due` is each arrival's due
  allowance (-1: none).
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import NamedTuple

import numpy as np

from twin import streams
from twin.calendar import HOURS_PER_WEEK
from twin.distributions import Lognormal
from twin.policies import NEEDS_UNITS, STRESS_TARGETS, QueueAbove, Rule, StockBelow, Stress
from twin.spec import EXIT, Twin

DIST_CODES = {
    "exponential": 0, "gamma": 1, "lognormal": 2, "normal": 3, "weibull": 4,
    "uniform": 5, "triangular": 6, "constant": 7, "empirical": 8,
}
POLICY_NONE, POLICY_UP_TO, POLICY_QUANTITY, POLICY_PERIODIC = 0, 1, 2, 3
STRESS_CODES = {
    "supplier_outage": 0, "equipment_down": 1, "staff_absence": 2, "demand_surge": 3,
    "failure_rate": 4, "lead_time": 5,
}
WEAR_CODES = {"calendar": 0, "operating": 1, "jobs": 2}
TRIGGER_CODES = {"stock": 0, "queue": 1, "down": 2}
ACTION_CODES = {"order": 0, "overtime": 1, "reroute": 2, "switch": 3}


class CompiledTwin(NamedTuple):
    """A twin as flat arrays (int64 / float64, C-contiguous). See the module docstring."""

    clock: np.ndarray  # [horizon, warmup]
    sources: np.ndarray  # stream names, str
    # distributions
    dist_code: np.ndarray
    dist_par: np.ndarray  # (D, 3)
    emp_ptr: np.ndarray
    emp_val: np.ndarray
    # arrivals
    arr_dist: np.ndarray
    arr_route: np.ndarray
    arr_stream: np.ndarray
    arr_profile: np.ndarray  # -1: renewal (arr_dist); else row of prof_rates / prof_clock
    act_hours: np.ndarray  # -1: clock-time duration; else its working-time row in the same tables
    prof_rates: np.ndarray  # (P, 168) per time unit, Monday 00:00 first
    prof_clock: np.ndarray  # (P, 2): slot (one hour in time units), offset
    # activities
    act_dur: np.ndarray
    act_dur_stream: np.ndarray
    act_branch_stream: np.ndarray  # -1: one way on, no draw
    act_can_fail: np.ndarray  # 1 if its hold can be interrupted: a pool it needs can go down, or preempt
    need_ptr: np.ndarray
    need_pool: np.ndarray
    need_amount: np.ndarray
    use_ptr: np.ndarray
    use_mat: np.ndarray
    use_amount: np.ndarray
    make_ptr: np.ndarray  # what each activity produces (materials, amounts) in CSR
    make_mat: np.ndarray
    make_amount: np.ndarray
    alt_ptr: np.ndarray  # skilled pools (one_of), in the order given
    alt_pool: np.ndarray
    alt_dur: np.ndarray  # -1: the activity's duration
    succ_ptr: np.ndarray
    succ_to: np.ndarray  # activity index, -1 = exit
    succ_p: np.ndarray
    # pools and units
    pool_cap: np.ndarray
    pool_on_duty0: np.ndarray  # units on duty at t = 0
    unit_ptr: np.ndarray  # units of pool p: unit_ptr[p]:unit_ptr[p+1]
    unit_pool: np.ndarray
    pool_has_cal: np.ndarray
    cal_ptr: np.ndarray
    cal_points: np.ndarray
    cal_levels: np.ndarray
    cal_week: np.ndarray
    cal_offset: np.ndarray
    pool_fails: np.ndarray
    fail_up: np.ndarray  # distribution rows, -1 without failures
    fail_repair: np.ndarray
    unit_up_stream: np.ndarray
    unit_repair_stream: np.ndarray
    # planned maintenance and crews
    pool_care: np.ndarray  # 1 if its units have planned maintenance
    care_dur: np.ndarray  # distribution row, -1 without
    care_every: np.ndarray  # age limit, inf without
    care_ptr: np.ndarray  # weekly maintenance times of pool p: care_times[care_ptr[p]:care_ptr[p+1]]
    care_times: np.ndarray
    unit_care_stream: np.ndarray  # -1 without maintenance
    pool_crew: np.ndarray  # (n_pool, 2): the crew row of its repairs and of its maintenance, -1 none
    crew_ptr: np.ndarray  # crew row k needs crew_pool/crew_amount[crew_ptr[k]:crew_ptr[k+1]]
    crew_pool: np.ndarray
    crew_amount: np.ndarray
    crew_level: np.ndarray  # its priority level: -1 urgent, else 0
    pool_wear: np.ndarray  # how its units age: WEAR_CODES
    # materials and suppliers
    mat_initial: np.ndarray
    mat_policy: np.ndarray
    mat_point: np.ndarray
    mat_up_to: np.ndarray
    mat_quantity: np.ndarray
    mat_shortage: np.ndarray  # 1: shortage lose (lost sales), 0: backorder
    mat_review: np.ndarray  # (M, 2) periodic review: period, first review (0, 0 for continuous)
    mat_sup_ptr: np.ndarray  # suppliers of material m: rows mat_sup_ptr[m]:mat_sup_ptr[m+1]
    mat_choice_stream: np.ndarray  # orders split by share: the draw's stream; else -1
    # suppliers (one row per supplier: a material's `supplier`, or each of its `suppliers`)
    sup_lead: np.ndarray
    sup_lead_stream: np.ndarray
    sup_disrupt: np.ndarray
    sup_every: np.ndarray
    sup_duration: np.ndarray
    sup_every_stream: np.ndarray
    sup_duration_stream: np.ndarray
    sup_share: np.ndarray  # orders split by share: its share; else 0
    sup_named: np.ndarray  # 1: one of `suppliers` (its orders are counted and traced)
    # due dates, stresses, contingency rules
    arr_due: np.ndarray
    st_kind: np.ndarray
    st_target: np.ndarray  # material, pool or arrival index, by kind
    st_units: np.ndarray  # equipment_down / staff_absence units (resolved), else 0
    st_stream: np.ndarray  # demand_surge stream, else -1
    st_window: np.ndarray  # (S, 2) start, end
    st_factor: np.ndarray  # 1.0 where unused
    st_mean: np.ndarray  # demand_surge: extra mean gap (renewal) or factor - 1 (rate profile)
    st_supplier: np.ndarray  # supplier_outage, lead_time: the supplier row it acts on; -1 all of them
    ru_trigger: np.ndarray
    ru_watch: np.ndarray  # material, activity or pool index
    ru_level: np.ndarray  # below / above / units
    ru_action: np.ndarray
    ru_target: np.ndarray  # order material, overtime pool, reroute `from` activity
    ru_to: np.ndarray  # reroute `to` activity, switch supplier row, else -1
    ru_amount: np.ndarray  # order quantity, overtime units
    ru_lead: np.ndarray  # backup lead-time distribution row, else -1
    ru_lead_stream: np.ndarray
    ru_max: np.ndarray  # max activations, -1 unlimited
    ru_times: np.ndarray  # (R, 3) for, delay, duration
    # classes, priorities, patience, waiting rooms
    cls_flags: np.ndarray  # [n_classes, uses_classes, has_priorities]
    arr_cls_ptr: np.ndarray
    arr_cls: np.ndarray
    arr_cls_p: np.ndarray
    arr_cls_due: np.ndarray
    arr_cls_stream: np.ndarray
    act_level: np.ndarray  # (n_act * n_classes)
    act_cdur: np.ndarray
    act_patience: np.ndarray
    act_csucc: np.ndarray
    act_patience_stream: np.ndarray
    act_qcap: np.ndarray
    join_ptr: np.ndarray
    join_p: np.ndarray
    act_balk_stream: np.ndarray
    act_abandon_to: np.ndarray
    act_lost_to: np.ndarray
    act_preempt: np.ndarray
    st_cls: np.ndarray  # (S, 3): a demand surge's own class rows (lo, hi; lo == hi: the stream's), stream
    act_block: np.ndarray  # 1: when_full block
    act_batch: np.ndarray  # batch size, 0: no batch
    act_batch_min: np.ndarray  # the fewest members a batch leaves with after its timeout
    act_batch_timeout: np.ndarray  # inf: none
    act_setup_stream: np.ndarray  # -1: no set-ups
    act_csetup: np.ndarray  # (n_act * n_classes): a class's set-up distribution row, -1: none


class _Tables:
    """Collects distribution rows and stream names while the spec is walked."""

    def __init__(self) -> None:
        self.codes: list[int] = []
        self.params: list[tuple[float, float, float]] = []
        self.empirical: list[list[float]] = []
        self.sources: list[str] = []

    def dist(self, d: object) -> int:
        self.codes.append(DIST_CODES[d.dist])  # type: ignore[attr-defined]
        self.params.append(_params(d))
        self.empirical.append(list(getattr(d, "values", [])))
        return len(self.codes) - 1

    def stream(self, source: str) -> int:
        self.sources.append(source)
        return len(self.sources) - 1


def _params(d: object) -> tuple[float, float, float]:
    """Parameters as numpy is called with them in twin.distributions (same float ops)."""
    kind = d.dist  # type: ignore[attr-defined]
    if kind == "exponential":
        return (d.mean, 0.0, 0.0)  # type: ignore[attr-defined]
    if kind == "gamma":
        return (1.0 / d.cv**2, d.mean * d.cv**2, 0.0)  # type: ignore[attr-defined]
    if kind == "lognormal":
        assert isinstance(d, Lognormal)
        mu, sigma = d.log_params
        return (mu, sigma, 0.0)
    if kind == "normal":
        return (d.mean, d.sd, 0.0)  # type: ignore[attr-defined]
    if kind == "weibull":
        return (d.shape, d.scale, 0.0)  # type: ignore[attr-defined]
    if kind == "uniform":
        return (d.low, d.high, 0.0)  # type: ignore[attr-defined]
    if kind == "triangular":
        return (d.low, d.mode, d.high)  # type: ignore[attr-defined]
    if kind == "constant":
        return (d.value, 0.0, 0.0)  # type: ignore[attr-defined]
    return (0.0, 0.0, 0.0)  # empirical: values live in emp_val


def _i(values: list[int]) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.int64).reshape(-1)


def _f(values: list[float]) -> np.ndarray:
    return np.ascontiguousarray(values, dtype=np.float64).reshape(-1)


def _csr(rows: Sequence[Sized]) -> np.ndarray:
    return _i([0, *np.cumsum([len(r) for r in rows]).tolist()])


def compile_twin(twin: Twin) -> CompiledTwin:
    """The twin as flat arrays; raises nothing for a validated Twin."""
    t = _Tables()
    parts: dict[str, np.ndarray] = {"clock": _f([twin.horizon, twin.warmup])}
    parts |= _arrivals(twin, t)
    parts |= _activities(twin, t)
    parts |= _pools(twin, t)
    parts |= _materials(twin, t)
    parts |= _stresses(twin, t)
    parts |= _rules(twin, t)
    parts |= _classes(twin, t)
    parts["sources"] = np.array(t.sources, dtype=str) if t.sources else np.zeros(0, dtype="<U1")
    parts["dist_code"] = _i(t.codes)
    parts["dist_par"] = np.ascontiguousarray(t.params, dtype=np.float64).reshape(-1, 3)
    parts["emp_ptr"] = _csr(t.empirical)
    parts["emp_val"] = _f([v for row in t.empirical for v in row])
    return CompiledTwin(**parts)


def _arrivals(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    index = {a.name: i for i, a in enumerate(twin.activities)}
    profiles = [twin.rate_profile(a) for a in twin.arrivals]
    working = [twin.working_time(a) for a in twin.activities]
    used = [p for p in (*profiles, *working) if p is not None]
    rows = iter(range(len(used)))
    return {
        "arr_dist": _i([t.dist(a.interarrival) if p is None else -1
                        for a, p in zip(twin.arrivals, profiles, strict=True)]),
        "arr_route": _i([index[a.route] for a in twin.arrivals]),
        "arr_stream": _i([t.stream(streams.arrival_source(a.name)) for a in twin.arrivals]),
        "arr_profile": _i([-1 if p is None else next(rows) for p in profiles]),
        "act_hours": _i([-1 if p is None else next(rows) for p in working]),
        "arr_due": _f([-1.0 if a.due is None else a.due for a in twin.arrivals]),
        "prof_rates": _f([r for p in used for r in p.rates]).reshape(-1, HOURS_PER_WEEK),
        "prof_clock": _f([x for p in used for x in (p.slot, p.offset)]).reshape(-1, 2),
    }


def _activities(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    index = {a.name: i for i, a in enumerate(twin.activities)}
    pools = {r.name: i for i, r in enumerate(twin.resources)}
    failing = twin.pools_that_go_down()
    mats = {m.name: i for i, m in enumerate(twin.materials)}
    acts = twin.activities
    needs = [list(a.resources.items()) for a in acts]
    uses = [list(a.consumes.items()) for a in acts]
    makes = [list(a.produces.items()) for a in acts]
    succ = [list(a.successors.items()) for a in acts] + _class_successors(twin)
    return {
        "act_dur": _i([t.dist(a.duration) for a in acts]),
        "act_dur_stream": _i([t.stream(streams.duration_source(a.name)) for a in acts]),
        "act_branch_stream": _i([
            t.stream(streams.branch_source(a.name))
            if any(len(a.successors_of(c)) > 1 for c in twin.classes) else -1
            for a in acts
        ]),
        "act_can_fail": _i([int(a.preempt or any(p in failing for p in a.pools)) for a in acts]),
        "need_ptr": _csr(needs),
        "need_pool": _i([pools[p] for row in needs for p, _ in row]),
        "need_amount": _i([n for row in needs for _, n in row]),
        "use_ptr": _csr(uses),
        "use_mat": _i([mats[m] for row in uses for m, _ in row]),
        "use_amount": _i([n for row in uses for _, n in row]),
        "make_ptr": _csr(makes),
        "make_mat": _i([mats[m] for row in makes for m, _ in row]),
        "make_amount": _i([n for row in makes for _, n in row]),
        "alt_ptr": _csr([a.one_of for a in acts]),
        "alt_pool": _i([pools[p] for a in acts for p in a.one_of]),
        "alt_dur": _i([t.dist(a.durations[p]) if p in a.durations else -1 for a in acts for p in a.one_of]),
        "succ_ptr": _csr(succ),
        "succ_to": _i([-1 if name == EXIT else index[name] for row in succ for name, _ in row]),
        "succ_p": _f([p for row in succ for _, p in row]),
    }


def _pools(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    res = twin.resources
    cals = [twin.calendar(r) for r in res]
    failures = [r.failures for r in res]
    unit_streams = [
        (t.stream(streams.uptime_source(r.name, u)), t.stream(streams.repair_source(r.name, u)))
        if r.failures is not None else (-1, -1)
        for r in res for u in range(r.capacity)
    ]
    return {
        "pool_cap": _i([r.capacity for r in res]),
        "pool_on_duty0": _i([
            c.on_duty(0.0) if c is not None else r.capacity for r, c in zip(res, cals, strict=True)
        ]),
        "unit_ptr": _csr([[0] * r.capacity for r in res]),
        "unit_pool": _i([p for p, r in enumerate(res) for _ in range(r.capacity)]),
        "pool_has_cal": _i([int(c is not None) for c in cals]),
        "cal_ptr": _csr([c.breakpoints.tolist() if c is not None else [] for c in cals]),
        "cal_points": _f([x for c in cals if c is not None for x in c.breakpoints.tolist()]),
        "cal_levels": _i([x for c in cals if c is not None for x in c.levels.tolist()]),
        "cal_week": _f([c.week if c is not None else 0.0 for c in cals]),
        "cal_offset": _f([c.offset if c is not None else 0.0 for c in cals]),
        "pool_fails": _i([int(f is not None) for f in failures]),
        "fail_up": _i([t.dist(f.uptime) if f is not None else -1 for f in failures]),
        "fail_repair": _i([t.dist(f.repair) if f is not None else -1 for f in failures]),
        "unit_up_stream": _i([u for u, _ in unit_streams]),
        "unit_repair_stream": _i([r for _, r in unit_streams]),
    } | _care(twin, t)


def _care(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    """Planned maintenance per pool, and the crews of repairs and maintenance as rows."""
    res = twin.resources
    pools = {r.name: i for i, r in enumerate(res)}
    care = [r.maintenance for r in res]
    times = [twin.maintenance_times(r) for r in res]
    pool_crew = np.full((len(res), 2), -1, np.int64)
    crews: list[tuple[dict[str, int], bool]] = []
    for p, r in enumerate(res):
        for kind, crew, urgent in r.crews:
            pool_crew[p, int(kind == "maintenance")] = len(crews)
            crews.append((crew, urgent))
    return {
        "pool_care": _i([int(m is not None) for m in care]),
        "care_dur": _i([t.dist(m.duration) if m is not None else -1 for m in care]),
        "care_every": _f([m.every if m is not None and m.every is not None else np.inf for m in care]),
        "care_ptr": _csr(times),
        "care_times": _f([x for row in times for x in row]),
        "unit_care_stream": _i([t.stream(streams.maintenance_source(r.name, u)) if r.maintenance else -1
                                for r in res for u in range(r.capacity)]),
        "pool_crew": pool_crew,
        "crew_ptr": _csr([crew for crew, _ in crews]),
        "crew_pool": _i([pools[name] for crew, _ in crews for name in crew]),
        "crew_amount": _i([n for crew, _ in crews for n in crew.values()]),
        "crew_level": _i([-1 if urgent else 0 for _, urgent in crews]),
        "pool_wear": _i([WEAR_CODES[r.wear] for r in res]),
    }


def _materials(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    mats = twin.materials
    policy = [
        POLICY_NONE if m.reorder is None else POLICY_PERIODIC if m.reorder.periodic
        else POLICY_UP_TO if m.reorder.up_to is not None else POLICY_QUANTITY
        for m in mats
    ]
    return {
        "mat_initial": _i([m.initial for m in mats]),
        "mat_policy": _i(policy),
        "mat_point": _i([0 if m.reorder is None else -1 if m.reorder.point is None else m.reorder.point
                         for m in mats]),  # -1: periodic review without a point
        "mat_shortage": _i([int(m.loses) for m in mats]),
        "mat_review": _f([x for m in mats for x in ((m.reorder.review, m.reorder.first_review or 0.0)
                                                   if m.reorder and m.reorder.review else (0.0, 0.0))]
                         ).reshape(-1, 2),
        "mat_up_to": _i([(m.reorder.up_to or 0) if m.reorder else 0 for m in mats]),
        "mat_quantity": _i([(m.reorder.quantity or 0) if m.reorder else 0 for m in mats]),
        "mat_sup_ptr": _csr([m.sources for m in mats]),
        "mat_choice_stream": _i([t.stream(streams.supplier_choice_source(m.name)) if m.split else -1
                                 for m in mats]),
    } | _suppliers(twin, t)


def _suppliers(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    rows = [(m, None if m.supplier is not None else name, s) for m in twin.materials for name, s in m.sources]
    dis = [s.disruptions for _, _, s in rows]
    dsrc = [streams.disruption_sources(m.name, name) for m, name, _ in rows]
    return {
        "sup_lead": _i([t.dist(s.lead_time) for _, _, s in rows]),
        "sup_lead_stream": _i([t.stream(streams.lead_time_source(m.name, name)) for m, name, _ in rows]),
        "sup_disrupt": _i([int(d is not None) for d in dis]),
        "sup_every": _i([t.dist(d.every) if d is not None else -1 for d in dis]),
        "sup_duration": _i([t.dist(d.duration) if d is not None else -1 for d in dis]),
        "sup_every_stream": _i([t.stream(e) if d else -1 for d, (e, _) in zip(dis, dsrc, strict=True)]),
        "sup_duration_stream": _i([t.stream(x) if d else -1 for d, (_, x) in zip(dis, dsrc, strict=True)]),
        "sup_share": _f([getattr(s, "share", None) or 0.0 for _, _, s in rows]),
        "sup_named": _i([int(name is not None) for _, name, _ in rows]),
    }


def supplier_row(twin: Twin, material: str, supplier: str | None) -> int:
    """The row of a material's supplier among all suppliers (compile order); -1 for None."""
    if supplier is None:
        return -1
    rows = [(m.name, name) for m in twin.materials for name, _ in m.sources]
    return rows.index((material, supplier))


def _stresses(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    index = {kind: {x.name: i for i, x in enumerate(getattr(twin, kind))}
             for kind in ("arrivals", "resources", "materials")}
    rows = twin.windows
    targets = [index[STRESS_TARGETS[s.kind]][s.target] for s in rows]

    def units(s: Stress, target: int) -> int:
        return (s.units or twin.resources[target].capacity) if s.kind in NEEDS_UNITS else 0

    def mean(s: Stress, target: int) -> float:
        if s.kind != "demand_surge":
            return 0.0
        assert s.factor is not None
        arrival = twin.arrivals[target]
        extra = s.factor - 1.0
        return extra if arrival.rate_profile is not None else twin.mean_interarrival(arrival) / extra

    return {
        "st_kind": _i([STRESS_CODES[s.kind] for s in rows]),
        "st_target": _i(targets),
        "st_units": _i([units(s, k) for s, k in zip(rows, targets, strict=True)]),
        "st_stream": _i([t.stream(streams.surge_source(s.name)) if s.kind == "demand_surge" else -1
                         for s in rows]),
        "st_window": _f([x for s in rows for x in (s.start, s.end)]).reshape(-1, 2),
        "st_factor": _f([s.factor or 1.0 for s in rows]),
        "st_mean": _f([mean(s, k) for s, k in zip(rows, targets, strict=True)]),
        "st_supplier": _i([supplier_row(twin, s.target, s.supplier) for s in rows]),
    }


def _rules(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    acts = {a.name: i for i, a in enumerate(twin.activities)}
    pools = {r.name: i for i, r in enumerate(twin.resources)}
    mats = {m.name: i for i, m in enumerate(twin.materials)}
    rows = twin.contingency

    def watch(rule: Rule) -> tuple[int, int, float]:
        when = rule.when
        if isinstance(when, StockBelow):
            return mats[when.stock], when.below, 0.0
        if isinstance(when, QueueAbove):
            return acts[when.queue], when.above, 0.0
        return pools[when.down], when.units, when.for_

    def act(rule: Rule) -> tuple[int, int, int, float]:
        a = rule.action
        if a.order is not None:
            return mats[a.order.material], -1, a.order.quantity, 0.0
        if a.overtime is not None:
            return pools[a.overtime.pool], -1, a.overtime.units, a.overtime.duration
        if a.switch is not None:
            sw = a.switch
            return mats[sw.material], supplier_row(twin, sw.material, sw.supplier), 0, sw.duration
        assert a.reroute is not None
        return acts[a.reroute.from_], acts[a.reroute.to], 0, a.reroute.duration

    watches, actions = [watch(r) for r in rows], [act(r) for r in rows]
    orders = [r.action.order for r in rows]
    return {
        "ru_trigger": _i([TRIGGER_CODES[r.trigger] for r in rows]),
        "ru_watch": _i([w[0] for w in watches]),
        "ru_level": _i([w[1] for w in watches]),
        "ru_action": _i([ACTION_CODES[r.action.kind] for r in rows]),
        "ru_target": _i([a[0] for a in actions]),
        "ru_to": _i([a[1] for a in actions]),
        "ru_amount": _i([a[2] for a in actions]),
        "ru_lead": _i([t.dist(o.lead_time) if o else -1 for o in orders]),
        "ru_lead_stream": _i([t.stream(streams.contingency_source(r.name)) if o else -1
                              for r, o in zip(rows, orders, strict=True)]),
        "ru_max": _i([r.max_activations or -1 for r in rows]),
        "ru_times": _f([x for r, w, a in zip(rows, watches, actions, strict=True)
                        for x in (w[2], r.delay, a[3])]).reshape(-1, 3),
    }


def _class_successors(twin: Twin) -> list[list[tuple[str, float]]]:
    """The per-class branch lists, in activity then class order (successor rows n_act...)."""
    return [list(a.class_next[c].items()) for a in twin.activities for c in twin.classes if c in a.class_next]


def _has_priorities(twin: Twin) -> bool:
    """Whether requests have levels: classes with priorities, or urgent crews."""
    return any(a.priority for a in twin.activities) or any(u for r in twin.resources for *_, u in r.crews)


def _classes(twin: Twin, t: _Tables) -> dict[str, np.ndarray]:
    classes, acts = twin.classes, twin.activities
    index = {a.name: i for i, a in enumerate(acts)}
    rows = [(a, a.classes or {a.name: 1.0}) for a in twin.arrivals]
    streams_by_name = {a.name: a for a in twin.arrivals}
    surges = [(streams_by_name[s.target], s.classes) for s in twin.windows if s.classes]
    first = sum(len(shares) for _, shares in rows)  # surges' class rows follow the streams'
    st_cls, at = [], first
    for s in twin.windows:
        if s.classes:
            st_cls.append((at, at + len(s.classes), t.stream(streams.surge_class_source(s.name))))
            at += len(s.classes)
        else:
            st_cls.append((0, 0, -1))
    next_row = iter(range(len(acts), len(acts) + len(_class_successors(twin))))
    csucc = [next(next_row) if c in a.class_next else k for k, a in enumerate(acts) for c in classes]

    def dist_or_none(d: object) -> int:
        return -1 if d is None else t.dist(d)

    def target(name: str | None) -> int:
        return -1 if name is None else index[name]

    return {
        "cls_flags": _i([len(classes), int(twin.uses_classes), int(_has_priorities(twin))]),
        "arr_cls_ptr": _csr([shares for _, shares in rows]),
        "arr_cls": _i([classes.index(c) for _, shares in [*rows, *surges] for c in shares]),
        "arr_cls_p": _f([p for _, shares in [*rows, *surges] for p in shares.values()]),
        "arr_cls_due": _f([-1.0 if (d := a.due_of(c)) is None else d for a, shares in [*rows, *surges]
                           for c in shares]),
        "st_cls": _i([x for row in st_cls for x in row]).reshape(-1, 3),
        "arr_cls_stream": _i([t.stream(streams.class_source(a.name)) if len(shares) > 1 else -1
                              for a, shares in rows]),
        "act_level": _i([a.level_of(c) for a in acts for c in classes]),
        "act_cdur": _i([dist_or_none(a.class_durations.get(c)) for a in acts for c in classes]),
        "act_patience": _i([dist_or_none(a.patience_of(c)) for a in acts for c in classes]),
        "act_csetup": _i([dist_or_none(a.setup_of(c)) for a in acts for c in classes]),
        "act_setup_stream": _i([t.stream(streams.setup_source(a.name)) if any(a.setup_of(c) for c in classes)
                                else -1 for a in acts]),
        "act_csucc": _i(csucc),
        "act_patience_stream": _i([
            t.stream(streams.patience_source(a.name)) if any(a.patience_of(c) for c in classes) else -1
            for a in acts
        ]),
        "act_qcap": _i([-1 if a.queue_capacity is None else a.queue_capacity for a in acts]),
        "join_ptr": _csr([a.join for a in acts]),
        "join_p": _f([p for a in acts for p in a.join]),
        "act_balk_stream": _i([t.stream(streams.balk_source(a.name)) if a.join else -1 for a in acts]),
        "act_abandon_to": _i([target(a.abandon_to) for a in acts]),
        "act_lost_to": _i([target(a.lost_to) for a in acts]),
        "act_preempt": _i([int(a.preempt) for a in acts]),
        "act_block": _i([int(a.when_full == "block") for a in acts]),
        "act_batch": _i([a.batch.size if a.batch else 0 for a in acts]),
        "act_batch_min": _i([a.batch.smallest if a.batch else 0 for a in acts]),
        "act_batch_timeout": _f([a.batch.timeout if a.batch and a.batch.timeout else np.inf for a in acts]),
    }
