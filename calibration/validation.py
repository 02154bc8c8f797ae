"""Choosing calibration options on history the fit did not see.

Each option (arrival form, working-time waits and shifts, pool capacity rule, how waits
advance in working time) changes the
twin, and which one reproduces a process best is an empirical question. Answering it on
the test log would tune the model to the test; so `OptionSelector().fit(events)` cuts the
training log itself the way the shared splits were made: T = the `share` quantile of case
starts, the *fit* part holds the cases that ended before T, the *check* part the cases
that started at or after T (cases straddling T are dropped from both). Every candidate is
calibrated on the fit part and scored on the check part like `twin score` (`runs`
simulations, cut at the check log's end), beside the replay baseline of the fit part.
Its loss is the mean of ln(distance / replay's distance) over the seven distances: 0 is
as good as replaying history, each -0.1 about 10% closer. `options_` holds the winner's
options; the caller calibrates on the whole training log with them.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from calibration.calibrate import calibrate
from calibration.scoring import baseline_run, model_runs, summarise
from twin.loader import parse_twin

DISTANCES = ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed")
GRID: dict[str, tuple[Any, ...]] = {
    "arrivals": ("profile", "stationary"),
    "calendars": (True, False),
    "capacity": ("distinct", "peak"),
    "worktime": ("weighted", "chain"),
}


class ThinSplit(ValueError):
    """Too few cases on one side of the validation split to tell candidates apart."""


def time_split(events: pd.DataFrame, share: float) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp]:
    """(cases ended before T, cases started at or after T, T = `share` quantile of case starts)."""
    cases = events.groupby("case_id")
    starts, ends = cases["start_time"].min(), cases["end_time"].max()
    cut = starts.quantile(share)
    fit = events[events["case_id"].isin(ends.index[ends < cut])]
    check = events[events["case_id"].isin(starts.index[starts >= cut])]
    return fit.reset_index(drop=True), check.reset_index(drop=True), cut


def candidates(fixed: dict[str, Any], grid: dict[str, tuple[Any, ...]] = GRID) -> list[dict[str, Any]]:
    """Every combination of the grid's options not fixed by the caller."""
    free = [k for k in grid if k not in fixed]
    combos = itertools.product(*(grid[k] for k in free))
    return [fixed | dict(zip(free, values, strict=True)) for values in combos]


def loss(model: dict[str, float], baseline: dict[str, float]) -> float:
    """Mean log ratio of the model's distances to the replay's."""
    return float(np.mean([math.log(max(model[k], 1e-9) / max(baseline[k], 1e-9)) for k in DISTANCES]))


class OptionSelector:
    def __init__(
        self,
        fixed: dict[str, Any] | None = None,
        share: float = 0.7,
        runs: int = 5,
        seed: int = 1,
        min_cases: int = 10,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.fixed = fixed or {}
        self.share = share
        self.runs = runs
        self.seed = seed
        self.min_cases = min_cases
        self.progress = progress

    def fit(self, events: pd.DataFrame) -> OptionSelector:
        fit, check, cut = time_split(events, self.share)
        sizes = {"fit": fit["case_id"].nunique(), "check": check["case_id"].nunique()}
        if min(sizes.values()) < self.min_cases:
            raise ThinSplit(
                f"validation split at {cut}: {sizes['fit']} fit and {sizes['check']} check cases, "
                f"need {self.min_cases} of each"
            )
        self.split_ = {"cut": cut.isoformat(), "share": self.share, "fit_cases": sizes["fit"],
                       "check_cases": sizes["check"]}
        baseline = baseline_run(fit, check)
        self.baseline_ = {k: float(v) for k, v in baseline.items()}
        self.scores_: list[dict[str, Any]] = []
        grid = candidates(self.fixed)
        scored: dict[str, dict[str, float]] = {}  # options that give the same twin score the same
        for i, options in enumerate(grid):
            if self.progress:
                self.progress(i, len(grid))
            spec, report = calibrate(fit, **options)
            key = json.dumps(spec, sort_keys=True)
            if key not in scored:
                meta = {"labels": report["labels"], "units": report["units"]}
                runs = model_runs(parse_twin(spec, "validation twin"), check, self.runs, self.seed, meta)
                scored[key] = {k: m["mean"] for k, m in summarise(runs).items()}
            means = scored[key]
            self.scores_.append({"options": options, "loss": loss(means, baseline), "metrics": means})
        if self.progress:
            self.progress(len(grid), len(grid))
        best = min(self.scores_, key=lambda s: s["loss"])
        self.options_: dict[str, Any] = best["options"]
        self.loss_ = float(best["loss"])
        return self

    def summary(self) -> dict[str, Any]:
        return {
            "split": self.split_,
            "runs": self.runs,
            "seed": self.seed,
            "loss": "mean over the seven distances of ln(twin / replay of the fit part); lower is better",
            "baseline": self.baseline_,
            "candidates": self.scores_,
            "chosen": self.options_,
        }
