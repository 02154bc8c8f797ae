"""The reference engine: one replication of a twin as SimPy processes.

The engine owns simulated time and nothing else: it is handed a validated Twin, a seed
and a replication number, and returns plain data. Tie rule: events due at the same time
run in the order they were scheduled (SimPy's rule); processes are started in the order
shifts, failures, supplier disruptions, initial reorders, arrivals, stress windows (spec
order within each); an entity whose request is granted at once carries on within the same
event. Contingency rules are watched where their state changes (twin.policies).
"""

from __future__ import annotations

import bisect
import math
import time
from collections import deque
from collections.abc import Callable, Generator
from functools import partial
from typing import Any, Literal

import numpy as np
import simpy

from twin import series, streams
from twin.allocation import FifoAllocator, Request
from twin.costs import add_costs
from twin.distributions import Dist
from twin.errors import DeadlockError
from twin.monitors import Level, Tally
from twin.policies import Rule, Stress
from twin.pools import Pool, Unit
from twin.replication import Replication, class_due_kpis, leaving_kpis, trace_flow
from twin.spec import EXIT, Activity, Arrival, Material, Resource, Twin
from twin.starting import (
    BORN,
    CLASS,
    DUE,
    KIND,
    LEAD,
    MATERIAL,
    ORDER,
    QUANTITY,
    REMAINING,
    ROW,
    SERVING,
    SINCE,
    STEP,
    SUPPLIER,
    WAITING,
    Start,
)
from twin.stock import Stock, Vendor

PREEMPTED = "preempted"  # the cause of an interruption by a higher class


class Job(Request):
    """A request for resource units that, once granted, is the work holding them."""

    __slots__ = ("activity", "down", "entity", "process", "remaining", "resume", "running", "started")

    def __init__(self, needs: tuple[tuple[int, int], ...], made_at: float,
                 alternatives: tuple[int, ...], level: int = 0) -> None:
        super().__init__(needs, made_at, alternatives, level)
        self.process: simpy.Process | None = None
        self.down = 0  # held units now failed
        self.running = False  # in its timed hold (can be interrupted)
        self.started = 0.0  # when its current stretch of the hold began
        self.remaining = 0.0  # the hold's time left at the start of that stretch
        self.resume: simpy.Event | None = None
        self.entity, self.activity = 0, ""  # who asks, and for which step (the grant trace)

    def count_time_left(self, now: float) -> None:
        """The hold was stopped at `now`: what is left of it (never below 0: a stop at the
        very end of a hold can round to a hair under it)."""
        self.remaining = max(0.0, self.remaining - (now - self.started))


class Step:
    """An activity's compiled view: pool/material needs, random streams, statistics."""

    def __init__(self, spec: Activity, model: Model) -> None:
        self.name = spec.name
        self.needs = tuple((model.pool_index[p], n) for p, n in spec.resources.items())
        self.one_of = tuple(model.pool_index[p] for p in spec.one_of)
        self.consumes = tuple((model.stock_index[m], n) for m, n in spec.consumes.items())
        self.produces = tuple((model.stock_index[m], n) for m, n in spec.produces.items())
        self.duration = spec.duration
        self.durations = {model.pool_index[p]: d for p, d in spec.durations.items()}  # by chosen pool
        self.duration_rng = model.stream(streams.duration_source(spec.name))
        self.working_time = model.twin.working_time(spec)
        self.branch_rng = model.stream(streams.branch_source(spec.name))
        self.can_fail = any(p in model.failing for p in spec.pools)
        self.preempt = spec.preempt
        self.serving: list[Job] = []  # jobs in service here, for preemption
        self.interruptible = self.can_fail or self.preempt
        self.can_queue = spec.can_queue
        self.queue = Level(model.warmup)
        self.wait = Tally(model.warmup)
        self.completed = 0
        classes = model.twin.classes
        self.levels = [spec.level_of(c) for c in classes]
        self.class_durations = [spec.class_durations.get(c) for c in classes]
        self.class_successors = [list(spec.successors_of(c).items()) for c in classes]
        self.class_next: list[list[tuple[Step | None, float]]] = []  # resolved after all steps exist
        self.patience = [spec.patience_of(c) for c in classes]
        self.patience_rng = model.stream(streams.patience_source(spec.name))
        self.capacity, self.join = spec.queue_capacity, spec.join
        self.turns_away = spec.turns_away
        self.balk_rng = model.stream(streams.balk_source(spec.name))
        self.abandon_to, self.lost_to = spec.abandon_to, spec.lost_to  # names; resolved by the model
        self.blocks = spec.when_full == "block"
        self.blocked: deque[Blocked] = deque()  # entities blocked before this full step, in order
        self.reneges = spec.reneges
        self.reached = self.abandoned = self.lost = self.balked = 0  # entities reaching after warm-up
        self.class_wait = [Tally(model.warmup) for _ in classes]
        self.redirect: Step | None = None  # set while a reroute rule sends this work elsewhere
        self.setups = [spec.setup_of(c) for c in classes]
        self.setup_rng = model.stream(streams.setup_source(spec.name))
        self.setups_done = 0  # set-ups after the warm-up
        self.batch = spec.batch
        self.forming: Forming | None = None  # the batch gathering here
        self.rules: list[Watch] = []  # queue rules watching this step

    def never_drains(self, locked: Any) -> bool:
        """Whether nobody waiting here can ever start or leave, given which pools are
        `locked` (held for good): some fixed pool, or every skilled pool, is."""
        if self.reneges:
            return False
        skilled = bool(self.one_of) and all(locked(p) for p in self.one_of)
        return skilled or any(locked(p) for p, _ in self.needs)

    def duration_of(self, pool: int, klass: int) -> Dist:
        """A skilled pool's own duration, else the class's, else the step's."""
        own = self.durations.get(pool)
        if own is not None:
            return own
        return self.class_durations[klass] or self.duration

    def choose_open(self, klass: int) -> Step | None:
        """Where an entity known to be still open goes after this step: its class's branches
        other than the exit, their probabilities renormalised (one uniform draw unless there is
        one such way; none: it leaves)."""
        options = [(step, p) for step, p in self.class_next[klass] if step is not None]
        if not options:
            return None
        total = 0.0
        for _, p in options:
            total += p
        return _pick(options, self.branch_rng, total)

    def choose_next(self, klass: int) -> Step | None:
        """Branch by one uniform draw over the cumulative probabilities of the entity's
        class (none if one way)."""
        return _pick(self.class_next[klass], self.branch_rng)


def _pick(options: list[tuple[Any, float]], rng: np.random.Generator, total: float = 1.0) -> Any:
    """One uniform draw over cumulative probabilities (summing to `total`); no draw when there
    is one option."""
    if len(options) == 1:
        return options[0][0]
    u = rng.random() * total
    cumulative = 0.0
    for option, p in options:
        cumulative += p
        if u < cumulative:
            return option
    return options[-1][0]


class Entity:
    """One piece of work: its number (arrival order) and class (index into Twin.classes)."""

    __slots__ = ("klass", "number")

    def __init__(self, number: int, klass: int) -> None:
        self.number, self.klass = number, klass


