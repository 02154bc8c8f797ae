"""Where work was abandoned, measured where the log marks cancelled cases (`--cancelled COLUMN`).

A case is cancelled when the column has a non-empty value in any of its events (a case
attribute, or an event attribute set where the cancellation was recorded). `abandonment`
reports, per activity, how many cancelled cases it was the last activity of (their share
of the cancelled cases, beside the share of the other cases ending there), the share
cancelled per class when the twin has classes, and the time from a cancelled case's last
activity's end to the case's end where the log records case ends apart from activities
(its zero-length `End` markers, `LoadReport.case_ends`).

These are measurements; the twin already ends cancelled cases where the log does, through
the routing's exit branches. Patience (reneging while queueing) is not fitted: it needs the
time a case waited at the activity it gave up on, and a log of activity instances shows a
cancelled case's last activity, not the one it was waiting for nor how long it waited in
its queue (see `PATIENCE_WHY`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.classes import require_column
from calibration.fitters import DurationFitter

SYNTHETIC_SECONDS = 1.0  # End markers within this of the last activity's end record nothing more
PATIENCE_WHY = {
    "no_ends": "the log records no case end apart from its activities (no End markers), so how "
               "long a cancelled case waited before it was given up is not observed",
    "synthetic": "the log's End markers lie at the last activity's end (median gap {gap:.3g} s), "
                 "so how long a cancelled case waited before it was given up is not observed",
    "measured": "the time from a cancelled case's last activity to its end is measured (above), but "
                "the log does not say which activity the case was waiting for nor how much of that "
                "time was queueing for units (the twin's patience) rather than the hand-over wait it "
                "replays as `wait_` steps; fitting it as patience would count those waits twice",
}


def abandonment(
    table: pd.DataFrame,
    column: str,
    classes: pd.Series | None = None,
    case_ends: pd.Series | None = None,
) -> dict[str, Any]:
    """The report's `abandonment` section (see the module's docstring)."""
    require_column(table, column, "cancelled")
    ordered = table.sort_values(["case_id", "start_time", "end_time"], kind="stable")
    cases = ordered.groupby("case_id", sort=False)
    marked = pd.Series(ordered[column].astype(str).str.strip().to_numpy() != "")
    cancelled = marked.groupby(ordered["case_id"].to_numpy(), sort=False).any()
    last = cases["activity"].last()
    last_end = cases["end_time"].max()
    n_cancelled, n_other = int(cancelled.sum()), int((~cancelled).sum())
    ending = pd.crosstab(last, cancelled).reindex(columns=[True, False], fill_value=0)
    per_activity = {
        str(a): {
            "cancelled_cases_ending_here": int(row[True]),
            "share_of_cancelled_cases": float(row[True] / n_cancelled) if n_cancelled else 0.0,
            "share_of_other_cases": float(row[False] / n_other) if n_other else 0.0,
            "cancelled_share_of_cases_ending_here": float(row[True] / (row[True] + row[False])),
        }
        for a, row in ending.sort_values(True, ascending=False).iterrows()
    }
    out: dict[str, Any] = {
        "column": column,
        "cases": len(cancelled),
        "cancelled_cases": n_cancelled,
        "cancelled_share": n_cancelled / max(len(cancelled), 1),
        "last_activity": per_activity,
        "in_twin": "cancelled cases end where the log's do, through the routing's exit branches "
                   "(their transitions are in the chain like the others')",
    }
    if classes is not None:
        by = cancelled.groupby(classes.reindex(cancelled.index)).mean()
        out["cancelled_share_by_class"] = {str(k): float(v) for k, v in by.items()}
    out |= _time_to_end(cancelled, last, last_end, case_ends)
    return out


def _time_to_end(
    cancelled: pd.Series, last: pd.Series, last_end: pd.Series, case_ends: pd.Series | None
) -> dict[str, Any]:
    ends = None if case_ends is None else case_ends.reindex(cancelled.index[cancelled]).dropna()
    if ends is None or ends.empty:
        return {"time_to_case_end": None, "patience": {"in_twin": False, "why": PATIENCE_WHY["no_ends"]}}
    gap = (ends - last_end.reindex(ends.index)).dt.total_seconds()
    seconds = float(np.median(gap))
    measured: dict[str, Any] = {
        "cases": len(gap),
        "median_seconds": seconds,
        "p90_hours": float(np.quantile(gap, 0.9) / 3600),
        "share_within_1s": float(np.mean(np.abs(gap) <= SYNTHETIC_SECONDS)),
        "negative": int((gap < 0).sum()),  # End markers before some activity ended
    }
    if seconds <= SYNTHETIC_SECONDS:
        why = PATIENCE_WHY["synthetic"].format(gap=seconds)
        return {"time_to_case_end": measured, "patience": {"in_twin": False, "why": why}}
    hours = gap.clip(lower=0) / 3600
    measured["fit_hours"] = DurationFitter().fit(hours).summary()
    by_last = hours.groupby(last.reindex(hours.index))
    measured["by_last_activity"] = {
        str(a): {"cases": len(h), "median_hours": float(h.median()), "p90_hours": float(h.quantile(0.9))}
        for a, h in by_last
    }
    return {"time_to_case_end": measured, "patience": {"in_twin": False, "why": PATIENCE_WHY["measured"]}}
