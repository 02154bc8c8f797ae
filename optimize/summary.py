"""The outcome as plain data (`twin optimize --json`), the cost-risk frontier, and the
recommended plan as a scenario file that `twin study` runs."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import yaml

from optimize.search import Outcome, Visit
from scenarios.analysis import kpi_summaries
from scenarios.loader import kpi_names


def summarize(outcome: Outcome) -> dict[str, Any]:
    """DESIGN.md's keys (`best.decisions`, `best.meets_targets`, `best.kpis`, `evaluated`)
    and what a manager acts on: the changes, the targets' status, the frontier, the search."""
    problem, best = outcome.problem, outcome.best
    spec = problem.spec
    simulated = [v for v in outcome.visits if v.estimate.invalid is None]
    return {
        "name": problem.name,
        "base": problem.base.name,
        "objective": {
            "kpi": spec.objective.kpi,
            "goal": spec.objective.goal,
            "statistic": spec.objective.statistic,
        },
        "targets": [t.text for t in problem.targets],
        "best": _best(outcome, best),
        "evaluated": sum(v.estimate.invalid is None for v in outcome.visits),
        "refused": {v.name: v.estimate.invalid for v in outcome.visits if v.estimate.invalid is not None},
        "space": problem.size,
        "replications": outcome.replications,
        "stopped": outcome.stopped,
        "selection": _plain(outcome.selection),
        "base_plan": _base(outcome),
        "finalists": [_visit(v) for v in outcome.finalists],
        "frontier": [_visit(v) for v in frontier(simulated, spec.objective.goal)],
        "convergence": convergence(simulated, spec.objective.goal),
        "visited": [_visit(v) for v in simulated],
        "experiment": spec.experiment.model_dump(mode="json"),
        "wall_seconds": outcome.wall_seconds,
    }


def _best(outcome: Outcome, best: Visit) -> dict[str, Any]:
    problem = outcome.problem
    table = outcome.tables[best.name]
    kpis = [k for k in kpi_names(problem.base.twin) if k in table.columns]
    e = best.estimate
    confidence = problem.spec.experiment.confidence
    return {
        "plan": best.name,
        "decisions": best.plan,
        "changes": problem.changed(best.plan),
        "meets_targets": e.feasible,
        "certified": e.certified,
        "confidence": confidence,
        "statement": statement(outcome, best),
        "objective": {"value": e.objective, "ci95": [e.objective - e.half_width, e.objective + e.half_width]},
        "targets": {c.target.text: _plain(c.report) | {"status": c.status} for c in e.checks},
        "replications": e.n,
        "kpis": kpi_summaries(table.assign(scenario=best.name), best.name, kpis),
    }


def _base(outcome: Outcome) -> dict[str, Any] | None:
    """The base's own plan as the search saw it (None when the decisions exclude it)."""
    plan = outcome.problem.base_plan()
    name = outcome.problem.plan_name(plan) if plan is not None else None
    visit = next((v for v in outcome.visits if v.name == name), None)
    if visit is None:
        return None
    targets = {c.target.text: c.status for c in visit.estimate.checks}
    return _visit(visit) | {"targets": targets}


def statement(outcome: Outcome, best: Visit) -> str:
    """One sentence on what the answer is worth."""
    e, spec = best.estimate, outcome.problem.spec
    level = f"{spec.experiment.confidence:.0%}"
    if not e.feasible:
        return "no plan simulated met every target; this one comes nearest"
    if not e.certified:
        unsure = ", ".join(c.target.text for c in e.checks if c.status != "met")
        return (
            f"meets every target by estimate, but {unsure} is not certain at {level} after "
            f"{e.n} replications (raise final_replications)"
        )
    kn = outcome.selection
    if kn.get("survivors") and len(kn["survivors"]) > 1:
        return (
            f"meets every target at {level}; {len(kn['survivors'])} certified plans are within "
            f"{_num(kn['indifference'])} of each other on {spec.objective.text}, this one has the best mean"
        )
    if kn.get("selected"):
        return (
            f"meets every target at {level}, and is the best certified plan on {spec.objective.text} "
            f"at {level} (Kim-Nelson, indifference {_num(kn['indifference'])})"
        )
    return f"meets every target at {level}; the best estimate on {spec.objective.text} of the certified plans"


def _num(x: float) -> str:
    return f"{x:.4g}"


def _visit(v: Visit) -> dict[str, Any]:
    e = v.estimate
    return {
        "plan": v.name,
        "order": v.order,
        "decisions": v.plan,
        "replications": e.n,
        "objective": _finite(e.objective),
        "half_width": _finite(e.half_width),
        "meets_targets": e.feasible,
        "certified": e.certified,
        "ruled_out": e.ruled_out,
        "p_miss": _finite(e.p_miss_any),
        "cvar95": _finite(e.cvar95),
    }


def frontier(visits: list[Visit], goal: str) -> list[Visit]:
    """Plans no other plan beats on both the objective and the risk of missing a target."""
    sign = 1.0 if goal == "min" else -1.0
    ok = [v for v in visits if math.isfinite(v.estimate.objective) and math.isfinite(v.estimate.p_miss_any)]
    ok.sort(key=lambda v: (sign * v.estimate.objective, v.estimate.p_miss_any, v.order))
    kept: list[Visit] = []
    for v in ok:
        if not kept or v.estimate.p_miss_any < kept[-1].estimate.p_miss_any:
            kept.append(v)
    return kept


def convergence(visits: list[Visit], goal: str) -> list[float | None]:
    """The best objective among plans meeting the targets, after each plan simulated."""
    sign = 1.0 if goal == "min" else -1.0
    best: float | None = None
    out: list[float | None] = []
    for v in sorted(visits, key=lambda v: v.order):
        if v.estimate.feasible and (best is None or sign * v.estimate.objective < sign * best):
            best = v.estimate.objective
        out.append(best)
    return out


def plan_file(outcome: Outcome, where: Path) -> str:
    """The recommended plan as a scenario YAML to be written at `where` (its base relative to it)."""
    problem, best = outcome.problem, outcome.best
    base = os.path.relpath(Path(problem.base.source).resolve(), where.resolve().parent)
    data = {
        "name": f"{problem.name}-best",
        "base": base,
        "description": f"recommended by twin optimize {problem.source}: {statement(outcome, best)}",
        "changes": {p: change["to"] for p, change in problem.changed(best.plan).items()},
    }
    return yaml.safe_dump(data, sort_keys=False)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities as null, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
