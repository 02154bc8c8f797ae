"""A tiny real study for the viz tests: two scenarios of a small line, one with sensitivity."""

from __future__ import annotations

from pathlib import Path

import yaml

from scenarios import load_study, run_study, settings_for, summarize_study
from scenarios.cli import write_outputs

TWIN = {
    "name": "tiny-line", "time_unit": "hour", "horizon": 400, "warmup": 40,
    "arrivals": [{"name": "jobs", "interarrival": {"dist": "exponential", "mean": 1.0}, "route": "cut"}],
    "activities": [
        {"name": "cut", "duration": {"dist": "gamma", "mean": 1.5, "cv": 0.5}, "resources": {"saw": 1},
         "next": "check"},
        {"name": "check", "duration": {"dist": "lognormal", "mean": 0.6, "sd": 0.3},
         "resources": {"inspector": 1}, "next": {"pack": 0.85, "fix": 0.15}},
        {"name": "fix", "duration": {"dist": "uniform", "low": 0.5, "high": 1.0}, "resources": {"saw": 1},
         "next": "check"},
        {"name": "pack", "duration": {"dist": "exponential", "mean": 0.5}, "consumes": {"boxes": 1}},
    ],
    "resources": [
        {"name": "saw", "capacity": 3,
         "failures": {"uptime": {"dist": "exponential", "mean": 60},
                      "repair": {"dist": "exponential", "mean": 4}}},
        {"name": "inspector", "capacity": 2,
         "shifts": [{"start": "06:00", "end": "22:00", "capacity": 2}, {"start": "22:00", "end": "06:00",
                                                                        "capacity": 1}]},
    ],
    "materials": [{"name": "boxes", "initial": 60, "reorder": {"point": 20, "up_to": 80},
                   "supplier": {"lead_time": {"dist": "gamma", "mean": 12, "cv": 0.3}}}],
}
BASELINE = {
    "name": "today", "base": "tiny.yaml", "description": "three saws",
    "targets": ["activities.cut.wait <= 2", "cycle_time.p95 <= 12", "materials.boxes.fill_rate >= 0.9"],
    "sensitivity": {"params": {"activities.cut.duration.mean": [1.3, 1.7],
                               "arrivals.jobs.interarrival.mean": {"relative": 0.1}}},
    "experiment": {"replications": 6, "seed": 3, "risk": ["cycle_time", "activities.cut.wait"]},
}
OPTION = {"name": "four-saws", "base": "today.yaml", "description": "one more saw",
          "changes": {"resources.saw.capacity": 4}}


def make_study(folder: Path) -> Path:
    """Write the scenario files, run the study serially and write its outputs to folder/out."""
    return _run(folder, {"tiny": TWIN, "today": BASELINE, "four-saws": OPTION}, ["today", "four-saws"])


def _run(folder: Path, files: dict[str, dict], study: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    scenarios = load_study([folder / f"{name}.yaml" for name in study])
    out = folder / "out"
    result = run_study(scenarios, settings_for(scenarios[0]), executor="serial", out=out)
    write_outputs(out, result, summarize_study(result))
    return out


STRESSED = {  # the tiny line priced, under a random saw breakdown that always occurs
    "name": "stressed", "base": "tiny.yaml", "description": "saws break down",
    "changes": {"arrivals.jobs.due": 8},
    "stresses": [{"name": "saw-down", "kind": "equipment_down", "target": "saw", "units": 2,
                  "random": {"probability": 1.0, "start": {"dist": "uniform", "low": 60, "high": 200},
                             "length": 40}},
                 {"name": "late-boxes", "kind": "lead_time", "target": "boxes", "factor": 3,
                  "random": {"probability": 0.5, "start": 50, "length": 100}}],
    "costs": {"resources": {"saw": {"per_time": 10, "per_repair": 50}, "inspector": {"per_time": 30}},
              "materials": {"boxes": {"holding": 0.1}}, "per_late": 20, "currency": "EUR"},
    "targets": ["on_time >= 0.5"],
    "experiment": {"replications": 12, "seed": 4, "objective": {"kpi": "cost", "goal": "min"},
                   "ranking": {"indifference": 500, "first_stage": 5, "max_replications": 30}},
}
PLAN = {"name": "overflow", "base": "stressed.yaml", "description": "send cutting out when it piles up",
        "add": {"activities": [{"name": "outsource", "duration": 3, "next": "check"}]},
        "contingency": [{"name": "send-out", "when": {"queue": "cut", "above": 4}, "delay": 1,
                         "action": {"reroute": {"from": "cut", "to": "outsource", "duration": 10}},
                         "cost": 100}]}


def make_stressed_study(folder: Path) -> Path:
    """A priced study under random stresses with a contingency plan, written to folder/out."""
    return _run(folder, {"tiny": TWIN, "stressed": STRESSED, "overflow": PLAN}, ["stressed", "overflow"])


CLASSED = {  # a small desk with classes: priorities, preemption, patience, a waiting room
    "name": "desk", "time_unit": "minute", "horizon": 3000, "warmup": 300,
    "arrivals": [{"name": "calls", "interarrival": {"dist": "exponential", "mean": 1.0}, "route": "sort",
                  "classes": {"urgent": 0.2, "routine": 0.8}, "due": 30}],
    "activities": [
        {"name": "sort", "duration": {"dist": "uniform", "low": 0.1, "high": 0.3}, "resources": {"clerk": 1},
         "class_next": {"urgent": "treat", "routine": {"treat": 0.6, "advise": 0.4}}},
        {"name": "treat", "duration": {"dist": "exponential", "mean": 1.5},
         "class_durations": {"urgent": {"dist": "exponential", "mean": 2.5}}, "resources": {"doctor": 1},
         "priority": {"urgent": 0, "routine": 1}, "preempt": True,
         "class_patience": {"routine": {"dist": "exponential", "mean": 8}}, "queue_capacity": 6,
         "lost_to": "advise"},
        {"name": "advise", "duration": {"dist": "gamma", "mean": 1.0, "cv": 0.5}, "resources": {"nurse": 1},
         "priority": {"urgent": 0, "routine": 1}},
    ],
    "resources": [{"name": "clerk", "capacity": 1}, {"name": "doctor", "capacity": 2},
                  {"name": "nurse", "capacity": 1}],
}
CLASSED_BASE = {
    "name": "desk-today", "base": "desk.yaml", "description": "two doctors",
    "targets": ["activities.treat.abandoned <= 0.1", "activities.treat.by_class.urgent.wait <= 2"],
    "experiment": {"replications": 6, "seed": 5, "objective": {"kpi": "activities.treat.abandoned"},
                   "risk": ["activities.treat.abandoned", "activities.treat.by_class.routine.wait"]},
}
CLASSED_OPTION = {"name": "three-doctors", "base": "desk-today.yaml", "description": "one more doctor",
                  "changes": {"resources.doctor.capacity": 3}}


def make_classed_study(folder: Path) -> Path:
    """A study of a twin with classes, preemption, patience and a waiting room (by-class KPIs)."""
    files = {"desk": CLASSED, "desk-today": CLASSED_BASE, "three-doctors": CLASSED_OPTION}
    return _run(folder, files, ["desk-today", "three-doctors"])
