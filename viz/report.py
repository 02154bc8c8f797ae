"""The study report: one self-contained HTML file (plotly.js inlined once, no CDN).

Sections: executive summary, process map, KPI distributions vs targets, scenario
comparison and risk, state over time (fans of the engine-recorded series), one
replication up close, sensitivity, input check, methods appendix. Figures come from the
study folder; the close-up figures need an event
trace, which a study does not keep, so replication 0 of the baseline and of the
recommended plan is re-run traced from the saved spec and checked against the saved row
(viz.replay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from twin.spec import Twin
from viz import summary as text
from viz.animation import animation
from viz.calibration import activity_durations, fit_plot
from viz.clock import Clock
from viz.colors import scenario_colors
from viz.comparison import forest, risk_table
from viz.costs import cost_breakdown
from viz.data import StudyData, load_study
from viz.distributions import kpi_ecdf
from viz.fan import state_fans
from viz.labels import PLURAL, SHORT
from viz.process_map import bottleneck, process_map
from viz.replay import Replay, replay, stressed_replication
from viz.sensitivity import sensitivity_kpis, tornado
from viz.timeline import pool_gantt, stock_sawtooth, stress_label, unit_states

CLOSE_UP = {"minute": 2 * 1440.0, "hour": 7 * 24.0, "day": 56.0}  # Gantt window after warm-up
FAN_COLUMNS = 4  # plans side by side in the over-time fans: baseline, best, then study order
CONFIG = {"displaylogo": False, "responsive": True}
CSS = Path(__file__).parent / "report.css"


@dataclass
class Section:
    title: str
    intro: str
    figures: list[go.Figure] = field(default_factory=list)


def figures(study: StudyData) -> list[Section]:
    """Every figure section of the report, in order."""
    colors = scenario_colors(study.provenance["scenarios"])
    r = stressed_replication(study)
    closeups = {n: replay(study, n, r) for n in dict.fromkeys([study.baseline, study.summary["best"]])}
    sections = [_process_maps(study), _distributions(study, colors), _comparison(study, colors)]
    if study.series is not None:
        sections.append(_over_time(study, colors))
    sections.append(_close_up(closeups))
    sections.append(_animated(next(iter(closeups.values()))))
    sections += [s for s in (_sensitivity(study, colors), _inputs(study, closeups)) if s.figures]
    return sections


def _process_maps(study: StudyData) -> Section:
    names = list(dict.fromkeys([study.baseline, study.summary["best"]]))
    figs = [
        process_map(study.twins[n], study.summary["scenarios"][n]["kpis"], f"Process map: {n}") for n in names
    ]
    return Section(
        "Process map",
        "Colour: utilisation of the busiest pool an activity needs; size: mean wait; "
        f"edges: flow per {study.time_unit} (width); the bottleneck is ringed in red.",
        figs,
    )


def _distributions(study: StudyData, colors: dict[str, str]) -> Section:
    figs = []
    for target in study.targets:
        reports = {n: study.summary["scenarios"][n]["targets"][target.text] for n in study.scenarios}
        figs.append(
            kpi_ecdf(study.table, target.kpi, study.scenarios, colors, study.time_unit, target, reports,
                     study.currency)
        )
    objective = study.summary["ranking"]["kpi"]
    if objective not in {t.kpi for t in study.targets}:
        figs.append(kpi_ecdf(study.table, objective, study.scenarios, colors, study.time_unit,
                             currency=study.currency))
    return Section(
        "KPI distributions against the targets",
        "Each curve is one plan: the share of "
        "replications at or below each value. The dashed red line is the target; the shaded side "
        "misses it.",
        figs,
    )


def _comparison(study: StudyData, colors: dict[str, str]) -> Section:
    figs = [risk_table(study.summary, colors, study.time_unit, study.currency)]
    if study.summary["differences"]:
        kpis = [k for k in text.kpi_rows(study) if k != "throughput"]  # equal under CRN in open flows
        figs.insert(0, forest(study.summary, kpis, colors, study.time_unit, study.currency))
    if "cost" in study.table:
        figs.append(cost_breakdown(study.table, study.scenarios, colors, study.currency))
    return Section(
        "Scenario comparison and risk",
        "Differences are paired: each option and the baseline "
        "ran the same replications with the same random numbers, so the intervals are tight.",
        figs,
    )


def _over_time(study: StudyData, colors: dict[str, str]) -> Section:
    assert study.series is not None
    names = list(dict.fromkeys([study.baseline, study.summary["best"], *study.scenarios]))[:FAN_COLUMNS]
    replications = study.series.groupby("scenario")["replication"].nunique()
    every = float(study.series["time"].iloc[1] - study.series["time"].iloc[0]) if len(study.series) > 1 else 0
    return Section(
        "State over time",
        f"The state every {every:g} {SHORT[study.time_unit]} of every replication "
        f"({int(replications.min())} per plan), recorded by the engine: the median and how widely "
        "runs spread around it. Backlog is the work that has arrived at a step and is waiting "
        "for its staff, equipment or material.",
        state_fans(study.series, study.twins, names, colors),
    )


def _close_up(closeups: dict[str, Replay]) -> Section:
    figs = []
    baseline = next(iter(closeups.values()))
    for name, rep in closeups.items():
        twin = rep.twin
        window, when = _close_up_window(twin)
        if twin.resources:
            figs.append(
                pool_gantt(
                    unit_states(rep.trace, twin),
                    twin.time_unit,
                    window,
                    f"Pool units, replication {rep.replication} of {name}: "
                    f"{window[1] - window[0]:g} {PLURAL[twin.time_unit]} {when}"
                    + (f"<br><sub>shaded: {stress_label(twin)}</sub>" if twin.stresses else ""),
                    Clock.of(twin),
                    twin,
                )
            )
        if twin.materials and (rep is baseline or twin.materials != baseline.twin.materials):  # else the same
            figs.append(
                stock_sawtooth(
                    rep.trace,
                    twin,
                    f"Stock on hand, replication {rep.replication} of {name} (grey: warm-up)",
                    calendar=True,
                )
            )
    replication = baseline.replication
    stressed = bool(baseline.twin.stresses)
    return Section(
        "One replication up close",
        f"Replication {replication}{' (the first in which every random stress occurs)' if stressed else ''}, "
        + ("re-run with its event trace from the saved spec and checked against the saved KPIs. "
           if baseline.rerun else "as the engine traced it while the study ran. ")
        + "Units "
        "handed to a job that is still waiting for its material are shown as held; stress windows "
        "are shaded red.",
        figs,
    )


def _animated(rep: Replay) -> Section:
    return Section(
        "One replication, played back",
        f"Replication {rep.replication} of {escape(rep.scenario)} from the end of the warm-up: each dot is "
        "one piece of work, waiting (amber) in the queue to the left of its step or in service (blue) on "
        "it; the panel counts every pool's units by state. Press play, pick a speed, or drag the slider.",
        [animation(rep.trace, rep.twin, f"Replication {rep.replication} of {rep.scenario}")],
    )


def _close_up_window(twin: Twin) -> tuple[tuple[float, float], str]:
    """The Gantt's window: from the warm-up, or from just before the first stress window."""
    length = CLOSE_UP[twin.time_unit]
    starts = [s.start for s in twin.stresses if twin.warmup <= s.start < twin.horizon]
    if not starts:
        return (twin.warmup, min(twin.horizon, twin.warmup + length)), "after warm-up"
    t0 = max(twin.warmup, min(starts) - length / 7)
    return (t0, min(twin.horizon, t0 + length)), "around the first stress"


