"""How the CLI writes numbers, units, intervals and the verdict (twin.display,
scenarios.verdict): plain notation at the CI's precision, shares whose interval stays in
[0, 1], tables that never cut a name, and a verdict that never contradicts itself."""

from __future__ import annotations

import copy
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from scenarios.cli import comparison_tables, conclusion
from scenarios.loader import Scenario, load_study
from scenarios.verdict import verdict
from twin.display import delta, estimate, fit_widths, fixed, kpi_unit, plain
from twin.results import share_interval, summarize

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes
from viz_study import make_study

EXPONENT = re.compile(r"\d[eE][-+]?\d")


def s(mean: float, lo: float | None, hi: float | None) -> dict[str, Any]:
    return {"mean": mean, "ci95": [lo, hi]}


@pytest.mark.parametrize(("summary", "share", "text"), [
    (s(0.16634, 0.16546, 0.16722), False, "0.1663 ± 0.0009"),
    (s(55.24, 54.005, 56.475), False, "55.2 ± 1.2"),
    (s(428123.0, 427537.2, 428708.8), False, "428,100 ± 600"),
    (s(95230.0, 95230.0, 95230.0), False, "95,230"),  # every replication the same: no "± 0"
    (s(0.0019, -0.0007, 0.0045), False, "0.0019 ± 0.0026"),
    (s(0.5447, 0.5416, 0.548), True, "54.5 [54.2, 54.8]"),
    (s(0.0019, 0.0004, 0.0069), True, "0.19 [0.04, 0.69]"),
    (s(7.0, None, None), False, "7"),
])
def test_estimates_are_rounded_where_their_interval_says(summary: dict[str, Any], share: bool,
                                                         text: str) -> None:
    assert estimate(summary, share) == text


@pytest.mark.parametrize(("d", "scale", "share", "text"), [
    (s(-0.7874, -0.8443, -0.7305), 55.2, False, "Δ -0.79 ± 0.06"),
    (s(4.006e-06, -1.47e-05, 2.27e-05), 0.1663, False, "Δ +0.000004 ± 0.000019"),
    (s(-1.335e-06, -4.13e-06, 1.46e-06), 0.1663, False, "Δ within ±0.00001"),
    (s(16849.97, 16849.93, 16850.01), 428100.0, False, "Δ +16,850 ± 0.04"),
    (s(1920.0, 1920.0, 1920.0), 95230.0, False, "Δ +1,920"),
    (s(0.0, 0.0, 0.0), 95230.0, False, "Δ 0"),
    (s(-0.0127, -0.0133, -0.0121), 0.0567, True, "Δ -1.27 pp ± 0.06"),
])
def test_changes_are_plain_and_small_ones_say_so(d: dict[str, Any], scale: float, share: bool,
                                                  text: str) -> None:
    assert delta(d, scale, share) == text


@pytest.mark.parametrize("x", [4.006e-06, -6.55e-05, 1e-12, 0.5, 123456789.0, -0.000808])
def test_no_number_is_written_with_an_exponent(x: float) -> None:
    lo, hi = sorted((x * 0.9, x * 1.1))
    for text in (plain(x), fixed(x, 8), estimate(s(x, lo, hi)), delta(s(x, x - abs(x), x + abs(x)), 1.0)):
        assert not EXPONENT.search(text), text


def test_every_kpi_has_a_unit() -> None:
    assert kpi_unit("activities.triage.wait", "minute") == "minutes"
    assert kpi_unit("throughput", "hour") == "per hour"
    assert kpi_unit("classes.urgent.cycle_time", "day") == "days"
    assert kpi_unit("resources.clerk.utilization", "hour") == "%"
    assert kpi_unit("materials.kits.stockout_fraction", "hour") == "%"
    assert kpi_unit("activities.a.completed", "hour") == "count"
    assert kpi_unit("wip", "hour") == "entities"
    assert kpi_unit("cost.labour", "hour", "EUR") == "EUR"


