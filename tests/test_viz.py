"""viz: every figure built from a real (tiny) study, its content checked against the results."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats
from typer.testing import CliRunner

from twin import distributions as d
from twin.cli import app
from twin.spec import flow_graph
from viz.calibration import activity_durations, fit_plot, frozen, qq_points
from viz.colors import BAD, GOOD, STATES, scenario_colors
from viz.comparison import forest, risk_table
from viz.data import StudyData, load_study
from viz.distributions import kpi_ecdf
from viz.fan import wip_fan
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


def test_study_folder_is_read_with_traced_wip(study: StudyData) -> None:
    assert study.scenarios == ["today", "four-saws"]
    assert len(study.twins) == 2 + 4  # two scenarios, two paths x low/high
    assert study.targets[0].text == "activities.cut.wait <= 2"
    assert list(study.wip) == study.scenarios
    assert all(w.shape == (5, 500) for w in study.wip.values())  # replications 0..4 are traced


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
    assert f"{summary['scenarios']['today']['var95']['cycle_time']:,.3g}" in table.cells.values[4]


def test_wip_fan_bands_are_percentiles_of_the_traced_series(study: StudyData, colors: dict) -> None:
    twin = study.twins["today"]
    fig = wip_fan(study.wip, twin.horizon, twin.warmup, colors, study.time_unit)
    assert len(fig.data) == 3 * len(study.wip)
    medians = [t for t in fig.data if t.name.endswith("median")]
    np.testing.assert_allclose(medians[0].y, np.median(study.wip["today"], axis=0))
    assert medians[1].line.color == colors["four-saws"]


def test_replay_reproduces_the_saved_replication(study: StudyData, rep: Replay) -> None:
    row = study.table[(study.table["scenario"] == "today") & (study.table["replication"] == 0)].iloc[0]
    assert rep.record["cycle_time"] == row["cycle_time"]
    assert sum(1 for e in rep.trace if e[1] != "leave") == row["events"]


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
