"""The `twin` console script, run for real in subprocesses.

Each invocation pays ~1 s of imports, so every command the tests need is started once,
all in parallel, by a module fixture; the tests then inspect the finished processes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from twin.loader import load_twin, spec_sha256

TWIN = Path(sys.executable).parent / "twin"

GOOD = """\
name: tiny-shop
horizon: 60
warmup: 5
arrivals:
  - {name: orders, interarrival: {dist: exponential, mean: 1.0}, route: serve}
activities:
  - name: serve
    duration: {dist: lognormal, mean: 0.5, sd: 0.2}
    resources: {clerk: 1}
    consumes: {bottles: 1}
    next: {pack: 0.8, exit: 0.2}
  - name: pack
    duration: {dist: uniform, low: 0.1, high: 0.3}
    resources: {packer: 1}
resources:
  - name: clerk
    capacity: 2
  - name: packer
    capacity: 1
    failures:
      uptime: {dist: exponential, mean: 20}
      repair: 1
materials:
  - name: bottles
    initial: 15
    reorder: {point: 5, up_to: 20}
    supplier: {lead_time: {dist: gamma, mean: 3, cv: 0.3}}
"""

BAD = """\
name: tiny-bad
horizon: 60
warmup: 80
arrivals:
  - {name: orders, interarrival: 1, route: serve}
activities:
  - {name: serve, duration: 0.5, next: {nowhere: 1}}
