"""`twin study`: run a study with a progress bar, print the comparison, write the results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from scenarios import store
from scenarios.loader import Scenario, load_study
from scenarios.report import summarize_study
from scenarios.runner import StudyResult, run_study, settings_for
from scenarios.spec import parse_target
from twin.loader import dumps_twin
from twin.results import readable


def study(files: list[Path], executor: str, address: str | None, replications: int | None,
          seed: int | None, out: Path | None, as_json: bool, out_console: Console, err: Console,
          series_every: float | None = None) -> None:
    """Everything `twin study` does after parsing its options (SpecError and ValueError propagate)."""
    scenarios = load_study(list(files))
    settings = settings_for(scenarios[0], replications, seed, series_every=series_every)
    folder = out or Path("artifacts") / "studies" / _slug(scenarios[0].name)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, disable=as_json, transient=True) as progress:
        task = progress.add_task(f"study ({executor})", total=None)
        result = run_study(scenarios, settings, executor, address, out=folder,
                           progress=lambda done, total: progress.update(task, completed=done, total=total))
    summary = summarize_study(result)
    write_outputs(folder, result, summary)
    if as_json:
        print(json.dumps(summary, allow_nan=False))
        return
    for table in comparison_tables(summary, scenarios):
        out_console.print(table)
    out_console.print(conclusion(summary, folder))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def write_outputs(folder: Path, result: StudyResult, summary: dict[str, Any]) -> None:
    """results.parquet, series.parquet (the scenarios' state series), summary.json,
    provenance.json and specs/ (each unit's twin, each file)."""
    store.write_table(folder, "results.parquet", result.table)
    if result.series is not None:
        store.write_table(folder, "series.parquet", result.series)
    (folder / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    (folder / "provenance.json").write_text(json.dumps(summary["provenance"], indent=1))
    specs = folder / "specs"
    specs.mkdir(exist_ok=True)
    for unit in result.units:
        (specs / f"{_slug(unit.name)}.twin.yaml").write_text(dumps_twin(unit.twin))
    for s in result.scenarios:
        (specs / f"{_slug(s.name)}.scenario.yaml").write_text(yaml.safe_dump(s.file, sort_keys=False))


def _interesting(summary: dict[str, Any], scenarios: list[Scenario]) -> list[str]:
    first = next(iter(summary["scenarios"].values()))
    picked = ["throughput", "cycle_time", "wip", summary["ranking"]["kpi"]]
    picked += [t.kpi for s in scenarios for t in s.targets] + list(first["var95"])
    return [k for k in dict.fromkeys(picked) if k in first["kpis"]]


def comparison_tables(summary: dict[str, Any], scenarios: list[Scenario]) -> list[Table]:
    names = list(summary["scenarios"])
    kpis = Table(title="KPIs: mean ± 95% CI half-width; Δ = change vs the baseline (paired, CRN)")
    kpis.add_column("KPI")
    for name in names:
        kpis.add_column(name, justify="right")
    for kpi in _interesting(summary, scenarios):
        cells = [_mean_ci(summary["scenarios"][n]["kpis"][kpi]) for n in names[:1]]
        for n in names[1:]:
            s, d = summary["scenarios"][n]["kpis"][kpi], summary["differences"][n].get(kpi)
            cells.append(f"{_mean_ci(s)}\n{_delta(d)}")
        kpis.add_row(short_name(kpi), *cells)
    tables = [kpis]
    first = summary["scenarios"][names[0]]
    if first["targets"]:
        targets = Table(title="Targets: probability of missing in a replication [95% Wilson CI]")
        targets.add_column("target")
        for name in names:
            targets.add_column(name, justify="right")
        for text in first["targets"]:
            targets.add_row(short_target(text), *[_target(summary["scenarios"][n]["targets"][text])
                                                  for n in names])
        targets.add_row("all targets met", *["yes" if summary["scenarios"][n]["meets_targets"] else "no"
                                             for n in names])
        tables.append(targets)
    return tables


GROUPS = ("activities", "resources", "materials", "classes", "contingency")


def short_name(kpi: str) -> str:
    """A KPI as the table shows it, short enough for a narrow column: 'activities.doctor.
    by_class.urgent.wait' -> 'doctor urgent wait', 'resources.agent.utilization' -> 'agent
    utilization'; KPIs of no group stay as they are ('cycle_time', 'cost.labour')."""
    parts = kpi.split(".")
    if parts[0] not in GROUPS or len(parts) < 3:
        return kpi
    return " ".join(p for p in parts[1:] if p != "by_class")


def short_target(text: str) -> str:
    """'activities.answer.abandoned <= 0.05' -> 'answer abandoned <= 0.05'."""
    target = parse_target(text)
    stat = f".{target.statistic}" if target.statistic else ""
    return f"{short_name(target.kpi)}{stat} {target.op} {target.threshold:g}"


def conclusion(summary: dict[str, Any], folder: Path) -> str:
    ranking = summary["ranking"]
    subset = ranking.get("subset_meeting_targets", ranking["subset"])
    among = " among them" if "subset_meeting_targets" in ranking else ""
    lines = [f"best: [bold]{summary['best']}[/] ({ranking['goal']} {ranking['kpi']} among the scenarios "
             f"meeting every target); 95% subset for the best{among}: {', '.join(subset)}"]
    kn = ranking.get("kn")
    if kn is not None and kn["done"]:
        lines.append(f"Kim-Nelson: [bold]{kn['selected']}[/] is the best on {kn['kpi']} within "
                     f"{kn['indifference']:g} with {kn['confidence']:.0%} confidence "
                     f"({kn['replications']} replications; targets aside)")
    elif kn is not None:
        lines.append(f"Kim-Nelson: not finished after {kn['replications']} replications (needs up to "
                     f"{kn['needed']}); still in contention: {', '.join(kn['survivors'])}")
    for name, check in summary["warmup"].items():
        if not check["ok"]:
            lines.append(f"[yellow]warning[/]: {name}: warmup {check['warmup']:g} looks too short; "
                         f"MSER-5 on WIP suggests {check['mser5']:g}")
    lines.append(f"results in {folder}/ (results.parquet, series.parquet, summary.json, provenance.json, "
                 "specs/)")
    return "\n".join(lines)


def _num(x: float | None) -> str:
    return readable(x, 4)


def _mean_ci(s: dict[str, Any]) -> str:
    lo, hi = s["ci95"]
    return f"{_num(s['mean'])} ± {_num((hi - lo) / 2)}" if lo is not None else _num(s["mean"])


def _delta(d: dict[str, Any] | None) -> str:
    if d is None or d["mean"] is None:
        return ""
    lo, hi = d["ci95"]
    sign = "+" if d["mean"] >= 0 else ""
    half = f" ± {_num((hi - lo) / 2)}" if lo is not None else ""
    return f"Δ {sign}{_num(d['mean'])}{half}"


def _target(t: dict[str, Any]) -> str:
    mark = "[green]met[/]" if t["met"] else "[red]missed[/]"
    extra = f" {t['statistic']}={_num(t['value'])}" if "statistic" in t else ""
    return f"{t['p_miss']:.0%} [{t['ci95'][0]:.0%}, {t['ci95'][1]:.0%}]{extra} {mark}"
