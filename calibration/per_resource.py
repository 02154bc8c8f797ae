"""Activity durations per resource, where the log has enough of them, and whether they differ.

For each activity done by at least two resources with `min_n` or more instances each, every
such resource's durations are fitted like the activity's (DurationFitter) and a
Kruskal-Wallis test says whether the resources differ (`differ` at level `alpha`). The twin
uses durations per resource only with pools per resource (`calibration.staff`): a pool per
activity hands out interchangeable units (see the report's warnings).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from scipy import stats

from calibration.fitters import DurationFitter


def per_resource_durations(table: pd.DataFrame, min_n: int = 30, alpha: float = 0.01) -> dict[str, Any]:
    """activity -> {"kruskal_pvalue", "differ", "resources": {resource: fit summary}}."""
    out: dict[str, Any] = {}
    for activity, group in table[table["resource"] != ""].groupby("activity"):
        samples = {
            str(r): g["duration"].to_numpy() for r, g in group.groupby("resource") if len(g) >= min_n
        }
        if len(samples) < 2:
            continue
        pvalue = float(stats.kruskal(*samples.values()).pvalue)
        out[str(activity)] = {
            "kruskal_pvalue": pvalue,
            "differ": pvalue < alpha,
            "resources": {r: DurationFitter().fit(x).summary() for r, x in samples.items()},
        }
    return out
