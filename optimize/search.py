"""Search the decision space for the best plan that meets the targets.

Optuna's TPE sampler proposes plans (decisions as ordered indices, choices as categories;
targets as its constraints). What a sampler for deterministic functions lacks is added here:

- **Common random numbers.** Every plan runs replications 0..n-1 of one seed (a study of
  plans), so differences between plans are differences of plans, not of luck.
- **Replications where they matter.** A plan starts with `replications`; one whose
  objective's CI overlaps the incumbent's, or whose targets are neither clearly met nor
  clearly missed, is doubled up to `max_replications` before the sampler hears of it.
- **The base first.** The base's own plan (where the decisions allow it) is simulated in
  the first round, so the answer can be read against today's plan.
- **A neighbourhood step.** Each round also simulates the untried neighbours of the
  incumbent (each decision one step either way), so a monotone problem such as staffing is
  walked to its edge rather than left to chance.
- **A clean-up with a guarantee.** The best few plans are re-simulated to
  `final_replications`; a plan is certified when every target is met at the stated
  confidence (one-sided bounds, Bonferroni over targets), and Kim-Nelson selects among
  the certified plans the best one within the indifference zone.

Plans are simulated in rounds of `batch` on one executor; every decision depends on results
only, so a seed gives the same answer on every executor, and a rerun with the same output
folder reads its finished replications back (resume).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimize.estimates import Estimate, estimate, invalid
from optimize.problem import Plan, Problem
from scenarios.executors import Executor, make_executor
from scenarios.loader import Scenario
from scenarios.ranking import kim_nelson
from scenarios.runner import Settings, run_study
from twin.errors import SpecError

Progress = Callable[[int, int, str], None]  # plans simulated, budget, what is happening
BATCH = 4  # plans a round by default: fixed, so the search is the same on every executor
IDLE_ROUNDS = 20  # rounds that propose no new plan before the search stops


@dataclass
class Visit:
    plan: Plan
    name: str
    order: int  # 1 for the first plan simulated
    estimate: Estimate


@dataclass
class Outcome:
    problem: Problem
    visits: list[Visit]
    finalists: list[Visit]
    best: Visit
    selection: dict[str, Any]  # Kim-Nelson among the certified finalists (or why not)
    stopped: str  # budget, time or space
    replications: int  # simulated in all
    wall_seconds: float
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # every plan's replications


class Search:
    def __init__(
        self,
        problem: Problem,
        pool: Executor,
        out: Path,
        progress: Progress | None = None,
        budget: int | None = None,
        seed: int | None = None,
    ) -> None:
        import optuna

        self.problem, self.pool, self.out, self.progress = problem, pool, out, progress
        self.experiment = problem.spec.experiment
        self.budget = budget or self.experiment.budget
        self.seed = self.experiment.seed if seed is None else seed
        self.objective = problem.spec.objective
        self.visits: dict[str, Visit] = {}
        self.tables: dict[str, pd.DataFrame] = {}
        self.scenarios: dict[str, Scenario] = {}  # plan name -> its scenario, validated once
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(
            seed=self.seed, n_startup_trials=self.experiment.startup, multivariate=True
        )
        goal = self.objective.goal
        direction: Literal["minimize", "maximize"] = "minimize" if goal == "min" else "maximize"
        self.study = optuna.create_study(direction=direction, sampler=sampler)
        self.distributions = {path: self._distribution(path) for path in problem.paths}

    def _distribution(self, path: str) -> Any:
        from optuna.distributions import CategoricalDistribution, IntDistribution

        from optimize.spec import Choices

        count = len(self.problem.domain(path))
        if isinstance(self.problem.spec.decisions[path], Choices):
            return CategoricalDistribution(list(range(count)))
        return IntDistribution(0, count - 1)

    # -- simulation -----------------------------------------------------------------------

    def simulate(self, plans: list[Plan], n: int) -> None:
        """Replications 0..n-1 of each plan (those already run are read back), estimated."""
        scenarios = [self._scenario(p) for p in plans]
        settings = Settings(n, self.seed, self.experiment.engine, None, keep_trace=False)
        result = run_study(scenarios, settings, out=self.out / "runs", pool=self.pool)
        for plan, scenario in zip(plans, scenarios, strict=True):
            rows = result.table[result.table["scenario"] == scenario.name].sort_values("replication")
            self.tables[scenario.name] = rows
            found = estimate(
                kpi_arrays(rows), self.objective, self.problem.targets, self.experiment.confidence
            )
            known = self.visits.get(scenario.name)
            order = known.order if known else len(self.visits) + 1
            self.visits[scenario.name] = Visit(plan, scenario.name, order, found)

    def incumbent(self) -> Visit | None:
        """The best plan whose estimates meet every target."""
        feasible = [v for v in self.visits.values() if v.estimate.feasible]
        return self._best_of(feasible)

    def _best_of(self, visits: list[Visit]) -> Visit | None:
        if not visits:
            return None
        sign = 1.0 if self.objective.goal == "min" else -1.0
        return min(visits, key=lambda v: (sign * v.estimate.objective, v.order))

    def refine(self, names: list[str]) -> None:
        """More replications, in doublings, for plans close to the incumbent or a target's line."""
        while True:
            best = self.incumbent()
            needy = [self.visits[n] for n in names if self._needs_more(self.visits[n], best)]
            if not needy:
                return
            for n in sorted({v.estimate.n for v in needy}):
                group = [v.plan for v in needy if v.estimate.n == n]
                self.simulate(group, min(self.experiment.max_replications, 2 * n))

    def _needs_more(self, visit: Visit, best: Visit | None) -> bool:
        e = visit.estimate
        if e.n >= self.experiment.max_replications or e.ruled_out:
            return False
        if best is None or best is visit:
            return e.unsure
        close = abs(e.objective - best.estimate.objective) <= e.half_width + best.estimate.half_width
        sign = 1.0 if self.objective.goal == "min" else -1.0
        better = sign * (e.objective - best.estimate.objective) < 0
        return close or (better and e.unsure)

    # -- the search -----------------------------------------------------------------------

    def run(self, deadline: float | None = None) -> str:
        """Rounds of plans until the budget, the deadline or the space is used up."""
        batch = self.experiment.batch or BATCH
        idle = 0
        base = self.problem.base_plan()
        if base is not None:  # the plan a manager compares against comes first
            self.study.enqueue_trial(self._encode(base))
        while True:
            left = self.budget - self.simulated
            if len(self.visits) >= self.problem.size:
                return "space"
            if left <= 0:
                return "budget"
            if deadline is not None and time.monotonic() > deadline:
                return "time"
            if idle >= IDLE_ROUNDS:
                return "converged"
            self._enqueue_neighbours(max(1, min(batch, left) // 2))
            asked = []
            for _ in range(min(batch, left)):
                trial = self.study.ask(self.distributions)
                asked.append((trial, self._decode(trial.params)))
            fresh = list(
                {
                    self.problem.plan_name(p): p
                    for _, p in asked
                    if self.problem.plan_name(p) not in self.visits
                }.values()
            )
            fresh = self._valid(fresh)
            idle = 0 if fresh else idle + 1
            if fresh:
                self.simulate(fresh, self.experiment.replications)
                self.refine([self.problem.plan_name(p) for p in fresh])
                self._report(f"{self.simulated} plans simulated")
            for trial, plan in asked:
                self._tell(trial, self.visits[self.problem.plan_name(plan)])

    @property
    def simulated(self) -> int:
        """Plans simulated (the budget counts these, not the plans the twin's rules refuse)."""
        return sum(v.estimate.invalid is None for v in self.visits.values())

    def _scenario(self, plan: Plan) -> Scenario:
        name = self.problem.plan_name(plan)
        if name not in self.scenarios:
            self.scenarios[name] = self.problem.scenario(plan)
        return self.scenarios[name]

    def _valid(self, plans: list[Plan]) -> list[Plan]:
        """The plans that make valid twins (working-time rules included); the others are
        recorded as visited and refused, never simulated nor recommended."""
        valid = []
        for plan in plans:
            try:
                self._scenario(plan)
            except SpecError as error:
                name = self.problem.plan_name(plan)
                reason = "; ".join(f"{where}: {why}" for where, why in error.problems)
                self.visits[name] = Visit(plan, name, len(self.visits) + 1, invalid(reason))
                continue
            valid.append(plan)
        return valid

    def _tell(self, trial: Any, visit: Visit) -> None:
        """The objective and one constraint per target, plus one for being a valid twin: a
        refused plan is told as infeasible at the worst objective seen, so the sampler learns
        to avoid its region instead of proposing it again."""
        refused = visit.estimate.invalid is not None
        for target in self.problem.targets:
            check = next((c for c in visit.estimate.checks if c.target is target), None)
            violation = 1e9 if check is None or not math.isfinite(check.violation) else check.violation
            trial.set_constraint(target.text, violation)
        trial.set_constraint("valid twin", 1.0 if refused else -1.0)
        value = visit.estimate.objective
        if not math.isfinite(value):
            value = self._worst()
        self.study.tell(
            trial, value if math.isfinite(value) else None, state=None if math.isfinite(value) else _failed()
        )

    def _worst(self) -> float:
        seen = [v.estimate.objective for v in self.visits.values() if math.isfinite(v.estimate.objective)]
        if not seen:
            return 0.0
        return max(seen) if self.objective.goal == "min" else min(seen)

    def _decode(self, params: dict[str, int]) -> Plan:
        return {path: self.problem.domain(path)[params[path]] for path in self.problem.paths}

    def _encode(self, plan: Plan) -> dict[str, int]:
        return {path: self.problem.domain(path).index(plan[path]) for path in self.problem.paths}

    def _enqueue_neighbours(self, most: int) -> None:
        best = self.incumbent()
        if best is None:
            return
        queued = 0
        for plan in neighbours(self.problem, best.plan, self.objective.goal):
            if queued >= most:
                return
            if self.problem.plan_name(plan) not in self.visits:
                self.study.enqueue_trial(self._encode(plan), skip_if_exists=True)
                queued += 1

    def _report(self, what: str) -> None:
        if self.progress is not None:
            self.progress(self.simulated, self.budget, what)

    # -- the clean-up ---------------------------------------------------------------------

    def finish(self) -> tuple[list[Visit], Visit, dict[str, Any]]:
        """Re-simulate the best few; the best certified plan by Kim-Nelson (or the best
        that meets the targets by estimate, or the one nearest to meeting them)."""
        sign = 1.0 if self.objective.goal == "min" else -1.0
        ranked = sorted(
            self.visits.values(),
            key=lambda v: (
                not v.estimate.feasible,
                v.estimate.ruled_out,
                sign * v.estimate.objective,
                v.order,
            ),
        )
        finalists = [v for v in ranked if v.estimate.invalid is None][: self.experiment.finalists]
        self._report("re-simulating the finalists")
        self.simulate([v.plan for v in finalists], self.experiment.final)
        finalists = [self.visits[v.name] for v in finalists]
        certified = [v for v in finalists if v.estimate.certified]
        candidates = certified or [v for v in finalists if v.estimate.feasible]
        if not candidates:
            nearest = min(
                finalists, key=lambda v: (sum(max(0.0, c.violation) for c in v.estimate.checks), v.order)
            )
            return finalists, nearest, {"method": "none: no plan met the targets"}
        return finalists, *self._select(candidates, certified=bool(certified))

    def _select(self, candidates: list[Visit], certified: bool) -> tuple[Visit, dict[str, Any]]:
        best = self._best_of(candidates)
        assert best is not None
        if len(candidates) == 1 or self.objective.statistic != "mean":
            why = (
                "one plan certified" if len(candidates) == 1 else "best estimate (KN needs a mean objective)"
            )
            return best, {"method": why, "certified": certified}
        delta = self.experiment.indifference or max(1e-9, 0.01 * abs(best.estimate.objective))
        table = pd.concat([self.tables[v.name] for v in candidates])
        kn = kim_nelson(
            table,
            [v.name for v in candidates],
            self.objective.kpi,
            self.objective.goal,
            delta,
            1 - self.experiment.confidence,
            self.experiment.replications,
        )
        survivors = [self.visits[name] for name in kn["survivors"]]
        chosen = self.visits[kn["selected"]] if kn.get("selected") else self._best_of(survivors)
        assert chosen is not None
        return chosen, kn | {"certified": certified}


def neighbours(problem: Problem, plan: Plan, goal: str) -> list[Plan]:
    """Plans one step away in one decision; for a minimum, steps down come first (cheaper)."""
    down, up = [], []
    for path in problem.paths:
        values = problem.domain(path)
        i = values.index(plan[path])
        if i > 0:
            down.append(plan | {path: values[i - 1]})
        if i + 1 < len(values):
            up.append(plan | {path: values[i + 1]})
    return down + up if goal == "min" else up + down


def _failed() -> Any:
    from optuna.trial import TrialState

    return TrialState.FAIL


def optimize(
    problem: Problem,
    executor: str = "processes",
    address: str | None = None,
    workers: int | None = None,
    out: Path | None = None,
    progress: Progress | None = None,
    budget: int | None = None,
    seed: int | None = None,
) -> Outcome:
    """Search, then clean up: the recommended plan and everything the search saw."""
    started = time.monotonic()
    folder = out or Path("artifacts") / "optimizations" / problem.name
    seconds = problem.spec.experiment.time
    deadline = started + seconds if seconds else None
    with warnings.catch_warnings(), make_executor(executor, address, workers) as pool:
        warnings.simplefilter("ignore", category=_optuna_warnings())
        search = Search(problem, pool, folder, progress, budget, seed)
        stopped = search.run(deadline)
        if not search.simulated:
            reasons = sorted({v.estimate.invalid for v in search.visits.values() if v.estimate.invalid})
            raise ValueError(
                f"{problem.source}: none of the {len(search.visits)} plans tried is a valid twin "
                f"(e.g. {reasons[0] if reasons else 'no plan'}); widen the decisions or the rules"
            )
        finalists, best, selection = search.finish()
    visits = sorted(search.visits.values(), key=lambda v: v.order)
    replications = sum(v.estimate.n for v in visits)
    return Outcome(
        problem,
        visits,
        finalists,
        best,
        selection,
        stopped,
        replications,
        time.monotonic() - started,
        search.tables,
    )


def _optuna_warnings() -> type[Warning]:
    from optuna.exceptions import ExperimentalWarning

    return ExperimentalWarning


def kpi_arrays(table: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: table[c].to_numpy(float) for c in table.columns if c not in ("scenario", "replication")}
