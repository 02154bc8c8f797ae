"""viz: every figure built from a real (tiny) study, its content checked against the results."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats
from typer.testing import CliRunner

from twin import distributions as d
from twin import loads_twin, simulate
from twin.cli import app
from twin.engine_fast import simulate_fast
from twin.series import columns
from twin.spec import flow_graph
from viz.calibration import activity_durations, fit_plot, frozen, qq_points
from viz.clock import Clock
from viz.colors import BAD, GOOD, HELD, STATES, scenario_colors
from viz.comparison import forest, risk_table
from viz.data import StudyData, load_study
from viz.distributions import kpi_ecdf
from viz.fan import state_fans
from viz.process_map import back_edges, bottleneck, flows, process_map
from viz.replay import Replay, replay
from viz.report import render
from viz.sensitivity import swing, tornado
from viz.timeline import pool_gantt, stock_path, stock_sawtooth, time_average, unit_states

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes
from viz_study import make_study


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyData:
    return load_study(make_study(tmp_path_factory.mktemp("viz")))


@pytest.fixture(scope="module")
def rep(study: StudyData) -> Replay:
    return replay(study, study.baseline)


@pytest.fixture(scope="module")
def colors(study: StudyData) -> dict[str, str]:
    return scenario_colors(study.provenance["scenarios"])


def test_study_folder_is_read_with_its_state_series(study: StudyData) -> None:
    assert study.scenarios == ["today", "four-saws"]
    assert len(study.twins) == 2 + 4  # two scenarios, two paths x low/high
    assert study.targets[0].text == "activities.cut.wait <= 2"
    series = study.series
    assert series is not None and list(dict.fromkeys(series["scenario"])) == study.scenarios
    twin = study.twins["today"]
    assert list(series.columns) == ["scenario", "replication", "time", *columns(twin)]
    assert len(series) == 2 * 6 * 401  # scenarios x replications x samples (every hour, a round interval)
    assert series["time"].max() == twin.horizon
    # the very numbers the engine records for that replication
    again = simulate_fast(twin, study.provenance["seed"], 3, sample_every=1.0)
    saved = series[(series["scenario"] == "today") & (series["replication"] == 3)][columns(twin)]
    assert again.series is not None and np.array_equal(saved.to_numpy(), again.series)


def test_load_study_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing results\.parquet"):
        load_study(tmp_path)


def test_process_map_values_match_the_summary(study: StudyData) -> None:
    twin, kpis = study.twins["today"], study.summary["scenarios"]["today"]["kpis"]
    fig = process_map(twin, kpis)
    nodes = next(t for t in fig.data if t.name == "activities")
    assert len(nodes.x) == len(twin.activities)
    saw = kpis["resources.saw.utilization"]["mean"]
    assert nodes.marker.color[0] == pytest.approx(saw)  # cut needs the saw
    graph = flow_graph(twin)
    flow = flows(twin, graph, kpis)
    span = twin.horizon - twin.warmup
    assert flow[("check", "fix")] == pytest.approx(kpis["activities.check.completed"]["mean"] / span * 0.15)
    assert back_edges(graph, ["arrival:jobs"]) == {("fix", "check")}
    top = bottleneck(twin, kpis)
    assert top is not None and top[1] in ("saw", "inspector")
    assert any("bottleneck" in (a.text or "") and top[1] in a.text for a in fig.layout.annotations)


def test_kpi_ecdf_has_one_curve_per_scenario_target_and_p_miss(study: StudyData, colors: dict) -> None:
    target = study.targets[0]
    reports = {n: study.summary["scenarios"][n]["targets"][target.text] for n in study.scenarios}
    fig = kpi_ecdf(study.table, target.kpi, study.scenarios, colors, study.time_unit, target, reports)
    curves = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(curves) == 2
    for curve, name in zip(curves, study.scenarios, strict=True):
        saved = np.sort(study.table.loc[study.table["scenario"] == name, target.kpi].to_numpy())
        np.testing.assert_allclose(curve.x, saved)
        assert curve.line.color == colors[name]
    assert [s.x0 for s in fig.layout.shapes if s.type == "line"] == [target.threshold]
    note = fig.layout.annotations[-1].text
    assert f"P(miss) {reports['today']['p_miss']:.0%}" in note
    assert fig.layout.xaxis.title.text == "cut wait (hours)"


def test_forest_and_risk_table_match_the_summary(study: StudyData, colors: dict) -> None:
    summary = study.summary
    fig = forest(summary, ["cycle_time", "activities.cut.wait"], colors, study.time_unit)
    assert len(fig.data) == 2
    for trace, kpi in zip(fig.data, ["cycle_time", "activities.cut.wait"], strict=True):
        diff = summary["differences"]["four-saws"][kpi]
        assert trace.x[0] == pytest.approx(diff["mean"])
        assert trace.x[0] + trace.error_x.array[0] == pytest.approx(diff["ci95"][1])
        assert trace.marker.color == colors["four-saws"]
    table = risk_table(summary, colors, study.time_unit).data[0]
    p_miss = table.cells.values[1]
    target = summary["scenarios"]["today"]["targets"]["activities.cut.wait <= 2"]
    assert p_miss[0].startswith(f"{target['p_miss']:.0%}")
    assert table.cells.fill.color[1][0] == (GOOD if target["met"] else BAD)
    tails = summary["scenarios"]["today"]
    var, cvar = tails["var95"]["cycle_time"], tails["cvar95"]["cycle_time"]
    assert table.cells.values[4][0] == f"{var:,.3g} / {cvar:,.3g}"
    assert table.header.values[4] == "<b>VaR95 / CVaR95<br>cycle time<br>(h)</b>"


def test_state_fans_are_percentiles_of_the_recorded_series(study: StudyData, colors: dict) -> None:
    series = study.series
    assert series is not None
    figs = state_fans(series, study.twins, study.scenarios, colors)
    assert len(figs) == 3  # WIP and backlog, queues, stock
    wip = figs[0]
    medians = {t.name.removesuffix(" median"): t for t in wip.data if t.name.endswith("median")}
    assert list(medians) == ["today: WIP", "today: backlog", "four-saws: WIP", "four-saws: backlog"]
    option = series[series["scenario"] == "four-saws"]
    grid = option.pivot(index="replication", columns="time", values="backlog")
    np.testing.assert_allclose(medians["four-saws: backlog"].y, np.median(grid.to_numpy(), axis=0))
    band = next(t for t in wip.data if t.name == "four-saws: backlog p5–p95")
    half = len(band.y) // 2
    np.testing.assert_allclose(band.y[:half], np.percentile(grid.to_numpy(), 95, axis=0))
    assert medians["four-saws: WIP"].line.color == colors["four-saws"]
    clock = Clock.of(study.twins["today"])  # calendar dates from the twin's start
    assert wip.layout.xaxis.type == "date"  # x in ms since 1970
    assert pd.Timestamp(medians["today: WIP"].x[0], unit="ms") == pd.Timestamp(study.twins["today"].start)
    assert pd.Timestamp(medians["today: WIP"].x[-1], unit="ms") == clock.date(study.twins["today"].horizon)
    assert "simulation starts Mon 5 Jan 2026 00:00" in wip.layout.xaxis3.title.text  # bottom row
    queues = {t.name for t in figs[1].data if t.name.endswith("median")}
    activities = ("cut", "check", "fix", "pack")
    assert queues == {f"{s}: {a} queue median" for s in study.scenarios for a in activities}
    stock = {t.name for t in figs[2].data if t.name.endswith("median")}
    assert stock == {f"{s}: boxes median" for s in study.scenarios}


def test_replay_reproduces_the_saved_replication(study: StudyData, rep: Replay) -> None:
    row = study.table[(study.table["scenario"] == "today") & (study.table["replication"] == 0)].iloc[0]
    assert rep.record["cycle_time"] == row["cycle_time"]
    assert sum(1 for e in rep.trace if e[1] not in ("leave", "grant")) == row["events"]


def test_unit_states_give_the_engine_utilisation_and_availability(rep: Replay) -> None:
    twin, w, h = rep.twin, rep.twin.warmup, rep.twin.horizon
    states = unit_states(rep.trace, twin)
    assert set(states["state"]) <= set(STATES)
    clipped = states.assign(start=states["start"].clip(w, h), end=states["end"].clip(w, h))
    time = (clipped["end"] - clipped["start"]).groupby([clipped["pool"], clipped["state"]]).sum()
    for pool in ("saw", "inspector"):  # neither pool's activities consume material: exact
        busy, idle = time.get((pool, "busy"), 0.0), time.get((pool, "idle"), 0.0)
        assert busy / (busy + idle) == pytest.approx(rep.record[f"resources.{pool}.utilization"], rel=1e-9)
    capacity = 3 * (h - w)
    assert 1 - time[("saw", "failed")] / capacity == pytest.approx(rep.record["resources.saw.availability"])
    fig = pool_gantt(states, twin.time_unit, (w, w + 48))
    assert [t.name for t in fig.data] == list(STATES)
    assert [t.marker.color for t in fig.data] == list(STATES.values())
    dated = pool_gantt(states, twin.time_unit, (w, w + 48), clock=Clock.of(twin))
    busy = next(t for t in dated.data if t.name == "busy")
    assert dated.layout.xaxis.type == "date" and len(busy.x) == len(fig.data[0].x)
    np.testing.assert_allclose(busy.x, np.asarray(fig.data[0].x) * 3_600_000.0)  # hours -> ms


def test_skilled_pools_show_the_units_that_served() -> None:
    """A `one_of` step's units come from the `by` row after its grant: each pool's busy
    share is the engine's utilisation, shifts and failures of its own included."""
    twin = loads_twin("""
name: skills
horizon: 600
warmup: 30
arrivals: [{name: a, interarrival: {dist: exponential, mean: 0.9}, route: review}]
activities:
  - {name: review, duration: {dist: exponential, mean: 1.6}, one_of: [ann, bo],
     durations: {bo: {dist: exponential, mean: 2.0}}, next: {fix: 0.5, exit: 0.5}}
  - {name: fix, duration: {dist: exponential, mean: 1.0}, resources: {press: 1}, one_of: [bo, cy]}
resources:
  - {name: ann, capacity: 1}
  - {name: bo, capacity: 1}
  - {name: cy, capacity: 1, shifts: [{start: "08:00", end: "16:00", capacity: 1}]}
  - {name: press, capacity: 1, failures: {uptime: {dist: exponential, mean: 50}, repair: 2}}
""")
    rep = simulate(twin, 2, 0, trace=True)
    assert rep.trace is not None
    w, h = twin.warmup, twin.horizon
    states = unit_states(rep.trace, twin)
    clipped = states.assign(start=states["start"].clip(w, h), end=states["end"].clip(w, h))
    time = (clipped["end"] - clipped["start"]).groupby([clipped["pool"], clipped["state"]]).sum()
    for pool in ("ann", "bo", "cy", "press"):
        busy, idle = time.get((pool, "busy"), 0.0), time.get((pool, "idle"), 0.0)
        assert busy / (busy + idle) == pytest.approx(rep.record[f"resources.{pool}.utilization"], rel=1e-9)


