"""How numbers, units and KPI names are written for people (the CLI's tables).

Plain notation only (never 1e-05), at the precision the data support: a mean is rounded
where its 95% CI half-width has its first significant digit (its first two when those are
10-29), so "55.2 ± 1.2" and "428,100 ± 600" rather than "55.24 ± 1.235" and "428,100 ±
585.8". Shares (utilisation, fill rate, on-time, ...) are written in percent with their own
interval, which stays in [0, 100]. A change far below the KPI's own resolution is written
as "within ±0.0001" rather than as noise in the sixth decimal.
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text

from twin.results import GROUPS, is_share

PLURAL = {"minute": "minutes", "hour": "hours", "day": "days"}
_TIME_KPIS = {"cycle_time", "wait", "tardiness", "crew_wait"}
_COUNT_KPIS = {"completed", "late", "activations", "repairs", "stockouts", "maintenances"}
_UNITS = {"wip": "entities", "queue_length": "entities", "inventory": "units", "on_duty": "units",
          "overtime": "units"}
NEGLIGIBLE = 1e-4  # a change smaller than this share of the KPI's magnitude is shown as negligible


def kpi_unit(kpi: str, time_unit: str, currency: str = "") -> str:
    """The unit a KPI is shown in: 'activities.triage.wait', 'minute' -> 'minutes';
    'throughput' -> 'per minute'; a share -> '%'; 'cost.labour' -> the currency."""
    if kpi == "cost" or kpi.startswith("cost."):
        return currency or "cost units"
    last = kpi.rsplit(".", 1)[-1]
    if is_share(kpi):
        return "%"
    if last in _TIME_KPIS:
        return PLURAL.get(time_unit, time_unit)
    if last == "throughput":
        return f"per {time_unit}"
    if last in _COUNT_KPIS:
        return "count"
    return _UNITS.get(last, "")


def kpi_words(kpi: str) -> str:
    """A KPI's last part in words: 'queue_length' -> 'queue length', 'wip' -> 'WIP'."""
    last = kpi.rsplit(".", 1)[-1]
    return "WIP" if last == "wip" else last.replace("_", " ")


def short_name(kpi: str) -> str:
    """A KPI as the table shows it, short enough for a narrow column: 'activities.doctor.
    by_class.urgent.wait' -> 'doctor urgent wait', 'resources.agent.utilization' -> 'agent
    utilization'; KPIs of no group stay as they are ('cycle_time', 'cost.labour')."""
    parts = kpi.split(".")
    if parts[0] not in GROUPS or len(parts) < 3:
        return kpi
    return " ".join(p for p in parts[1:] if p != "by_class")


def decimals(half: float) -> int:
    """Decimal places that show a CI half-width to one significant digit, or two when they
    are 10-29 (1.2 rather than 1, 0.0009 rather than 0.00088); negative: round to tens,
    hundreds, ..."""
    exponent = math.floor(math.log10(half))
    lead = half / 10.0**exponent
    return (1 if lead < 3 else 0) - exponent


def fixed(x: float, places: int, sign: bool = False) -> str:
    """x rounded to `places` decimals (negative: to tens, hundreds, ...), thousands
    separated, never an exponent; no '-0'."""
    plus = "+" if sign else ""
    rounded = round(x, places)
    if rounded == 0:
        rounded = 0.0
    return f"{rounded:{plus},.{max(0, places)}f}"


