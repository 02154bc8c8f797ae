"""From an event log (plus optional failure and delivery records) to a twin spec and a report.

The twin, in hours, has one arrival stream of case starts (the hour-of-week rate profile
or Poisson arrivals at the observed rate: `arrivals`, by AIC unless given); a zero-time
`start` dispatcher when cases begin with different activities; one step per routing state
(`routing=1`: per activity; `2`: per activity after each previous one, see
`calibration.routing`) holding its processing time (end - start) on one unit of its
activity's pool (`pools="activity"`), of the pool of one of the resources who did it drawn
by their shares (`"resource"`, see `calibration.staff`), or of whichever of them is free
first (`"skills"`: `one_of` their pools, each at its own pace); and, with `waits=True`, a
`wait_<activity>` step before it holding the observed time from the end of the case's
previous activity to this start (waiting that is not queueing in the twin: hand-overs,
calendars, batching); with `delays="extraneous"` from when the resource was free for it
instead (`calibration.extraneous`: the queueing for the resource, which the twin adds
itself, left out). With
`calendars=True`, waits are measured and replayed in working time (`worktime`): a step with
`working_hours` at each hour's pace of starts (`weighted`) or at the site's opening hours
(`open`), or a chain of one-hour steps on the `open_hours` pool (`chain`, see
`calibration.worktime`); `processing="working"` does the same for processing times.
With `classes=COLUMN` the arrival draws each case's class from that case attribute's values,
and activities get per-class durations and branches where a class has the data and differs
(`calibration.classes`); with `cancelled=COLUMN` the report measures where cancelled cases
stopped (`calibration.abandonment`).
Labels that are not valid spec names are slugged; the original labels and observed
resource names travel in `report["labels"]` and `["units"]`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration import names
from calibration.arrivals import HOURS_PER_WEEK, ArrivalFitter, exposure_hours, hour_of_week
from calibration.calendars import open_hours_between, pooled_rates, sparse_days, stray_hours, weeks_seen
from calibration.classes import NO_CLASSES, ClassFitter, ClassRouting, require_column
from calibration.extraneous import available
from calibration.fitters import DurationFitter
from calibration.per_resource import per_resource_durations
from calibration.resources import ResourceFitter, peak_concurrency, staffing, weekly_shifts
from calibration.routing import EXIT, RoutingFitter
from calibration.selection import SelectionFitter
from calibration.staff import StaffFitter
from calibration.worktime import chain_steps

START = "start"
OPEN = "open_hours"


def slugs(labels: list[str]) -> dict[str, str]:
    """activity label -> unique valid step name, never a step calibration adds."""
    return names.slugs(labels, reserved=(START, EXIT, OPEN))


def case_table(events: pd.DataFrame) -> pd.DataFrame:
    """Per event: duration and the wait since the case's latest earlier end (hours, >= 0)."""
    df = events.sort_values(["case_id", "start_time", "end_time"], kind="stable").copy()
    df["duration"] = (df["end_time"] - df["start_time"]).dt.total_seconds() / 3600
    latest_end = df.groupby("case_id")["end_time"].transform(lambda s: s.cummax().shift())
    df["ready"] = latest_end
    df["previous"] = df.groupby("case_id")["activity"].shift()
    df["wait"] = _hours(df["start_time"] - latest_end)
    df["first"] = latest_end.isna()
    return df


def _hours(delta: pd.Series) -> pd.Series:
    return (delta.dt.total_seconds() / 3600).clip(lower=0)


