"""Choosing calibration options on history the fit did not see.

Each option (working-time waits and shifts, how waits advance in working time, arrival
form, pool capacity rule, routing order, pools per activity or per resource, work split
among resources by shares or taken by whoever is free, all history or its recent half,
activity durations in clock or in working time, waits as observed or less the queueing
for the resource the twin adds itself: `delays`) changes the twin, and which one reproduces
a process best is an empirical question. Answering it on the test log would tune the model
to the test; so `OptionSelector().fit(events)` cuts the
training log itself the way the shared splits were made: T = the `share` quantile of case
starts, the *fit* part holds the cases that ended before T, the *check* part the cases
that started at or after T (cases straddling T are dropped from both). Every candidate is
calibrated on the fit part and scored on the check part like `twin score` (`runs`
simulations, cut at the check log's end; by default enough runs for about 2,000 simulated
cases, 3 to 10, since a small check log is cheap to simulate and noisy to score), beside
the replay baseline of the fit part. Its loss is the mean over the seven distances of
(d - r) / (d + r), d the twin's distance and r the replay's: 0 is as good as replaying
history, -1 perfect where the replay is not, and no one distance can outweigh the others
(a ratio would, where the replay happens to be near 0). The search changes one option at
a time: the start (the first value of every option) and each other value of each option
with the rest at the start (11 candidates, scored in `workers` processes), then forward
selection: from the best of those, it adds the other changes that beat the start, best
first, one at a time, keeping each only if the loss falls (options interact: the best
values together need not be best). The best twin scored wins; at most 20 of the 768
combinations are scored.
Processing in working time is searched like the rest: a step recorded from start to end
over a closing (a job begun before a night or a weekend and finished after it) holds that
closed time as delay that is not work; measured and replayed in the working week it pauses
over the closing, so its end falls in working hours, as the log's did.
Where the log has case attribute columns that can be entity classes (`class_columns`, or
those `calibration.classes.candidates` finds: 2 to 8 values, constant per case), `classes`
is searched last, from "none": each column one more single change. Found columns are
screened on the fit part first (`classes.evidence`: how far their classes' durations and
branches differ beyond chance), and only the `max_class_columns` likeliest with some
evidence are scored, so the search grows by at most two candidates and two forward steps.
`options_` holds the winner's options; the caller calibrates on the whole training log
with them.
"""

from __future__ import annotations

import json
import math
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import pandas as pd

from calibration import classes
from calibration.calibrate import calibrate, case_table, effective
from calibration.scoring import baseline_run, model_runs, summarise
from twin.loader import parse_twin

