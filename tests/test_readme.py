"""The README is the front door: its spec, commands and error example must be true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from twin import loads_twin, run

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
TWIN_CLI = Path(sys.executable).parent / "twin"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_spec_is_a_valid_twin_that_runs() -> None:
    (spec,) = [b for b in blocks("yaml") if b.startswith("name:") and "\nbase:" not in b]
    twin = loads_twin(spec.replace("horizon: 10000", "horizon: 2000"))
    result = run(twin, replications=2, seed=1)
    assert set(result.records[0]) >= {"throughput", "materials.bottles.fill_rate"}


def test_readme_json_keys_match_the_run_output(tmp_path: Path) -> None:
    (example,) = [b for b in blocks("json") if '"kpis"' in b]
    shown = set(re.findall(r'"(\w+)":', example))
    (spec,) = [b for b in blocks("yaml") if b.startswith("name:") and "\nbase:" not in b]
    path = tmp_path / "twin.yaml"
    path.write_text(spec.replace("horizon: 10000", "horizon: 1000"))
    out = subprocess.run([TWIN_CLI, "run", path, "--json", "--replications", "2"],
                         capture_output=True, text=True, check=True).stdout
    produced = set(re.findall(r'"(\w+)":', out))
    assert shown - {"S"} <= produced


def test_readme_error_example_is_what_twin_validate_says(tmp_path: Path) -> None:
    (session,) = [b for b in blocks("text") if b.startswith("$ twin validate")]
    expected = session.splitlines()[1:]
    spec = yaml.safe_load((ROOT / "scenarios/examples/manufacturing.yaml").read_text())
    steps = {a["name"]: a for a in spec["activities"]}
    steps["inspection"]["next"] = {"packing": 0.92, "rework": 0.18}
    steps["assembly"]["resorces"] = steps["assembly"].pop("resources")
    spec["arrivals"][0]["route"] = "machinng"  # a wiring problem, reported with the field errors
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(spec))
    done = subprocess.run([TWIN_CLI, "validate", "broken.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert sorted(done.stderr.strip().splitlines()) == sorted(expected)


def test_readme_commands_name_real_files() -> None:
    for path in re.findall(r"(scenarios/examples/\w+\.yaml|scripts/\w+\.sh|bench/\w+\.py|\.ci/run)", README):
        assert (ROOT / path).exists(), path


def test_readme_run_table_is_what_twin_run_prints() -> None:
    """The table's rows in the README are rows of the clinic's table (10 replications, seed 7)
    as printed on an 80-column terminal."""
    (table,) = [b for b in blocks("text") if b.lstrip().startswith("KPI")]
    command = [TWIN_CLI, "run", "scenarios/examples/clinic.yaml", "--replications", "10", "--seed", "7"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "80"})
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    for line in table.splitlines():
        assert line.rstrip() in printed, line