def test_units_held_while_waiting_for_material_are_exact() -> None:
    """The grant trace row: units taken for a job still waiting for stock show as held,
    and busy + held time gives the engine's utilisation exactly."""
    twin = loads_twin("""
name: starved
horizon: 400
warmup: 20
arrivals: [{name: a, interarrival: {dist: exponential, mean: 1.0}, route: s}]
activities: [{name: s, duration: {dist: exponential, mean: 1.5}, resources: {c: 1}, consumes: {m: 1}}]
resources: [{name: c, capacity: 3, failures: {uptime: {dist: exponential, mean: 40}, repair: 3}}]
materials:
  - {name: m, initial: 10, reorder: {point: 4, up_to: 15},
     supplier: {lead_time: {dist: exponential, mean: 12}}}
""")
    rep = simulate(twin, 4, 0, trace=True)
    assert rep.trace is not None
    w, h = twin.warmup, twin.horizon
    states = unit_states(rep.trace, twin)
    clipped = states.assign(start=states["start"].clip(w, h), end=states["end"].clip(w, h))
    time = (clipped["end"] - clipped["start"]).groupby(clipped["state"]).sum()
    assert time[HELD] > 0.05 * time["busy"]  # stock-outs do hold units here
    used = time["busy"] + time[HELD]
    assert used / (used + time["idle"]) == pytest.approx(rep.record["resources.c.utilization"], rel=1e-9)


