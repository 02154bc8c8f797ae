"""Logs that keep only the cases completed inside their window, and weights that undo it.

A log cut from a longer history often keeps a case only if it ended before the cut (the
shared Production and BPIC12-W splits do). A case with cycle time c is then seen only if
it started in [T0, T - c]: long cases are under-represented and the start rate falls off
towards the end (Production's train log has 2 case starts in its last median cycle time
where 15 are expected at its mean rate). `SelectionFitter().fit(starts, ends)` tests for
that fall-off (one-sided Poisson test of the starts in the last median cycle time against
the window's mean rate) and, when it is significant, sets `weights_` to the
Horvitz-Thompson weight W / (W - c) per case (W the window's length; capped at
`max_weight`, since a case nearly as long as the window says little), else to 1. The
weighted count of cases estimates how many started; weighted transitions estimate routing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


class SelectionFitter:
    def __init__(self, alpha: float = 0.01, max_weight: float = 5.0) -> None:
        self.alpha = alpha
        self.max_weight = max_weight

    def fit(self, starts: pd.Series, ends: pd.Series) -> SelectionFitter:
        """`starts`, `ends`: first start and last end per case (indexed by case)."""
        window = (ends.max() - starts.min()).total_seconds() / 3600
        cycle = (ends - starts).dt.total_seconds() / 3600
        tail = float(cycle.median())
        late = int(((ends.max() - starts).dt.total_seconds() / 3600 < tail).sum())
        self.expected_late_ = len(starts) * tail / max(window, 1e-9)
        self.observed_late_ = late
        self.pvalue_ = float(stats.poisson.cdf(late, self.expected_late_))
        self.selected_ = bool(self.pvalue_ < self.alpha)
        weights = window / np.maximum(window - cycle, window / self.max_weight)
        self.weights_ = weights if self.selected_ else pd.Series(1.0, index=starts.index)
        self.window_hours_ = window
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "completed_cases_only": self.selected_,
            "starts_in_last_median_cycle_time": self.observed_late_,
            "expected_at_mean_rate": self.expected_late_,
            "poisson_pvalue": self.pvalue_,
            "cases": len(self.weights_),
            "weighted_cases": float(self.weights_.sum()),
            "window_hours": self.window_hours_,
        }