def calibrate(
    events: pd.DataFrame,
    failures: pd.DataFrame | None = None,
    deliveries: pd.DataFrame | None = None,
    name: str = "calibrated",
    waits: bool = True,
    delays: str = "observed",
    calendars: bool = False,
    capacity: str = "distinct",
    horizon: float | None = None,
    arrivals: str = "auto",
    worktime: str = "weighted",
    routing: int = 1,
    processing: str = "clock",
    pools: str = "activity",
    history: float = 1.0,
    classes: str | None = None,
    cancelled: str | None = None,
    case_ends: pd.Series | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(twin spec as plain data, calibration report as plain data).

    `classes`: a case attribute column of `events` whose values become entity classes
    (None or "none": no classes); `cancelled`: a column whose non-empty value marks a
    cancelled case (measured in the report); `case_ends`: when each case ended where the
    log records it apart from its activities (`LoadReport.case_ends`)."""
    options = {"waits": waits, "delays": delays, "calendars": calendars, "capacity": capacity,
               "arrivals": arrivals, "worktime": worktime, "routing": routing,
               "processing": processing, "pools": pools}
    _check_options(options)
    if not (isinstance(history, int | float) and not isinstance(history, bool) and 0 < history <= 1):
        raise ValueError(f"history must be a share of the cases in (0, 1], not {history!r}")
    classes = None if classes in (None, NO_CLASSES) else classes
    for column, why in ((classes, "classes"), (cancelled, "cancelled")):
        if column is not None:
            require_column(events, column, why)
    events = recent(events, history)
    table = case_table(events)
    labels = slugs(sorted(table["activity"].unique()))
    cases = table.groupby("case_id")
    selection = SelectionFitter().fit(cases["start_time"].min(), cases["end_time"].max())
    starts = ArrivalFitter(form=arrivals).fit(cases["start_time"].min(), selection.weights_)
    chain = RoutingFitter(order=routing).fit(table, selection.weights_)
    kinds = None if classes is None else ClassFitter().fit(table, classes, selection.weights_)
    flows = kinds.routing(chain, selection.weights_) if kinds is not None and kinds.used_ else None
    lost = float(selection.weights_.mean())  # staff also served the cases the log left out
    resources = ResourceFitter(capacity=capacity, staff_factor=lost).fit(table)
    staff = StaffFitter(capacity=capacity, staff_factor=lost).fit(table) if pools != "activity" else None
    week = _working_week(table, resources, worktime) if calendars else None
    working = processing == "working" and week is not None
    if week is not None and working:
        table["duration"] = open_hours_between(table["start_time"], table["end_time"], week)
    durations = {a: DurationFitter().fit(g["duration"]) for a, g in table.groupby("activity")}
    by_class = kinds.durations(table) if flows is not None and kinds is not None else {}
    durations |= {a: d["rest"] for a, d in by_class.items() if d["rest"] is not None}
    opening = waits and week is not None
    later = table[~table["first"]].copy()
    if waits and delays == "extraneous":
        later["ready"] = _available(table, resources, staff, calendars)[~table["first"]]
        later["wait"] = _hours(later["start_time"] - later["ready"])
    if week is not None and opening:
        later["wait"] = open_hours_between(later["ready"], later["start_time"], week)
    plan = WaitPlan(chain, wait_samples(later) if waits else {}, labels)
    work = Work(labels, resources, staff, week if working else None, skills=pools == "skills",
                class_durations={a: d["own"] for a, d in by_class.items() if d["own"]})
    wait_fits = {key: DurationFitter().fit(x) for key, x in plan.samples.items()}
    span = (table["end_time"].max() - table["start_time"].min()).total_seconds() / 3600
    spec: dict[str, Any] = {
        "name": name,
        "time_unit": "hour",
        "horizon": float(f"{horizon or span:.6g}"),
        "warmup": 0.0,
        "start": starts.first_.floor("us").to_pydatetime().isoformat(),
        "arrivals": [
            {
                "name": "cases",
                **starts.spec_,
                **({"classes": kinds.shares_} if flows is not None and kinds is not None else {}),
                "route": _first_step(chain.start_, plan.names),
            }
        ],
        "activities": _activities(labels, chain, plan, durations, wait_fits, week, worktime, work, flows),
        "resources": _resources(labels, resources, calendars) if staff is None else _staff(staff, calendars),
    }
    if opening and worktime == "chain":
        spec["resources"].append(_open_hours(later, resources.site_on_, staffing(table)))
    report: dict[str, Any] = {
        "labels": work.step_labels(plan),
        "units": (
            {labels[a]: pool for a, pool in resources.pools_.items()} if staff is None
            else {name: [r] for r, name in staff.pools_.items()}
        ),
        "selection": selection.summary(),
        "arrivals": starts.summary(),
        "routing": chain.summary(),
        "resources": resources.summary(),
        "durations": {a: f.summary() for a, f in durations.items()},
        "durations_by_resource": per_resource_durations(table),
        "waits": {(b if a is None else f"{b} after {a}"): f.summary() for (a, b), f in wait_fits.items()},
        "options": options | {"history": history, "classes": classes or NO_CLASSES, "open_hours": opening},
    }
    if kinds is not None:
        report["classes"] = _class_report(kinds, flows, by_class, work)
    if cancelled is not None:
        from calibration.abandonment import abandonment

        report["abandonment"] = abandonment(
            table, cancelled, kinds.classes_ if flows is not None and kinds is not None else None, case_ends)
    if staff is not None:
        report["staff"] = staff.summary()
    _extras(spec, report, failures, deliveries)
    report["warnings"] = _warnings(report)
    return spec, report


CHOICES: dict[str, tuple[Any, ...]] = {
    "waits": (True, False), "delays": ("observed", "extraneous"), "calendars": (True, False),
    "capacity": ("distinct", "peak"),
    "arrivals": ("auto", "profile", "stationary"), "worktime": ("weighted", "open", "chain"),
    "routing": (1, 2), "processing": ("clock", "working"),
    "pools": ("activity", "resource", "skills"),
}


def effective(options: dict[str, Any]) -> dict[str, Any]:
    """The options as they act on the twin: without calendars there is no working week, so
    `worktime` and `processing` make no difference (the same twin whatever they say); without
    waits, neither does `delays`."""
    if options.get("waits") is False:
        options = {k: v for k, v in options.items() if k != "delays"}
    if options.get("calendars") is False:
        return {k: v for k, v in options.items() if k not in ("worktime", "processing")}
    return options


def recent(events: pd.DataFrame, share: float) -> pd.DataFrame:
    """The cases that started in the latest `share` of the log's case starts (all for 1):
    a process that drifts is better fitted on its recent history."""
    if share >= 1:
        return events
    starts = events.groupby("case_id")["start_time"].min()
    return events[events["case_id"].isin(starts.index[starts >= starts.quantile(1 - share)])]


def _check_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        if value not in CHOICES[key] or isinstance(value, bool) != isinstance(CHOICES[key][0], bool):
            allowed = ", ".join(repr(c) for c in CHOICES[key])
            raise ValueError(f"{key} must be one of {allowed}, not {value!r}")


def _first_step(start: dict[str, float], names: dict[str, str]) -> str:
    return names[next(iter(start))] if len(start) == 1 else START


Wait = tuple[str | None, str]  # (previous activity or None for any, activity)


def wait_samples(later: pd.DataFrame, min_pair: int = 30) -> dict[Wait, Any]:
    """Waits before each activity after a given previous activity where there are `min_pair`
    of them (a hand-over's wait depends on where it comes from), else pooled per activity."""
    out: dict[Wait, Any] = {}
    for b, before in later.groupby("activity"):
        pairs = before.groupby("previous")["wait"]
        own = {str(a): w.to_numpy() for a, w in pairs if len(w) >= min_pair}
        out |= {(a, str(b)): w for a, w in own.items()}
        if len(own) < pairs.ngroups:
            out[(None, str(b))] = before["wait"].to_numpy()
    return out


def _wait_name(key: Wait, labels: dict[str, str]) -> str:
    a, b = key
    after = "" if a is None else f"_after{sorted(labels).index(a)}"
    return f"{names.WAIT}{labels[b]}{after}"


class WaitPlan:
    """Which step each routing state is, and which wait comes before it from where.

    First order: state B is step B, entered after activity A through the wait of the
    A -> B hand-over where it has its own samples, else B's pooled wait. Second order:
    state "B after A" is step `B_afterK` (K: A's index among the labels), entered
    through its own wait (the pair's samples, or B's pooled ones when the pair has few)."""

    def __init__(self, chain: RoutingFitter, samples: dict[Wait, Any], labels: dict[str, str]) -> None:
        self.chain, self.labels = chain, labels
        # activity by activity: a first visit, then the visits after each previous activity
        self.states = sorted(chain.pairs_.items(), key=lambda s: (s[1][1], s[1][0] or ""))
        self.names = {s: _state_name(a, b, labels) for s, (a, b) in self.states}
        self.samples: dict[Wait, Any] = {}
        self.targets: dict[Wait, str] = {}
        for a, probs in chain.next_.items():
            for state in probs:
                key = None if state == EXIT else self._key(chain.pairs_[a][1], state, samples)
                if key is not None:
                    self.samples[key] = samples.get(key, samples.get((None, key[1])))
                    self.targets[key] = self.names[state]
        # activity by activity: the hand-overs' own waits, then the pooled one
        order = sorted(self.samples, key=lambda w: (w[1], w[0] is None, w[0] or ""))
        self.samples = {key: self.samples[key] for key in order}

    def _key(self, a: str, state: str, samples: dict[Wait, Any]) -> Wait | None:
        prev, b = self.chain.pairs_[state]
        if self.chain.order == 2:
            return (prev, b) if (prev, b) in samples or (None, b) in samples else None
        return next((k for k in ((a, b), (None, b)) if k in samples), None)

    def step_after(self, a_state: str, state: str) -> str:
        """The step a case in `a_state` goes to next for `state` (its wait, if any)."""
        if state == EXIT:
            return EXIT
        key = self._key(self.chain.pairs_[a_state][1], state, self.samples)
        return self.names[state] if key is None else _wait_name(key, self.labels)


def _state_name(prev: str | None, b: str, labels: dict[str, str]) -> str:
    return labels[b] if prev is None else f"{labels[b]}_after{sorted(labels).index(prev)}"


def _available(
    table: pd.DataFrame, resources: ResourceFitter, staff: StaffFitter | None, calendars: bool
) -> pd.Series:
    """When each event's resource was free for it (`calibration.extraneous.available`), with
    the open hours of the pool the twin queues it on where the twin keeps shifts."""
    if not calendars:
        return available(table)
    if staff is None:
        return available(table, table["activity"], resources.on_)
    return available(table, table["resource"], staff.on_)


def _working_week(table: pd.DataFrame, resources: ResourceFitter, worktime: str) -> np.ndarray | None:
    """The 168 working shares waits are measured and replayed in, or None for clock time:
    the site's opening hours when its calendar is clear (`chain`, `open`), or each hour's
    rate of activity starts against the busiest hour's (`weighted`: a wait advances as fast
    as work gets picked up then)."""
    if worktime != "weighted":
        return resources.site_on_.astype(float) if resources.site_calendar_["clear"] else None
    starts = table["start_time"]
    counts = np.bincount(hour_of_week(starts), minlength=HOURS_PER_WEEK)
    rate = counts / np.maximum(exposure_hours(starts.min(), starts.max()), 1.0)
    sparse = sparse_days(hour_of_week(starts))
    rate[stray_hours(weeks_seen(starts), counts > 0) & ~np.repeat(sparse, 24)] = 0.0
    weeks = max((starts.max() - starts.min()).total_seconds() / 604800, 1.0)
    rate = pooled_rates(rate, sparse, weeks)  # a sparse day's pace, shrunk and spread over the others' hours
    return np.round(rate / rate.max(), 4)


class Work:
    """How a state's work is done: on its activity's pool, or by the resources who did it
    (`staff`): split among them by their shares, or (`skills`) by whichever is free first,
    the most frequent first when several are; in clock time or in the working week `hours`.
    Per-class durations (`class_durations`: activity -> class -> fit) go on the steps that
    hold the activity's own duration; a resource's own duration (pools by resource or
    skills) takes precedence, and the activities where it does are in `left_out_`."""

    def __init__(
        self, labels: dict[str, str], resources: ResourceFitter, staff: StaffFitter | None, hours: Any,
        skills: bool = False, class_durations: dict[str, dict[str, DurationFitter]] | None = None,
    ) -> None:
        self.labels, self.resources, self.staff, self.skills = labels, resources, staff, skills
        self.hours = None if hours is None else {"per_hour": [float(s) for s in hours]}
        self.class_durations = class_durations or {}
        self.left_out_: dict[str, str] = {}

    def steps(
        self, name: str, label: str, duration: DurationFitter, nxt: dict[str, float],
        class_next: dict[str, dict[str, float]] | None = None,
    ) -> list[dict[str, Any]]:
        by_class = {k: f.spec_ for k, f in self.class_durations.get(label, {}).items()}
        if self.staff is None or label not in self.staff.shares_:
            pool = {self.labels[label]: 1} if label in self.resources.capacity_ else None
            return [self._step(name, duration, nxt, class_next, resources=pool, class_durations=by_class)]
        shares = self.staff.shares_[label]
        if self.skills:
            who = sorted(shares, key=lambda r: (-shares[r], r))
            pools = [self.staff.pools_[r] for r in who]
            own = {self.staff.pools_[r]: self.staff.durations_[(label, r)].spec_
                   for r in who if (label, r) in self.staff.durations_}
            if own and by_class:
                self.left_out_[label] = "its resources' own durations (one_of) take precedence"
            return [self._step(name, duration, nxt, class_next, one_of=pools, durations=own,
                               class_durations={} if own else by_class)]
        subs = {f"{name}__{k}": r for k, r in enumerate(shares)}
        out = [{"name": name, "duration": 0.0, "next": {s: shares[r] for s, r in subs.items()}}]
        for sub, r in subs.items():
            mine = (label, r) in self.staff.durations_
            if mine and by_class:
                self.left_out_[label] = "for the resources with their own durations, which take precedence"
            out.append(self._step(sub, self.staff.durations_.get((label, r), duration), nxt, class_next,
                                  resources={self.staff.pools_[r]: 1},
                                  class_durations={} if mine else by_class))
        return out

    def step_labels(self, plan: WaitPlan) -> dict[str, str]:
        """Step name -> the activity label it records (not the zero-time steps that split work)."""
        own = {plan.names[s]: b for s, (_, b) in plan.states} | {v: k for k, v in self.labels.items()}
        if self.staff is None or self.skills:
            return own
        split = {name: b for name, b in own.items() if b in self.staff.shares_}
        subs = {f"{name}__{k}": b for name, b in split.items() for k in range(len(self.staff.shares_[b]))}
        return {name: b for name, b in own.items() if name not in split} | subs

    def _step(
        self, name: str, duration: DurationFitter, nxt: dict[str, float],
        class_next: dict[str, dict[str, float]] | None, **needs: Any
    ) -> dict[str, Any]:
        """A step holding `needs` (resources, one_of, durations, class_durations; empty ones
        left out), going on by `nxt` or its class's `class_next`."""
        step: dict[str, Any] = {"name": name, "duration": duration.spec_}
        step |= {k: v for k, v in needs.items() if v}
        if self.hours is not None:
            step["working_hours"] = self.hours
        step["next"] = nxt
        if class_next:
            step["class_next"] = class_next
        return step


def _activities(
    labels: dict[str, str],
    chain: RoutingFitter,
    plan: WaitPlan,
    durations: dict[str, DurationFitter],
    delays: dict[Wait, DurationFitter],
    week: np.ndarray | None,
    worktime: str,
    work: Work,
    flows: ClassRouting | None = None,
) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    if len(chain.start_) > 1:
        first = chain.start_ if flows is None else flows.start_
        step: dict[str, Any] = {"name": START, "duration": 0.0,
                                "next": {plan.names[s]: p for s, p in first.items()}}
        if flows is not None and flows.class_start_:
            step["class_next"] = {k: {plan.names[s]: p for s, p in row.items()}
                                  for k, row in flows.class_start_.items()}
        steps.append(step)
    for state, (_, label) in plan.states:
        rows = flows.next_[state] if flows is not None else chain.next_[state]
        by_class = flows.class_next_.get(state, {}) if flows is not None else {}
        nxt = _targets(plan, state, rows)
        class_next = {k: _targets(plan, state, row) for k, row in by_class.items()}
        steps += work.steps(plan.names[state], label, durations[label], nxt, class_next)
    for key, fitted in delays.items():
        name, target = _wait_name(key, labels), plan.targets[key]
        if week is None:
            steps.append({"name": name, "duration": fitted.spec_, "next": target})
        elif worktime == "chain":
            steps += chain_steps(name, target, plan.samples[key], OPEN)
        else:
            hours = {"per_hour": [float(s) for s in week]}
            steps.append({"name": name, "duration": fitted.spec_, "working_hours": hours, "next": target})
    return steps


def _targets(plan: WaitPlan, state: str, row: dict[str, float]) -> dict[str, float]:
    """Branches out of `state` as the steps they go to (a hand-over's wait, if any)."""
    out: dict[str, float] = {}
    for b, p in row.items():
        goes = plan.step_after(state, b)
        out[goes] = out.get(goes, 0.0) + p
    return out


def _class_report(
    kinds: ClassFitter, flows: ClassRouting | None, by_class: dict[str, dict[str, Any]], work: Work
) -> dict[str, Any]:
    """The report's `classes` section: the classes, and what differs by class in the twin."""
    out = kinds.summary()
    if flows is None:
        out["in_twin"] = False
        out["why"] = "one class after pooling: nothing to tell apart"
        return out
    out["in_twin"] = True
    out["durations"] = {f"{a} / {k}": f.summary() for a, d in by_class.items() for k, f in d["own"].items()}
    out["durations_rest"] = {a: d["rest"].summary() for a, d in by_class.items() if d["rest"] is not None}
    out["duration_pvalues"] = {a: d["pvalues"] for a, d in by_class.items()}
    out["durations_left_out"] = dict(work.left_out_)
    out["routing"] = flows.summary()
    return out


def _open_hours(later: pd.DataFrame, on: Any, staff: Any) -> dict[str, Any]:
    """The site's opening hours as a pool: twice the most waits ever open at once, scaled in
    each hour by the site's staffing then against its best-staffed hour (waits advance only
    as fast as someone is there to advance them: the Monday-morning backlog spreads out)."""
    capacity = 2 * peak_concurrency(later["ready"], later["start_time"]) + 10
    units = np.maximum(1, np.ceil(capacity * staff / max(staff.max(), 1))).astype(int)
    return {"name": OPEN, "capacity": capacity, "shifts": weekly_shifts(on, units)}


def _resources(labels: dict[str, str], resources: ResourceFitter, calendars: bool) -> list[dict[str, Any]]:
    pools = []
    for label, capacity in resources.capacity_.items():
        pool: dict[str, Any] = {"name": labels[label], "capacity": capacity}
        if calendars and label in resources.shifts_:
            pool["shifts"] = resources.shifts_[label]
        pools.append(pool)
    return pools


def _staff(staff: StaffFitter, calendars: bool) -> list[dict[str, Any]]:
    pools = []
    for resource, name in staff.pools_.items():
        pool: dict[str, Any] = {"name": name, "capacity": staff.capacity_[resource]}
        if calendars and resource in staff.shifts_:
            pool["shifts"] = staff.shifts_[resource]
        pools.append(pool)
    return pools


def _extras(
    spec: dict[str, Any], report: dict[str, Any], failures: pd.DataFrame | None,
    deliveries: pd.DataFrame | None,
) -> None:
    if failures is not None:
        from calibration.failures import FailureFitter

        report["failures"] = FailureFitter().fit(failures).summary()
    if deliveries is not None:
        from calibration.supply import LeadTimeFitter, SupplierSplit, attach_suppliers

        lead = LeadTimeFitter().fit(deliveries)
        report["supply"] = lead.summary()
        split = SupplierSplit()
        if {split.material, split.vendor} <= set(deliveries.columns):
            split.fit(deliveries, lead)
            attached = attach_suppliers(spec, split)
            report["supply"]["split"] = split.summary() | {"attached_to": attached}
            if not attached:
                report["supply"]["warnings"].append(
                    "supplier split: the twin has no materials of these names (the event log has none), "
                    "so it is in the report only")


def _warnings(report: dict[str, Any]) -> list[str]:
    out = [f"arrivals: {w}" for w in report["arrivals"]["interarrival_hours"]["warnings"]]
    for kind in ("durations", "waits"):
        for label, fit in report[kind].items():
            out += [f"{kind}[{label}]: {w}" for w in fit["warnings"]]
    out += [f"routing: {w}" for w in report["routing"]["warnings"]]
    classes = report.get("classes", {})
    if classes.get("cases_where_it_varies"):
        out.append(f"classes: column '{classes['column']}' takes more than one value in "
                   f"{classes['cases_where_it_varies']} case(s); each case's first value is its class")
    out += [f"classes: per-class durations of {a} not in the twin: {why}"
            for a, why in classes.get("durations_left_out", {}).items()]
    out += [f"classes routing: {w}" for w in classes.get("routing", {}).get("warnings", [])]
    out += [
        f"durations[{a}]: resources differ (Kruskal-Wallis p={d['kruskal_pvalue']:.2g}); "
        "the twin uses one duration for the whole pool"
        for a, d in report["durations_by_resource"].items()
        if d["differ"] and "staff" not in report  # pools by resource use their own durations
    ]
    for section in ("failures", "supply"):
        out += [f"{section}: {w}" for w in report.get(section, {}).get("warnings", [])]
    return out