def _sensitivity(study: StudyData, colors: dict[str, str]) -> Section:
    figs = [
        tornado(rows, kpi, scenario, colors, study.time_unit)
        for scenario, rows in study.summary.get("sensitivity", {}).items()
        for kpi in sensitivity_kpis(rows)
    ]
    return Section(
        "Sensitivity",
        "One parameter at a time at its low and high value, same replications: "
        "the widest bars are the assumptions the answer depends on most.",
        figs,
    )


def _inputs(study: StudyData, closeups: dict[str, Replay]) -> Section:
    rep = closeups[study.baseline]
    twin = rep.twin
    top = bottleneck(twin, study.summary["scenarios"][study.baseline]["kpis"])
    failing = {r.name for r in twin.resources if r.failures}
    candidates = ([top[0]] if top else []) + [a.name for a in twin.activities]
    observed = {}
    for name in dict.fromkeys(candidates):
        act = twin.activity(name)
        data = activity_durations(rep.trace, name).tolist()
        if (
            failing.isdisjoint(act.pools)
            and not act.durations  # one fit per step: skilled pools with their own pace mix families
            and not act.class_durations  # so do classes (the trace does not name them)
            and not act.preempt  # start to end includes the time a higher class held the unit
            and act.duration.dist not in ("constant", "empirical")
            and len(data) > 20
        ):
            observed[name] = data
    figs = []
    if observed:  # the bottleneck's step if it can be checked, else the most observed one
        name = top[0] if top and top[0] in observed else max(observed, key=lambda n: len(observed[n]))
        figs.append(fit_plot(observed[name], twin.activity(name).duration, f"{name} duration",
                             PLURAL[twin.time_unit], heading="Input check"))
    return Section(
        "Input check",
        "Durations of an activity observed in the baseline's replication 0 against "
        "the distribution in the spec (the same view compares a fit with historical data).",
        figs,
    )