def test_a_rare_share_keeps_its_interval_in_zero_one() -> None:
    """One stock-out in ten replications: the t-interval reaches below zero, the share's does not."""
    x = [0.0] * 9 + [0.0189]
    t_lo = summarize(x)["ci95"][0]
    lo, hi = summarize(x, share=True)["ci95"]
    assert t_lo < 0 <= lo < np.mean(x) < hi <= 1
    assert summarize([1.0] * 5, share=True)["ci95"] == [1.0, 1.0]


def test_the_share_interval_covers_the_true_share() -> None:
    """Per-replication shares of a rare event (p = 0.002, 1000 trials a replication, 10
    replications): the interval covers p in about 95% of studies, never leaving [0, 1]."""
    from scipy import stats

    rng = np.random.default_rng(7)
    t = float(stats.t.ppf(0.975, 9))
    covered = 0
    for _ in range(2000):
        x = rng.binomial(1000, 0.002, size=10) / 1000
        lo, hi = share_interval(x, t)
        assert 0 <= lo <= x.mean() <= hi <= 1
        covered += lo <= 0.002 <= hi
    assert 0.92 <= covered / 2000 <= 0.98


def test_widths_fit_whole_words_or_say_they_cannot() -> None:
    assert fit_widths([5, 3], [9, 3], 12) == [7, 3]  # labels (the first column) get what is left
    assert fit_widths([5, 3, 4], [5, 9, 6], 18) == [5, 3, 6]  # the column needing least is whole first
    assert fit_widths([10, 10], [10, 10], 15) is None


# ---------------------------------------------------------------------------
# study tables and verdict
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Scenario]]:
    import json

    out = make_study(tmp_path_factory.mktemp("display"))
    scenarios = load_study([out.parent / "today.yaml", out.parent / "four-saws.yaml"])
    return json.loads((out / "summary.json").read_text()), scenarios


