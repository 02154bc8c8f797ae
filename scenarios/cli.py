"""`twin study`: run a study with a progress bar, print the comparison, write the results."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from scenarios import store
from scenarios.loader import Scenario, load_study
from scenarios.report import summarize_study
from scenarios.runner import StudyResult, run_study, settings_for
from scenarios.spec import parse_target
from scenarios.verdict import verdict
from twin.display import delta, estimate, fit_widths, kpi_unit, letters, pieces, plain, short_name
from twin.loader import dumps_twin
from twin.progress import Progress
from twin.results import is_share


def study(files: list[Path], executor: str, address: str | None, replications: int | None,
          seed: int | None, out: Path | None, as_json: bool, out_console: Console, err: Console,
          series_every: float | None = None) -> None:
    """Everything `twin study` does after parsing its options (SpecError and ValueError propagate)."""
    scenarios = load_study(list(files))
    settings = settings_for(scenarios[0], replications, seed, series_every=series_every)
    folder = out or Path("artifacts") / "studies" / _slug(scenarios[0].name)
    with Progress(err, f"study ({executor})", enabled=not as_json) as progress:
        result = run_study(scenarios, settings, executor, address, out=folder,
                           progress=lambda done, total: progress.update(done, total, "replications"))
    summary = summarize_study(result)
    write_outputs(folder, result, summary)
    if as_json:
        print(json.dumps(summary, allow_nan=False))
        return
    for table in comparison_tables(summary, scenarios, out_console.width):
        out_console.print(table)
    out_console.print(conclusion(summary, folder))


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def write_outputs(folder: Path, result: StudyResult, summary: dict[str, Any]) -> None:
    """results.parquet and the same as results.csv, series.parquet (the scenarios' state
    series), traces/ (each scenario's close-up replication, as the engine traced it),
    summary.json, provenance.json and specs/ (each unit's twin, each file)."""
    store.write_table(folder, "results.parquet", result.columns)
    store.write_csv(folder, "results.csv", result.columns)
    if result.series_columns is not None:
        store.write_table(folder, "series.parquet", result.series_columns)
    for name, columns in result.traces.items():  # the close-up replication, for the report
        store.write_table(folder / "traces", f"{_slug(name)}.parquet", columns)
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


def comparison_tables(summary: dict[str, Any], scenarios: list[Scenario],
                      width: int = 80) -> list[RenderableType]:
    """The KPI table (mean and CI of each plan, change vs the baseline) and the targets
    table, each KPI with its unit. Plan names head the columns when they fit `width` whole;
    otherwise the columns are lettered and a legend names them (a name is never cut)."""
    names = list(summary["scenarios"])
    twin = scenarios[0].twin
    unit, currency = twin.time_unit, (twin.costs.currency if twin.costs else "")
    kpi_rows = [_kpi_row(summary, names, kpi, unit, currency) for kpi in _interesting(summary, scenarios)]
    first = summary["scenarios"][names[0]]
    target_rows = [(short_target(text, unit, currency),
                    [_target(summary["scenarios"][n]["targets"][text], is_share(parse_target(text).kpi))
                     for n in names]) for text in first["targets"]]
    if target_rows:
        target_rows.append(("all targets met", ["yes" if summary["scenarios"][n]["meets_targets"] else "no"
                                                for n in names]))
    heads, legend = names, None
    fitted = _layout(names, kpi_rows, target_rows, width)
    if fitted is None:
        heads = letters(len(names))
        fitted = _layout(heads, kpi_rows, target_rows, width) or (None, None)
        legend = Table(box=None, show_header=False, pad_edge=False, title="plans")
        legend.add_column(style="bold")
        legend.add_column(overflow="fold")
        for letter, name in zip(heads, names, strict=True):
            legend.add_row(letter, name + (" (baseline)" if name == names[0] else ""))
    kpis = _table("KPIs: mean ± 95% CI half-width (shares in %: mean [95% CI]); Δ = change vs the "
                  "baseline (paired, CRN)", ["KPI", *heads], kpi_rows, fitted[0])
    tables: list[RenderableType] = [kpis] if legend is None else [legend, kpis]
    if target_rows:
        tables.append(_table("Targets: probability of missing in a replication [95% Wilson CI]",
                             ["target", *heads], target_rows, fitted[1]))
    return tables


def _kpi_row(summary: dict[str, Any], names: list[str], kpi: str, unit: str,
             currency: str) -> tuple[str, list[str]]:
    share = is_share(kpi)
    base = summary["scenarios"][names[0]]["kpis"][kpi]
    cells = [estimate(base, share)]
    for n in names[1:]:
        s, d = summary["scenarios"][n]["kpis"][kpi], summary["differences"][n].get(kpi)
        cells.append(f"{estimate(s, share)}\n{delta(d, base['mean'], share)}".rstrip())
    label = short_name(kpi)
    shown = kpi_unit(kpi, unit, currency)
    return (f"{label} ({shown})" if shown else label), cells


def _layout(heads: list[str], kpi_rows: list[tuple[str, list[str]]], target_rows: list[tuple[str, list[str]]],
            width: int) -> tuple[list[int] | None, list[int] | None] | None:
    """Column widths of both tables: the plans' numbers on whole lines, else broken only
    before an interval ('±', '['), else wherever rich breaks them; None when the plans'
    names (`heads`) do not fit whole even then."""
    for split in (_whole, pieces, str.split):
        kpis = _fit(["KPI", *heads], kpi_rows, width, split)
        targets = _fit(["target", *heads], target_rows, width, split)
        if kpis is not None and targets is not None:
            return kpis, targets
    return None


def _whole(line: str) -> list[str]:
    return [line]


def _fit(heads: list[str], rows: list[tuple[str, list[str]]], width: int,
         split: Callable[[str], list[str]]) -> list[int] | None:
    if not rows:
        return []
    columns = [[heads[0], *(label for label, _ in rows)]]
    columns += [[heads[i + 1], *(_plain(cells[i]) for _, cells in rows)] for i in range(len(heads) - 1)]
    lines = [[line for cell in column for line in cell.splitlines()] for column in columns]
    most = [max(len(line) for line in column) for column in lines]
    splits = [str.split] + [split] * (len(heads) - 1)  # labels always wrap at spaces
    least = [max(len(piece) for line in column for piece in cut(line) or [""])
             for column, cut in zip(lines, splits, strict=True)]
    return fit_widths(least, most, width, GAP)


GAP = 2  # columns apart: one space of padding and the box's blank separator


def _plain(markup: str) -> str:
    return Text.from_markup(markup).plain


def _table(title: str, heads: list[str], rows: list[tuple[str, list[str]]],
           widths: list[int] | None) -> Table:
    """A table whose columns have the `widths` computed to fit (None: let rich fold them)."""
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True, pad_edge=False,
                  show_lines=True)
    for i, head in enumerate(heads):
        table.add_column(head, justify="left" if i == 0 else "right", overflow="fold",
                         width=widths[i] if widths else None)
    for label, cells in rows:
        table.add_row(label, *(_break(c, w) for c, w in zip(cells, widths[1:] if widths else [0] * len(cells),
                                                         strict=True)))
    return table


def _break(cell: str, width: int) -> str:
    """A cell's lines that are wider than its column broken before their interval ('Δ
    -0.79' over '± 0.06'), where a reader looks for it, rather than wherever rich would."""
    if not width:
        return cell
    lines = [piece for line in cell.splitlines()
             for piece in (pieces(line) if len(_plain(line)) > width else [line])]
    return "\n".join(lines)


def short_target(text: str, time_unit: str = "hour", currency: str = "") -> str:
    """A target with its unit, a share's threshold in percent: 'activities.answer.abandoned
    <= 0.05' -> 'answer abandoned <= 5%'; 'activities.triage.wait <= 3.5' -> 'triage wait
    <= 3.5 minutes' (in a twin timed in minutes)."""
    target = parse_target(text)
    stat = f".{target.statistic}" if target.statistic else ""
    if is_share(target.kpi):
        return f"{short_name(target.kpi)}{stat} {target.op} {plain(target.threshold * 100)}%"
    unit = kpi_unit(target.kpi, time_unit, currency)
    unit = f" {unit}" if unit and unit != "count" else ""
    return f"{short_name(target.kpi)}{stat} {target.op} {plain(target.threshold)}{unit}"


def conclusion(summary: dict[str, Any], folder: Path) -> str:
    """The verdict (scenarios.verdict), warm-up warnings and where the results are."""
    said = verdict(summary)
    lines = [f"[bold]{escape(said[0])}[/]", *map(escape, said[1:])]
    for name, check in summary["warmup"].items():
        if not check["ok"]:
            lines.append(f"[yellow]warning[/]: {escape(name)}: warmup {plain(check['warmup'])} looks too "
                         f"short; MSER-5 on WIP suggests {plain(check['mser5'])}")
    lines.append(f"results in {escape(str(folder))}/ (results.parquet and .csv, series.parquet, "
                 "summary.json, provenance.json, specs/)")
    return "\n".join(lines)


def _target(t: dict[str, Any], share: bool = False) -> str:
    mark = "[green]met[/]" if t["met"] else "[red]missed[/]"
    if t["p_miss"] is None:
        return f"no data {mark}"
    extra = ""
    if "statistic" in t:
        value = plain(t["value"] * 100) + "%" if share else plain(t["value"])
        extra = f"\n{t['statistic']} = {value}"
    return f"{t['p_miss']:.0%} [{t['ci95'][0]:.0%}, {t['ci95'][1]:.0%}]{extra}\n{mark}"
