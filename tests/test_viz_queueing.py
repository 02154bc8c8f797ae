"""Studies and reports of twins with classes, priorities, preemption, patience and waiting
rooms: the per-class and leaving KPIs are known to scenarios, named readably, drawn right
(flows by class, who leaves, units taken back by a higher class) and never crash the report."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from scenarios.cli import comparison_tables, short_name, short_target
from scenarios.loader import kpi_names, load_study
from twin import loads_twin, simulate
from twin.spec import EXIT, flow_graph
from viz.colors import scenario_colors
from viz.comparison import forest, risk_table, wrap
from viz.data import StudyData
from viz.data import load_study as load_results
from viz.labels import kpi_label, kpi_name, number, target_text
from viz.process_map import class_mix, flows, leaving, process_map
from viz.report import render
from viz.timeline import unit_states

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes
from viz_study import CLASSED, make_classed_study

ROOT = Path(__file__).resolve().parents[1]
BY_CLASS = "activities.treat.by_class.urgent.wait"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyData:
    return load_results(make_classed_study(tmp_path_factory.mktemp("classed")))


@pytest.mark.parametrize("name", ["emergency", "call_centre", "clinic", "manufacturing"])
def test_kpi_names_are_what_a_replication_records(name: str) -> None:
    from twin import load_twin

    twin = load_twin(ROOT / "scenarios" / "examples" / f"{name}.yaml")
    assert set(kpi_names(twin)) == set(simulate(twin, 1, 0).record)


def test_targets_and_objectives_may_name_the_new_kpis(study: StudyData) -> None:
    assert [t.kpi for t in study.targets] == ["activities.treat.abandoned", BY_CLASS]
    first = study.summary["scenarios"]["desk-today"]
    assert first["kpis"][BY_CLASS]["mean"] is not None
    assert "activities.treat.by_class.routine.wait" in first["var95"]
    assert study.summary["differences"]["three-doctors"]["activities.treat.lost"]["mean"] is not None
    new = {"classes.urgent.throughput", "classes.routine.cycle_time", "activities.treat.lost"}
    assert new <= set(study.table)


def test_labels_name_class_and_leaving_kpis() -> None:
    assert kpi_name(BY_CLASS) == "treat urgent wait"
    assert kpi_label(BY_CLASS, "minute") == "treat urgent wait (minutes)"
    assert kpi_label("activities.treat.abandoned", "minute") == "treat abandoned (fraction of arrivals)"
    assert kpi_label("classes.routine.throughput", "hour") == "routine throughput (per hour)"
    assert target_text(f"{BY_CLASS} <= 2", "minute") == "treat urgent wait ≤ 2 minutes"
    assert target_text("on_time.mean >= 0.95", "minute") == "mean on-time rate ≥ 0.95"
    assert short_name(BY_CLASS) == "treat urgent wait" and short_name("cost.labour") == "cost.labour"
    assert short_target("activities.answer.abandoned.p95 <= 0.05") == "answer abandoned.p95 <= 5%"
    assert short_target("activities.triage.wait <= 3.5", "minute") == "triage wait <= 3.5 minutes"
    assert [number(x) for x in (6.55e-05, -0.000808, 0.0716, 1010.3)] == ["0.0000655", "-0.000808", "0.0716",
                                                                          "1,010"]


def test_study_tables_show_short_names(study: StudyData) -> None:
    folder = study.folder.parent
    scenarios = load_study([folder / "desk-today.yaml", folder / "three-doctors.yaml"])
    console = Console(width=250, record=True)
    for table in comparison_tables(study.summary, scenarios):
        console.print(table)
    text = console.export_text()
    assert "treat urgent wait " in text and "treat abandoned " in text and "treat urgent wait <= 2 " in text
    assert "by_class" not in text and "activities." not in text


def test_flows_split_by_class_and_show_who_leaves(study: StudyData) -> None:
    twin, kpis = study.twins["desk-today"], study.summary["scenarios"]["desk-today"]["kpis"]
    mix = class_mix(twin, kpis)
    assert mix["sort"] == pytest.approx({"urgent": 0.2, "routine": 0.8})
    flow = flows(twin, flow_graph(twin), kpis)
    span = twin.horizon - twin.warmup
    sorted_ = kpis["activities.sort.completed"]["mean"] / span
    assert flow[("sort", "treat")] == pytest.approx(sorted_ * (0.2 + 0.8 * 0.6))
    assert flow[("sort", "advise")] == pytest.approx(sorted_ * 0.8 * 0.4)
    assert ("sort", EXIT) not in flow  # no class served at sort leaves from there
    gone = leaving(twin, kpis)
    shares = kpis["activities.treat.abandoned"]["mean"], kpis["activities.treat.lost"]["mean"]
    reached = kpis["activities.treat.completed"]["mean"] / span / (1 - sum(shares))
    assert gone[("treat", EXIT)] == (pytest.approx(reached * shares[0]), "gave up")
    assert gone[("treat", "advise")] == (pytest.approx(reached * shares[1]), "turned away")
    # what arrives at treat (sorted there) and what leaves it (served, gave up, turned away) balance
    out = sum(f for (u, _), f in flow.items() if u == "treat")
    assert out == pytest.approx(flow[("sort", "treat")], rel=0.03)
    fig = process_map(twin, kpis)
    nodes = next(t for t in fig.data if t.name == "activities")
    assert any("gave up" in label and "turned away" in label for label in nodes.text)
    dashed = [t.name for t in fig.data if t.mode == "lines" and t.line.dash == "dash"]
    assert dashed == ["treat→advise"]  # only those turned away; treat → exit carries the served too


def test_flows_match_the_trace_counts() -> None:
    twin = loads_twin(_yaml(CLASSED))
    records = [simulate(twin, 9, r, trace=True) for r in range(4)]
    from twin.results import nest

    summary = nest([r.record for r in records])
    kpis = {f"activities.{a}.{k}": s for a, ks in summary["activities"].items() for k, s in ks.items()
            if k != "by_class"}
    kpis |= {f"resources.{p}.{k}": s for p, ks in summary["resources"].items() for k, s in ks.items()}
    flow = flows(twin, flow_graph(twin), kpis)
    moves: Counter[tuple[str, str]] = Counter()
    for rep in records:
        where: dict[int, str] = {}
        assert rep.trace is not None
        for t, kind, entity, name in rep.trace:
            if kind in ("start", "lost", "renege") and t >= twin.warmup and entity in where:
                moves[(where[entity], name)] += 1
            if kind in ("start", "lost", "renege"):
                where[entity] = name
    span = (twin.horizon - twin.warmup) * len(records)
    for edge in (("sort", "treat"), ("sort", "advise")):
        assert flow[edge] == pytest.approx(moves[edge] / span, rel=0.05)


def test_gantt_of_preempted_jobs_gives_the_engine_utilisation() -> None:
    twin = loads_twin(_yaml(CLASSED))
    rep = simulate(twin, 2, 0, trace=True)
    assert rep.trace is not None and any(kind == "preempt" for _, kind, _, _ in rep.trace)
    w, h = twin.warmup, twin.horizon
    states = unit_states(rep.trace, twin)
    clipped = states.assign(start=states["start"].clip(w, h), end=states["end"].clip(w, h))
    time = (clipped["end"] - clipped["start"]).groupby([clipped["pool"], clipped["state"]]).sum()
    assert set(states["state"]) <= {"busy", "idle"}  # nobody waits for material here
    for pool in ("clerk", "doctor", "nurse"):
        busy, idle = time.get((pool, "busy"), 0.0), time.get((pool, "idle"), 0.0)
        assert busy / (busy + idle) == pytest.approx(rep.record[f"resources.{pool}.utilization"], rel=1e-9)


def test_risk_table_headers_wrap_long_names(study: StudyData) -> None:
    colors = scenario_colors(study.provenance["scenarios"])
    table = risk_table(study.summary, colors, study.time_unit).data[0]
    for header in table.header.values:
        assert all(len(line) <= 16 for line in re.sub("</?b>", "", header).split("<br>")), header
    assert wrap("doctor urgent wait (min)") == "doctor<br>urgent wait<br>(min)"
    fig = forest(study.summary, [BY_CLASS, "activities.treat.abandoned"], colors, study.time_unit)
    assert fig.layout.annotations[0].text == "treat urgent wait (minutes): change vs baseline"


def test_report_reads_the_new_kpis(study: StudyData) -> None:
    html = render(study)
    for text in ("treat urgent wait (minutes)", "treat abandoned (fraction of arrivals)",
                 "target: treat urgent wait ≤ 2 minutes", "gave up"):
        assert text in html, text


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data)