def renamed(summary: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The summary with its plans named `names`, copying the second plan for extra names."""
    old = list(summary["scenarios"])
    out = copy.deepcopy(summary)
    source = [old[0]] + [old[min(i, len(old) - 1)] for i in range(1, len(names))]
    out["scenarios"] = {n: copy.deepcopy(summary["scenarios"][o]) for n, o in zip(names, source, strict=True)}
    out["differences"] = {n: copy.deepcopy(summary["differences"][o])
                          for n, o in zip(names[1:], source[1:], strict=True)}
    out["best"] = names[source.index(summary["best"])]
    return out


def render(summary: dict[str, Any], scenarios: list[Scenario], width: int) -> str:
    console = Console(width=width, record=True)
    for table in comparison_tables(summary, scenarios, width):
        console.print(table)
    return console.export_text()


@pytest.mark.parametrize("width", [80, 100, 140])
@pytest.mark.parametrize("count", [2, 4, 6])
def test_plan_names_are_never_cut(study: tuple[dict[str, Any], list[Scenario]], width: int,
                                  count: int) -> None:
    names = ["today", *[f"option-{i}-with-a-long-descriptive-name" for i in range(1, count)]]
    text = render(renamed(study[0], names), study[1], width)
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= width
    assert all(name in text for name in names)  # as a column head, or in the legend
    assert not EXPONENT.search(text)


def test_short_names_head_their_columns(study: tuple[dict[str, Any], list[Scenario]]) -> None:
    text = render(study[0], study[1], 80)
    assert "plans" not in text  # no legend needed
    head = next(line for line in text.splitlines() if line.startswith("KPI"))
    assert "today" in head and "four-saws" in head
    assert "cut wait (hours)" in " ".join(text.split())
    assert "boxes fill_rate >= 90%" in " ".join(text.split())


def test_long_names_get_letters_and_a_legend(study: tuple[dict[str, Any], list[Scenario]]) -> None:
    names = ["today", "option-one-with-a-long-descriptive-name", "option-two-with-a-long-descriptive-name",
             "option-three-with-a-long-descriptive-name"]
    text = render(renamed(study[0], names), study[1], 80)
    head = next(line for line in text.splitlines() if line.startswith("KPI"))
    assert head.split()[1:] == ["A", "B", "C", "D"]
    assert re.search(r"A\s+today \(baseline\)", text)
    assert re.search(r"D\s+option-three-with-a-long-descriptive-name", text)


def summary_of(best: str, meets: dict[str, bool], subset: list[str], among: list[str] | None = None,
               kn: dict[str, Any] | None = None, targets: bool = True) -> dict[str, Any]:
    ranking: dict[str, Any] = {"kpi": "cost", "goal": "min", "confidence": 0.95, "subset": subset}
    if among is not None:
        ranking["subset_meeting_targets"] = among
    if kn is not None:
        ranking["kn"] = kn
    checks = {"cycle_time <= 1": {}} if targets else {}
    return {"best": best, "ranking": ranking,
            "scenarios": {n: {"meets_targets": m, "targets": checks} for n, m in meets.items()}}


def test_the_verdict_names_the_best_among_the_plans_it_was_chosen_from() -> None:
    """The issue's case: the subset among all plans held the baseline, which misses a target,
    while the best was chosen among those that meet them; the verdict speaks of one set."""
    said = verdict(summary_of("on-call", {"base": False, "nurse": False, "night": True, "on-call": True},
                              subset=["base"], among=["on-call"]))
    assert said == ["Best plan: on-call, with the lowest mean cost among the 2 of 4 plans that meet every "
                    "target.",
                    "With 95% confidence it is the best among the plans that meet every target: no other "
                    "plan is in the subset for the best."]


def test_the_verdict_when_no_plan_or_every_plan_meets_the_targets() -> None:
    none = verdict(summary_of("base", {"base": False, "b": False}, subset=["base", "b"]))
    assert none[0] == "No plan meets every target. Setting the targets aside, the best is base, with the " \
                      "lowest mean cost."
    assert none[1] == "With 95% confidence it cannot be told apart from b: the subset that holds the best " \
                      "has 2 plans."
    every = verdict(summary_of("b", {"base": True, "b": True, "c": True}, subset=["b", "c", "base"]))
    assert every[0] == "Best plan: b, with the lowest mean cost; every plan meets every target."
    assert "cannot be told apart from c and base" in every[1]
    untargeted = verdict(summary_of("b", {"base": True, "b": True}, subset=["b"], targets=False))
    assert untargeted[0] == "Best plan: b, with the lowest mean cost."


def test_the_verdict_says_when_kim_nelson_picks_another_plan() -> None:
    kn = {"done": True, "selected": "base", "kpi": "cost", "indifference": 500.0, "confidence": 0.95,
          "replications": 40}
    said = verdict(summary_of("b", {"base": False, "b": True}, subset=["base"], among=["b"], kn=kn))
    assert said[2] == ("Kim-Nelson (95%, cost within 500, 40 replications), which sets targets aside, "
                       "selects base; base does not meet every target.")
    same = verdict(summary_of("b", {"base": False, "b": True}, subset=["b"], among=["b"],
                              kn=kn | {"selected": "b"}))
    assert same[2] == "Kim-Nelson (95%, cost within 500, 40 replications) selects the same plan, b."


def test_the_best_plan_is_always_in_its_subset(study: tuple[dict[str, Any], list[Scenario]]) -> None:
    summary = study[0]
    ranking = summary["ranking"]
    assert summary["best"] in ranking.get("subset_meeting_targets", ranking["subset"])
    text = conclusion(summary, Path("out"))
    assert "Its lead is not significant" not in text


def test_select_best_keeps_its_best_in_the_subset_with_missing_values() -> None:
    """With NaNs the unpaired means and the paired bounds could part; `best` stays in the subset."""
    import pandas as pd

    from scenarios.analysis import select_best

    rng = np.random.default_rng(3)
    rows = []
    for r in range(20):
        a, b = 10 + rng.normal(0, 0.1), 10.05 + rng.normal(0, 0.1)
        rows += [{"scenario": "a", "replication": r, "cost": a if r % 2 else math.nan},
                 {"scenario": "b", "replication": r, "cost": b},
                 {"scenario": "none", "replication": r, "cost": math.nan}]
    result = select_best(pd.DataFrame(rows), ["a", "b", "none"], "cost")
    assert result["best"] in result["subset"]
    assert "none" not in result["subset"]  # a plan with no values is not a candidate
