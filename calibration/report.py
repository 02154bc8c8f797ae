"""The calibration report as JSON and as one self-contained HTML page (no scripts, no CDN)."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;
margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}th{background:#eee}
td:first-child{text-align:left}.warn{color:#a40}"""


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=1, default=str, allow_nan=False)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:,.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
    return "-" if value is None else str(value)


def _fits_table(title: str, fits: dict[str, dict[str, Any]]) -> str:
    head = (
        "<tr><th>input</th><th>family</th><th>parameters</th><th>n</th><th>AIC</th><th>KS p</th>"
        "<th>AD A²</th><th>observed mean</th><th>p90</th><th>notes</th></tr>"
    )
    rows = []
    for name, f in fits.items():
        gof = f.get("gof", {})
        notes = "; ".join(filter(None, [f.get("fallback"), *f.get("warnings", [])]))
        cells = [
            name,
            f["family"],
            _fmt(f["params"]),
            f["n"],
            _fmt(f.get("aic")),
            _fmt(gof.get("ks_pvalue")),
            _fmt(gof.get("ad_stat")),
            _fmt(f["observed_mean"]),
            _fmt(f["observed_p90"]),
        ]
        rows.append(
            "<tr>"
            + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in cells)
            + f"<td class=warn>{html.escape(notes)}</td></tr>"
        )
    return f"<h2>{html.escape(title)}</h2><table>{head}{''.join(rows)}</table>"


def _kv_table(title: str, data: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(_fmt(v))}</td></tr>" for k, v in data.items()
    )
    return f"<h2>{html.escape(title)}</h2><table>{rows}</table>"


def _validation_table(v: dict[str, Any]) -> str:
    """Each candidate's loss and distances on the check part, best first, under the replay's."""
    keys = ("ngd3", "car", "ced", "cwd", "red", "ctd", "aed", "ct_mean_err")
    head = "<tr><th>options</th><th>loss</th>" + "".join(f"<th>{k}</th>" for k in keys) + "</tr>"
    rows = [("replay of the fit part", "0", v["baseline"])]
    rows += [(_fmt(c["options"]), f"{c['loss']:+.3f}", c["metrics"])
             for c in sorted(v["candidates"], key=lambda c: c["loss"])]
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in (label, lossed))
        + "".join(f"<td>{_fmt(m[k])}</td>" for k in keys) + "</tr>"
        for label, lossed, m in rows
    )
    s = v["split"]
    text = (f"<p>Fit on the {s['fit_cases']} cases that ended before {html.escape(s['cut'])}, checked on "
            f"the {s['check_cases']} that started after it ({v['runs']} runs each); "
            f"loss: {html.escape(v['loss'])}. Chosen: {html.escape(_fmt(v['chosen']))}.</p>")
    return f"<h2>Options chosen on a validation split</h2>{text}<table>{head}{body}</table>"


def _classes_html(c: dict[str, Any]) -> list[str]:
    """The classes drawn at arrival and what differs by class in the twin."""
    head = "<tr><th>class</th><th>share</th><th>± s.e.</th><th>cases</th><th>values</th></tr>"
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_fmt(p)}</td><td>{_fmt(c['share_stderr'][k])}</td>"
        f"<td>{c['cases'].get(k, 0)}</td><td>{html.escape(', '.join(c['values'].get(k, [])))}</td></tr>"
        for k, p in c["shares"].items()
    )
    notes = [f"From column {c['column']}: {c['rule']}.",
             f"{c['cases_where_it_varies']} case(s) where it varies, "
             f"{c['cases_without_a_value']} without a value.",
             f"Priority: {c['priority']}."]
    if not c.get("in_twin"):
        notes.append(f"Not in the twin: {c.get('why', '')}.")
    text = html.escape(" ".join(notes))
    parts = [f"<h2>Classes (drawn at arrival)</h2><p>{text}</p><table>{head}{rows}</table>"]
    if c.get("durations"):
        parts.append(_fits_table("Per-class durations (hours; used by the twin)", c["durations"]))
    if c.get("durations_rest"):
        parts.append(_fits_table("Durations of the other classes (hours; the activity's in the twin)",
                                 c["durations_rest"]))
    routing = c.get("routing", {})
    branches = {f"{s} / {k}": row for s, rows in routing.get("next", {}).items() for k, row in rows.items()}
    branches |= {f"start / {k}": row for k, row in routing.get("start", {}).items()}
    if branches:
        parts.append(_kv_table("Per-class branches (used by the twin)", branches))
    return parts


def _abandonment_html(a: dict[str, Any]) -> list[str]:
    head = ("<tr><th>last activity</th><th>cancelled cases ending here</th><th>share of cancelled</th>"
            "<th>share of other cases</th><th>cancelled share of cases ending here</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td>" + "".join(f"<td>{_fmt(v)}</td>" for v in row.values()) + "</tr>"
        for k, row in a["last_activity"].items()
    )
    text = (f"{a['cancelled_cases']} of {a['cases']} cases cancelled (column {a['column']}); "
            f"in the twin: {a['in_twin']}. Patience is not in the twin: {a['patience']['why']}.")
    parts = [f"<h2>Where work was abandoned (measured)</h2><p>{html.escape(text)}</p>"
             f"<table>{head}{rows}</table>"]
    if a.get("time_to_case_end"):
        gap = {k: v for k, v in a["time_to_case_end"].items() if k not in ("fit_hours", "by_last_activity")}
        parts.append(_kv_table("Cancelled cases: last activity's end to the case's end", gap))
    if a.get("cancelled_share_by_class"):
        parts.append(_kv_table("Cancelled share by class", a["cancelled_share_by_class"]))
    return parts


