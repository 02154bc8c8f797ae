"""Skills: each resource its own pool, each activity's work shared among those who did it.

`StaffFitter().fit(table)` (a `calibrate.case_table`) sets, per resource seen in the log,
its pool (`capacity_`: 1 with `capacity="distinct"`, a person or machine doing one job at a
time; its peak concurrency with `"peak"`; `shifts_`: its own weekly calendar where clear,
else the site's, as `ResourceFitter` finds them), `shares_` (activity -> {resource: share
of the activity's instances}) and `durations_` ((activity, resource) -> a DurationFitter of
that resource's durations, where it did the activity `min_n` times or more).

With `pools="resource"` a step of activity A becomes a zero-time step sending the work on
to one step per resource that did A (`A__K`), drawn with the observed shares, each holding
one unit of that resource's pool for that resource's duration (the activity's where it did
A less often). So a resource doing several activities is one pool they share, counted once,
with its own calendar and pace; that assignment is static: work drawn for a busy resource
waits for it even when another one who can do A is free. With `pools="skills"` the step
takes `one_of` the pools of those who did A instead (the most frequent first), with their
own durations: whoever of them is free first serves it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from calibration.fitters import DurationFitter
from calibration.names import slugs
from calibration.resources import ResourceFitter


class StaffFitter:
    def __init__(self, capacity: str = "distinct", staff_factor: float = 1.0, min_n: int = 30) -> None:
        self.capacity = capacity
        self.staff_factor = staff_factor
        self.min_n = min_n

    def fit(self, table: pd.DataFrame) -> StaffFitter:
        has = table[table["resource"] != ""]
        if has.empty:
            raise ValueError("pools by resource: the log names no resources")
        own = ResourceFitter(capacity=self.capacity, staff_factor=self.staff_factor)
        own.fit(has.assign(activity=has["resource"]))  # each resource a pool of its own
        self.capacity_: dict[str, int] = own.capacity_
        self.shifts_: dict[str, list[dict[str, Any]]] = own.shifts_
        self.on_: dict[str, Any] = own.on_  # resource -> its 168 open hours, where it has shifts
        self.pools_ = slugs(sorted(self.capacity_), prefix="staff_")
        self.shares_: dict[str, dict[str, float]] = {}
        for a, g in has.groupby("activity"):
            shares = g["resource"].value_counts(normalize=True).sort_index()
            self.shares_[str(a)] = {str(r): float(s) for r, s in shares.items()}
        self.durations_: dict[tuple[str, str], DurationFitter] = {
            (str(a), str(r)): DurationFitter().fit(g["duration"])
            for (a, r), g in has.groupby(["activity", "resource"])
            if len(g) >= self.min_n
        }
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "pools": self.pools_,
            "capacity": self.capacity_,
            "shares": self.shares_,
            "own_durations": {f"{a} / {r}": f.summary() for (a, r), f in self.durations_.items()},
        }
