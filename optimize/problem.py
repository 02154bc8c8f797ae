"""An optimisation problem resolved against its base: the decision space and its plans.

A plan is one value per decision. It runs as a scenario extending the base with those
values as `changes`, so everything a study knows (targets, stresses, costs, common random
numbers) applies to it unchanged. A pool whose shift capacities are decisions gets the
peak of its shifts as its `capacity` unless that is a decision too: raising a shift above
today's peak is what a user means by "one more on nights".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimize.spec import Choices, Decision, OptimizationFile
from scenarios import changes as edits
from scenarios.loader import Scenario, _merge_targets, _read_yaml, extend, kpi_names, load_scenario
from scenarios.spec import ScenarioFile, Target, parse_target
from twin.errors import SpecError, from_validation_error

Plan = dict[str, Any]  # decision path -> value


@dataclass
class Problem:
    name: str
    source: str
    base: Scenario
    spec: OptimizationFile
    targets: list[Target]
    file: dict[str, Any] = field(default_factory=dict)

    @property
    def paths(self) -> list[str]:
        return list(self.spec.decisions)

    def domain(self, path: str) -> list[Any]:
        decision = self.spec.decisions[path]
        return list(decision.choices) if isinstance(decision, Choices) else decision.values

    @property
    def size(self) -> int:
        """How many plans the decisions allow."""
        count = 1
        for path in self.paths:
            count *= len(self.domain(path))
        return count

    def base_plan(self) -> Plan | None:
        """The base's values, when every one lies in its decision's domain."""
        plan = {p: self.current(p) for p in self.paths}
        return plan if all(plan[p] in self.domain(p) for p in self.paths) else None

    def current(self, path: str) -> Any:
        """The base's value at `path`."""
        return edits.walk(self.base.data, path)

    def plan_name(self, plan: Plan) -> str:
        blob = json.dumps([plan[p] for p in self.paths], sort_keys=True, default=str)
        return f"plan-{hashlib.sha256(blob.encode()).hexdigest()[:10]}"

    def changes(self, plan: Plan) -> dict[str, Any]:
        """The scenario changes of `plan`: its values, and the peaks of pools whose shifts it sets."""
        out = dict(plan)
        for pool in _pools_with_shift_decisions(self.paths):
            capacity = f"resources.{pool}.capacity"
            if capacity in plan:
                continue
            shifts = edits.walk(self.base.data, f"resources.{pool}.shifts")
            levels = [
                plan.get(f"resources.{pool}.shifts.{i}.capacity", s["capacity"]) for i, s in enumerate(shifts)
            ]
            out[capacity] = max([self.current(capacity), *levels])
        return out

    def scenario(self, plan: Plan, rules: bool = True) -> Scenario:
        """`plan` as a scenario on the base; SpecError names the decision behind a bad value.
        Without `rules`, the twin's working-time rules are left out (a value that only
        breaks them is the search's to skip, not a mistake in the file)."""
        name = self.plan_name(plan)
        changes = self.changes(plan) | ({} if rules or "rules" not in self.base.data else {"rules": None})
        raw = {"name": name, "base": self.base.source, "changes": changes}
        spec = ScenarioFile.model_validate(raw)
        try:
            return extend(self.base, spec, raw, f"{self.source} ({name})")
        except SpecError as error:
            problems = [
                (where.replace("changes.", "decisions.", 1), reason) for where, reason in error.problems
            ]
            raise SpecError(problems, self.source) from None

    def changed(self, plan: Plan) -> dict[str, dict[str, Any]]:
        """The decisions `plan` sets differently from the base: {path: {from, to}}."""
        return {
            p: {"from": self.current(p), "to": v}
            for p, v in self.changes(plan).items()
            if self.current(p) != v
        }


def _pools_with_shift_decisions(paths: list[str]) -> list[str]:
    pools = []
    for path in paths:
        parts = path.split(".")
        if len(parts) == 5 and parts[0] == "resources" and parts[2] == "shifts" and parts[4] == "capacity":
            pools.append(parts[1])
    return list(dict.fromkeys(pools))


def load_problem(path: str | Path) -> Problem:
    """An optimisation file resolved; SpecError names every bad field."""
    path = Path(path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError([("", "an optimisation file must be a mapping of fields")], str(path))
    try:
        spec = OptimizationFile.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data, str(path)) from None
    base = load_scenario(path.parent / spec.base)
    own = [parse_target(t.target, t.max_miss) for t in spec.targets]  # added to the base's
    problem = Problem(spec.name, str(path), base, spec, _merge_targets(base.targets, own), data)
    _check(problem)
    return problem


def _check(problem: Problem) -> None:
    """Decisions lead to values of the base, each end of a range makes a valid twin, and the
    objective and target KPIs exist."""
    problems: list[tuple[str, str]] = []
    for path, decision in problem.spec.decisions.items():
        problems += _decision_problems(problem, path, decision)
    known = set(kpi_names(problem.base.twin))
    spec = problem.spec
    if spec.objective.kpi not in known:
        problems.append(
            ("objective.kpi", f"no KPI named '{spec.objective.kpi}'" + _hint(spec.objective.kpi, known))
        )
    problems += [
        (f"targets[{i}]", f"no KPI named '{t.kpi}'")
        for i, t in enumerate(problem.targets)
        if t.kpi not in known
    ]
    if problems:
        raise SpecError(problems, problem.source)


def _decision_problems(problem: Problem, path: str, decision: Decision) -> list[tuple[str, str]]:
    where = f"decisions.{path}"
    try:
        current = problem.current(path)
    except edits.PathError as error:
        return [(where, str(error))]
    if not isinstance(decision, Choices) and (
        isinstance(current, bool) or not isinstance(current, int | float)
    ):
        return [(where, f"a range needs a number here; the base has {current!r}: use choices instead")]
    # A value may be refused only in combination (an order-up-to level below a reorder
    # point) or by the working-time rules: those plans are skipped in the search. A value
    # that no combination accepts is an error.
    contexts = [
        {p: problem.current(p) for p in problem.paths},
        {p: problem.domain(p)[0] for p in problem.paths},
        {p: problem.domain(p)[-1] for p in problem.paths},
    ]
    values = problem.domain(path)
    for value in dict.fromkeys(map(_frozen, (values[0], values[-1]))):
        reasons = []
        for context in contexts:
            try:
                problem.scenario(context | {path: _thawed(value)}, rules=False)
                break
            except SpecError as error:
                reasons.append("; ".join(r for _, r in error.problems))
        else:
            return [(where, f"the value {_thawed(value)!r} gives an invalid twin: {reasons[0]}")]
    return []


def _frozen(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _thawed(text: str) -> Any:
    return json.loads(text)


def _hint(name: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""