def _equipment_html(e: dict[str, Any]) -> list[str]:
    """The upkeep of the equipment pool: records, planned interval, uptime, twin vs records."""
    pool = str(e["pool"])
    parts = [_kv_table(f"Equipment upkeep of pool {pool}: records (planned vs failure-driven)",
                       e["counts"] | {"window": " to ".join(e["window"]), "machine_years": e["machine_years"],
                                      "operating_share": e["operating_share"]})]
    interval = e.get("planned_interval")
    if interval:
        parts.append(_kv_table("Planned maintenance interval (hours between a machine's stops)",
                               {k: v for k, v in interval.items() if k != "by_component"}
                               | {"twin every (operating hours)": e["every_hours"]}))
        parts.append(_kv_table("Planned interval per component (planned records only)",
                               interval["by_component"]))
    if e.get("uptime_operating_hours"):
        up = e["uptime_operating_hours"]
        parts.append(_kv_table("Uptime between stops (operating hours, censored at planned stops)",
                               {k: up.get(k) for k in ("family", "spec", "mean", "n", "censored",
                                                       "interval_censored", "aic")}
                               | {"failures on the grid": e.get("failures_on_grid")}))
    if "per_machine_year" in e:
        check = e["per_machine_year"]
        rows = {kind: f"twin {check['twin'][kind]:.3g} vs records {check['records'][kind]:.3g}"
                for kind in ("failures", "planned_stops")}
        parts.append(_kv_table("Stops per machine-year: twin vs records", rows))
    parts.append(_kv_table(f"Pool {pool} in the twin", e["pool_spec"]))
    return parts


def to_html(report: dict[str, Any], title: str = "Calibration report") -> str:
    parts = [
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title><style>{CSS}</style>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    warnings = report.get("warnings", [])
    parts.append(
        "<h2>Warnings</h2><ul>" + "".join(f"<li class=warn>{html.escape(w)}</li>" for w in warnings) + "</ul>"
        if warnings
        else "<p>No warnings.</p>"
    )
    if "validation" in report:
        parts.append(_validation_table(report["validation"]))
    if "data" in report:
        parts.append(_kv_table("Data loaded", {k: v for k, v in report["data"].items() if k != "mapping"}))
    arrivals = report["arrivals"]
    parts.append(_fits_table("Arrivals (interarrival, hours)", {"cases": arrivals["interarrival_hours"]}))
    parts.append(
        f"<p>Weekly profile preferred by AIC: {html.escape(arrivals['preferred'])} "
        f"(AIC constant {arrivals['aic_stationary_poisson']:.1f}, "
        f"weekly {arrivals['aic_weekly_profile']:.1f}); "
        f"{html.escape(arrivals['used_in_spec'])}.</p>"
    )
    parts.append(_fits_table("Activity durations (hours)", report["durations"]))
    if "classes" in report:
        parts += _classes_html(report["classes"])
    by_resource = {
        f"{a} / {r}": f
        for a, d in report.get("durations_by_resource", {}).items()
        for r, f in d["resources"].items()
    }
    if "staff" in report:
        staff = report["staff"]
        parts.append(_kv_table("Pools by resource: who did each activity (shares)", staff["shares"]))
        parts.append(_fits_table("Durations per resource (hours; used by the twin)", staff["own_durations"]))
    elif by_resource:
        parts.append(_fits_table("Durations per resource (hours; reported, not in the twin)", by_resource))
    if "selection" in report:
        parts.append(_kv_table("Completed cases only? (selection check)", report["selection"]))
    if report.get("waits"):
        parts.append(_fits_table("Waits before activities (hours)", report["waits"]))
    routing = report["routing"]
    parts.append(
        _kv_table(
            "Routing check",
            {
                k: routing[k]
                for k in (
                    "observed_events_per_case",
                    "expected_events_per_case",
                    "observed_p99_events_per_case",
                    "chain_p99_events_per_case",
                )
            },
        )
    )
    res = report["resources"]
    parts.append(
        _kv_table(
            "Resource pools (capacity; calendar clear?)",
            {
                a: f"{c} ({res['capacity_rule']}); "
                f"calendar {'clear' if res['calendars'][a]['clear'] else 'none'}"
                for a, c in res["capacity"].items()
            },
        )
    )
    if "abandonment" in report:
        parts += _abandonment_html(report["abandonment"])
    if "failures" in report:
        parts.append(_fits_table("Failures: uptime (hours)", report["failures"]["uptime_hours"]))
        parts.append(_kv_table("Failures: hold-out check (last 30% of time)", report["failures"]["holdout"]))
    if "equipment" in report:
        parts += _equipment_html(report["equipment"])
    if "supply" in report:
        supply = report["supply"]
        parts.append(
            _fits_table(
                "Supplier lead time (hours)",
                {"all": supply["lead_time_hours"]}
                | {f"{k}={n}": f for k, v in supply["lead_time_by"].items() for n, f in v.items()},
            )
        )
        parts.append(
            _kv_table(
                "Lateness and disruptions",
                supply["lateness"]
                | {
                    "episodes": supply["episodes"]["count"],
                    "holdout": supply["holdout"],
                    "dropped": supply["dropped"],
                },
            )
        )
    return "\n".join(parts)


def write_report(report: dict[str, Any], path: str | Path) -> Path:
    """HTML for *.html, JSON otherwise; with HTML a JSON twin is written next to it."""
    path = Path(path)
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(to_html(report), encoding="utf-8")
        path.with_suffix(".json").write_text(to_json(report), encoding="utf-8")
    else:
        path.write_text(to_json(report), encoding="utf-8")
    return path