class Blocked:
    """An entity blocked before a full step: what wakes it, and whether it was woken."""

    __slots__ = ("wake", "woken")

    def __init__(self, wake: simpy.Event) -> None:
        self.wake, self.woken = wake, False


class Forming:
    """A batch gathering at a step: its members (entity, visit) in order of coming, and whether
    its timeout has passed."""

    __slots__ = ("due", "members")

    def __init__(self) -> None:
        self.members: list[tuple[Entity, Visit]] = []
        self.due = False


class Visit:
    """One entity's wait at one step: what it waits on, and whether it gave up."""

    __slots__ = ("job", "lost_sale", "queued", "reneged", "started", "stock", "timed", "wake")

    def __init__(self, queued: float) -> None:
        self.queued = queued
        self.job: Job | None = None
        self.stock: Request | None = None  # the stock request it waits on, if it must wait
        self.wake: simpy.Event | None = None  # what the entity yields while it waits
        self.timed = False  # its patience runs
        self.reneged = False
        self.lost_sale = False  # found too little of a `shortage: lose` material: leaves unserved
        self.started = False


class Watch:
    """A contingency rule's live state: armed, how often it fired, its units-down clock."""

    def __init__(self, rule: Rule, index: int, model: Model) -> None:
        self.rule, self.index = rule, index
        self.armed = True
        self.fired = 0
        self.activations = 0  # actions taken after the warm-up
        self.down_since: float | None = None  # `down` rules: since when enough units are down
        self.epoch = 0  # `down` rules: bumped whenever that spell ends
        order = rule.action.order
        self.lead_rng = model.stream(streams.contingency_source(rule.name)) if order else None


class Preset:
    """An entity's first visit when it starts from a state: since when it waits, or, in service,
    the duration it has left (twin.starting)."""

    __slots__ = ("remaining", "serving", "since")

    def __init__(self, since: float, serving: bool, remaining: float) -> None:
        self.since, self.serving, self.remaining = since, serving, remaining


