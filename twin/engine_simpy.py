"""The reference engine: one replication of a twin as SimPy processes.

The engine owns simulated time and nothing else: it is handed a validated Twin, a seed
and a replication number, and returns plain data. Tie rule: events due at the same time
run in the order they were scheduled (SimPy's rule); processes are started in the order
shifts, failures, supplier disruptions, initial reorders, arrivals (spec order within
each); an entity whose request is granted at once carries on within the same event.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import simpy

from twin import streams
from twin.allocation import FifoAllocator, Request
from twin.monitors import Level, Tally
from twin.pools import Pool, Unit
from twin.spec import EXIT, Activity, Arrival, Twin
from twin.stock import Stock


@dataclass
class Replication:
    """One replication's outcome: KPI record (flat, dotted keys), event count, trace."""

    record: dict[str, float]
    events: int
    sim_seconds: float
    trace: list[tuple[float, str, int, str]] | None = None


class Job(Request):
    """A request for resource units that, once granted, is the work holding them."""

    __slots__ = ("down", "process", "resume", "running")

    def __init__(self, needs: tuple[tuple[int, int], ...], made_at: float) -> None:
        super().__init__(needs, made_at)
        self.process: simpy.Process | None = None
        self.down = 0  # held units now failed
        self.running = False  # in its timed hold (can be interrupted)
        self.resume: simpy.Event | None = None


class Step:
    """An activity's compiled view: pool/material needs, random streams, statistics."""

    def __init__(self, spec: Activity, model: Model) -> None:
        self.name = spec.name
        self.needs = tuple((model.pool_index[p], n) for p, n in spec.resources.items())
        self.consumes = tuple((model.stock_index[m], n) for m, n in spec.consumes.items())
        self.duration = spec.duration
        self.duration_rng = model.stream(streams.duration_source(spec.name))
        self.branch_rng = model.stream(streams.branch_source(spec.name))
        self.successors = list(spec.successors.items())
        self.can_fail = any(model.pools[p].spec.failures for p, _ in self.needs)
        self.queue = Level(model.warmup)
        self.wait = Tally(model.warmup)
        self.completed = 0
        self.next: list[tuple[Step | None, float]] = []  # resolved after all steps exist

    def choose_next(self) -> Step | None:
        """Branch by one uniform draw over the cumulative probabilities (none if one way)."""
        if len(self.next) == 1:
            return self.next[0][0]
        u = self.branch_rng.random()
        cumulative = 0.0
        for step, p in self.next:
            cumulative += p
            if u < cumulative:
                return step
        return self.next[-1][0]


