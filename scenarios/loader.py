"""Read scenario files (or plain twins) into resolved scenarios ready to run.

A file with a top-level `base` is a scenario; any other mapping is a twin, taken as a
scenario with no changes. A scenario's base may itself be a scenario: the child extends
it (its changes apply on top, its targets are added, its `uncertain` params override,
its `experiment` replaces). `sensitivity` is not inherited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scenarios import changes as edits
from scenarios.spec import Experiment, ScenarioFile, ScenarioStress, Sensitivity, Target, Uncertain
from twin.costs import COST_PARTS, POOL_INPUTS
from twin.errors import SpecError, from_validation_error
from twin.loader import parse_twin, read_text, safe_yaml, twin_to_data
from twin.spec import Activity, Resource, Twin

TOP_LEVEL = ("throughput", "cycle_time", "wip")
DUE_KPIS = ("on_time", "tardiness", "late")
GROUP_KPIS = {
    "activities": ("wait", "queue_length", "completed"),
    "resources": ("utilization", "availability"),
    "materials": ("inventory", "fill_rate", "stockout_fraction"),
}
CLASS_KPIS = ("throughput", "cycle_time")


@dataclass
class Scenario:
    """A resolved scenario: its twin (as validated plain data too) and study settings."""

    name: str
    source: str
    twin: Twin
    data: dict[str, Any]  # canonical plain data of `twin`, the input of uncertain draws
    targets: list[Target] = field(default_factory=list)
    uncertain: Uncertain | None = None
    sensitivity: Sensitivity | None = None
    experiment: Experiment | None = None
    file: dict[str, Any] = field(default_factory=dict)  # the scenario file as written
    stresses: list[ScenarioStress] = field(default_factory=list)  # random windows, drawn per replication


def kpi_names(twin: Twin) -> list[str]:
    """Every KPI a replication of `twin` records (DESIGN.md, run output), with those of
    classes, reneging and waiting rooms: `activities.a.abandoned`, `.lost`, `.balked` where
    the activity lets it happen, `activities.a.by_class.c.wait` and `classes.c.throughput`
    / `.cycle_time` (with due dates, `.on_time` / `.late`) when the twin distinguishes
    classes, and `resources.r.maintenances` / `.crew_wait` where a pool has them."""
    names = list(TOP_LEVEL)
    if twin.has_due_dates:
        names += DUE_KPIS
    for group, kpis in GROUP_KPIS.items():
        for item in getattr(twin, group):
            names += [f"{group}.{item.name}.{kpi}" for kpi in kpis]
            if isinstance(item, Resource):  # planned maintenance, crews (twin.pools.Pool.kpis)
                names += [f"resources.{item.name}.maintenances"] * (item.maintenance is not None)
                names += [f"resources.{item.name}.crew_wait"] * bool(item.crews)
            if isinstance(item, Activity):
                names += [f"activities.{item.name}.{kpi}" for kpi in item.leaving]
                names += [f"activities.{item.name}.setups"] * any(item.setup_of(c) for c in twin.classes)
                if twin.uses_classes:
                    names += [f"activities.{item.name}.by_class.{c}.wait" for c in twin.classes]
    if twin.uses_classes:
        names += [f"classes.{c}.{kpi}" for c in twin.classes for kpi in CLASS_KPIS]
        if twin.has_due_dates:  # each class's share on time and late count
            names += [f"classes.{c}.{kpi}" for c in twin.classes for kpi in ("on_time", "late")]
    names += [f"contingency.{rule.name}.activations" for rule in twin.contingency]
    if twin.costs is not None:
        names += [f"resources.{r.name}.{k}" for r in twin.resources for k in POOL_INPUTS]
        names += [f"materials.{m.name}.stockouts" for m in twin.materials]
        names += ["cost", *(f"cost.{part}" for part in COST_PARTS)]
    return names


def _read_yaml(path: Path) -> Any:
    text = read_text(path)  # SpecError for a file that is missing or not UTF-8
    try:
        return safe_yaml(text)  # within twin.loader's depth and size limits
    except yaml.YAMLError as error:
        raise SpecError([("", f"not valid YAML: {getattr(error, 'problem', error)}")], str(path)) from None


def load_scenario(path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    """A scenario file or a plain twin YAML, resolved; SpecError names every bad field."""
    path = Path(path)
    if path.resolve() in _seen:
        raise SpecError([("base", "scenarios extend each other in a cycle")], str(path))
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError([("", "a scenario must be a mapping of fields")], str(path))
    if "base" not in data:
        twin = parse_twin(data, str(path))
        return Scenario(twin.name, str(path), twin, twin_to_data(twin), file=data)
    try:
        spec = ScenarioFile.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data, str(path)) from None
    parent = load_scenario(path.parent / spec.base, (*_seen, path.resolve()))
    return extend(parent, spec, data, str(path))


def extend(parent: Scenario, spec: ScenarioFile, raw: dict[str, Any], source: str) -> Scenario:
    """`parent` changed as `spec` says (the scenario file `raw`, read from `source`)."""
    data, problems = edits.apply(parent.data, spec.changes, spec.add, spec.remove)
    _add_policies(data, spec)
    twin = None
    if not problems:
        try:
            twin = parse_twin(data, source)
        except SpecError as error:
            own = [p for p in error.problems if _from_policies(p[0], spec)]
            rest = [p for p in error.problems if not _from_policies(p[0], spec)]
            problems = own + edits.blame(rest, spec.changes, spec.add, spec.remove)
    if problems or twin is None:
        raise SpecError(problems, source)
    scenario = Scenario(spec.name, source, twin, twin_to_data(twin), file=raw,
                        targets=_merge_targets(parent.targets, spec.parsed_targets()),
                        uncertain=_merge_uncertain(parent.uncertain, spec.uncertain),
                        sensitivity=spec.sensitivity, experiment=spec.experiment or parent.experiment,
                        stresses=_merge_stresses(parent.stresses, spec.stresses))
    check_references(scenario)
    return scenario


def _add_policies(data: dict[str, Any], spec: ScenarioFile) -> None:
    """Fixed-window stresses and contingency rules join the twin's own; costs replace its own."""
    fixed = [s.fixed(s.window.start, s.window.start + s.window.length) for s in spec.stresses if s.window]
    if fixed:
        data["stresses"] = [*data.get("stresses", []), *fixed]
    if spec.contingency:
        data["contingency"] = [*data.get("contingency", []), *spec.contingency]
    if spec.costs is not None:
        data["costs"] = spec.costs