"""

S_KEYS = {"mean", "ci95", "p5", "p50", "p95"}


def _commands(good: str, bad: str) -> dict[str, list[str]]:
    run = ["run", good, "--json", "--replications", "3", "--seed", "7"]
    return {
        "validate-good": ["validate", good],
        "validate-bad": ["validate", bad],
        "run": run,
        "run-again": run,
        "run-other-seed": ["run", good, "--json", "--replications", "3", "--seed", "8"],
        "engine-simpy": ["run", good, "--json", "--replications", "3", "--seed", "7", "--engine", "simpy"],
        "engine-nonsense": ["run", good, "--engine", "nonsense"],
        "replications-zero": ["run", good, "--replications", "0"],
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    good, bad = folder / "good.yaml", folder / "bad.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    return {"good": good, "bad": bad}


@pytest.fixture(scope="module")
def results(files: dict[str, Path]) -> dict[str, subprocess.CompletedProcess[str]]:
    assert TWIN.exists(), f"console script not installed at {TWIN}"
    commands = _commands(str(files["good"]), str(files["bad"]))

    def call(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(TWIN), *args], capture_output=True, text=True, timeout=120,
                              cwd=files["good"].parent, check=False)

    first = call(commands.pop("run"))  # loads (or, on a fresh checkout, compiles) the fast kernels once
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {label: pool.submit(call, args) for label, args in commands.items()}
        return {"run": first} | {label: future.result() for label, future in futures.items()}


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr
    assert "Traceback" not in proc.stdout


# ---------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------

def test_validate_good(results: dict[str, Any]) -> None:
    proc = results["validate-good"]
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
    assert "tiny-shop" in proc.stdout
    _no_traceback(proc)


def test_validate_bad(results: dict[str, Any]) -> None:
    proc = results["validate-bad"]
    assert proc.returncode == 2
    _no_traceback(proc)
    assert proc.stdout == ""
    assert "bad.yaml" in proc.stderr
    assert "warmup: must be less than horizon" in proc.stderr
    assert "no activity named 'nowhere'" in proc.stderr
    assert "2 problem(s)" in proc.stderr


def test_validate_bad_names_the_item_in_the_field_path(results: dict[str, Any]) -> None:
    """'[serve]' must survive printing (rich markup would take it for a style tag)."""
    assert "activities[serve].next.nowhere" in results["validate-bad"].stderr


# ---------------------------------------------------------------------------
# run --json
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def summary(results: dict[str, Any]) -> dict[str, Any]:
    proc = results["run"]
    assert proc.returncode == 0, proc.stderr
    _no_traceback(proc)
    return json.loads(proc.stdout)  # the whole of stdout is one JSON object


def _check_s(s: Any, where: str) -> None:
    assert isinstance(s, dict), where
    assert set(s) >= S_KEYS, where
    assert set(s) - S_KEYS <= {"n"}, where  # DESIGN.md lists no other keys
    lo, hi = s["ci95"]
    assert lo is not None and hi is not None, where
    assert lo <= s["mean"] <= hi, where
    assert s["p5"] <= s["p50"] <= s["p95"], where


def test_run_json_has_the_contract_keys(summary: dict[str, Any]) -> None:
    assert set(summary) == {"name", "engine", "replications", "seed", "kpis", "activities",
                            "resources", "materials", "performance", "provenance"}
    assert summary["name"] == "tiny-shop"
    assert summary["engine"] == "fast"  # the default
    assert summary["replications"] == 3
    assert summary["seed"] == 7
    assert set(summary["kpis"]) == {"throughput", "cycle_time", "wip"}
    assert set(summary["activities"]) == {"serve", "pack"}
    for kpis in summary["activities"].values():
        assert set(kpis) == {"wait", "queue_length", "completed"}
    assert set(summary["resources"]) == {"clerk", "packer"}
    for kpis in summary["resources"].values():
        assert set(kpis) == {"utilization", "availability"}
    assert set(summary["materials"]) == {"bottles"}
    assert set(summary["materials"]["bottles"]) == {"inventory", "fill_rate", "stockout_fraction"}
    assert set(summary["performance"]) == {"events", "sim_seconds", "compile_seconds"}
    assert set(summary["provenance"]) == {"spec_sha256", "version", "seed", "engine", "replications"}


def test_run_json_statistics(summary: dict[str, Any]) -> None:
    for kpi, s in summary["kpis"].items():
        _check_s(s, kpi)
    for group in ("activities", "resources", "materials"):
        for name, kpis in summary[group].items():
            for kpi, s in kpis.items():
                _check_s(s, f"{group}.{name}.{kpi}")
    assert summary["kpis"]["throughput"]["mean"] > 0
    assert 0 <= summary["resources"]["clerk"]["utilization"]["mean"] <= 1
    assert summary["resources"]["clerk"]["availability"]["mean"] == 1
    assert 0 < summary["resources"]["packer"]["availability"]["mean"] <= 1
    assert 0 <= summary["materials"]["bottles"]["fill_rate"]["mean"] <= 1


def test_run_json_performance_and_provenance(summary: dict[str, Any], files: dict[str, Path]) -> None:
    perf = summary["performance"]
    assert isinstance(perf["events"], int) and perf["events"] > 0
    assert perf["sim_seconds"] >= 0
    assert perf["compile_seconds"] >= 0
    prov = summary["provenance"]
    assert prov["spec_sha256"] == spec_sha256(load_twin(files["good"]))
    assert prov["seed"] == 7
    assert prov["engine"] == "fast"
    assert prov["replications"] == 3
    assert isinstance(prov["version"], str) and prov["version"]


def test_run_is_reproducible(results: dict[str, Any], summary: dict[str, Any]) -> None:
    again = json.loads(results["run-again"].stdout)
    for key in ("kpis", "activities", "resources", "materials", "provenance"):
        assert again[key] == summary[key], key
    assert again["performance"]["events"] == summary["performance"]["events"]


def test_other_seed_gives_other_numbers(results: dict[str, Any], summary: dict[str, Any]) -> None:
    proc = results["run-other-seed"]
    assert proc.returncode == 0, proc.stderr
    other = json.loads(proc.stdout)
    assert other["seed"] == 8
    assert other["kpis"] != summary["kpis"]


# ---------------------------------------------------------------------------
# bad options
# ---------------------------------------------------------------------------

def test_engine_simpy_gives_the_same_numbers(results: dict[str, Any], summary: dict[str, Any]) -> None:
    proc = results["engine-simpy"]
    assert proc.returncode == 0, proc.stderr
    reference = json.loads(proc.stdout)
    assert reference["engine"] == "simpy" and reference["provenance"]["engine"] == "simpy"
    for key in ("kpis", "activities", "resources", "materials"):
        assert reference[key] == summary[key], key  # the engines agree bitwise
    assert reference["performance"]["events"] == summary["performance"]["events"]
    _no_traceback(proc)


def test_engine_nonsense(results: dict[str, Any]) -> None:
    proc = results["engine-nonsense"]
    assert proc.returncode == 2
    assert "--engine" in proc.stderr
    assert "nonsense" in proc.stderr
    assert "simpy" in proc.stderr
    _no_traceback(proc)


def test_replications_zero(results: dict[str, Any]) -> None:
    proc = results["replications-zero"]
    assert proc.returncode == 2
    assert "--replications" in proc.stderr
    _no_traceback(proc)