class Model:
    def __init__(self, twin: Twin, seed: int, replication: int, trace: bool = False) -> None:
        self.twin, self.seed, self.replication = twin, seed, replication
        self.env = simpy.Environment()
        self.warmup, self.horizon = twin.warmup, twin.horizon
        self.events = 0
        self.trace: list[tuple[float, str, int, str]] | None = [] if trace else None
        self.pools = [Pool(r, twin.calendar(r), self.warmup) for r in twin.resources]
        self.pool_index = {p.name: i for i, p in enumerate(self.pools)}
        self.units = FifoAllocator([p.free_count() for p in self.pools], self._take_units)
        self.stocks = [Stock(m, self.warmup) for m in twin.materials]
        self.stock_index = {s.name: i for i, s in enumerate(self.stocks)}
        self.materials = FifoAllocator([m.initial for m in twin.materials], self._take_stock)
        self.lead_rngs = [self.stream(streams.lead_time_source(m.name)) for m in twin.materials]
        self.steps = {a.name: Step(a, self) for a in twin.activities}
        for step in self.steps.values():
            step.next = [(None if name == EXIT else self.steps[name], p) for name, p in step.successors]
        self.wip = Level(self.warmup)
        self.cycle = Tally(self.warmup)
        self.entities = 0
        self._start_processes()

    def stream(self, source: str) -> Any:
        return streams.stream(self.seed, self.replication, source)

    def log(self, kind: str, subject: int, name: str) -> None:
        self.events += 1
        if self.trace is not None:
            self.trace.append((self.env.now, kind, subject, name))

    # -- processes -----------------------------------------------------------------
    def _start_processes(self) -> None:
        env = self.env
        for pool in self.pools:
            if pool.calendar is not None:
                env.process(self._shifts(pool))
        for pool in self.pools:
            if pool.spec.failures is not None:
                for unit in pool.units:
                    env.process(self._failures(pool, unit))
        for stock in self.stocks:
            if stock.spec.supplier and stock.spec.supplier.disruptions:
                env.process(self._disruptions(stock))
        for index in range(len(self.stocks)):
            self._review(index)
        for arrival in self.twin.arrivals:
            env.process(self._arrivals(arrival, self.steps[arrival.route]))

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
            self.entities += 1
            self.log("arrival", self.entities, name)
            self.env.process(self._entity(self.entities, first))

    def _entity(self, entity: int, step: Step | None) -> Generator:
        env = self.env
        born = env.now
        self.wip.add(born, 1)
        while step is not None:
            yield from self._visit(entity, step)
            step = step.choose_next()
        now = env.now
        self.wip.add(now, -1)
        self.cycle.observe(now, now - born)
        if self.trace is not None:  # traced, but not counted as an event
            self.trace.append((now, "leave", entity, ""))

    def _visit(self, entity: int, step: Step) -> Generator:
        env = self.env
        queued = env.now
        job = None
        if step.needs or step.consumes:
            step.queue.add(queued, 1)
            if step.needs:
                job = Job(step.needs, queued)
                if not self.units.request(job):
                    yield self._granted(job)
            if step.consumes:
                yield from self._consume(step)
            step.queue.add(env.now, -1)
        step.wait.observe(env.now, env.now - queued)
        self.log("start", entity, step.name)
        duration = step.duration.sample(step.duration_rng)
        if job is not None and step.can_fail:
            yield from self._work(job, duration)
        else:
            yield env.timeout(duration)
        if job is not None:
            self._release(job)
        self.log("end", entity, step.name)
        if env.now >= self.warmup:
            step.completed += 1

    def _granted(self, request: Request) -> simpy.Event:
        event = self.env.event()
        request.on_grant = event.succeed  # type: ignore[assignment]  # called without a value
        return event

    def _consume(self, step: Step) -> Generator:
        now = self.env.now
        request = Request(step.consumes, now)
        for index, amount in step.consumes:
            self.stocks[index].position -= amount
            self._review(index)
        at_once = self.materials.request(request)
        for index, _ in step.consumes:
            self.stocks[index].count_request(now, self.warmup, at_once)
        if not at_once:
            yield self._granted(request)

    def _work(self, job: Job, duration: float) -> Generator:
        """Hold for `duration` of working time; a failed unit suspends the job."""
        env = self.env
        job.process = env.active_process
        remaining = duration
        while True:
            while job.down:  # a unit may fail at the instant another one is repaired
                job.resume = env.event()
                yield job.resume
            started = env.now
            job.running = True
            try:
                yield env.timeout(remaining)
                job.running = False
                return
            except simpy.Interrupt:
                remaining -= env.now - started

    def _take_units(self, job: Request) -> None:
        now = self.env.now
        for index, count in job.needs:
            job.held += [(index, unit) for unit in self.pools[index].take(now, count, job)]

    def _release(self, job: Job) -> None:
        now = self.env.now
        for index, unit in job.held:
            self.units.free[index] += self.pools[index].release(now, unit)
        self.units.dispatch(index for index, _ in job.needs)

    def _failures(self, pool: Pool, unit: Unit) -> Generator:
        assert pool.spec.failures is not None
        uptime, repair = pool.spec.failures.uptime, pool.spec.failures.repair
        index = self.pool_index[pool.name]
        up_rng = self.stream(streams.uptime_source(pool.name, unit.index))
        repair_rng = self.stream(streams.repair_source(pool.name, unit.index))
        while True:
            yield self.env.timeout(uptime.sample(up_rng))
            self._fail(index, unit)
            yield self.env.timeout(repair.sample(repair_rng))
            self._repair(index, unit)

    def _fail(self, index: int, unit: Unit) -> None:
        self.log("failure", unit.index, self.pools[index].name)
        if self.pools[index].fail(self.env.now, unit):
            self.units.free[index] -= 1
        job = unit.job
        if isinstance(job, Job):
            job.down += 1
            if job.running:
                job.running = False
                assert job.process is not None
                job.process.interrupt()

    def _repair(self, index: int, unit: Unit) -> None:
        self.log("repair", unit.index, self.pools[index].name)
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
            self.log("shift", level, pool.name)
            self.units.free[index] += pool.set_on_duty(self.env.now, level)
            if level > 0:
                self.units.dispatch((index,))

    # -- materials -----------------------------------------------------------------
    def _take_stock(self, request: Request) -> None:
        for index, _ in request.needs:
            self.stocks[index].record(self.env.now, self.materials.free[index])

    def _review(self, index: int) -> None:
        stock = self.stocks[index]
        quantity = stock.order_quantity()
        if quantity:
            stock.position += quantity
            self.log("order", quantity, stock.name)
            supplier = stock.spec.supplier
            assert supplier is not None
            lead = supplier.lead_time.sample(self.lead_rngs[index])
            self.env.process(self._delivery(index, quantity, lead))

    def _delivery(self, index: int, quantity: int, lead: float) -> Generator:
        stock = self.stocks[index]
        yield self.env.timeout(lead)
        while stock.disrupted:
            yield stock.recovered
        self.log("delivery", quantity, stock.name)
        self.materials.free[index] += quantity
        stock.record(self.env.now, self.materials.free[index])
        self.materials.dispatch((index,))

    def _disruptions(self, stock: Stock) -> Generator:
        assert stock.spec.supplier is not None and stock.spec.supplier.disruptions is not None
        disruptions = stock.spec.supplier.disruptions
        every_source, duration_source = streams.disruption_sources(stock.name)
        every_rng, duration_rng = self.stream(every_source), self.stream(duration_source)
        while True:
            yield self.env.timeout(disruptions.every.sample(every_rng))
            stock.disrupted = True
            stock.recovered = self.env.event()
            yield self.env.timeout(disruptions.duration.sample(duration_rng))
            stock.disrupted = False
            stock.recovered.succeed()

    # -- results -------------------------------------------------------------------
    def run(self) -> Replication:
        started = time.perf_counter()
        self.env.run(until=self.horizon)
        return Replication(self.record(), self.events, time.perf_counter() - started, self.trace)

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
        for pool in self.pools:
            out |= {f"resources.{pool.name}.{k}": v for k, v in pool.kpis(h).items()}
        for stock in self.stocks:
            out |= {f"materials.{stock.name}.{k}": v for k, v in stock.kpis(h).items()}
        return out


def simulate(twin: Twin, seed: int, replication: int = 0, trace: bool = False) -> Replication:
    """Run one replication of `twin` with the SimPy engine."""
    return Model(twin, seed, replication, trace).run()
