"""Figures and report text for priced, stressed studies with contingency plans."""

from __future__ import annotations

import pytest

from tests.viz_study import make_stressed_study
from viz import summary as text
from viz.colors import scenario_colors
from viz.costs import cost_breakdown, cost_parts
from viz.data import StudyData, load_study
from viz.labels import kpi_label, number
from viz.replay import replay, stressed_replication
from viz.report import render
from viz.timeline import pool_gantt, unit_states


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyData:
    return load_study(make_stressed_study(tmp_path_factory.mktemp("stressed")))


@pytest.mark.parametrize(("x", "sign", "shown"), [
    (0.07163, False, "0.0716"), (8.514, False, "8.51"), (5961.2, False, "5,960"),
    (-21623.6, True, "-21,600"), (732071.8, False, "732,000"), (0.0, True, "+0"), (None, False, "–"),
    (float("nan"), False, "–"), (12.0, True, "+12"),
])
def test_numbers_read_without_exponents(x: float | None, sign: bool, shown: str) -> None:
    assert number(x, sign) == shown


def test_cost_labels_carry_the_currency() -> None:
    assert kpi_label("cost", "hour", "EUR") == "cost (EUR)"
    assert kpi_label("cost.labour", "hour", "EUR") == "labour cost (EUR)"
    assert kpi_label("tardiness", "minute") == "tardiness (minutes)"


def test_cost_breakdown_stacks_the_mean_of_each_part(study: StudyData) -> None:
    colors = scenario_colors(study.scenarios)
    fig = cost_breakdown(study.table, study.scenarios, colors, study.currency)
    parts = cost_parts(study.table, study.scenarios)
    assert [bar.name for bar in fig.data] == list(parts.columns)
    assert "labour" in parts and "late" in parts
    for bar in fig.data:
        assert list(bar.x) == pytest.approx(parts[bar.name].tolist())
    totals = study.table.groupby("scenario")["cost"].mean()
    assert parts.sum(axis=1).to_dict() == pytest.approx(totals.to_dict())
    assert [a.text.split("±")[0].strip() for a in fig.layout.annotations] == [
        number(totals[n]) for n in study.scenarios]


def test_close_up_shows_a_replication_where_the_stresses_occurred(study: StudyData) -> None:
    r = stressed_replication(study)
    rows = study.table[(study.table.scenario == study.baseline) & (study.table.replication == r)]
    assert rows["input.stress.saw-down.occurred"].item() == 1
    assert rows["input.stress.late-boxes.occurred"].item() == 1
    rep = replay(study, study.baseline, r)  # raises unless it reproduces the saved KPIs
    (down,) = [s for s in rep.twin.stresses if s.name == "saw-down"]
    assert down.start == rows["input.stress.saw-down.start"].item()
    fig = pool_gantt(unit_states(rep.trace, rep.twin), "hour", (0.0, 400.0), twin=rep.twin)
    shaded = [(s.x0, s.x1) for s in fig.layout.shapes]
    assert (down.start, down.end) in shaded
    failed = unit_states(rep.trace, rep.twin)
    during = failed[(failed.state == "failed") & (failed.start <= down.start) & (failed.end >= down.end)]
    assert set(during.unit[during.pool == "saw"]) >= {0, 1}  # both units down for the whole window


def test_summary_names_the_plans_rules_and_the_kn_selection(study: StudyData) -> None:
    colors = scenario_colors(study.scenarios)
    plans = text.scenario_list(study, colors)
    assert "stress saw-down: equipment_down of saw (p = 1)" in plans
    assert "rule send-out: when queue at cut &gt; 4, send cut work to outsource after 1" in plans
    kn = study.summary["ranking"]["kn"]
    assert kn["method"].startswith("Kim-Nelson")
    assert "Kim–Nelson selection" in text.recommendation(study, colors)
    assert "cost (EUR)" in text.kpi_table(study, colors)


def test_the_report_renders_with_the_cost_figure(study: StudyData) -> None:
    html = render(study)
    assert "Cost per replication by part (EUR)" in html
    assert "shaded: saw-down: equipment down (saw)" in html