DISTANCES = ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed")
GRID: dict[str, tuple[Any, ...]] = {  # searched in this order, from the first values
    "calendars": (True, False),
    "worktime": ("weighted", "chain"),
    "arrivals": ("profile", "stationary"),
    "capacity": ("distinct", "peak"),
    "routing": (1, 2),
    "pools": ("activity", "resource", "skills"),
    "history": (1.0, 0.5),
    "processing": ("clock", "working"),
    "delays": ("observed", "extraneous"),
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
    """Candidates the search scores at most: the start, each other value of each free option,
    and a forward step for each of those but the first."""
    singles = sum(len(values) - 1 for key, values in grid.items() if key not in fixed)
    return 1 + singles + max(singles - 1, 0)


def one_at_a_time(fixed: dict[str, Any], grid: dict[str, tuple[Any, ...]] = GRID) -> list[dict[str, Any]]:
    """The start (the first value of every option not fixed) and every change of one option."""
    start = fixed | {k: v[0] for k, v in grid.items() if k not in fixed}
    return [start] + [start | {k: v} for k, values in grid.items() if k not in fixed for v in values[1:]]


def same_twin(options: dict[str, Any]) -> str:
    """A key equal for options that calibrate the same twin (`calibrate.effective`)."""
    return json.dumps(effective(options), sort_keys=True, default=str)


def evaluate(
    fit: pd.DataFrame, check: pd.DataFrame, options: dict[str, Any], runs: int, seed: int
) -> dict[str, float]:
    """Calibrate on `fit` with `options`; mean metrics of `runs` simulations scored on `check`."""
    spec, report = calibrate(fit, **options)
    meta = {"labels": report["labels"], "units": report["units"]}
    scored = model_runs(parse_twin(spec, "validation twin"), check, runs, seed, meta)
    return {k: m["mean"] for k, m in summarise(scored).items()}


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
        workers: int = 1,
        class_columns: list[str] | None = None,
        max_class_columns: int = 2,
    ) -> None:
        self.fixed = fixed or {}
        self.class_columns = class_columns
        self.max_class_columns = max_class_columns
        self.share = share
        self.runs = runs
        self.seed = seed
        self.min_cases = min_cases
        self.progress = progress
        self.workers = workers

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
        self.grid_ = GRID | self._class_grid(events, fit)
        baseline = baseline_run(fit, check)
        self.baseline_ = {k: float(v) for k, v in baseline.items()}
        self._total, self._done = search_size(self.fixed, self.grid_), 0
        if self.progress:
            self.progress(0, self._total)
        self.scores_: list[dict[str, Any]] = []
        self._means: dict[str, dict[str, float]] = {}  # same_twin key -> mean metrics
        tried = self._score_all(fit, check, one_at_a_time(self.fixed, self.grid_))
        self._forward(fit, check, tried)
        if self.progress:
            self.progress(self._done, self._total)
        best = min(self.scores_, key=lambda s: s["loss"])
        self.options_: dict[str, Any] = best["options"]
        self.loss_ = float(best["loss"])
        return self

    def _class_grid(self, events: pd.DataFrame, fit: pd.DataFrame) -> dict[str, tuple[Any, ...]]:
        """{"classes": ("none", column, ...)} for the columns to try, or {} (see the module)."""
        self.class_evidence_: dict[str, float] = {}
        if "classes" in self.fixed:
            return {}
        if self.class_columns is not None:
            for column in self.class_columns:
                classes.require_column(events, column, "class candidates")
            return {"classes": (classes.NO_CLASSES, *self.class_columns)} if self.class_columns else {}
        found = classes.candidates(events)
        if not found:
            return {}
        table = case_table(fit)
        self.class_evidence_ = {c: classes.evidence(table, c) for c in found}
        ranked = sorted((c for c in found if self.class_evidence_[c] > 0),
                        key=lambda c: -self.class_evidence_[c])[: self.max_class_columns]
        return {"classes": (classes.NO_CLASSES, *ranked)} if ranked else {}

    def _forward(self, fit: pd.DataFrame, check: pd.DataFrame, singles: list[dict[str, Any]]) -> None:
        """Forward selection from the best single change: add each other change that beat the
        start (best first) while the loss falls; an option already moved stays where it is."""
        start = singles[0]
        gains = sorted((s for s in singles[1:] if s["loss"] < start["loss"]), key=lambda s: s["loss"])
        self._total = self._done + max(len(gains) - 1, 0)
        if not gains:
            return
        current = gains[0]
        for single in gains[1:]:
            ((key, value),) = [(k, v) for k, v in single["options"].items() if start["options"][k] != v]
            if current["options"][key] != start["options"][key]:
                self._total -= 1  # nothing to score
                continue
            options = start["options"] | effective(current["options"] | {key: value})
            (scored,) = self._score_all(fit, check, [options])
            if scored["loss"] < current["loss"]:
                current = scored

    def _score_all(
        self, fit: pd.DataFrame, check: pd.DataFrame, options: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Score each twin not scored before, in `workers` processes when more than one (each
        candidate is either scored or leaves the progress total)."""
        todo = {key: o for o in options if (key := same_twin(o)) not in self._means}
        self._total -= len(options) - len(todo)
        means = self._means
        if self.workers > 1 and len(todo) > 1:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(self.workers, len(todo)), mp_context=context) as pool:
                jobs = {pool.submit(evaluate, fit, check, o, self.runs_, self.seed): key
                        for key, o in todo.items()}
                for job in as_completed(jobs):
                    means[jobs[job]] = job.result()
                    self._tick()
        else:
            for key, o in todo.items():
                means[key] = evaluate(fit, check, o, self.runs_, self.seed)
                self._tick()
        scored = [
            {"options": o, "loss": loss(means[same_twin(o)], self.baseline_), "metrics": means[same_twin(o)]}
            for o in options
        ]
        self.scores_ += scored
        return scored

    def _tick(self) -> None:
        self._done += 1
        if self.progress:
            self.progress(self._done, self._total)

    def summary(self) -> dict[str, Any]:
        return {
            "split": self.split_,
            "runs": self.runs_,
            "seed": self.seed,
            "loss": "mean over the seven distances of (twin - replay) / (twin + replay), the replay of the "
                    "fit part; lower is better, 0 is as good as the replay",
            "baseline": self.baseline_,
            "searched": {k: list(v) for k, v in self.grid_.items() if k not in self.fixed},
            "class_evidence": self.class_evidence_,
            "candidates": self.scores_,
            "twins_scored": self._done,  # distinct twins among the candidates
            "chosen": self.options_,
            "chosen_loss": self.loss_,
        }
