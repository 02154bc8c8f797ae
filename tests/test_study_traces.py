"""A study keeps the event trace of its close-up replication; the report reads it and runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import viz.replay
from scenarios.cli import write_outputs
from scenarios.engine import simulate_one
from scenarios.loader import load_study
from scenarios.report import summarize_study
from scenarios.runner import run_study, settings_for
from scenarios.stresses import closeup_replication
from scenarios.work import trace_rows
from viz.data import load_study as load_folder
from viz.replay import replay, stressed_replication

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "examples"


def test_the_close_up_trace_is_the_studys_own_and_the_report_runs_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenarios = load_study([EXAMPLES / "stress_baseline.yaml", EXAMPLES / "stress_backup.yaml"])
    settings = settings_for(scenarios[0], replications=6, seed=11)
    result = run_study(scenarios, settings, executor="serial", out=tmp_path / "chunks")
    write_outputs(tmp_path, result, summarize_study(result))
    expected = closeup_replication(scenarios[0].stresses, 11, 6)
    assert result.traced_replication == expected and set(result.traces) == {s.name for s in scenarios}
    study = load_folder(tmp_path)
    assert stressed_replication(study) == expected

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the report ran a simulation")

    monkeypatch.setattr(viz.replay, "simulate_one", refuse)
    kept = replay(study, scenarios[1].name, expected)
    monkeypatch.undo()
    rep = simulate_one(kept.twin, 11, expected, "fast", trace=True)
    assert kept.trace == rep.trace  # exactly what the engine traced in the study
    one = {"t": [1.5], "kind": ["start"], "subject": [3], "name": ["cut"]}
    assert trace_rows(one) == [(1.5, "start", 3, "cut")]
