"""The study summary (the `twin study --json` contract) built from a StudyResult.

`best` is the scenario with the best mean objective among those that meet every target
(among all scenarios when none does); `ranking` adds the paired Bonferroni subset that
contains the truly best scenario with 95% confidence (analysis.select_best).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scenarios import analysis
from scenarios.loader import Scenario, kpi_names
from scenarios.runner import StudyResult
from scenarios.spec import Experiment, Target
from twin.loader import spec_sha256
from twin.runner import twin_version


def study_targets(scenarios: list[Scenario]) -> list[Target]:
    """Every target of any scenario, checked on all of them (first mention wins)."""
    seen: dict[str, Target] = {}
    for s in scenarios:
        for t in s.targets:
            seen.setdefault(t.text, t)
    return list(seen.values())


def risk_kpis(experiment: Experiment, targets: list[Target], known: list[str] | None = None) -> list[str]:
    """The KPIs that get VaR/CVaR: `experiment.risk`, else cycle time, cost and tardiness
    (those the twin records) and the KPIs of `<=` targets."""
    if experiment.risk:
        return list(experiment.risk)
    tails = ["cycle_time", *(k for k in ("cost", "tardiness") if k in (known or []))]
    return list(dict.fromkeys([*tails, *(t.kpi for t in targets if t.higher_is_worse)]))


def summarize_study(result: StudyResult) -> dict[str, Any]:
    table, scenarios = result.columns, result.scenarios
    experiment = scenarios[0].experiment or Experiment()
    targets = study_targets(scenarios)
    risks = risk_kpis(experiment, targets, kpi_names(scenarios[0].twin))
    out: dict[str, Any] = {"scenarios": {s.name: _scenario(table, s, targets, risks) for s in scenarios}}
    baseline = scenarios[0]
    shared = [k for k in kpi_names(baseline.twin) if k in table]
    out["differences"] = {
        s.name: {k: analysis.paired_difference(table, s.name, baseline.name, k) for k in shared}
        for s in scenarios[1:]
    }
    names = [s.name for s in scenarios]
    ranking = analysis.select_best(table, names, experiment.objective.kpi, experiment.objective.goal)
    meeting = [n for n in names if out["scenarios"][n]["meets_targets"]]
    out["best"] = _best(table, meeting, ranking) if meeting else ranking["best"]
    if meeting and len(meeting) < len(names):  # the subset among the plans that can be chosen
        ranking["subset_meeting_targets"] = analysis.select_best(
            table, meeting, ranking["kpi"], ranking["goal"])["subset"]
    out["ranking"] = ranking
    if result.settings.ranking is not None and len(scenarios) > 1:
        from scenarios.runner import kn_result

        out["ranking"]["kn"] = kn_result(table, scenarios, result.settings)
    out["warmup"] = {s.name: analysis.warmup_check(result.wip.get(s.name, []), s.twin.horizon, s.twin.warmup)
                     for s in scenarios}
    out["sensitivity"] = _sensitivity(result, targets)
    out["provenance"] = provenance(result)
    return out


def _scenario(table: analysis.Table, s: Scenario, targets: list[Target], risks: list[str]) -> dict[str, Any]:
    checks = {t.text: analysis.target_report(analysis.values(table, s.name, t.kpi), t) for t in targets}
    tails = {k: analysis.var_cvar(analysis.values(table, s.name, k)) for k in risks}
    return {
        "replications": int(np.count_nonzero(table["scenario"] == s.name)),
        "kpis": analysis.kpi_summaries(table, s.name, kpi_names(s.twin)),
        "targets": checks,
        "meets_targets": all(c["met"] for c in checks.values()),
        "var95": {k: _finite(v[0]) for k, v in tails.items()},
        "cvar95": {k: _finite(v[1]) for k, v in tails.items()},
    }


def _best(table: analysis.Table, names: list[str], ranking: dict[str, Any]) -> str:
    return str(analysis.select_best(table, names, ranking["kpi"], ranking["goal"])["best"])


def _finite(x: float) -> float | None:
    return None if x != x else x


def _sensitivity(result: StudyResult, targets: list[Target]) -> dict[str, Any]:
    """Per scenario and path: the low and high values and their paired effect on each KPI."""
    out: dict[str, Any] = {}
    for s in result.scenarios:
        if s.sensitivity is None:
            continue
        kpis = s.sensitivity.kpis or list(dict.fromkeys(t.kpi for t in targets)) or ["cycle_time"]
        rows: dict[str, Any] = {}
        for unit in (u for u in result.units if u.of == s.name):
            assert unit.path is not None and unit.level is not None
            effects = {k: analysis.paired_difference(result.columns, unit.name, s.name, k) for k in kpis}
            rows.setdefault(unit.path, {})[unit.level] = {"value": unit.value, "effect": effects}
        out[s.name] = rows
    return out


def provenance(result: StudyResult) -> dict[str, Any]:
    settings = result.settings
    return {
        "version": twin_version(),
        "seed": settings.seed,
        "engine": settings.engine,
        "replications": result.replications,
        "traced_replication": result.traced_replication if result.traces else None,
        "precision": settings.precision.model_dump() if settings.precision else None,
        "scenarios": {u.name: {"spec_sha256": spec_sha256(u.twin), "random_stresses": list(u.stresses)}
                      for u in result.units},
        "sources": {s.name: s.source for s in result.scenarios},
        "wall_seconds": result.wall_seconds,
        "resumed_replications": result.resumed,
        "events": int(result.columns["events"].sum()),
    }