def render(study: StudyData, question: str | None = None) -> str:
    """The report as one HTML string."""
    colors = scenario_colors(study.provenance["scenarios"])
    body = [_summary_html(study, colors, question)]
    count = 0
    for section in figures(study):
        body.append(f"<section><h2>{escape(section.title)}</h2><p class='intro'>{section.intro}</p>")
        for fig in section.figures:
            count += 1
            body.append(
                fig.to_html(include_plotlyjs=False, full_html=False, div_id=f"fig{count}", config=CONFIG,
                            auto_play=False)
            )
        body.append("</section>")
    body.append(
        "<section><h2>Methods appendix</h2>" + _methods_text(study) + text.methods(study) + "</section>"
    )
    return page(f"Study report: {escape(study.twins[study.baseline].name)}", "".join(body))


# plotly rejects the promise of an animation that a pause interrupts, with no reason, and its
# buttons leave that unhandled: an error in the console of whoever pauses the replay
QUIET_PAUSE = ('window.addEventListener("unhandledrejection", '
               '(e) => { if (e.reason === undefined) e.preventDefault(); });')


def page(title: str, body: str) -> str:
    """One HTML page that opens anywhere (styles and plotly inlined); `title` is escaped HTML."""
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{CSS.read_text()}</style><script>{get_plotlyjs()}</script>"
        f"<script>{QUIET_PAUSE}</script></head>"
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


def write_page(html: str, out: str | Path) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def _summary_html(study: StudyData, colors: dict[str, str], question: str | None) -> str:
    asked = escape(question) if question else text.question(study)
    return (
        f"<section class='summary'><h2>Executive summary</h2><p class='question'>{asked}</p>"
        f"<h3>Plans compared</h3>{text.scenario_list(study, colors)}"
        f"<h3>Recommendation</h3>{text.recommendation(study, colors)}"
        f"<h3>KPIs against the targets</h3>{text.kpi_table(study, colors)}"
        f"<h3>Top risks</h3>{text.risks(study, colors)}</section>"
    )


def _methods_text(study: StudyData) -> str:
    ranking = study.summary["ranking"]
    return (
        "<p>Every plan ran the same replications with common random numbers (one named random stream "
        "per source, seeded from the study seed and the replication). Statistics ignore the warm-up. "
        "Means carry 95% t-intervals; differences are paired per replication; P(miss) is the share of "
        "replications missing a target with a Wilson 95% interval; VaR95 is the 95th percentile over "
        "replications and CVaR95 the mean of the worst 5%. The best plan is the best mean objective "
        f"among plans meeting every target; its support is a {escape(ranking['method'])} at "
        f"{ranking['confidence']:.0%}. Numbers reproduce with <code>twin study</code> on the specs "
        "below (their hashes identify them), the same seed, engine and version.</p>"
    )


def write_report(folder: str | Path, out: str | Path | None = None, question: str | None = None) -> Path:
    """Read the study in `folder` and write the report (default FOLDER/report.html)."""
    study = load_study(folder)
    return write_page(render(study, question), Path(out) if out is not None else Path(folder) / "report.html")
