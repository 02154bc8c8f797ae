"""The `twin` command line: validate and run twins."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from twin.errors import SpecError
from twin.loader import load_twin
from twin.runner import ENGINES, EngineUnavailable, RunResult, run
from twin.spec import Twin

app = typer.Typer(help="Digital twins of operations: validate and simulate twin specs.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="Twin spec (YAML).", show_default=False)]


def _fail(message: str) -> typer.Exit:
    err.print(Text("error", style="bold red") + Text(f": {message}"), highlight=False)
    return typer.Exit(code=2)


def _load(path: Path) -> Twin:
    try:
        return load_twin(path)
    except SpecError as error:
        raise _fail(str(error)) from None


@app.command()
def validate(file: FileArg) -> None:
    """Check a twin spec and report every problem with its field path."""
    twin = _load(file)
    out.print(f"[green]ok[/]: {file} is a valid twin '{twin.name}' "
              f"({len(twin.activities)} activities, {len(twin.resources)} resources, "
              f"{len(twin.materials)} materials)")


@app.command("run")
def run_command(
    file: FileArg,
    engine: Annotated[str, typer.Option(help=f"Engine: {' | '.join(ENGINES)}.")] = "simpy",
    replications: Annotated[int, typer.Option(min=1, help="Independent replications.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Simulate a twin and report KPIs with 95% confidence intervals over replications."""
    if engine not in ENGINES:
        raise _fail(f"--engine: must be one of {', '.join(ENGINES)}, not '{engine}'")
    twin = _load(file)
    try:
        result = _run_with_progress(twin, replications, seed, engine, show=not as_json)
    except EngineUnavailable as error:
        raise _fail(f"--engine {engine}: {error}") from None
    summary = result.to_json()
    if as_json:
        print(json.dumps(summary, allow_nan=False))
    else:
        out.print(kpi_table(summary))


@app.command("study")
def study_command(
    files: Annotated[list[Path], typer.Argument(help="Scenario files or twins; the first is the baseline.",
                                                show_default=False)],
    executor: Annotated[str, typer.Option(help="serial | processes | dask.")] = "processes",
    dask: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'.")] = None,
    replications: Annotated[int | None, typer.Option(min=2, help="Replications (overrides files).")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (overrides the files).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Results folder (resumes it).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Compare scenarios with common random numbers: CIs, targets, risk, best plan."""
    from scenarios.cli import study  # scenarios builds on twin; only this command reaches up

    if dask is not None and executor == "processes":
        executor = "dask"
    try:
        study(files, executor, dask, replications, seed, out_dir, as_json, out, err)
    except SpecError as error:
        raise _fail(str(error)) from None
    except (ValueError, EngineUnavailable) as error:
        raise _fail(str(error)) from None


@app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(help="Study folder written by `twin study --out`.",
                                            show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="HTML file (default RESULTS/report.html).")] = None,
    question: Annotated[str | None, typer.Option(help="The question the study answers (summary).")] = None,
) -> None:
    """Write a self-contained HTML report (figures, summary, methods) of a study folder."""
    import time

    from viz.report import write_report  # viz reads results; only this command reaches up

    started = time.perf_counter()
    try:
        path = write_report(results, output, question)
    except (FileNotFoundError, LookupError, RuntimeError) as error:
        raise _fail(str(error)) from None
    out.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f} s)")


def _run_with_progress(twin: Twin, replications: int, seed: int, engine: str, show: bool) -> RunResult:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=not show, transient=True) as progress:
        task = progress.add_task(f"{twin.name} ({engine})", total=replications)
        return run(twin, replications, seed, engine,
                   progress=lambda done: progress.update(task, completed=done))


def kpi_table(summary: dict[str, Any]) -> Table:
    """A readable table: one row per KPI, mean with its 95% CI and percentiles."""
    table = Table(title=f"{summary['name']}: {summary['replications']} replications, "
                        f"seed {summary['seed']}, engine {summary['engine']}")
    for column in ("KPI", "mean", "95% CI", "p5", "p50", "p95"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    rows = [(k, s) for k, s in summary["kpis"].items()]
    for group in ("activities", "resources", "materials"):
        rows += [(f"{name} {kpi}", s) for name, kpis in summary[group].items() for kpi, s in kpis.items()]
    for label, s in rows:
        lo, hi = s["ci95"]
        ci = f"{_num(lo)} .. {_num(hi)}" if lo is not None else "-"
        table.add_row(label, _num(s["mean"]), ci, _num(s["p5"]), _num(s["p50"]), _num(s["p95"]))
    perf = summary["performance"]
    table.caption = f"{perf['events']:,} events in {perf['sim_seconds']:.2f} s"
    return table


def _num(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.4g}"
if __name__ == "__main__":
    app()
