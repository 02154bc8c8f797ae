"""Choosing calibration options on history the fit did not see.

Each option (working-time waits and shifts, how waits advance in working time, arrival
form, pool capacity rule, routing order, pools per activity or per resource) changes the
twin, and which one reproduces a process best is an empirical question. Answering it on
the test log would tune the model to the test; so `OptionSelector().fit(events)` cuts the
training log itself the way the shared splits were made: T = the `share` quantile of case
starts, the *fit* part holds the cases that ended before T, the *check* part the cases
that started at or after T (cases straddling T are dropped from both). Every candidate is
calibrated on the fit part and scored on the check part like `twin score` (`runs`
simulations, cut at the check log's end; by default enough runs for about 2,000 simulated
cases, 3 to 10, since a small check log is cheap to simulate and noisy to score), beside
the replay baseline of the fit part. Its loss is the mean over the seven distances of
(d - r) / (d + r), d the twin's distance and r the replay's: 0 is as good as replaying
history, -1 perfect where the replay is not, and no one distance can outweigh the others
(a ratio would, where the replay happens to be near 0). The search is by coordinates:
from the first value of every option, each option in GRID's order tries its other values
with the others held at the best so far (7 candidates, not the 64 of the full grid).
`options_` holds the winner's options; the caller calibrates on the whole training log
with them.
"""

from __future__ import annotations

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
GRID: dict[str, tuple[Any, ...]] = {  # searched in this order, from the first values
    "calendars": (True, False),
    "worktime": ("weighted", "chain"),
    "arrivals": ("profile", "stationary"),
    "capacity": ("distinct", "peak"),
    "routing": (1, 2),
    "pools": ("activity", "resource"),
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


def search_size(fixed: dict[str, Any], grid: dict[str, tuple[Any, ...]] = GRID) -> int:
    """Candidates a coordinate search tries: the start, then each other value of each free option."""
    return 1 + sum(len(values) - 1 for key, values in grid.items() if key not in fixed)


def loss(model: dict[str, float], baseline: dict[str, float]) -> float:
    """Mean symmetric relative difference of the model's distances from the replay's."""
    return float(np.mean([_relative(model[k], baseline[k]) for k in DISTANCES]))


def _relative(d: float, r: float) -> float:
    return 0.0 if d + r <= 0 else (d - r) / (d + r)


class OptionSelector:
    def __init__(
        self,
        fixed: dict[str, Any] | None = None,
        share: float = 0.7,
        runs: int | None = None,
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
        self.runs_ = self.runs or min(10, max(3, math.ceil(2000 / sizes["check"])))
        baseline = baseline_run(fit, check)
        self.baseline_ = {k: float(v) for k, v in baseline.items()}
        self.scores_: list[dict[str, Any]] = []
        self._scored: dict[str, dict[str, float]] = {}  # options giving the same twin score the same
        self._total = search_size(self.fixed)
        best = self._score(fit, check, self.fixed | {k: v[0] for k, v in GRID.items() if k not in self.fixed})
        for key, values in GRID.items():  # coordinate search: one option at a time, the rest held
            if key in self.fixed:
                continue
            start = best
            for value in values[1:]:
                tried = self._score(fit, check, start["options"] | {key: value})
                best = min(best, tried, key=lambda s: s["loss"])
        if self.progress:
            self.progress(self._total, self._total)
        self.options_: dict[str, Any] = best["options"]
        self.loss_ = float(best["loss"])
        return self

    def _score(self, fit: pd.DataFrame, check: pd.DataFrame, options: dict[str, Any]) -> dict[str, Any]:
        if self.progress:
            self.progress(len(self.scores_), self._total)
        spec, report = calibrate(fit, **options)
        key = json.dumps(spec, sort_keys=True)
        if key not in self._scored:
            meta = {"labels": report["labels"], "units": report["units"]}
            runs = model_runs(parse_twin(spec, "validation twin"), check, self.runs_, self.seed, meta)
            self._scored[key] = {k: m["mean"] for k, m in summarise(runs).items()}
        means = self._scored[key]
        scored = {"options": options, "loss": loss(means, self.baseline_), "metrics": means}
        self.scores_.append(scored)
        return scored

    def summary(self) -> dict[str, Any]:
        return {
            "split": self.split_,
            "runs": self.runs_,
            "seed": self.seed,
            "loss": "mean over the seven distances of (twin - replay) / (twin + replay), the replay of the "
                    "fit part; lower is better, 0 is as good as the replay",
            "baseline": self.baseline_,
            "candidates": self.scores_,
            "chosen": self.options_,
        }
