"""Extraneous delays: the part of a wait that is not queueing for the resource.

The observed gap from the end of a case's previous activity (ready, e) to an activity's
start s holds the time the case queued for its resource r, busy with other cases or off
shift, and the delay the twin does not model (hand-overs, batching, waiting for the
customer). The twin queues the case for a unit of its pool again after a `wait_` step, so a
wait fitted on the whole gap counts queueing twice. With `delays="extraneous"` the wait is
s - max(e, when r became free after e), floored at 0 (Chapela-Campa & Dumas, "Enhancing
business process simulation models with extraneous activity delays"): r was free at the end
of its latest activity that ended at or before s, and, where the twin keeps working hours
for the pool, not before the pool's next opening at or after that (a case ready, or a
resource freed, after closing waits for the morning in the twin's queue too). An event
without a resource keeps the whole gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibration.arrivals import HOURS_PER_WEEK, hour_of_week


def next_open(times: pd.Series, on: np.ndarray) -> pd.Series:
    """Each time where its hour-of-week slot is open, else the start of the next open slot
    (all unchanged when `on` has no open hour)."""
    flags = np.asarray(on, dtype=bool)
    if not flags.any():
        return times
    slots = np.arange(HOURS_PER_WEEK)
    opens = np.flatnonzero(np.concatenate([flags, flags]))
    ahead = opens[np.searchsorted(opens, slots)] - slots  # hours to the first open slot at or after
    known = times.notna()
    k = np.zeros(len(times), dtype=int)
    k[known.to_numpy()] = ahead[hour_of_week(times[known])]
    later = times.dt.floor("h") + pd.to_timedelta(k, unit="h")
    return times.where(k == 0, later)


def resource_free(table: pd.DataFrame) -> pd.Series:
    """Per event (aligned on `table`): the end of its resource's latest activity with a
    duration that ended at or before the event's start (NaT: none, or no resource)."""
    rows = pd.DataFrame({"resource": table["resource"].to_numpy(), "start": table["start_time"].to_numpy(),
                         "row": np.arange(len(table))})
    named = rows[rows["resource"] != ""].sort_values("start", kind="stable")
    busy = table[(table["resource"] != "") & (table["end_time"] > table["start_time"])]
    ends = pd.DataFrame({"resource": busy["resource"].to_numpy(), "freed": busy["end_time"].to_numpy()})
    found = pd.merge_asof(named, ends.sort_values("freed", kind="stable"), left_on="start", right_on="freed",
                          by="resource", direction="backward")
    freed = np.full(len(table), np.datetime64("NaT"), dtype=table["end_time"].to_numpy().dtype)
    freed[found["row"].to_numpy()] = found["freed"].to_numpy()
    return pd.Series(freed, index=table.index)


def available(table: pd.DataFrame, pool_of: pd.Series | None = None,
              on: dict[str, np.ndarray] | None = None) -> pd.Series:
    """When each event of a `calibrate.case_table` could have started but for extraneous
    delay: max(ready, its resource's `resource_free`, and, for an event whose pool
    (`pool_of`, aligned on `table`) has open hours in `on`, the pool's next opening at or
    after ready). NaT where the event is its case's first."""
    index = table.index
    table = table.reset_index(drop=True)
    pool_of = None if pool_of is None else pool_of.reset_index(drop=True)
    ready = table["ready"]
    latest = pd.concat([ready, resource_free(table).where(ready.notna())], axis=1).max(axis=1)
    if pool_of is not None and on:
        for pool, rows in pool_of[ready.notna()].groupby(pool_of[ready.notna()]):
            if pool in on:
                latest[rows.index] = next_open(latest[rows.index], on[str(pool)])
    return latest.where(ready.notna()).set_axis(index)
