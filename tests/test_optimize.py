"""`twin optimize` against exact optima: a three-station line staffed to Erlang C's
per-station minimum (Burke: the stations are independent), an (s, S) policy within 1% of
the exact cost's optimum; the same answer on every executor, resume, and clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from theory import mmc_mean_wait, sS_mean_on_hand, sS_stockout_probability

from optimize import load_problem, optimize, summarize
from scenarios.loader import load_scenario
from twin.errors import SpecError

TWINS = Path(__file__).parent / "twins"
LINE = {"a": 2.4, "b": 1.5, "c": 0.8}  # mean service (h) at each station; arrivals at rate 1
WAIT = 1.0  # target: every station's mean wait <= 1 h


def line_file(tmp_path: Path, seed: int = 1, budget: int = 60, **experiment: object) -> Path:
    data = {
        "name": "line3-staffing",
        "base": str(TWINS / "line3.yaml"),
        "decisions": {f"resources.p{s}.capacity": {"low": 1, "high": 8} for s in LINE},
        "objective": {"kpi": "cost", "goal": "min"},
        "targets": [f"activities.{s}.wait.mean <= {WAIT}" for s in LINE],
        "experiment": {"replications": 5, "max_replications": 20, "seed": seed, "budget": budget,
                       **experiment},
    }
    path = tmp_path / "line.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def erlang_c_minimum(mean_service: float) -> int:
    return next(c for c in range(1, 20) if c > mean_service and mmc_mean_wait(c, 1.0, mean_service) <= WAIT)


SLOW = pytest.mark.slow


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=SLOW), pytest.param(3, marks=SLOW)])
def test_line_staffing_is_each_stations_erlang_c_minimum(tmp_path: Path, seed: int) -> None:
    outcome = optimize(load_problem(line_file(tmp_path, seed)), executor="serial", out=tmp_path / "out")
    expected = {f"resources.p{s}.capacity": erlang_c_minimum(es) for s, es in LINE.items()}
    assert expected == {"resources.pa.capacity": 4, "resources.pb.capacity": 3, "resources.pc.capacity": 2}
    assert outcome.best.plan == expected
    assert outcome.best.estimate.certified and len(outcome.visits) <= 60
    summary = summarize(outcome)
    assert summary["best"]["meets_targets"] and summary["evaluated"] == len(outcome.visits)
    assert summary["best"]["changes"]["resources.pa.capacity"] == {"from": 6, "to": 4}


@pytest.mark.slow
def test_sS_policy_is_within_one_percent_of_the_exact_optimum(tmp_path: Path) -> None:
    data = {
        "name": "sS-costs",
        "base": str(TWINS / "sS_costs.yaml"),
        "decisions": {"materials.m.reorder.point": {"low": 0, "high": 10},
                      "materials.m.reorder.up_to": {"low": 1, "high": 20}},
        "objective": {"kpi": "cost"},
        "experiment": {"replications": 5, "max_replications": 20, "seed": 3, "budget": 80},
    }
    path = tmp_path / "sS.yaml"
    path.write_text(yaml.safe_dump(data))
    outcome = optimize(load_problem(path), executor="serial", out=tmp_path / "out")

    def exact(s: int, big_s: int) -> float:  # per hour
        return sS_mean_on_hand(s, big_s, 1, 4) + 10 * sS_stockout_probability(s, big_s, 1, 4)

    optimum = min(exact(s, big_s) for s in range(11) for big_s in range(s + 1, 21))
    plan = outcome.best.plan
    found = exact(plan["materials.m.reorder.point"], plan["materials.m.reorder.up_to"])
    assert found <= 1.01 * optimum, (plan, found, optimum)
    assert any(v.estimate.invalid for v in outcome.visits) or outcome.problem.size > 80


def visited(summary: dict[str, object]) -> list[object]:
    return [(v["decisions"], v["replications"], v["objective"]) for v in summary["visited"]]  # type: ignore[index, union-attr]


@pytest.mark.parametrize("executor", ["processes", pytest.param("dask", marks=pytest.mark.slow)])
def test_same_seed_same_answer_on_every_executor(tmp_path: Path, executor: str) -> None:
    problem = load_problem(line_file(tmp_path, seed=5, budget=10))
    serial = summarize(optimize(problem, executor="serial", out=tmp_path / "serial"))
    other = summarize(optimize(problem, executor=executor, workers=2, out=tmp_path / executor))
    assert visited(serial) == visited(other)
    assert serial["best"]["decisions"] == other["best"]["decisions"]
    assert serial["best"]["kpis"] == other["best"]["kpis"]


def test_a_rerun_reads_its_finished_replications_back(tmp_path: Path) -> None:
    problem = load_problem(line_file(tmp_path, seed=7, budget=8))
    first = summarize(optimize(problem, executor="serial", out=tmp_path / "out"))
    chunks = sorted((tmp_path / "out" / "runs" / "chunks").glob("*.parquet"))
    again = summarize(optimize(problem, executor="serial", out=tmp_path / "out"))
    assert sorted((tmp_path / "out" / "runs" / "chunks").glob("*.parquet")) == chunks  # nothing new run
    assert visited(first) == visited(again) and first["best"] == again["best"]


@pytest.mark.parametrize(("edit", "where", "reason"), [
    ({"decisions": {"resources.nope.capacity": {"low": 1, "high": 3}}}, "decisions.resources.nope.capacity",
     "no item named 'nope'"),
    ({"decisions": {"resources.pa.name": {"low": 1, "high": 3}}}, "decisions.resources.pa.name",
     "a range needs a number"),
    ({"decisions": {"resources.pa.capacity": {"low": 0, "high": 3}}}, "decisions.resources.pa.capacity",
     "the value 0 gives an invalid twin"),
    ({"decisions": {"resources.pa.capacity": {"low": 5, "high": 3}}}, "decisions", "must not be above high"),
    ({"objective": {"kpi": "costs"}}, "objective.kpi", "did you mean cost"),
    ({"objective": {"kpi": "cost", "statistic": "p200"}}, "objective", "not one of mean, pNN"),
    ({"experiment": {"replications": 10, "max_replications": 5}}, "experiment", "at least replications"),
    ({"targets": ["activities.zz.wait <= 1"]}, "targets[0]", "no KPI named 'activities.zz.wait'"),
])
def test_a_bad_file_names_the_field_and_the_reason(tmp_path: Path, edit: dict[str, object], where: str,
                                                  reason: str) -> None:
    data = yaml.safe_load(line_file(tmp_path).read_text()) | edit
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as caught:
        load_problem(path)
    assert any(p.startswith(where) and reason in r for p, r in caught.value.problems), caught.value.problems


def test_cli_prints_the_design_keys_and_saves_a_plan_that_runs_as_a_scenario(tmp_path: Path) -> None:
    path = line_file(tmp_path, seed=2, budget=8)
    plan, report = tmp_path / "plans" / "best.yaml", tmp_path / "report.html"
    command = [sys.executable, "-m", "twin.cli", "optimize", str(path), "--executor", "serial", "--json",
               "--out", str(tmp_path / "out"), "--save-plan", str(plan), "--report", str(report)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert set(summary["best"]) >= {"decisions", "meets_targets", "kpis"} and summary["evaluated"] == 8
    scenario = load_scenario(plan)
    capacities = {f"resources.{r.name}.capacity": r.capacity for r in scenario.twin.resources}
    assert capacities == summary["best"]["decisions"]
    html = report.read_text()
    assert "Frontier and convergence" in html and html.count("plotly-graph-div") >= 2
    bad = subprocess.run([*command[:4], str(tmp_path / "missing.yaml")], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_the_clinic_example_and_the_docs_block_load(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    for path in (root / "scenarios" / "examples").glob("*_optimize.yaml"):  # every example loads
        assert load_problem(path).size > 1
    problem = load_problem(root / "scenarios" / "examples" / "clinic_optimize.yaml")
    assert problem.size == 4 * 4 * 4 * 4 * 9 and problem.base_plan() is not None
    night = problem.changes(problem.base_plan() | {"resources.physician.shifts.1.capacity": 4})  # type: ignore[operator]
    assert night["resources.physician.capacity"] == 4  # the pool's peak follows its shifts
    text = (root / "docs" / "optimisation.md").read_text()  # the page's first block: the clinic's file
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "docs.yaml"
    base = root / "scenarios" / "examples" / "clinic_on_call.yaml"
    path.write_text(block.replace("base: clinic_on_call.yaml", f"base: {base}"))
    assert len(load_problem(path).spec.decisions) == 4


def test_a_plan_that_breaks_a_labour_rule_is_never_simulated_nor_returned(tmp_path: Path) -> None:
    """12 people at 48 h a week staff at most 3 always-on units of station a (4 would need 14),
    which cannot meet a's wait target: the answer says so rather than breaking the rule."""
    base = tmp_path / "ruled.yaml"
    base.write_text(yaml.safe_dump({"name": "ruled-line", "base": str(TWINS / "line3.yaml"),
                                    "changes": {"resources.pa.capacity": 3,
                                                "rules": {"max_weekly_hours": 48, "staff": {"pa": 12}}}}))
    data = yaml.safe_load(line_file(tmp_path, seed=4, budget=16).read_text()) | {"base": str(base)}
    path = tmp_path / "problem.yaml"
    path.write_text(yaml.safe_dump(data))
    outcome = optimize(load_problem(path), executor="serial", out=tmp_path / "out")
    simulated = [v for v in outcome.visits if v.estimate.invalid is None]
    refused = [v for v in outcome.visits if v.estimate.invalid is not None]
    assert all(v.plan["resources.pa.capacity"] <= 3 for v in simulated) and len(simulated) == 16
    assert refused and all("rules.max_weekly_hours = 48" in (v.estimate.invalid or "") for v in refused)
    assert outcome.best.plan["resources.pa.capacity"] <= 3 and not outcome.best.estimate.feasible
    summary = summarize(outcome)
    assert summary["evaluated"] == 16 and len(summary["refused"]) == len(refused)
    assert summary["best"]["statement"].startswith("no plan simulated met every target")


