"""`twin optimize`: search with a progress bar, print the recommended plan, write the results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from optimize.problem import load_problem
from optimize.search import Outcome, optimize
from optimize.summary import plan_file, summarize
from scenarios import store
from twin.display import estimate, kpi_unit, plain, short_name
from twin.results import is_share


def optimize_file(
    file: Path,
    executor: str,
    address: str | None,
    budget: int | None,
    seed: int | None,
    out: Path | None,
    save_plan: Path | None,
    report: Path | None,
    as_json: bool,
    out_console: Console,
    err: Console,
) -> None:
    """Everything `twin optimize` does after parsing its options (SpecError and ValueError propagate)."""
    problem = load_problem(file)
    folder = out or Path("artifacts") / "optimizations" / _slug(problem.name)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=as_json, transient=True) as progress:
        task = progress.add_task(f"optimising ({executor})", total=None)

        def show(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=f"optimising: {what}")

        outcome = optimize(problem, executor, address, out=folder, progress=show, budget=budget, seed=seed)
    summary = summarize(outcome)
    write_outputs(folder, outcome, summary)
    save_plan = save_plan or folder / "best.scenario.yaml"
    save_plan.parent.mkdir(parents=True, exist_ok=True)
    save_plan.write_text(plan_file(outcome, save_plan))
    if report is not None:
        from viz.optimization import write_optimization_report

        write_optimization_report(summary, report)
    if as_json:
        print(json.dumps(summary, allow_nan=False))
        return
    out_console.print(plan_table(summary, outcome))
    out_console.print(conclusion(summary, folder, save_plan, report))


def write_outputs(folder: Path, outcome: Outcome, summary: dict[str, Any]) -> None:
    """summary.json and visited.csv (every plan simulated, one row each)."""
    import pandas as pd

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    rows = [
        {
            "order": v["order"],
            "plan": v["plan"],
            **v["decisions"],
            **{
                k: v[k]
                for k in (
                    "replications",
                    "objective",
                    "half_width",
                    "meets_targets",
                    "certified",
                    "p_miss",
                    "cvar95",
                )
            },
        }
        for v in summary["visited"]
    ]
    store.write_csv(folder, "visited.csv", pd.DataFrame(rows))


def plan_table(summary: dict[str, Any], outcome: Outcome) -> Table:
    """The recommended plan: each decision against the base, then the objective and targets."""
    twin = outcome.problem.base.twin
    unit, currency = twin.time_unit, (twin.costs.currency if twin.costs else "")
    best = summary["best"]
    table = Table(
        title=f"recommended plan ({summary['evaluated']} of {summary['space']} plans simulated, "
        f"{best['replications']} replications each at the end)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("decision / KPI", overflow="fold")
    table.add_column("base", justify="right", overflow="fold")
    table.add_column("plan", justify="right", overflow="fold")
    for path, value in best["decisions"].items():
        base = outcome.problem.current(path)
        mark = "" if base == value else " [bold]*[/]"
        table.add_row(escape(path), escape(str(base)), escape(str(value)) + mark)
    objective = summary["objective"]
    kpi = objective["kpi"]
    if kpi in best["kpis"]:
        shown = kpi_unit(kpi, unit, currency)
        table.add_row(
            f"{short_name(kpi)} ({shown})" if shown else short_name(kpi),
            "",
            estimate(best["kpis"][kpi], is_share(kpi)),
        )
    for text, check in best["targets"].items():
        colour = {"met": "green", "missed": "red"}.get(check["status"], "yellow")
        if check.get("value") is not None:
            shown = f"{check['statistic']} {plain(check['value'])}"
        else:
            shown = "no data" if check["p_miss"] is None else f"P(miss) {check['p_miss']:.0%}"
        table.add_row(escape(text), "", f"{shown} [{colour}]{check['status']}[/]")
    return table


def conclusion(summary: dict[str, Any], folder: Path, plan: Path, report: Path | None) -> str:
    best = summary["best"]
    lines = [f"[bold]{escape(best['statement'])}[/]"]
    changes = (
        ", ".join(
            f"{p}: {plain(c['from']) if isinstance(c['from'], float) else c['from']} -> {c['to']}"
            for p, c in best["changes"].items()
        )
        or "none (the base is best)"
    )
    lines.append(f"changes against the base: {escape(changes)}")
    lines.append(
        f"search stopped: {summary['stopped']}; {summary['replications']} replications simulated "
        f"in {summary['wall_seconds']:.1f} s"
    )
    lines.append(
        f"plan saved as {escape(str(plan))} (run it with twin study); results in {escape(str(folder))}/"
        + (f"; report {escape(str(report))}" if report else "")
    )
    return "\n".join(lines)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