def _from_policies(path: str, spec: ScenarioFile) -> bool:
    """A twin problem in a section this scenario wrote (same path in the scenario file)."""
    section = path.split("[")[0].split(".")[0]
    return section in ("stresses", "contingency", "costs") and bool(getattr(spec, section))


def _merge_stresses(inherited: list[ScenarioStress], own: list[ScenarioStress]) -> list[ScenarioStress]:
    names = {s.name for s in own}
    return [s for s in inherited if s.name not in names] + [s for s in own if s.random is not None]


def _merge_targets(inherited: list[Target], own: list[Target]) -> list[Target]:
    texts = {t.text for t in own}
    return [t for t in inherited if t.text not in texts] + own


def _merge_uncertain(inherited: Uncertain | None, own: Uncertain | None) -> Uncertain | None:
    if inherited is None or own is None:
        return own or inherited
    return Uncertain(method=own.method, params={**inherited.params, **own.params})


def check_references(scenario: Scenario) -> None:
    """Targets, risk and objective KPIs must exist; uncertain/sensitivity paths must be numbers."""
    known = set(kpi_names(scenario.twin))
    problems = [(f"targets[{i}]", f"no KPI named '{t.kpi}'") for i, t in enumerate(scenario.targets)
                if t.kpi not in known]
    experiment = scenario.experiment
    if experiment is not None:
        kpis = [("experiment.objective.kpi", experiment.objective.kpi)]
        kpis += [(f"experiment.risk[{i}]", k) for i, k in enumerate(experiment.risk)]
        if experiment.precision is not None:
            kpis.append(("experiment.precision.kpi", experiment.precision.kpi))
        problems += [(where, f"no KPI named '{k}'") for where, k in kpis if k not in known]
    if scenario.sensitivity is not None:
        problems += [(f"sensitivity.kpis[{i}]", f"no KPI named '{k}'")
                     for i, k in enumerate(scenario.sensitivity.kpis) if k not in known]
    problems += _numeric_paths(scenario)
    problems += _random_stresses(scenario)
    if problems:
        raise SpecError(problems, scenario.source)


def _numeric_paths(scenario: Scenario) -> list[tuple[str, str]]:
    paths = [("uncertain.params", p) for p in (scenario.uncertain.params if scenario.uncertain else {})]
    ranges = scenario.sensitivity.params if scenario.sensitivity else {}
    paths += [("sensitivity.params", p) for p in ranges]
    problems = []
    for where, path in paths:
        try:
            value = edits.walk(scenario.data, path)
        except edits.PathError as error:
            problems.append((f"{where}.{path}", str(error)))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((f"{where}.{path}", f"must lead to a number, not {type(value).__name__}"))
    return problems


def _random_stresses(scenario: Scenario) -> list[tuple[str, str]]:
    """A random stress must be a valid twin stress when it occurs, and not clash by name."""
    problems = []
    for s in scenario.stresses:
        try:
            stresses = [*scenario.data.get("stresses", []), s.fixed(0.0, 1.0)]
            parse_twin({**scenario.data, "stresses": stresses})
        except SpecError as error:
            problems += [(f"stresses[{s.name}]", f"{p}: {r}") for p, r in error.problems]
    return problems


def load_study(paths: list[str | Path]) -> list[Scenario]:
    """Scenario files in order; the first is the baseline. Names must be unique."""
    if not paths:
        raise SpecError([("", "a study needs at least one scenario file")])
    scenarios = [load_scenario(p) for p in paths]
    seen: dict[str, str] = {}
    for s in scenarios:
        if s.name in seen:
            raise SpecError([("name", f"'{s.name}' is also the name of {seen[s.name]}; "
                                      "give each scenario its own name")], s.source)
        seen[s.name] = s.source
    from scenarios.variants import units_of  # sensitivity levels must give valid twins too

    units_of(scenarios)
    return scenarios