@pytest.mark.slow
def test_the_guarantee_holds_in_a_simulation_study_of_the_procedure(tmp_path: Path) -> None:
    """Station a with a target just below what 4 servers give (exact mean wait 0.431 h > 0.42):
    over 20 seeds the procedure may recommend 4 only uncertified; it certifies an infeasible
    plan at most as often as its 95% allows (3 of 20 or fewer: P(Binomial(20, .05) > 3) < 2%)."""
    exact = {c: mmc_mean_wait(c, 1.0, LINE["a"]) for c in range(3, 9)}
    assert exact[4] > 0.42 > exact[5]
    false, certified_five = 0, 0
    for seed in range(20):
        data = {"name": "station-a", "base": str(TWINS / "line3.yaml"),
                "decisions": {"resources.pa.capacity": {"low": 3, "high": 8}},
                "targets": ["activities.a.wait.mean <= 0.42"],
                "experiment": {"replications": 5, "max_replications": 20, "final_replications": 40,
                               "seed": 100 + seed, "budget": 6, "finalists": 3}}
        path = tmp_path / f"a{seed}.yaml"
        path.write_text(yaml.safe_dump(data))
        outcome = optimize(load_problem(path), executor="serial", out=tmp_path / f"out{seed}")
        servers = outcome.best.plan["resources.pa.capacity"]
        certified = outcome.best.estimate.certified
        false += certified and exact[servers] > 0.42
        certified_five += certified and servers == 5
    assert false <= 3
    assert certified_five >= 15  # and it usually finds the true optimum, certified