def test_stock_path_gives_the_inventory_kpi_and_marks_every_order(rep: Replay) -> None:
    twin = rep.twin
    path = stock_path(rep.trace, twin, "boxes")
    assert (path["level"] >= 0).all()
    average = time_average(path, twin.warmup, twin.horizon)
    assert average == pytest.approx(rep.record["materials.boxes.inventory"], rel=1e-9)
    fig = stock_sawtooth(rep.trace, twin)
    orders = next(t for t in fig.data if t.name == "order placed")
    assert len(orders.x) == sum(1 for e in rep.trace if e[1] == "order")
    deliveries = next(t for t in fig.data if t.name == "delivery")
    assert len(deliveries.x) == sum(1 for e in rep.trace if e[1] == "delivery")


def test_tornado_bars_are_the_sensitivity_effects(study: StudyData, colors: dict) -> None:
    rows = study.summary["sensitivity"]["today"]
    fig = tornado(rows, "cycle_time", "today", colors, study.time_unit)
    low, high = fig.data
    assert len(low.x) == len(high.x) == 2
    order = sorted(rows, key=lambda p: swing(rows[p], "cycle_time"))
    for i, path in enumerate(order):
        assert high.x[i] == pytest.approx(rows[path]["high"]["effect"]["cycle_time"]["mean"])
        assert path in high.y[i]
    assert high.marker.color == colors["today"]