class Model:
    def __init__(self, twin: Twin, seed: int, replication: int, trace: bool = False,
                 sample_every: float | None = None, start: Start | None = None) -> None:
        self.twin, self.seed, self.replication = twin, seed, replication
        self.start_rows, self.start_repairs, self.start_orders = _split(start, seed, replication)
        self.sample_every = sample_every
        self.env = simpy.Environment()
        self.warmup, self.horizon = twin.warmup, twin.horizon
        self.events = 0
        self.trace: list[tuple[float, str, int, str]] | None = [] if trace else None
        self.pools = [Pool(r, twin.calendar(r), self.warmup) for r in twin.resources]
        for pool in self.pools:
            if pool.spec.wear == "operating":
                pool.on_busy = self._wear_busy
        self.wears_by_jobs = {i for i, r in enumerate(twin.resources) if r.wear == "jobs"}
        self.failing = twin.pools_that_go_down()  # jobs on these pools can be interrupted
        self.has_setups = twin.has_setups
        self.pool_index = {p.name: i for i, p in enumerate(self.pools)}
        self.units = FifoAllocator([p.free_count() for p in self.pools], self._take_units)
        self.stocks = [Stock(m, self.warmup) for m in twin.materials]
        self.stock_index = {s.name: i for i, s in enumerate(self.stocks)}
        self.materials = FifoAllocator([m.initial for m in twin.materials], self._take_stock)
        self.lead_rngs = [[self.stream(streams.lead_time_source(m.name, _named(m, name)))
                           for name, _ in m.sources] for m in twin.materials]
        self.choice_rngs = [self.stream(streams.supplier_choice_source(m.name)) if m.split else None
                            for m in twin.materials]
        self.steps = {a.name: Step(a, self) for a in twin.activities}
        for step in self.steps.values():
            step.class_next = [[(None if name == EXIT else self.steps[name], p) for name, p in rows]
                               for rows in step.class_successors]
        self.blocked_at: dict[Job, Step] = {}  # the units of entities blocked before a full step
        self.classes = twin.classes
        self.class_cycle = [Tally(self.warmup) for _ in self.classes]
        self.class_due = [0 for _ in self.classes]  # due entities leaving after the warm-up, by class
        self.class_late = [0 for _ in self.classes]
        self.class_rows = {a.name: self._class_rows(a) for a in twin.arrivals}
        self.class_rngs = {a.name: self.stream(streams.class_source(a.name)) for a in twin.arrivals}
        surges = [s for s in twin.windows if s.classes]
        streams_by_name = {a.name: a for a in twin.arrivals}
        self.surge_rows = {s.name: self._class_rows(streams_by_name[s.target], s.classes) for s in surges}
        self.surge_rngs = {s.name: self.stream(streams.surge_class_source(s.name)) for s in surges}
        self.wip = Level(self.warmup)
        self.cycle = Tally(self.warmup)
        self.tardiness = Tally(self.warmup)
        self.late = 0
        self.entities = 0
        self.watches = [Watch(rule, i, self) for i, rule in enumerate(twin.contingency)]
        self.stock_watches: list[list[Watch]] = [[] for _ in self.stocks]
        self.down_watches: list[list[Watch]] = [[] for _ in self.pools]
        for watch in self.watches:
            when = watch.rule.when
            if watch.rule.trigger == "stock":
                self.stock_watches[self.stock_index[when.stock]].append(watch)  # type: ignore[union-attr]
            elif watch.rule.trigger == "queue":
                self.steps[when.queue].rules.append(watch)  # type: ignore[union-attr]
            else:
                self.down_watches[self.pool_index[when.down]].append(watch)  # type: ignore[union-attr]
        self.failure_storms = self._windows("failure_rate", self.pool_index)
        self.maintenance_times = [twin.maintenance_times(r) for r in twin.resources]
        self.crews = [self._crews(r) for r in twin.resources]  # per pool: [repair crew, maintenance crew]
        slow = [s for s in twin.windows if s.kind == "lead_time"]  # per material, per supplier:
        self.slow_supply = [[[(s.start, s.end, s.factor or 1.0) for s in slow
                              if s.target == m.name and s.supplier in (None, name)] for name, _ in m.sources]
                            for m in twin.materials]
        self._start_processes()

    def _class_rows(self, arrival: Arrival,
                    shares: dict[str, float] | None = None) -> list[tuple[tuple[int, float | None], float]]:
        """((class index, due allowance), probability) per class the stream brings (or
        `shares`: a demand surge's own)."""
        shares = shares or arrival.classes or {arrival.name: 1.0}
        return [((self.classes.index(c), arrival.due_of(c)), p) for c, p in shares.items()]

    def _crews(self, resource: Resource) -> list[tuple[tuple[tuple[int, int], ...], int] | None]:
        """(needs, priority level) of the crew of its repairs and of its maintenance (None: none)."""
        out: list[tuple[tuple[tuple[int, int], ...], int] | None] = [None, None]
        for kind, crew, urgent in resource.crews:
            out[int(kind == "maintenance")] = (tuple((self.pool_index[p], n) for p, n in crew.items()),
                                               -1 if urgent else 0)
        return out

    def stream(self, source: str) -> Any:
        return streams.stream(self.seed, self.replication, source)

    def _windows(self, kind: str, index: dict[str, int]) -> list[list[tuple[float, float, float]]]:
        out: list[list[tuple[float, float, float]]] = [[] for _ in index]
        for s in self.twin.windows:
            if s.kind == kind:
                assert s.factor is not None
                out[index[s.target]].append((s.start, s.end, s.factor))
        return out

    def log(self, kind: str, subject: int, name: str) -> None:
        self.events += 1
        if self.trace is not None:
            self.trace.append((self.env.now, kind, subject, name))

    # -- processes -----------------------------------------------------------------
    def _start_processes(self) -> None:
        env = self.env
        for row in self.start_orders:  # a state's open orders: on order already, delivered when due
            stock = self.stocks[int(row[MATERIAL])]
            stock.position += int(row[QUANTITY])
            env.process(self._delivery(int(row[MATERIAL]), stock.vendors[int(row[SUPPLIER])],
                                       int(row[QUANTITY]), float(row[LEAD])))
        for pool in self.pools:
            if pool.calendar is not None:
                env.process(self._shifts(pool))
        first = 0
        for pool in self.pools:
            if pool.spec.failures is not None or pool.spec.maintenance is not None:
                for unit in pool.units:
                    repair = self.start_repairs[first + unit.index] if len(self.start_repairs) else math.nan
                    down = not math.isnan(repair)
                    env.process(self._down_now(pool, unit, repair) if down else self._unit_life(pool, unit))
            first += pool.spec.capacity
        for stock in self.stocks:
            for vendor in stock.vendors:
                if vendor.spec.disruptions:
                    env.process(self._disruptions(stock, vendor))
        for index, stock in enumerate(self.stocks):
            if stock.periodic:
                env.process(self._reviews(index))
            else:
                self._review(index)
        for arrival in self.twin.arrivals:
            env.process(self._arrivals(arrival, self.steps[arrival.route]))
        for stress in self.twin.windows:
            if stress.kind not in ("failure_rate", "lead_time"):  # those act where they draw
                env.process(self._stress(stress))
        if len(self.start_rows):  # the state's entities, numbered first (twin.starting)
            steps = list(self.steps.values())
            for row in self.start_rows:
                self.entities += 1
                env.process(self._resume(Entity(self.entities, int(row[CLASS])), steps[int(row[STEP])], row))

    def _resume(self, entity: Entity, step: Step, row: np.ndarray) -> Generator:
        """An entity of the state: on from where it was (twin.starting)."""
        due = None if math.isnan(row[DUE]) else float(row[DUE])
        preset = Preset(float(row[SINCE]), row[KIND] == SERVING, float(row[REMAINING]))
        if row[KIND] not in (SERVING, WAITING):  # between steps: on from the step it finished, not out
            step = step.choose_open(entity.klass)  # type: ignore[assignment]
        yield from self._entity(entity, step, due, float(row[BORN]), preset)

    def _arrivals(self, arrival: Arrival, first: Step) -> Generator:
        """Renewal gaps; or, with a rate profile, a non-homogeneous Poisson process by
        inversion: an Exp(1) draw of integrated rate until the next arrival."""
        name, interarrival, profile = arrival.name, arrival.interarrival, self.twin.rate_profile(arrival)
        rng = self.stream(streams.arrival_source(name))
        while True:
            if interarrival is not None:
                yield self.env.timeout(interarrival.sample(rng))
            else:
                assert profile is not None  # the spec gives exactly one of the two
                now = self.env.now
                yield self.env.timeout(profile.next_arrival(now, rng.exponential(1.0), self.horizon) - now)
            self._arrive(arrival, first)

    def _arrive(self, arrival: Arrival, first: Step, surge: str | None = None) -> None:
        """A new entity; `surge`: the demand_surge whose own classes it draws from."""
        self.entities += 1
        self.log("arrival", self.entities, arrival.name)
        rows, rng = (self.class_rows[arrival.name], self.class_rngs[arrival.name]) if surge is None else (
            self.surge_rows[surge], self.surge_rngs[surge])
        klass, allowance = _pick(rows, rng)
        if self.trace is not None and self.twin.uses_classes:  # traced, but not counted as an event
            self.trace.append((self.env.now, "class", self.entities, self.classes[klass]))
        due = None if allowance is None else self.env.now + allowance
        self.env.process(self._entity(Entity(self.entities, klass), first, due))

    def _entity(self, entity: Entity, step: Step | None, due: float | None = None,
                born: float | None = None, preset: Preset | None = None) -> Generator:
        env = self.env
        born = env.now if born is None else born
        self.wip.add(env.now, 1)
        served, upstream = True, None
        while step is not None:
            if step.redirect is not None:
                step = step.redirect
            served, step, upstream = yield from self._visit(entity, step, upstream, preset)
            preset = None
        now = env.now
        self.wip.add(now, -1)
        if served:  # those who gave up or were turned away count in no completion KPI
            self.cycle.observe(now, now - born)
            self.class_cycle[entity.klass].observe(now, now - born)
            if due is not None:
                self.tardiness.observe(now, max(0.0, now - due))
                if now >= self.warmup:
                    self.class_due[entity.klass] += 1
                    if now > due:
                        self.late += 1
                        self.class_late[entity.klass] += 1
        if self.trace is not None:  # traced, but not counted as an event
            self.trace.append((now, "leave", entity.number, ""))

    def _visit(self, entity: Entity, step: Step, upstream: Job | None,
               preset: Preset | None = None) -> Generator[Any, Any, tuple[bool, Step | None, Job | None]]:
        """One activity: queue, be served, release. `upstream`: the units of the step before,
        still held because this step blocks when full; `preset`: this visit began before a
        state's time. Returns (served, the next step or where to go instead, the units to
        carry there)."""
        env = self.env
        visit = Visit(env.now if preset is None else preset.since)
        serving = preset is not None and preset.serving
        if env.now >= self.warmup:
            step.reached += 1
        if step.batch is not None:  # no upstream: a batch step never blocks when full
            yield from self._join_batch(entity, step, visit)
            return True, step.choose_next(entity.klass), None
        job = None
        counted = False  # in the queue already (let in from a blocked wait)
        if step.needs or step.one_of:
            job = visit.job = Job(step.needs, visit.queued, step.one_of, step.levels[entity.klass])
            job.entity, job.activity = entity.number, step.name
            if not self.units.request(job) and step.turns_away:
                full = step.capacity is not None and step.queue.value >= step.capacity
                if upstream is not None and step.blocks and full:
                    yield from self._blocked(entity, step, job, upstream)
                    upstream, counted, visit.queued = None, True, env.now
                elif self._turned_away(entity, step):
                    self.units.withdraw(job)
                    if upstream is not None:
                        self._release(upstream)
                    return False, self._elsewhere(step.lost_to), None
        if upstream is not None:
            self._release(upstream)
        if step.can_queue:
            if not counted:
                step.queue.add(env.now, 1)
                for watch in step.rules:
                    self._check(watch)
            if job is not None and not job.granted and step.preempt:
                self._preempt(step, job)
            if job is not None and not job.granted:
                self._patience(entity, step, visit)
                yield self._granted(job, visit)
            if step.consumes and not visit.reneged and not serving:  # in service: consumed already
                yield from self._consume(entity, step, visit)
            if visit.reneged:
                return False, self._elsewhere(step.abandon_to), None
            if visit.lost_sale:  # leaves unserved, giving back the units it holds
                step.queue.add(env.now, -1)
                if job is not None:
                    self._release(job)
                if step.blocks:
                    self._unblock(step)
                return False, None, None
            step.queue.add(env.now, -1)
            if step.blocks:
                self._unblock(step)
        visit.started = True
        if not serving:  # one in service at the state's time waited before it
            step.wait.observe(env.now, env.now - visit.queued)
            step.class_wait[entity.klass].observe(env.now, env.now - visit.queued)
        self.log("start", entity.number, step.name)
        if serving:  # what is left of its duration, drawn by twin.starting; no set-up
            assert preset is not None
            duration = preset.remaining
            if self.has_setups and job is not None:
                _remember(job, entity.klass)
        else:
            duration = step.duration_of(job.chosen if job else -1, entity.klass).sample(step.duration_rng)
            if self.has_setups and job is not None:
                duration = self._setup(entity, step, job, duration)
        if step.working_time is not None:  # that much working time, paused while closed
            duration = step.working_time.next_arrival(env.now, duration, self.horizon) - env.now
        if job is not None and step.interruptible:
            if step.preempt:
                step.serving.append(job)
            yield from self._work(job, duration)
            if step.preempt:
                step.serving.remove(job)
        else:
            yield env.timeout(duration)
        self.log("end", entity.number, step.name)  # before the release: the grants it makes follow it
        if self.wears_by_jobs and job is not None:
            self._jobs_done(job)
        if step.produces:
            self._produce(step)
        nxt = step.choose_next(entity.klass)
        target = nxt if nxt is None or nxt.redirect is None else nxt.redirect
        carry = None
        if job is not None:
            if target is not None and target.blocks:  # released once the next step lets it in
                carry = job
            else:
                self._release(job)
        if env.now >= self.warmup:
            step.completed += 1
        return True, nxt, carry

    # -- batches -----------------------------------------------------------------
    def _join_batch(self, entity: Entity, step: Step, visit: Visit) -> Generator:
        """Wait in the batch gathering here (the first member starts its timeout) until the
        batch has been served; it leaves when full, or when due and big enough."""
        assert step.batch is not None
        step.queue.add(visit.queued, 1)
        for watch in step.rules:
            self._check(watch)
        forming = step.forming
        if forming is None:
            forming = step.forming = Forming()
            if step.batch.timeout is not None:
                self._after(step.batch.timeout, lambda: self._batch_due(step, forming))
        visit.wake = self.env.event()
        forming.members.append((entity, visit))
        if len(forming.members) >= (step.batch.smallest if forming.due else step.batch.size):
            self._form(step)
        yield visit.wake

    def _batch_due(self, step: Step, forming: Forming) -> None:
        """A batch's timeout: it leaves now if it is big enough, else once it is."""
        assert step.batch is not None
        if step.forming is not forming:  # it left full before
            return
        forming.due = True
        if len(forming.members) >= step.batch.smallest:
            self._form(step)

    def _form(self, step: Step) -> None:
        forming, step.forming = step.forming, None
        assert forming is not None
        self.env.process(self._batch(step, forming.members))

    def _batch(self, step: Step, members: list[tuple[Entity, Visit]]) -> Generator:
        """One seizure of the step's units and one duration for the whole batch; each member's
        wait ends at its start, and all of them end together and move on in order."""
        env = self.env
        first = members[0][0]
        job = None
        if step.needs or step.one_of:
            job = Job(step.needs, env.now, step.one_of)
            job.entity, job.activity = first.number, step.name
            if not self.units.request(job):
                yield self._granted(job)
        now = env.now
        for entity, visit in members:
            step.queue.add(now, -1)
            step.wait.observe(now, now - visit.queued)
            step.class_wait[entity.klass].observe(now, now - visit.queued)
            self.log("start", entity.number, step.name)
        duration = step.duration_of(job.chosen if job else -1, first.klass).sample(step.duration_rng)
        if self.has_setups and job is not None:  # a batch takes no set-up, but its units remember
            for _, unit in job.held:
                unit.last = first.klass
        if step.working_time is not None:
            duration = step.working_time.next_arrival(env.now, duration, self.horizon) - env.now
        if job is not None and step.interruptible:
            yield from self._work(job, duration)
        else:
            yield env.timeout(duration)
        for entity, _ in members:
            self.log("end", entity.number, step.name)
        if self.wears_by_jobs and job is not None:  # one batch is one job
            self._jobs_done(job)
        if job is not None:
            self._release(job)
        if env.now >= self.warmup:
            step.completed += len(members)
        for _, visit in members:
            assert visit.wake is not None
            visit.wake.succeed()

    def _setup(self, entity: Entity, step: Step, job: Job, duration: float) -> float:
        """A job whose units last served another class takes its set-up first (within its
        hold); each unit then remembers this class."""
        setup = step.setups[entity.klass]
        if setup is not None and any(u.last >= 0 and u.last != entity.klass for _, u in job.held):
            duration = duration + setup.sample(step.setup_rng)
            if self.env.now >= self.warmup:
                step.setups_done += 1
            if self.trace is not None:  # traced, but not counted as an event
                self.trace.append((self.env.now, "setup", entity.number, step.name))
        _remember(job, entity.klass)
        return duration

    def _blocked(self, entity: Entity, step: Step, job: Job, upstream: Job) -> Generator:
        """Blocking after service: wait where it is, holding the units of the step before,
        until this step's room has a place (`_unblock`) or its request is granted; then give
        those units back. Its request stays in the lines meanwhile."""
        self.log("blocked", entity.number, step.name)
        entry = Blocked(self.env.event())
        step.blocked.append(entry)
        self.blocked_at[upstream] = step
        job.on_grant = lambda: self._let_in(step, entry)
        self._deadlock(step)
        yield entry.wake
        del self.blocked_at[upstream]
        job.on_grant = None
        self._release(upstream)

    def _let_in(self, step: Step, entry: Blocked) -> None:
        """A blocked entity takes a place in the queue (or was granted): wake it."""
        if entry.woken:
            return
        entry.woken = True
        step.blocked.remove(entry)
        step.queue.add(self.env.now, 1)
        for watch in step.rules:
            self._check(watch)
        entry.wake.succeed()

    def _unblock(self, step: Step) -> None:
        """The queue shrank: let blocked entities in while there is room, first blocked first."""
        assert step.capacity is not None
        while step.blocked and step.queue.value < step.capacity:
            self._let_in(step, step.blocked[0])

    def _deadlock(self, step: Step) -> None:
        """Raise if `step` can never let anyone in again: the greatest set of full steps none
        of whose queues can drain, because some pool each needs (or every pool of its
        `one_of`) has all its units held by entities blocked at steps of the set, and none of
        whose waiting entities can renege."""
        stuck = set(self.blocked_at.values())
        while True:
            keep = {s for s in stuck if s.never_drains(lambda p, k=stuck: self._held_by_blocked(p, k))}
            if keep == stuck:
                break
            stuck = keep
        if step in stuck:
            names = sorted(s.name for s in stuck)
            raise DeadlockError(self.env.now, names)

    def _held_by_blocked(self, pool: int, steps: set[Step]) -> bool:
        units = self.pools[pool].units
        return all(isinstance(u.job, Job) and self.blocked_at.get(u.job) in steps for u in units)

    def _elsewhere(self, name: str | None) -> Step | None:
        return None if name is None else self.steps[name]

    def _granted(self, request: Request, visit: Visit | None = None) -> simpy.Event:
        event = self.env.event()
        request.on_grant = event.succeed  # type: ignore[assignment]  # called without a value
        if visit is not None:
            visit.wake = event
        return event

    def _turned_away(self, entity: Entity, step: Step) -> bool:
        """An entity that would have to wait finds the waiting room full, or balks."""
        waiting = int(step.queue.value)
        counted = self.env.now >= self.warmup
        if step.capacity is not None and waiting >= step.capacity:
            step.lost += counted
            self.log("lost", entity.number, step.name)
            return True
        if step.join:
            p = step.join[min(waiting, len(step.join) - 1)]
            if p < 1.0 and (p <= 0.0 or step.balk_rng.random() >= p):
                step.balked += counted
                self.log("balk", entity.number, step.name)
                return True
        return False

    def _patience(self, entity: Entity, step: Step, visit: Visit) -> None:
        """Start the entity's patience at its first wait here (if its class has one)."""
        dist = step.patience[entity.klass]
        if dist is None or visit.timed:
            return
        visit.timed = True
        self._after(dist.sample(step.patience_rng), lambda: self._renege(entity, step, visit))

    def _renege(self, entity: Entity, step: Step, visit: Visit) -> None:
        """Patience is over: unless served meanwhile, leave the lines and give back what is held."""
        request = visit.stock if visit.stock is not None else visit.job
        if visit.started or request is None or request.granted:
            return
        now = self.env.now
        visit.reneged = True
        self.log("renege", entity.number, step.name)
        step.queue.add(now, -1)
        if max(visit.queued, 0.0) >= self.warmup:  # a state's entity: reached at the start
            step.abandoned += 1
        assert visit.wake is not None
        visit.wake.succeed()
        if visit.stock is not None:  # it holds its units while it waits for stock
            for index, amount in step.consumes:
                self.stocks[index].position += amount
            self.materials.cancel(visit.stock)
            if visit.job is not None:
                self._release(visit.job)
        else:
            assert visit.job is not None
            self.units.cancel(visit.job)
        if step.blocks:
            self._unblock(step)

    def _consume(self, entity: Entity, step: Step, visit: Visit) -> Generator:
        now = self.env.now
        free = self.materials.free
        short = next((i for i, n in step.consumes if self.stocks[i].spec.loses and free[i] < n), None)
        if short is not None:  # a lost sale: no request, the position stays
            visit.lost_sale = True
            self.log("lost_sale", entity.number, self.stocks[short].name)
            for index, _ in step.consumes:
                self.stocks[index].count_request(now, self.warmup, False)
                if self.stocks[index].spec.loses:
                    self.stocks[index].count_lost(now, self.warmup)
            return
        request = Request(step.consumes, now, level=step.levels[entity.klass])
        for index, amount in step.consumes:
            self.stocks[index].position -= amount
            self._review(index)
        at_once = self.materials.request(request)
        for index, _ in step.consumes:
            self.stocks[index].count_request(now, self.warmup, at_once)
        if not at_once:
            visit.stock = request
            self._patience(entity, step, visit)
            yield self._granted(request, visit)

    def _work(self, job: Job, duration: float) -> Generator:
        """Hold for `duration` of working time; a failed unit suspends the job, preemption
        sends it back to its lines (its time left already counted by `_preempt`)."""
        env = self.env
        job.process = env.active_process
        job.remaining = duration
        while True:
            while job.down:  # a unit may fail at the instant another one is repaired
                job.resume = env.event()
                yield job.resume
            job.started = env.now
            job.running = True
            try:
                yield env.timeout(job.remaining)
                job.running = False
                return
            except simpy.Interrupt as stop:
                if stop.cause is not PREEMPTED:
                    job.count_time_left(env.now)
                elif not job.granted:
                    yield self._granted(job)

    def _preempt(self, step: Step, job: Job) -> None:
        """A request of a higher class must wait: the lowest-class job in service here (the
        latest of them) stops, gives back its units and waits in its lines at its old place;
        its time left is kept, and the units go to whoever is first in line now."""
        victims = [j for j in step.serving if j.running and j.level > job.level]
        if not victims:
            return
        victim = max(victims, key=lambda j: j.key)
        now = self.env.now
        victim.running = False
        victim.count_time_left(now)
        self.log("preempt", victim.entity, step.name)
        pools = self._give_back(victim)
        victim.on_grant = None
        self.units.requeue(victim)
        self.units.dispatch(pools)
        assert victim.process is not None
        victim.process.interrupt(PREEMPTED)

    def _take_units(self, job: Request) -> None:
        now = self.env.now
        for index, count in job.needs:
            job.held += [(index, unit) for unit in self.pools[index].take(now, count, job)]
        if job.chosen >= 0:
            job.held += [(job.chosen, unit) for unit in self.pools[job.chosen].take(now, 1, job)]
        if self.trace is not None and isinstance(job, Job):  # traced, but not counted as an event
            self.trace.append((now, "grant", job.entity, job.activity))
            if job.chosen >= 0:  # which skilled pool serves it
                self.trace.append((now, "by", job.entity, self.pools[job.chosen].name))

    def _release(self, job: Job) -> None:
        self.units.dispatch(self._give_back(job))  # its pools, the skilled one included

    def _give_back(self, job: Request) -> set[int]:
        """Every unit the job holds back to its pool (no dispatch yet); the pools."""
        now = self.env.now
        held, job.held = job.held, []
        for index, unit in held:
            self.units.free[index] += self.pools[index].release(now, unit)
        return {index for index, _ in held}

    def _unit_life(self, pool: Pool, unit: Unit) -> Generator:
        """Up until the unit fails or its planned maintenance is due, whichever comes first (a
        failure on a tie), then down: waiting for its crew if it has one, then repaired or
        maintained, and as good as new. An uptime cut short by maintenance is not used."""
        if pool.spec.wear != "calendar":
            yield from self._worn_life(pool, unit)
            return
        failures, care = pool.spec.failures, pool.spec.maintenance
        index = self.pool_index[pool.name]
        up_rng = self.stream(streams.uptime_source(pool.name, unit.index))
        repair_rng = self.stream(streams.repair_source(pool.name, unit.index))
        care_rng = self.stream(streams.maintenance_source(pool.name, unit.index))
        weekly = self.maintenance_times[index]
        while True:
            up = math.inf
            if failures is not None:
                up = failures.uptime.sample(up_rng)
                if storms := self.failure_storms[index]:
                    up = up / _factor(storms, self.env.now)
            planned = math.inf
            if care is not None:
                if care.every is not None:
                    planned = care.every
                k = bisect.bisect_right(weekly, self.env.now)
                if k < len(weekly) and weekly[k] - self.env.now < planned:
                    planned = weekly[k] - self.env.now
            maintain = planned < up
            if math.isinf(up) and not maintain:
                return  # no failures, and no maintenance due before the horizon
            yield self.env.timeout(planned if maintain else up)
            work = care.duration if maintain else failures.repair  # type: ignore[union-attr]
            yield from self._out_of_action(pool, unit, maintain,
                                           partial(work.sample, care_rng if maintain else repair_rng))

    def _down_now(self, pool: Pool, unit: Unit, repair: float) -> Generator:
        """A unit down at a state's time: out of action now for the repair time it has left,
        then it lives on as any unit (`_unit_life`)."""
        yield from self._out_of_action(pool, unit, False, lambda: repair)
        yield from self._unit_life(pool, unit)

    def _out_of_action(self, pool: Pool, unit: Unit, maintain: bool,
                       duration: Callable[[], float]) -> Generator:
        """Down now (for maintenance, or failed): wait for the crew if it has one, then the
        work's `duration()` (drawn once the crew is there), back up, the crew freed, counted."""
        index = self.pool_index[pool.name]
        self._fail(index, unit, maintain)
        crew = self.crews[index][int(maintain)]
        held = None
        if crew is not None:
            held = yield from self._call_crew(pool, unit, crew)
        yield self.env.timeout(duration())
        self._repair(index, unit, maintain)
        if held is not None:
            self.units.dispatch(self._give_back(held))
        if self.env.now >= self.warmup:
            if maintain:
                pool.maintenances += 1
            else:
                pool.repairs += 1

    def _worn_life(self, pool: Pool, unit: Unit) -> Generator:
        """Model._unit_life where units wear by use: up until its use reaches the uptime drawn
        (or `maintenance.every`, whichever is less; a failure on a tie) or a weekly maintenance
        time comes, whichever first; then down as in calendar time. Use is operating time or
        jobs done (`_wear_busy`, `_wear_job`)."""
        failures, care = pool.spec.failures, pool.spec.maintenance
        index = self.pool_index[pool.name]
        up_rng = self.stream(streams.uptime_source(pool.name, unit.index))
        repair_rng = self.stream(streams.repair_source(pool.name, unit.index))
        care_rng = self.stream(streams.maintenance_source(pool.name, unit.index))
        weekly = self.maintenance_times[index]
        while True:
            up = math.inf
            if failures is not None:
                up = failures.uptime.sample(up_rng)
                if storms := self.failure_storms[index]:
                    up = up / _factor(storms, self.env.now)
            every = care.every if care is not None and care.every is not None else math.inf
            k = bisect.bisect_right(weekly, self.env.now)
            if math.isinf(up) and math.isinf(every) and k == len(weekly):
                return
            unit.cycle += 1
            unit.left, unit.kind = min(up, every), every < up
            unit.wearing = True
            unit.due = due = self.env.event()
            if k < len(weekly):
                cycle = unit.cycle
                self._after(weekly[k] - self.env.now, lambda c=cycle: self._weekly_due(unit, c))
            if pool.spec.wear == "operating" and unit.job is not None and not unit.failed:
                self._wear_busy(unit, True)
            maintain = bool((yield due))
            work = care.duration if maintain else failures.repair  # type: ignore[union-attr]
            yield from self._out_of_action(pool, unit, maintain,
                                           partial(work.sample, care_rng if maintain else repair_rng))

    def _wear_busy(self, unit: Unit, busy: bool) -> None:
        """A unit that wears by operating time starts or stops working: its wear runs out after
        what is left of its use (a timeout), or what is left is counted down."""
        if not unit.wearing:
            return
        now = self.env.now
        if busy:
            unit.since = now
            timer = unit.timer = self.env.timeout(unit.left)
            timer.callbacks.append(lambda event: self._worn(unit, event))
        elif unit.timer is not None:
            unit.left = max(0.0, unit.left - (now - unit.since))
            unit.timer = None

    def _worn(self, unit: Unit, timer: Any) -> None:
        if timer is unit.timer and unit.wearing:
            self._due(unit, unit.kind)

    def _jobs_done(self, job: Job) -> None:
        for index, unit in job.held:
            if index in self.wears_by_jobs:
                self._wear_job(unit)

    def _wear_job(self, unit: Unit) -> None:
        """A unit that wears by jobs finished one: down when that reaches its uptime or `every`."""
        if unit.wearing:
            unit.left -= 1
            if unit.left <= 0:
                self._due(unit, unit.kind)

    def _weekly_due(self, unit: Unit, cycle: int) -> None:
        if unit.wearing and unit.cycle == cycle:
            self._due(unit, True)

    def _due(self, unit: Unit, maintain: bool) -> None:
        unit.wearing, unit.timer = False, None
        assert unit.due is not None
        unit.due.succeed(maintain)  # type: ignore[attr-defined]

    def _call_crew(self, pool: Pool, unit: Unit,
                   crew: tuple[tuple[tuple[int, int], ...], int]) -> Generator[Any, Any, Request]:
        """A repair or maintenance waits for its crew's units (a plain request: no grant row);
        returns the granted request."""
        now = self.env.now
        needs, level = crew
        request = Request(needs, now, level=level)
        if not self.units.request(request):
            yield self._granted(request)
        pool.crew_wait.observe(self.env.now, self.env.now - now)
        if self.trace is not None:  # traced, but not counted as an event
            self.trace.append((self.env.now, "crew", unit.index, pool.name))
        return request

    def _fail(self, index: int, unit: Unit, planned: bool = False) -> None:
        self.log("maintenance" if planned else "failure", unit.index, self.pools[index].name)
        if unit.failed:  # already down for another cause
            unit.failed += 1
            return
        if self.pools[index].fail(self.env.now, unit):
            self.units.free[index] -= 1
        job = unit.job
        if isinstance(job, Job):
            job.down += 1
            if job.running:
                job.running = False
                assert job.process is not None
                job.process.interrupt()
        self._units_down(index)

    def _repair(self, index: int, unit: Unit, planned: bool = False) -> None:
        self.log("maintained" if planned else "repair", unit.index, self.pools[index].name)
        if unit.failed > 1:  # still down for another cause
            unit.failed -= 1
            return
        self._units_up(index)
        job = unit.job
        if self.pools[index].repair(self.env.now, unit):
            self.units.free[index] += 1
            self.units.dispatch((index,))
        elif isinstance(job, Job):
            job.down -= 1
            if job.down == 0 and job.resume is not None:
                job.resume.succeed()
                job.resume = None

    def _shifts(self, pool: Pool) -> Generator:
        assert pool.calendar is not None
        index = self.pool_index[pool.name]
        for t, level in pool.calendar.changes(self.horizon):
            yield self.env.timeout(t - self.env.now)
            pool.level = level
            self._set_duty(index)

    def _set_duty(self, index: int) -> None:
        """A shift change, an absence or overtime: the units on duty become the pool's level."""
        pool = self.pools[index]
        level = pool.effective()
        self.log("shift", level, pool.name)
        self.units.free[index] += pool.set_on_duty(self.env.now, level)
        if level > 0:
            self.units.dispatch((index,))

    # -- materials -----------------------------------------------------------------
    def _take_stock(self, request: Request) -> None:
        for index, _ in request.needs:
            self.stocks[index].record(self.env.now, self.materials.free[index])
            for watch in self.stock_watches[index]:
                self._check(watch)

    def _review(self, index: int) -> None:
        """Continuous review (at t = 0 and at each request); periodic review has its own clock."""
        if not self.stocks[index].periodic:
            self._order(index)

    def _reviews(self, index: int) -> Generator:
        """Periodic review: at first_review + k * review, order up to the level."""
        policy = self.stocks[index].spec.reorder
        assert policy is not None
        k = 0
        while True:
            yield self.env.timeout(policy.review_time(k) - self.env.now)
            self._order(index)
            k += 1

    def _order(self, index: int) -> None:
        stock = self.stocks[index]
        quantity = stock.order_quantity()
        if quantity:
            stock.position += quantity
            self.log("order", quantity, stock.name)
            rng = self.choice_rngs[index]
            k = stock.vendor(None if rng is None else rng.random())
            vendor = stock.vendors[k]
            if self.env.now >= self.warmup:  # every supplier's orders: the cost per order counts them
                vendor.orders += 1
            if stock.spec.suppliers and self.trace is not None:  # traced, but not counted as an event
                self.trace.append((self.env.now, "supplier", quantity, vendor.name))
            lead = vendor.spec.lead_time.sample(self.lead_rngs[index][k])
            if slow := self.slow_supply[index][k]:
                lead = lead * _factor(slow, self.env.now)
            self.env.process(self._delivery(index, vendor, quantity, lead))

    def _produce(self, step: Step) -> None:
        """A step that ends adds its output to stock (on hand and in the position: nothing was
        on order), then hands it to whoever waits for it, in request order."""
        now = self.env.now
        for index, amount in step.produces:
            stock = self.stocks[index]
            stock.position += amount
            self.materials.free[index] += amount
            stock.record(now, self.materials.free[index])
            if self.trace is not None:  # traced, but not counted as an event
                self.trace.append((now, "produce", amount, stock.name))
        self.materials.dispatch(index for index, _ in step.produces)

    def _delivery(self, index: int, vendor: Vendor, quantity: int, lead: float) -> Generator:
        stock = self.stocks[index]
        yield self.env.timeout(lead)
        while vendor.disrupted:
            yield vendor.recovered
        self.log("delivery", quantity, stock.name)
        self.materials.free[index] += quantity
        stock.record(self.env.now, self.materials.free[index])
        self.materials.dispatch((index,))

    def _disruptions(self, stock: Stock, vendor: Vendor) -> Generator:
        disruptions = vendor.spec.disruptions
        assert disruptions is not None
        sources = streams.disruption_sources(stock.name, _named(stock.spec, vendor.name))
        every_rng, duration_rng = self.stream(sources[0]), self.stream(sources[1])
        while True:
            yield self.env.timeout(disruptions.every.sample(every_rng))
            self._disrupt(vendor, 1)
            yield self.env.timeout(disruptions.duration.sample(duration_rng))
            self._disrupt(vendor, -1)

    def _disrupt(self, vendor: Vendor, change: int) -> None:
        if change > 0 and not vendor.disrupted:
            vendor.recovered = self.env.event()
        vendor.disrupted += change
        if not vendor.disrupted:
            vendor.recovered.succeed()  # type: ignore[attr-defined]

    # -- stresses and contingency ----------------------------------------------------
    def _stress(self, stress: Stress) -> Generator:
        env = self.env
        yield env.timeout(stress.start - env.now)
        if stress.kind == "demand_surge":
            yield from self._surge(stress)
            return
        self._stress_edge(stress, 1)
        yield env.timeout(stress.end - env.now)
        self._stress_edge(stress, -1)

    def _stress_edge(self, stress: Stress, change: int) -> None:
        if stress.kind == "supplier_outage":  # one supplier, or all of the material's
            for vendor in self.stocks[self.stock_index[stress.target]].vendors:
                if stress.supplier in (None, vendor.name):
                    self._disrupt(vendor, change)
            return
        index = self.pool_index[stress.target]
        pool = self.pools[index]
        units = stress.units or len(pool.units)
        if stress.kind == "staff_absence":
            pool.absent += change * units
            self._set_duty(index)
            return
        for unit in pool.units[:units]:  # equipment_down
            (self._fail if change > 0 else self._repair)(index, unit)

    def _surge(self, stress: Stress) -> Generator:
        """Extra Poisson arrivals at (factor - 1) x the stream's rate until the window ends."""
        arrival = next(a for a in self.twin.arrivals if a.name == stress.target)
        first, profile = self.steps[arrival.route], self.twin.rate_profile(arrival)
        assert stress.factor is not None
        extra = stress.factor - 1.0
        mean = self.twin.mean_interarrival(arrival) / extra
        rng = self.stream(streams.surge_source(stress.name))
        while True:
            now = self.env.now
            if profile is None:
                yield self.env.timeout(rng.exponential(mean))
            else:
                mass = rng.exponential(1.0) / extra
                yield self.env.timeout(profile.next_arrival(now, mass, self.horizon) - now)
            if self.env.now >= stress.end:
                return
            self._arrive(arrival, first, stress.name if stress.classes else None)

    def _holds(self, watch: Watch) -> bool:
        when = watch.rule.when
        if watch.rule.trigger == "stock":
            return self.materials.free[self.stock_index[when.stock]] < when.below  # type: ignore[union-attr]
        if watch.rule.trigger == "queue":
            return self.steps[when.queue].queue.value > when.above  # type: ignore[union-attr]
        since = watch.down_since
        return since is not None and self.env.now - since >= when.for_  # type: ignore[union-attr]

    def _check(self, watch: Watch) -> None:
        if watch.armed and self._holds(watch):
            self._fire(watch)

    def _fire(self, watch: Watch) -> None:
        watch.armed = False
        watch.fired += 1
        self.log("contingency", watch.index, watch.rule.name)
        self._after(watch.rule.delay, lambda: self._activate(watch))

    def _after(self, delay: float, action: Any) -> None:
        """Run `action` `delay` from now (one scheduled event, as a timeout's callback)."""
        self.env.timeout(delay).callbacks.append(lambda _: action())

    def _rearm(self, watch: Watch) -> None:
        limit = watch.rule.max_activations
        if limit is None or watch.fired < limit:
            watch.armed = True
            self._check(watch)

    def _activate(self, watch: Watch) -> None:
        now, action = self.env.now, watch.rule.action
        if now >= self.warmup:
            watch.activations += 1
        if action.order is not None:
            index = self.stock_index[action.order.material]
            quantity = action.order.quantity
            self.stocks[index].position += quantity
            self.log("order", quantity, action.order.material)
            assert watch.lead_rng is not None
            lead = action.order.lead_time.sample(watch.lead_rng)
            self._after(lead, lambda: self._backup_delivery(watch, index, quantity))
        elif action.overtime is not None:
            index = self.pool_index[action.overtime.pool]
            units = action.overtime.units
            self.pools[index].extra += units
            self._set_duty(index)
            self._after(action.overtime.duration, lambda: self._overtime_end(watch, index, units))
        elif action.reroute is not None:
            step = self.steps[action.reroute.from_]
            step.redirect = self.steps[action.reroute.to]
            self._after(action.reroute.duration, lambda: self._reroute_end(watch, step))
        else:
            assert action.switch is not None
            stock = self.stocks[self.stock_index[action.switch.material]]
            stock.switched = next(k for k, v in enumerate(stock.vendors) if v.name == action.switch.supplier)
            self._after(action.switch.duration, lambda: self._switch_end(watch, stock))

    def _backup_delivery(self, watch: Watch, index: int, quantity: int) -> None:
        stock = self.stocks[index]
        self.log("delivery", quantity, stock.name)
        self.materials.free[index] += quantity
        stock.record(self.env.now, self.materials.free[index])
        self.materials.dispatch((index,))
        self._rearm(watch)

    def _overtime_end(self, watch: Watch, index: int, units: int) -> None:
        self.pools[index].extra -= units
        self._set_duty(index)
        self._rearm(watch)

    def _reroute_end(self, watch: Watch, step: Step) -> None:
        step.redirect = None
        self._rearm(watch)

    def _switch_end(self, watch: Watch, stock: Stock) -> None:
        stock.switched = None
        self._rearm(watch)

    def _units_down(self, index: int) -> None:
        """A unit of pool `index` went down: start the clock of `down` rules that now hold."""
        count = self.pools[index].down
        for watch in self.down_watches[index]:
            if count == watch.rule.when.units:  # type: ignore[union-attr]
                watch.down_since, watch.epoch = self.env.now, watch.epoch + 1
                epoch = watch.epoch
                self._after(watch.rule.when.for_,  # type: ignore[union-attr]
                            lambda w=watch, e=epoch: self._down_check(w, e))

    def _units_up(self, index: int) -> None:
        """Called before a unit's repair is booked: the spell ends for rules it drops below."""
        count = self.pools[index].down
        for watch in self.down_watches[index]:
            if count == watch.rule.when.units:  # type: ignore[union-attr]
                watch.down_since, watch.epoch = None, watch.epoch + 1

    def _down_check(self, watch: Watch, epoch: int) -> None:
        if watch.epoch == epoch:
            self._check(watch)


    # -- results -------------------------------------------------------------------
    def run(self) -> Replication:
        started = time.perf_counter()
        samples = None
        if self.sample_every is None:
            self.env.run(until=self.horizon)
        else:
            samples = self._run_sampled(self.sample_every)
        return Replication(self.record(), self.events, time.perf_counter() - started, self.trace, samples)

    def _run_sampled(self, every: float) -> np.ndarray:
        """env.run(until=horizon) stepped by hand: sample k is taken once every event due
        before min(k * every, horizon) has run (twin.series); no event is scheduled for it."""
        env, horizon = self.env, self.horizon
        n = series.sample_count(horizon, every)
        out = np.empty((n, 2 + len(self.steps) + len(self.stocks)))
        for k in range(n):
            until = min(k * every, horizon)
            while env.peek() < until:
                env.step()
            out[k] = self._snapshot()
        while env.peek() < horizon:
            env.step()
        return out

    def _snapshot(self) -> list[float]:
        """WIP, each activity's queue, each material's stock on hand, backlog (twin.series)."""
        queues = [step.queue.value for step in self.steps.values()]
        return [self.wip.value, *queues, *(float(n) for n in self.materials.free), sum(queues)]

    def record(self) -> dict[str, float]:
        h = self.horizon
        out = {
            "throughput": self.cycle.count / (h - self.warmup),
            "cycle_time": self.cycle.mean(),
            "wip": self.wip.mean(h),
        }
        for step in self.steps.values():
            out[f"activities.{step.name}.wait"] = step.wait.mean()
            out[f"activities.{step.name}.queue_length"] = step.queue.mean(h)
            out[f"activities.{step.name}.completed"] = float(step.completed)
            out |= leaving_kpis(self.twin.activity(step.name), step.reached,
                                (step.abandoned, step.lost, step.balked))
            if any(step.setups):
                out[f"activities.{step.name}.setups"] = float(step.setups_done)
            if self.twin.uses_classes:
                out |= {f"activities.{step.name}.by_class.{c}.wait": tally.mean()
                        for c, tally in zip(self.classes, step.class_wait, strict=True)}
        for pool in self.pools:
            out |= {f"resources.{pool.name}.{k}": v for k, v in pool.kpis(h).items()}
        for stock in self.stocks:
            out |= {f"materials.{stock.name}.{k}": v for k, v in stock.kpis(h).items()}
        if self.twin.uses_classes:
            for c, tally in zip(self.classes, self.class_cycle, strict=True):
                out[f"classes.{c}.throughput"] = tally.count / (h - self.warmup)
                out[f"classes.{c}.cycle_time"] = tally.mean()
        if self.twin.has_due_dates:
            count = self.tardiness.count
            out["on_time"] = 1.0 - self.late / count if count else math.nan
            out["tardiness"] = self.tardiness.mean()
            out["late"] = float(self.late)
            if self.twin.uses_classes:
                out |= class_due_kpis(self.classes, self.class_due, self.class_late)
        for watch in self.watches:
            out[f"contingency.{watch.rule.name}.activations"] = float(watch.activations)
        if self.twin.costs is not None:
            for pool in self.pools:
                out |= {f"resources.{pool.name}.{k}": v for k, v in pool.cost_inputs(h).items()}
            for stock in self.stocks:
                out[f"materials.{stock.name}.stockouts"] = float(stock.requests - stock.filled)
                out[f"materials.{stock.name}.orders"] = float(sum(v.orders for v in stock.vendors))
            add_costs(self.twin, out)
        return out