def plain(x: float | None, digits: int = 4, sign: bool = False) -> str:
    """At most `digits` significant digits in plain notation, no trailing zeros:
    0.000004006, 8.51, 100, 5,960; '–' if missing."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    text = fixed(x, digits - 1 - math.floor(math.log10(abs(x))), sign)
    return text.rstrip("0").rstrip(".") if "." in text else text


def places_for(mean: float, half: float | None) -> int:
    """Decimals for a mean with this half-width: the half-width's (`decimals`), but no more
    than five significant digits of the mean itself (so a nearly exact 16,849.97 ± 0.036
    reads 16,850); four significant digits without a half-width."""
    magnitude = math.floor(math.log10(abs(mean))) if mean else 0
    if half is None or not math.isfinite(half) or half <= 0:
        return 3 - magnitude if mean else 0
    return min(decimals(half), 4 - magnitude)


def estimate(s: dict[str, Any], share: bool = False) -> str:
    """A summary `S` as one cell: '55.2 ± 1.2'; a share in percent with its own interval,
    '54.5 [54.2, 54.8]'; just the mean when there is no interval."""
    mean, (lo, hi) = s["mean"], s["ci95"]
    if mean is None:
        return "–"
    scale = 100.0 if share else 1.0
    if lo is None or hi is None:
        return plain(mean * scale)
    half = abs(hi - lo) / 2 * scale
    places = places_for(mean * scale, _resolution(mean, lo, hi, share) * scale)
    if share:
        return f"{fixed(mean * scale, places)} [{fixed(lo * scale, places)}, {fixed(hi * scale, places)}]"
    if half == 0:  # every replication gave the same
        return plain(mean)
    return f"{fixed(mean, places)} ± {fixed(half, decimals(half))}"


def _resolution(mean: float, lo: float, hi: float, share: bool) -> float:
    """The width that sets a number's decimals: the CI half-width, or for a share's skewed
    interval its nearer side (so 0.19 [0.04, 0.69] keeps its lower bound)."""
    near = min(mean - lo, hi - mean) if share else 0.0
    return near if near > 0 else abs(hi - lo) / 2


def interval(s: dict[str, Any], share: bool = False) -> tuple[str, str, int | None]:
    """(mean, 'lo – hi', decimals) of a summary `S`, as the run table shows them; decimals
    None where there is no interval (then numbers are written with `plain`)."""
    mean, (lo, hi) = s["mean"], s["ci95"]
    scale = 100.0 if share else 1.0
    if mean is None:
        return "–", "–", None
    if lo is None or hi is None:
        return plain(mean * scale), "–", None
    if lo == hi:  # every replication gave the same
        return plain(mean * scale), "no spread", None
    places = places_for(mean * scale, _resolution(mean, lo, hi, share) * scale)
    return fixed(mean * scale, places), f"{fixed(lo * scale, places)} – {fixed(hi * scale, places)}", places


def delta(d: dict[str, Any] | None, scale: float | None, share: bool = False) -> str:
    """A paired change vs the baseline: 'Δ -0.79 ± 0.06'; in percentage points for a
    share ('Δ -1.2 pp ± 0.4'); 'Δ within ±0.0001' when the change and its CI are below
    NEGLIGIBLE of the KPI's magnitude `scale` (the baseline mean); 'Δ 0' when every
    replication gives the same."""
    if d is None or d["mean"] is None:
        return ""
    factor = 100.0 if share else 1.0
    mean, (lo, hi) = d["mean"] * factor, d["ci95"]
    unit = " pp" if share else ""
    if lo is None or hi is None:
        return f"Δ {plain(mean, 3, sign=True)}{unit}"
    lo, hi = lo * factor, hi * factor
    reach = max(abs(lo), abs(hi))
    if reach == 0:
        return "Δ 0"
    if lo == hi:  # the same change in every replication
        return f"Δ {plain(mean, sign=True)}{unit}"
    if scale and reach < abs(scale * factor) * NEGLIGIBLE:
        bound = 10.0 ** math.ceil(math.log10(reach))
        return f"Δ within ±{plain(bound, 1)}{unit}"
    half = abs(hi - lo) / 2
    places = places_for(mean, half)
    return f"Δ {fixed(mean, places, sign=True)}{unit} ± {fixed(half, decimals(half))}"


GROUP_KINDS = {"activities": "activity", "resources": "resource", "materials": "material", "classes": "class",
               "contingency": "rule"}


def run_rows(summary: dict[str, Any]) -> list[tuple[str | None, str, dict[str, Any]]]:
    """(item heading or None, dotted KPI, S) for every KPI of a nested run summary with
    data, in order: the twin's own KPIs, then each activity, resource, material, class and
    rule under a heading 'registration (activity)'; an activity's per-class KPIs as
    'urgent wait' ('activities.a.by_class.urgent.wait')."""
    rows: list[tuple[str | None, str, dict[str, Any]]] = [(None, k, s) for k, s in summary["kpis"].items()]
    for group, kind in GROUP_KINDS.items():
        for name, kpis in summary.get(group, {}).items():
            heading = f"{name} ({kind})"
            for kpi, s in kpis.items():
                if kpi == "by_class":
                    rows += [(heading, f"{group}.{name}.by_class.{c}.{k}", v)
                             for c, per in s.items() for k, v in per.items()]
                else:
                    rows.append((heading, f"{group}.{name}.{kpi}", s))
    return [row for row in rows if row[2]["n"]]  # none: e.g. a class that never came


def row_label(kpi: str) -> str:
    """A KPI's name under its item's heading: 'wait', 'urgent wait', 'cost labour'."""
    parts = kpi.split(".")
    if parts[0] == "cost":
        return " ".join(parts)
    if len(parts) == 5 and parts[2] == "by_class":
        return f"{parts[3]} {kpi_words(kpi)}"
    return kpi_words(kpi)


def fill_run_table(table: Table, summary: dict[str, Any], time_unit: str, currency: str = "") -> None:
    """Columns and rows of `twin run`'s table: each item's name on a heading row (its kind in
    the unit column), its KPIs indented below. Every column folds rather than cuts (a name
    longer than its column wraps onto the next line, never ends in '…')."""
    table.add_column("KPI", overflow="fold", min_width=max(len(w) for w in _words(summary)))
    table.add_column("unit", overflow="fold")
    for column in ("mean", "95% CI", "p5", "p95"):
        table.add_column(column, justify="right", overflow="fold")
    heading: str | None = None
    for group, kpi, s in run_rows(summary):
        if group != heading:
            name, kind = group.rsplit(" (", 1) if group else ("", ")")
            table.add_row(Text(name, style="bold"), Text(kind[:-1], style="dim"))
            heading = group
        share = is_share(kpi)
        mean, ci, places = interval(s, share)
        scale = 100.0 if share else 1.0
        cuts = [_cut(s[p], scale, places) for p in ("p5", "p95")]
        label = f"  {row_label(kpi)}" if group else kpi_words(kpi)
        table.add_row(label, kpi_unit(kpi, time_unit, currency), mean, ci, *cuts)


def _cut(x: float | None, scale: float, places: int | None) -> str:
    if x is None:
        return "–"
    return plain(x * scale) if places is None else fixed(x * scale, places)


def _words(summary: dict[str, Any]) -> list[str]:
    """The words of the KPI column, each of which must fit whole."""
    words = ["KPI"]
    for group, kpi, _ in run_rows(summary):
        words += [(group or "").rsplit(" (", 1)[0], "  " + row_label(kpi).split()[0]]
    return words


def fit_widths(least: list[int], most: list[int], width: int, gap: int = 2) -> list[int] | None:
    """Widths for side-by-side columns, `gap` apart within `width`, each at least `least`
    (its longest unbreakable piece) and at most `most` (its longest line): each gets its
    least, then the room left goes to the columns still short, those that need least first
    (so as many as can be are whole), the first column (labels) last. None if the least
    does not fit."""
    spare = width - gap * (len(least) - 1) - sum(least)
    if spare < 0:
        return None
    widths = list(least)
    for i in [*sorted(range(1, len(least)), key=lambda i: most[i] - least[i]), 0]:
        grant = min(spare, max(0, most[i] - widths[i]))
        widths[i] += grant
        spare -= grant
    return widths


BREAKS = (" ± ", " [")  # where a cell's line may break: before its interval


def pieces(line: str, breaks: tuple[str, ...] = BREAKS) -> list[str]:
    """A line cut before each interval: 'Δ -0.79 ± 0.06' -> ['Δ -0.79', '± 0.06']."""
    for mark in breaks:
        line = line.replace(mark, "\n" + mark[1:])
    return line.splitlines()


def letters(count: int) -> list[str]:
    """Short column labels for a legend: A, B, ..., Z, A2, B2, ..."""
    return [chr(ord("A") + i % 26) + (str(i // 26 + 1) if i >= 26 else "") for i in range(count)]


def forecast_text(summary: dict[str, Any], rows: int = 25) -> Any:
    """`twin forecast` on a terminal: the headline per plan, then each open job of the first."""
    from rich.console import Group

    plans = [summary, *summary.get("what_if", [])]
    head = Table(title=f"Forecast from t = {plain(summary['time'])} to {plain(summary['until'])} "
                       f"({summary['replications']} replications)", box=None)
    widest = min(40, max(len(p["twin"]) for p in plans))  # a plan's name whole where it fits
    for column in ("plan", "drain time (mean)", "P(drained)", "WIP at end (p50)", "completions (p50)"):
        head.add_column(column, justify="left" if column == "plan" else "right", overflow="fold",
                        min_width=widest if column == "plan" else None)
    for plan in plans:
        fan = plan["fan"]
        drain = plain(plan["drain_time"]) if plan["drain_time"] is not None else "not by then"
        head.add_row(plan["twin"], drain, f"{plan['p_drained']:.0%}", plain(fan["wip"]["p50"][-1]),
                     plain(fan["completions"]["p50"][-1]))
    jobs = Table(title=f"Open jobs ({summary['twin']})", box=None)
    due = any("p_on_time" in e for e in summary["entities"])
    for column in ("case", "where", "finish p50", "finish p90", "P(done)", *(("P(on time)",) if due else ())):
        jobs.add_column(column, justify="left" if column in ("case", "where") else "right", overflow="fold")
    for k, e in enumerate(summary["entities"][:rows]):
        where = f"{e['activity']} ({e['state'].replace('_', ' ')})"
        p50, p90 = (plain(e[f"finish_p{q}"]) if e[f"finish_p{q}"] is not None else "later" for q in (50, 90))
        cells = [e["case"] or str(k + 1), where, p50, p90, f"{e['p_done']:.0%}"]
        if due:
            cells.append(f"{e['p_on_time']:.0%}" if "p_on_time" in e else "")
        jobs.add_row(*cells)
    more = len(summary["entities"]) - rows
    parts: list[Any] = [head, jobs]
    if more > 0:
        parts.append(Text(f"... {more} more open jobs (--json lists them all)"))
    short = [f"{name}: P(stockout) {s['p_stockout']:.0%}" for name, s in summary["stockouts"].items()
             if s["p_stockout"] > 0]
    if short:
        parts.append(Text("Stock ahead: " + "; ".join(short)))
    return Group(*parts)
