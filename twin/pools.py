"""Resource pools: numbered units that can be busy, failed or off shift."""

from __future__ import annotations

from collections.abc import Callable

from twin.calendar import WeeklyCalendar
from twin.monitors import Level, Tally
from twin.spec import Resource


class Unit:
    __slots__ = ("cycle", "due", "failed", "index", "job", "kind", "last", "left", "since", "timer",
                 "wearing")

    def __init__(self, index: int) -> None:
        self.index = index
        self.failed = 0  # causes holding it down: its own failure, an equipment_down stress
        self.job: object | None = None  # the request holding this unit
        self.last = -1  # the class of the last job it started (where the twin has set-ups)
        # Wear by use (Resource.wear): whether its life waits for wear, the use left until it
        # goes down (and for maintenance or not), since when it works, the pending timeout of
        # its wear, the event its life waits on, and the number of its up spell (weekly timers).
        self.wearing, self.left, self.kind, self.since = False, 0.0, False, 0.0
        self.timer: object | None = None
        self.due: object | None = None
        self.cycle = 0


class Pool:
    """Units 0..on_duty-1 are on shift; a unit going off shift finishes its job first.

    Statistics: `busy` counts units holding a job and not failed; `available` counts
    units not failed and either on shift or still finishing a job; `up` counts units
    not failed. Utilisation = busy / available and availability = up / capacity, both as
    time integrals. On duty = the calendar's level (`level`) less absent units plus
    overtime units, within 0..capacity; `duty` and `overtime` integrate it for costs.
    """

    def __init__(self, spec: Resource, calendar: WeeklyCalendar | None, warmup: float) -> None:
        self.name = spec.name
        self.spec = spec
        self.calendar = calendar
        self.units = [Unit(i) for i in range(spec.capacity)]
        self.on_duty = calendar.on_duty(0.0) if calendar else spec.capacity
        self.level, self.absent, self.extra = self.on_duty, 0, 0
        self.busy = Level(warmup)
        self.available = Level(warmup, self.on_duty)
        self.up = Level(warmup, spec.capacity)
        self.duty = Level(warmup, self.on_duty)
        self.overtime = Level(warmup)
        self.down = 0  # units failed now
        self.repairs = 0  # repairs finished after the warm-up
        self.on_busy: Callable[[Unit, bool], None] | None = None  # wear by operating time
        self.maintenances = 0  # planned maintenance finished after the warm-up
        self.crew_wait = Tally(warmup)  # repairs' and maintenance's waits for their crews

    def effective(self) -> int:
        """Units on duty: the calendar's level, less absences, plus overtime."""
        return min(len(self.units), max(0, self.level - self.absent + self.extra))

    def is_free(self, unit: Unit) -> bool:
        return unit.job is None and not unit.failed and unit.index < self.on_duty

    def free_count(self) -> int:
        return sum(self.is_free(u) for u in self.units)

    def take(self, now: float, count: int, job: object) -> list[Unit]:
        """Hand the `count` lowest-numbered free units to `job`."""
        taken = []
        for unit in self.units:
            if self.is_free(unit):
                unit.job = job
                taken.append(unit)
                if self.on_busy is not None:
                    self.on_busy(unit, True)
                if len(taken) == count:
                    break
        self.busy.add(now, count)
        return taken

    def release(self, now: float, unit: Unit) -> bool:
        """Free a unit after its job; True if it is free for others (still on shift). A failed
        unit (given back by a job that reneged while it waited for stock) left the busy and
        available counts when it failed, and stays out of them until repaired."""
        unit.job = None
        if unit.failed:
            return False
        if self.on_busy is not None:
            self.on_busy(unit, False)
        self.busy.add(now, -1)
        if unit.index < self.on_duty:
            return True
        self.available.add(now, -1)
        return False

    def fail(self, now: float, unit: Unit) -> bool:
        """Mark a unit failed; True if it was free (the pool lost a free unit)."""
        was_free = self.is_free(unit)
        counted = unit.job is not None or unit.index < self.on_duty
        unit.failed = 1
        self.down += 1
        self.up.add(now, -1)
        if counted:
            self.available.add(now, -1)
        if unit.job is not None:
            if self.on_busy is not None:
                self.on_busy(unit, False)
            self.busy.add(now, -1)
        return was_free

    def repair(self, now: float, unit: Unit) -> bool:
        """Mark a unit repaired; True if it is now free for others."""
        unit.failed = 0
        self.down -= 1
        self.up.add(now, 1)
        if unit.job is not None or unit.index < self.on_duty:
            self.available.add(now, 1)
        if unit.job is not None:
            if self.on_busy is not None:
                self.on_busy(unit, True)
            self.busy.add(now, 1)
        return self.is_free(unit)

    def set_on_duty(self, now: float, level: int) -> int:
        """Change how many units are on shift; returns the change in free units."""
        old, self.on_duty = self.on_duty, level
        step = 1 if level > old else -1
        changed = sum(
            1 for unit in self.units[min(old, level):max(old, level)]
            if unit.job is None and not unit.failed
        )
        self.available.add(now, step * changed)
        self.duty.set(now, level)
        self.overtime.set(now, level - min(len(self.units), max(0, self.level - self.absent)))
        return step * changed

    def kpis(self, horizon: float) -> dict[str, float]:
        busy = self.busy.mean(horizon)
        available = self.available.mean(horizon)
        out = {
            "utilization": busy / available if available > 0 else float("nan"),
            "availability": self.up.mean(horizon) / len(self.units),
        }
        if self.spec.maintenance is not None:
            out["maintenances"] = float(self.maintenances)
        if self.spec.crews:
            out["crew_wait"] = self.crew_wait.mean()
        return out

    def cost_inputs(self, horizon: float) -> dict[str, float]:
        return {"on_duty": self.duty.mean(horizon), "overtime": self.overtime.mean(horizon),
                "repairs": float(self.repairs)}