def _remember(job: Job, klass: int) -> None:
    """The units a job holds now last served its class (set-ups)."""
    for _, unit in job.held:
        unit.last = klass


def _split(start: Start | None, seed: int, replication: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A replication's start (twin.starting): entity rows, repair left per unit, open orders."""
    if start is None or start.empty:
        return np.zeros((0, ROW)), np.zeros(0), np.zeros((0, ORDER))
    flat, n = start.draw(seed, replication), ROW * len(start)
    return (flat[:n].reshape(-1, ROW), flat[n:n + start.units],
            flat[n + start.units:].reshape(-1, ORDER))


def _named(material: Material, supplier: str) -> str | None:
    """The supplier's name in its stream names: none for a material's one `supplier`."""
    return None if material.supplier is not None else supplier


def _factor(windows: list[tuple[float, float, float]], now: float) -> float:
    """The product of the factors of the stress windows [start, end) holding `now`."""
    factor = 1.0
    for start, end, k in windows:
        if start <= now < end:
            factor *= k
    return factor


def simulate(twin: Twin, seed: int, replication: int = 0, trace: bool | Literal["flow"] = False,
             sample_every: float | None = None, start: Start | None = None) -> Replication:
    """Run one replication of `twin` with the SimPy engine (`trace`: True, or "flow" for its
    flow alone, twin.replication; `sample_every`: twin.series; `start`: from a state's
    entities, twin.starting)."""
    rep = Model(twin, seed, replication, bool(trace), sample_every, start).run()
    if rep.trace is not None:
        rep.flow = trace_flow(rep.trace)
        if trace == "flow":
            rep.trace = None
    return rep
