"""The `twin` command line: validate and run twins."""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from twin.errors import DeadlockError, SpecError

if TYPE_CHECKING:  # the engines load when a command needs them: `twin --help` starts at once
    from rich.table import Table

    from twin.runner import RunResult
    from twin.spec import Twin

ENGINES = ("simpy", "fast")  # twin.runner.ENGINES (tests/test_start.py checks they agree)

app = typer.Typer(help="Digital twins of operations: validate and simulate twin specs.",
                  no_args_is_help=True, add_completion=False)
out = Console()
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="Twin spec (YAML).", show_default=False)]


def _fail(message: str) -> typer.Exit:
    err.print(Text("error", style="bold red") + Text(f": {message}"), highlight=False, soft_wrap=True)
    return typer.Exit(code=2)


def _load(path: Path) -> Twin:
    from twin.loader import load_twin

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
    engine: Annotated[str, typer.Option(help=f"Engine: {' | '.join(ENGINES)}.")] = "fast",
    replications: Annotated[int, typer.Option(min=1, help="Independent replications.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Simulate a twin and report KPIs with 95% confidence intervals over replications."""
    from twin.runner import EngineUnavailable

    if engine not in ENGINES:
        raise _fail(f"--engine: must be one of {', '.join(ENGINES)}, not '{engine}'")
    twin = _load(file)
    try:
        result = _run_with_progress(twin, replications, seed, engine, show=not as_json)
    except EngineUnavailable as error:
        raise _fail(f"--engine {engine}: {error}") from None
    except DeadlockError as error:
        raise _fail(f"{file}: {error}") from None
    summary = result.to_json()
    if as_json:
        print(json.dumps(summary, allow_nan=False))
    else:
        out.print(kpi_table(summary, twin.time_unit, twin.costs.currency if twin.costs else ""))


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
    series_every: Annotated[float | None, typer.Option(
        help="State series interval in the twin's time unit (default: a round one, <= 400 a run).",
    )] = None,
) -> None:
    """Compare scenarios with common random numbers: CIs, targets, risk, best plan."""
    from scenarios.cli import study  # scenarios builds on twin; only this command reaches up
    from twin.runner import EngineUnavailable

    if dask is not None and executor == "processes":
        executor = "dask"
    try:
        study(files, executor, dask, replications, seed, out_dir, as_json, out, err, series_every)
    except SpecError as error:
        raise _fail(str(error)) from None
    except (ValueError, EngineUnavailable) as error:
        raise _fail(str(error)) from None


@app.command("optimize")
def optimize_command(
    file: Annotated[Path, typer.Argument(help="Optimisation file (YAML).", show_default=False)],
    executor: Annotated[str, typer.Option(help="serial | processes | dask.")] = "processes",
    dask: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'.")] = None,
    budget: Annotated[int | None, typer.Option(min=1, help="Most plans simulated (overrides the file).")] = (
        None),
    seed: Annotated[int | None, typer.Option(min=0, help="Seed (overrides the file).")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Results folder (resumes it).")] = None,
    save_plan: Annotated[Path | None, typer.Option(
        help="Write the recommended plan here as a scenario file (default OUT/best.scenario.yaml).")] = None,
    report: Annotated[Path | None, typer.Option(help="Also write an HTML report (frontier, convergence)."
                                                )] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Search for the best plan that meets the targets: decisions, objective, guarantee."""
    from optimize.cli import optimize_file  # optimize builds on scenarios; only this command reaches up
    from twin.runner import EngineUnavailable

    if dask is not None and executor == "processes":
        executor = "dask"
    try:
        optimize_file(file, executor, dask, budget, seed, out_dir, save_plan, report, as_json, out, err)
    except SpecError as error:
        raise _fail(str(error)) from None
    except (ValueError, EngineUnavailable, OSError) as error:
        raise _fail(str(error)) from None


@app.command("report")
def report_command(
    results: Annotated[Path, typer.Argument(help="Study folder written by `twin study --out`.",
                                            show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output",
                                                help="HTML file (default RESULTS/report.html).")] = None,
    question: Annotated[str | None, typer.Option(help="The question the study answers (summary).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print it to a PDF beside it (chromium).")] = False,
) -> None:
    """Write a self-contained HTML report (figures, summary, methods) of a study folder."""
    import time

    from viz.pdf import print_pdf
    from viz.report import write_report  # viz reads results; only this command reaches up

    started = time.perf_counter()
    try:
        path = write_report(results, output, question)
        seconds = time.perf_counter() - started
        # soft_wrap: a path is never broken across lines (it is copied into a browser or a shell)
        out.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB, {seconds:.1f} s)", soft_wrap=True)
        if pdf:
            started = time.perf_counter()
            printed = print_pdf(path)
            out.print(f"pdf: {printed} ({printed.stat().st_size / 1e6:.1f} MB, "
                      f"{time.perf_counter() - started:.1f} s)", soft_wrap=True)
    except (FileNotFoundError, LookupError, RuntimeError) as error:
        raise _fail(str(error)) from None


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP service and dashboard (data in TWIN_HOME, default ~/.twin)."""
    from service.cli import serve  # the service wires everything; only this command reaches up

    serve(host, port)


keys_app = typer.Typer(help="API keys of the service (stored hashed; each has a role).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="viewer (read) | editor (run and write) | admin (keys).")],
    name: Annotated[str, typer.Option(help="A label for the key.")] = "",
    workspace: Annotated[str, typer.Option(help="The workspace the key sees (its name).")] = "default",
) -> None:
    """Create a key of a workspace and print it once (only its hash is stored)."""
    from service.cli import create_key

    try:
        key_id, key = create_key(role, name, workspace=workspace)
    except ValueError as error:
        raise _fail(str(error)) from None
    err.print(f"created {role} key {key_id}; it is shown only now:")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (never the keys themselves)."""
    from rich.table import Table

    from service.cli import list_keys

    table = Table(title="API keys")
    table.add_column("id", no_wrap=True)
    for column in ("name", "role", "workspace", "created", "revoked"):
        table.add_column(column)
    for key_id, name, role, workspace, created, revoked in list_keys():
        table.add_row(key_id, name, role, workspace, created, "yes" if revoked else "")
    out.print(table)


@keys_app.command("workspace")
def keys_workspace(name: Annotated[str, typer.Argument(help="Its name: letters, digits, _ . -")]) -> None:
    """Create a workspace (a tenant): keys made with `--workspace NAME` see only its data."""
    from service.cli import create_workspace

    try:
        workspace_id = create_workspace(name)
    except ValueError as error:
        raise _fail(str(error)) from None
    out.print(f"created workspace {name} ({workspace_id})")


@keys_app.command("workspaces")
def keys_workspaces() -> None:
    """List workspaces and what each holds."""
    from rich.table import Table

    from service.cli import list_workspaces

    table = Table(title="Workspaces")
    table.add_column("id", no_wrap=True)
    table.add_column("name", no_wrap=True)
    for column in ("created", "keys", "twins", "studies", "calibrations", "optimizations"):
        table.add_column(column)
    for workspace_id, name, created, counts in list_workspaces():
        table.add_row(workspace_id, name, created, *(str(n) for n in counts.values()))
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id (from `twin keys list`).")]) -> None:
    """Revoke a key: it is refused from now on."""
    from service.cli import revoke_key

    if not revoke_key(key_id):
        raise _fail(f"no live key with id '{key_id}'")
    out.print(f"revoked {key_id}")


MapOption = Annotated[list[str] | None, typer.Option(
    "--map", help="Column mapping CANONICAL=COLUMN (case_id, activity, resource, start_time, end_time).")]


def _searched(text: str, default: object, **limits: Any) -> Any:
    """A `twin calibrate` option the validation split chooses when it is not given."""
    return typer.Option(help=f"{text} (default: chosen on a validation split, else {default})",
                        show_default=False, **limits)


@app.command("calibrate")
def calibrate_command(
    events: Annotated[Path, typer.Option(help="Event log CSV (case, activity, resource, start, end).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Twin YAML to write.")],
    failures: Annotated[Path | None, typer.Option(help="Failure records CSV (time, machine, part).")] = None,
    deliveries: Annotated[Path | None, typer.Option(help="Deliveries CSV (ordered, due, delivered).")] = None,
    report: Annotated[Path | None, typer.Option(help="Report: .html (and .json beside it) or .json.")] = None,
    mapping: MapOption = None,
    waits: Annotated[bool, typer.Option(help="Model waits between activities as time steps.")] = True,
    calendars: Annotated[bool | None, _searched(
        "Shifts where a clear weekly calendar exists, waits in working time.", "on")] = None,
    capacity: Annotated[str | None, _searched("Pool capacity: distinct | peak.", "distinct")] = None,
    arrivals: Annotated[str | None, _searched(
        "Arrivals: auto (by AIC) | profile | stationary.", "auto")] = None,
    worktime: Annotated[str | None, _searched(
        "How waits advance in working time: weighted (at each hour's pace of starts) | open "
        "(site hours) | chain (one-hour steps on a staffed pool).", "weighted")] = None,
    routing: Annotated[int | None, _searched(
        "Routing order: 1 (next activity by the last) | 2 (by the last two).", 1, min=1, max=2)] = None,
    pools: Annotated[str | None, _searched(
        "Pools: activity (one per activity, the resources seen doing it) | resource (one per "
        "resource, each activity's work split among those who did it by their shares, at their "
        "own pace) | skills (one per resource, each activity done by whichever of those who did "
        "it is free first, at their own pace).",
        "activity")] = None,
    history: Annotated[float | None, _searched(
        "Share of the most recent cases to fit on (1: all; 0.5 searched: a drifting process is "
        "better fitted on its recent history).", 1, min=0.01, max=1.0)] = None,
    classes: Annotated[str | None, _searched(
        "Case attribute column whose values become entity classes (shares, per-class durations "
        "and branches where they differ), or none. Searched among --class-candidates or the "
        "columns that look like classes.", "none")] = None,
    class_candidates: Annotated[str | None, typer.Option(
        help="Columns COL,COL the validation split tries as --classes (default: categorical "
             "columns with 2 to 8 values, constant per case).")] = None,
    cancelled: Annotated[str | None, typer.Option(
        help="Column whose non-empty value marks a case as cancelled: where work was abandoned "
             "is measured in the report.")] = None,
    processing: Annotated[str | None, _searched(
        "Activity durations in clock time, or in the working week of the waits (a job advances at "
        "each hour's pace and pauses while closed): clock | working.", "clock")] = None,
    delays: Annotated[str | None, _searched(
        "Waits as observed from the case's previous end, or from when its resource was free for it "
        "(the queueing the twin adds itself left out): observed | extraneous.", "observed")] = None,
    validate: Annotated[bool, typer.Option(
        help="Choose the options not given by scoring each on a time split of the log itself.")] = True,
    maintenance: Annotated[Path | None, typer.Option(
        help="Maintenance records CSV (time, machine, part): planned upkeep of --equipment-pool.")] = None,
    equipment_pool: Annotated[str | None, typer.Option(
        help="Pool of the twin whose units are the machines of --maintenance / --failures: it gets "
             "their failures (in operating time) and planned maintenance.")] = None,
    machine_hours: Annotated[str | None, typer.Option(
        help="Hours a machine runs a year: a number, or a CSV of (machine, hours) (default: 8760).")] = None,
    repair_hours: Annotated[float | None, typer.Option(
        help="Repair time in hours, where the failure records have no durations.")] = None,
    maintenance_hours: Annotated[float | None, typer.Option(
        help="Planned maintenance time in hours, where the maintenance records have no durations.")] = None,
    timezone: Annotated[str | None, typer.Option(
        help="The site's IANA time zone (e.g. Europe/Amsterdam): times are read in it, daylight saving "
             "included (default: each timestamp's own offset, as the site's wall clock).")] = None,
) -> None:
    """Fit a twin from historical data: arrivals, durations, routing, pools, shifts (+ report)."""
    from calibration.cli import calibrate_files, parse_columns
    from calibration.loaders import CalibrationDataError, parse_mapping
    from twin.progress import Progress as Reporter

    try:
        with Reporter(err, "calibrate") as progress:
            chosen = " and choosing its options by validation" if validate else ""
            progress.note(f"fitting a twin to {events}{chosen}")
            result = calibrate_files(
                events, failures, deliveries, parse_mapping(mapping or []), output, report, validate=validate,
                progress=lambda done, total: progress.update(done, total, "validation candidates scored"),
                waits=waits, calendars=calendars, capacity=capacity, arrivals=arrivals, worktime=worktime,
                routing=routing, processing=processing, pools=pools, history=history, classes=classes,
                delays=delays, class_candidates=parse_columns(class_candidates), cancelled=cancelled,
                equipment={"pool": equipment_pool, "maintenance": maintenance, "machine_hours": machine_hours,
                           "repair_hours": repair_hours, "maintenance_hours": maintenance_hours},
                timezone=timezone,
            )
    except (CalibrationDataError, SpecError, ValueError, RuntimeError) as error:
        raise _fail(str(error)) from None
    for warning in result["warnings"]:
        err.print(f"[yellow]warning[/]: {warning}", highlight=False)
    if "validation" in result:
        v = result["validation"]
        out.print(f"validation ({v['split']['fit_cases']} fit / {v['split']['check_cases']} check cases): "
                  f"chose {v['chosen']}, loss {v['chosen_loss']:+.3f} against replay", highlight=False)
    out.print(f"[green]ok[/]: wrote {output}" + (f" and {report}" if report else ""))


@app.command("simulate-log")
def simulate_log_command(
    file: FileArg,
    start: Annotated[str, typer.Option(help="Calendar time of the first case, ISO (2012-02-20T00:00).")],
    cases: Annotated[int, typer.Option(min=1, help="Cases to simulate to completion.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV to write.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
) -> None:
    """Write a simulated event log: case_id, activity, resource, start_time, end_time."""
    from calibration.cli import simulate_log_file
    from calibration.loaders import CalibrationDataError

    try:
        log = simulate_log_file(file, start, cases, seed, output)
    except (CalibrationDataError, SpecError) as error:
        raise _fail(str(error)) from None
    out.print(f"[green]ok[/]: wrote {output} ({len(log)} events, {log['case_id'].nunique()} cases)")


@app.command("score")
def score_command(
    file: FileArg,
    train: Annotated[Path, typer.Option(help="Training event log (for the replay baseline).")],
    test: Annotated[Path, typer.Option(help="Held-out event log to compare with.")],
    runs: Annotated[int, typer.Option(min=2, help="Simulated runs.")] = 10,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
    mapping: MapOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scorecard as JSON.")] = False,
) -> None:
    """Scorecard of a twin against a test log, beside a replay-of-train baseline."""
    from calibration.cli import score_files, scorecard_text
    from calibration.loaders import CalibrationDataError, parse_mapping

    try:
        result = score_files(file, train, test, runs, seed, parse_mapping(mapping or []))
    except (CalibrationDataError, SpecError, RuntimeError) as error:
        raise _fail(str(error)) from None
    print(json.dumps(result, allow_nan=False) if as_json else scorecard_text(result))


@app.command("health")
def health_command(
    file: FileArg,
    events: Annotated[Path, typer.Option(help="Newer event log to check the twin on.")],
    reference: Annotated[Path | None, typer.Option(
        help="Older event log the twin is judged against: its training log, or a holdout.")] = None,
    window: Annotated[str | None, typer.Option(
        help="Cases of --events starting in FROM..TO (ISO times; either side may be empty).")] = None,
    threshold: Annotated[float, typer.Option(
        help="Flag a distance whose drift (twin's distance over its own noise, new window over "
             "reference) and new excess both exceed this.")] = 1.5,
    runs: Annotated[int | None, typer.Option(
        min=1, help="Simulated runs per window (default: about 2,000 cases, 3 to 10).")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream.")] = 1,
    mapping: MapOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Has the process drifted from the twin? Re-score it on newer data; flag drifted distances."""
    from calibration.health_cli import health_files, health_text
    from calibration.loaders import CalibrationDataError, parse_mapping

    try:
        result = health_files(file, events, reference, window, threshold, runs, seed,
                              parse_mapping(mapping or []))
    except (CalibrationDataError, SpecError, ValueError, RuntimeError) as error:
        raise _fail(str(error)) from None
    print(json.dumps(result, allow_nan=False) if as_json else health_text(result))


@app.command("state")
def state_command(
    events: Annotated[Path, typer.Option(help="Event log CSV (case, activity, resource, start, end).")],
    at: Annotated[str, typer.Option(help="The moment (e.g. 2012-02-20T08:00): the log is cut there.")],
    twin_file: Annotated[Path | None, typer.Option("--twin", help="The twin: its activity names and time "
                                                                  "unit (and a check of the state).")] = None,
    mapping: MapOption = None,
    recent: Annotated[float | None, typer.Option(
        help="Days before --at whose case arrivals set the level arrivals go on at (with --twin; else "
             "the twin's).")] = None,
    pace: Annotated[float | None, typer.Option(
        help="Days before --at whose steps' times set the pace the twin's steps go on at (with --twin; "
             "else the twin's).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="State JSON (default: print it)."
                                                )] = None,
) -> None:
    """The state of the operation at a moment, from its event log: the open cases and where each stands."""
    from calibration.loaders import CalibrationDataError, load_events, parse_mapping
    from calibration.simlog import read_header
    from calibration.state import state_from_log
    from twin.state import check_state

    twin = _load(twin_file) if twin_file is not None else None
    labels = read_header(twin_file).get("labels") if twin_file is not None else None  # a calibrated twin's
    try:
        log, _ = load_events(events, parse_mapping(mapping or []))
        state = state_from_log(log, at, twin=twin, labels=labels, recent=recent, pace=pace)
    except (CalibrationDataError, ValueError) as error:
        raise _fail(str(error)) from None
    problems = check_state(state, twin) if twin is not None else []
    if problems:
        raise _fail(str(SpecError(problems, f"the state at {at}")))
    text = json.dumps(state.to_json(), indent=1)
    if output is None:
        print(text)
        return
    try:
        output.write_text(text + "\n")
    except OSError as error:
        raise _fail(f"-o {output}: {error.strerror or error}") from None
    waiting = sum(e.state != "in_service" for e in state.entities)
    err.print(f"[green]ok[/]: {len(state.entities)} open cases at {at} ({len(state.entities) - waiting} in "
              f"service, {waiting} between steps) written to {output}")


@app.command("forecast")
def forecast_command(
    files: Annotated[list[Path], typer.Argument(
        help="The twin, then what-if scenario files (changes from now on).", show_default=False)],
    state_file: Annotated[Path, typer.Option("--state", help="State JSON (twin state, or written by hand).")],
    until: Annotated[float, typer.Option(help="Forecast up to this model time (the state's frame).")],
    replications: Annotated[int, typer.Option(min=1, help="Replications.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed of every random stream (shared by the plans).")] = 1,
    engine: Annotated[str, typer.Option(help=f"Engine: {' | '.join(ENGINES)}.")] = "fast",
    as_json: Annotated[bool, typer.Option("--json", help="Print the forecast as JSON.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write the forecast report (HTML) here.")] = None,
) -> None:
    """From the state now: when each open job finishes, P(done by --until), WIP and completions ahead."""
    from scenarios.loader import load_scenario
    from twin.forecast import forecast
    from twin.state import load_state

    if engine not in ENGINES:
        raise _fail(f"--engine: must be one of {', '.join(ENGINES)}, not '{engine}'")
    results = []
    try:
        state = load_state(state_file)  # checked against each plan's twin as it starts
    except SpecError as error:
        raise _fail(str(error)) from None
    for path in files:
        try:
            plan = load_scenario(path)
            result = forecast(plan.twin, state, until, replications, seed, engine)
            results.append((plan.name, result.summary()))
        except SpecError as error:
            raise _fail(str(error)) from None
        except (ValueError, DeadlockError) as error:
            raise _fail(f"{path}: {error}") from None
    first = results[0][1] | {"twin": results[0][0]}
    if len(results) > 1:
        first["what_if"] = [summary | {"twin": name} for name, summary in results[1:]]
    if report is not None:
        from viz.forecast import write_forecast_report

        try:
            err.print(f"report: {write_forecast_report(first, report)}")
        except OSError as error:
            raise _fail(f"--report {report}: {error.strerror or error}") from None
    if as_json:
        print(json.dumps(first, allow_nan=False))
        return
    from twin.display import forecast_text

    out.print(forecast_text(first))


def _run_with_progress(twin: Twin, replications: int, seed: int, engine: str, show: bool) -> RunResult:
    from twin.runner import run

    compiled = 0.0
    if engine == "fast":  # before the run's bar: "compiling the fast engine (once)…" has its own
        from twin.compiling import compile_all

        compiled = compile_all()
    if not show:  # --json: no bar, nor rich's progress module to import
        result = run(twin, replications, seed, engine)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task(f"{twin.name} ({engine})", total=replications)
            result = run(twin, replications, seed, engine,
                         progress=lambda done: progress.update(task, completed=done))
    result.compile_seconds += compiled
    return result


def kpi_table(summary: dict[str, Any], time_unit: str = "hour", currency: str = "") -> Table:
    """A readable table: one row per KPI with its unit, mean, 95% CI and percentiles; each
    activity's, resource's, ... KPIs under its name; shares in percent."""
    from rich import box
    from rich.table import Table

    from twin.display import fill_run_table

    table = Table(title=f"{summary['name']}: {summary['replications']} replications, "
                        f"seed {summary['seed']}, engine {summary['engine']}", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    fill_run_table(table, summary, time_unit, currency)
    perf = summary["performance"]
    table.caption = (f"mean and 95% CI over replications (shares: Wilson-type); p5, p95: of the "
                     f"replications; {perf['events']:,} events in {perf['sim_seconds']:.2f} s")
    return table


def main() -> None:
    """The `twin` command: the app, then a quick exit. After the work is done, tearing the
    interpreter down (every module of Numba, LLVM, pandas) takes a quarter of a second; when
    the command leaves no other thread running, the exit handlers run, the output is flushed
    and the process ends at once."""
    try:
        app()  # standalone: it always ends by raising SystemExit
    except SystemExit as done:
        code = done.code
        if not isinstance(code, int | None) or _threads_left():
            raise
        _exit_now(code or 0)


def _threads_left() -> bool:
    main_thread = threading.main_thread()
    return any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main_thread)


def _exit_now(code: int) -> None:
    atexit._run_exitfuncs()  # what interpreter shutdown would run: multiprocessing's, logging's
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`twin run | head`) or a closed stream
            code = code or 120  # what Python itself answers when the final flush fails
    os._exit(code)


if __name__ == "__main__":
    main()