@pytest.mark.parametrize("dist", [
    d.Exponential(mean=2.0), d.Gamma(mean=3.0, cv=0.4), d.Lognormal(mean=2.0, sd=1.0),
    d.Normal(mean=5.0, sd=2.0), d.Weibull(shape=1.5, scale=3.0), d.Uniform(low=1.0, high=2.0),
    d.Triangular(low=0.0, mode=1.0, high=4.0),
])
def test_frozen_matches_the_twin_distribution(dist: d._Dist) -> None:
    model = frozen(dist)
    assert model.mean() == pytest.approx(dist.mean_value, rel=1e-9)
    rng = np.random.default_rng(11)
    draws = [dist.sample(rng) for _ in range(2000)]
    assert stats.kstest(draws, model.cdf).pvalue > 1e-3


def test_calibration_plot_histogram_pdf_and_qq(rep: Replay) -> None:
    data = activity_durations(rep.trace, "check")
    assert data.size == sum(1 for e in rep.trace if e[1] == "end" and e[3] == "check")
    dist = rep.twin.activity("check").duration
    fig = fit_plot(data.tolist(), dist, "check duration", "hours")
    hist, pdf, qq, _ = fig.data
    assert len(hist.x) == data.size and len(qq.x) == data.size
    _, observed = qq_points(data.tolist(), frozen(dist))
    np.testing.assert_allclose(qq.y, observed)
    assert "lognorm" in pdf.name and "Kolmogorov" in fig.layout.title.text
    with pytest.raises(ValueError, match="no density"):
        frozen(d.Constant(value=1.0))


def test_report_html_is_self_contained(study: StudyData) -> None:
    html = render(study)
    assert html.count("<script>") >= 1 and html.count("<script src") == 0
    assert html.count(get_plotlyjs()) == 1  # inlined once
    ours = html.replace(get_plotlyjs(), "")
    assert not any(f'{attr}="http' in ours or f"{attr}='http" in ours for attr in ("src", "href"))
    assert html.count('class="plotly-graph-div"') >= 10
    for text in ("Executive summary", "Recommendation", "Top risks", "Methods appendix", "four-saws",
                 study.provenance["scenarios"]["today"]["spec_sha256"]):
        assert text in html


def test_twin_report_command(study: StudyData, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    args = ["report", str(study.folder), "-o", str(out), "--question", "Buy a saw?"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Buy a saw?" in out.read_text()
    bad = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert bad.exit_code == 2 and "not a study" in bad.output and "missing" in bad.output
