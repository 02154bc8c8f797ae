"""Optimisations: `twin optimize` as a service job.

An optimisation's folder (`TWIN_HOME/optimizations/ID/`) holds its inputs (`input/twin.yaml`
and `input/problem.yaml`, an optimisation file whose base is that twin: the CLI's own code
path loads it), the search's resumable replications (`runs/`), and once done what the CLI
writes: `summary.json` (the `twin optimize --json` object), `visited.csv`,
`best.scenario.yaml` (the recommended plan, based on `twin.yaml`), and with viz the report
(`report.html`) and its figures (`figures/NNN.json`: the cost-risk frontier, convergence).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from service import jobs, quotas, twins, work
from service.db import fetch, newest_first, transaction
from service.errors import Conflict, Invalid, NotFound
from service.models import FINISHED, ApiKey, OptimizationRow, now
from service.schemas import FigureInfo, OptimizationBest, OptimizationCreate, OptimizationPublic, Progress
from service.settings import Settings
from twin.errors import SpecError

SUMMARY, VISITED, PLAN = "summary.json", "visited.csv", "best.scenario.yaml"
REPORT, FIGURES = "report.html", "figures"
PROBLEM = "problem.yaml"  # the problem's name in messages and in the plan's description
BEST_KEYS = tuple(OptimizationBest.model_fields)


def submit(
    db: sessionmaker[Session], settings: Settings, body: OptimizationCreate, key: ApiKey
) -> OptimizationRow:
    """Write the inputs, load them as `twin optimize` does (422 naming the field), check the
    work against the limits, and queue the job."""
    with transaction(db) as session:
        try:
            twin_row = twins.get(session, body.twin_id, key.workspace)
        except NotFound as error:
            raise Invalid([("twin_id", str(error))]) from None
    optimization_id = uuid.uuid4().hex
    folder = settings.optimizations_dir / optimization_id
    try:
        problem = _write_inputs(folder, twin_row.spec, body)
        check_work(settings, problem)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    experiment = problem.spec.experiment
    row = OptimizationRow(
        id=optimization_id,
        twin_id=twin_row.id,
        name=problem.name,
        status="queued",
        request=body.model_dump(mode="json"),
        seed=experiment.seed,
        budget=experiment.budget,
        done=0,
        total=experiment.budget,
        attempts=0,
        folder=str(folder.relative_to(settings.home)),
        owner=key.id,
        workspace=key.workspace,
        created_at=now(),
    )
    return quotas.store_job(db, settings, key, folder, row)


def problem_file(body: OptimizationCreate) -> dict[str, Any]:
    """The optimisation file the body stands for, based on the twin beside it."""
    data: dict[str, Any] = {"name": body.name, "base": "twin.yaml", "description": body.description,
                            "decisions": body.decisions, "targets": body.targets,
                            "experiment": body.experiment}
    if body.objective is not None:
        data["objective"] = body.objective
    return data


def _write_inputs(folder: Path, spec: dict[str, Any], body: OptimizationCreate) -> Any:
    """input/twin.yaml and input/problem.yaml, loaded with optimize.problem.load_problem;
    SpecError -> Invalid naming the body's fields."""
    from optimize.problem import load_problem

    inputs = folder / "input"
    inputs.mkdir(parents=True)
    (inputs / "twin.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    (inputs / PROBLEM).write_text(yaml.safe_dump(problem_file(body), sort_keys=False), encoding="utf-8")
    try:
        return load_problem(inputs / PROBLEM)
    except SpecError as error:
        twin_file = str(inputs / "twin.yaml")
        prefix = "twin_id" if error.source == twin_file else ""
        names = {twin_file: "twin", str(inputs / PROBLEM): PROBLEM, str(inputs): "input"}
        raise Invalid([
            (".".join(p for p in (prefix, path) if p) or "decisions", _unpath(reason, names))
            for path, reason in error.problems
        ]) from None


def _unpath(reason: str, names: dict[str, str]) -> str:
    for path, name in sorted(names.items(), key=lambda item: -len(item[0])):
        reason = reason.replace(path, name)
    return reason


def check_work(settings: Settings, problem: Any) -> dict[str, float]:
    """Refuse (Invalid naming the limit) an optimisation whose work at most (every plan of
    the budget to `max_replications`, the finalists to their final replications, each at the
    twin's work per replication) exceeds the service's limits, or whose replications or
    capacities exceed theirs."""
    from optimize.spec import Range

    experiment = problem.spec.experiment
    for field in ("replications", "max_replications", "final_replications"):
        value = getattr(experiment, field)
        if value is not None and value > settings.max_replications:
            raise Invalid([(f"experiment.{field}", f"{value} exceeds the limit max_replications = "
                                                   f"{settings.max_replications} (TWIN_MAX_REPLICATIONS)")])
    for path, decision in problem.spec.decisions.items():
        capacity = isinstance(decision, Range) and path.endswith("capacity")
        if capacity and decision.high > settings.max_capacity:
            raise Invalid([(f"decisions.{path}", f"high {decision.high} exceeds the limit max_capacity = "
                                                 f"{settings.max_capacity} (TWIN_MAX_CAPACITY)")])
    runs = min(experiment.budget, problem.size)
    replications = runs * experiment.max_replications + min(experiment.finalists, runs) * experiment.final
    per = work.of_twin(problem.base.twin)
    scale = 1.0 + max((_growth(problem, path, decision) for path, decision in problem.spec.decisions.items()
                       if isinstance(decision, Range)), default=0.0)
    totals = {"simulated hours": replications * per.hours, "arrivals": replications * per.arrivals * scale,
              "events": replications * per.events * scale}
    limits = (("simulated hours", "max_work", settings.max_work),
              ("arrivals", "max_arrivals", settings.max_arrivals),
              ("events", "max_events", settings.max_events))
    for what, name, limit in limits:
        if not totals[what] <= limit:
            raise Invalid([("experiment.budget", (
                f"the optimisation's estimated {what} at most ({runs} plans to {experiment.max_replications} "
                f"replications and {min(experiment.finalists, runs)} finalists to {experiment.final}, "
                f"{replications:,} replications) = {totals[what]:,.4g} exceeds the limit {name} = "
                f"{limit:,.4g} (TWIN_{name.upper()})"))])
    return totals


def _growth(problem: Any, path: str, decision: Any) -> float:
    """How much a demand decision may raise the arrivals (0 for anything else)."""
    if "arrival" not in path:
        return 0.0
    current = problem.current(path)
    if not isinstance(current, int | float) or current <= 0:
        return 0.0
    return max(0.0, max(abs(decision.low), abs(decision.high)) / current - 1)


def run(folder: Path, executor: str, address: str | None, progress: Callable[[int, int, str], None],
        publish: Callable[[], None] | None, stage: str) -> dict[str, Any]:
    """The job (in a worker process): search from the folder's problem, resuming from its
    finished replications (`runs/`); the final files are written in `.final-STAGE`, then once
    `publish()` confirms the lease moved into place one by one (atomic renames). The values
    to record on the row."""
    from optimize.cli import write_outputs
    from optimize.problem import load_problem
    from optimize.search import optimize
    from optimize.summary import plan_file, summarize
    from service.worker import move_into

    problem = load_problem(folder / "input" / PROBLEM)
    problem.source = PROBLEM  # messages and the plan's description name no server path
    outcome = optimize(problem, executor, address, out=folder, progress=progress)
    summary = summarize(outcome)
    staging = folder / f".final-{stage}"
    shutil.rmtree(staging, ignore_errors=True)
    write_outputs(staging, outcome, summary)
    # The plan sits beside the twin as a user keeps them: its base is twin.yaml
    (staging / PLAN).write_text(plan_file(outcome, folder / "input" / PLAN), encoding="utf-8")
    figures, problem_text = _figures(staging, summary)
    if publish is not None:
        publish()
    move_into(staging, folder)
    result = {
        "best": {k: summary["best"][k] for k in BEST_KEYS},
        "evaluated": summary["evaluated"],
        "stopped": summary["stopped"],
        "figures": figures,
    }
    return {"result": json.loads(json.dumps(result, default=str)), "bytes": quotas.folder_bytes(folder),
            "done": summary["evaluated"], "error": problem_text}


def _figures(out: Path, summary: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The frontier and convergence figures (plotly JSON) and the report, when viz is
    installed; a figure bug never fails a finished optimisation (the problem is recorded)."""
    from service import figures as study_figures

    if not study_figures.available():
        return [], None
    try:
        from viz.optimization import convergence_figure, frontier_figure, write_optimization_report

        index = []
        (out / FIGURES).mkdir(parents=True, exist_ok=True)
        for n, (section, figure) in enumerate((("frontier", frontier_figure(summary)),
                                               ("convergence", convergence_figure(summary)))):
            (out / FIGURES / f"{n:03d}.json").write_text(figure.to_json(), encoding="utf-8")
            title = study_figures.plain_title(figure.layout.title.text or section)
            index.append({"index": n, "section": section, "title": title})
        write_optimization_report(summary, out / REPORT)
    except Exception as error:
        return [], f"figures: {type(error).__name__}: {error}"
    return index, None


def get(session: Session, optimization_id: str, workspace: str | None) -> OptimizationRow:
    return fetch(session, OptimizationRow, optimization_id, "optimization", workspace)


def listing(
    session: Session, workspace: str, twin_id: str | None, limit: int, offset: int
) -> list[OptimizationRow]:
    where = () if twin_id is None else (OptimizationRow.twin_id == twin_id,)
    return newest_first(session, OptimizationRow, workspace, limit, offset, *where)


def cancel(session: Session, optimization_id: str, workspace: str) -> OptimizationRow:
    """Queued -> cancelled now; running -> cancelling (service.jobs.cancel)."""
    row: OptimizationRow = jobs.cancel(session, OptimizationRow, optimization_id, "optimization", workspace)
    return row


def delete(session: Session, settings: Settings, optimization_id: str, workspace: str) -> None:
    """Remove a finished optimisation and its folder (Conflict while queued or running)."""
    row = get(session, optimization_id, workspace)
    if row.status not in FINISHED:
        raise Conflict(f"optimization '{optimization_id}' is {row.status}: cancel it first")
    folder = settings.home / row.folder
    session.delete(row)
    session.flush()
    shutil.rmtree(folder, ignore_errors=True)


def output(settings: Settings, row: OptimizationRow, name: str) -> Path:
    """A file of a finished optimisation's folder (Conflict while it is not done)."""
    if row.status != "done":
        raise Conflict(f"optimization '{row.id}' is {row.status}, not done: its results are not there yet")
    path = settings.home / row.folder / name
    if not path.is_file():
        raise NotFound(f"optimization '{row.id}' has no {name}")
    return path


def public(row: OptimizationRow) -> OptimizationPublic:
    total = max(row.total, 0)
    result = row.result or {}
    best = result.get("best")
    return OptimizationPublic(
        id=row.id,
        twin_id=row.twin_id,
        name=row.name,
        status=row.status,
        progress=Progress(done=row.done, total=total, fraction=min(1.0, row.done / total) if total else 0.0),
        seed=row.seed,
        budget=row.budget,
        best=OptimizationBest(**best) if best else None,
        evaluated=result.get("evaluated"),
        stopped=result.get("stopped"),
        figures=[FigureInfo(**f) for f in result.get("figures") or []],
        attempts=row.attempts,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
