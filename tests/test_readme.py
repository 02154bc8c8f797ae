"""The front door and the reference pages (README.md, docs/): their spec, commands and error
example must be true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from documents import README, ROOT, blocks, everything, page

from twin import loads_twin, run

TWIN_CLI = Path(sys.executable).parent / "twin"
SPEC = page("spec.md")


def test_readme_spec_is_a_valid_twin_that_runs() -> None:
    (spec,) = [b for b in blocks(SPEC, "yaml") if b.startswith("name:") and "\nbase:" not in b]
    twin = loads_twin(spec.replace("horizon: 10000", "horizon: 2000"))
    result = run(twin, replications=2, seed=1)
    assert set(result.records[0]) >= {"throughput", "materials.bottles.fill_rate"}


def test_readme_json_keys_match_the_run_output(tmp_path: Path) -> None:
    (example,) = [b for b in blocks(page("running.md"), "json") if '"kpis"' in b]
    shown = set(re.findall(r'"(\w+)":', example))
    (spec,) = [b for b in blocks(SPEC, "yaml") if b.startswith("name:") and "\nbase:" not in b]
    path = tmp_path / "twin.yaml"
    path.write_text(spec.replace("horizon: 10000", "horizon: 1000"))
    out = subprocess.run([TWIN_CLI, "run", path, "--json", "--replications", "2"],
                         capture_output=True, text=True, check=True).stdout
    produced = set(re.findall(r'"(\w+)":', out))
    assert shown - {"S"} <= produced


def test_readme_error_example_is_what_twin_validate_says(tmp_path: Path) -> None:
    """Every `$ twin validate broken.yaml` session shown, in the README or a page, is what it says."""
    def shown(text: str) -> list[str]:
        return [b for b in blocks(text, "text") if b.startswith("$ twin validate")]

    sessions = [b for text in everything().values() for b in shown(text)]
    assert shown(page("index.md")) and sessions
    spec = yaml.safe_load((ROOT / "scenarios/examples/manufacturing.yaml").read_text())
    steps = {a["name"]: a for a in spec["activities"]}
    steps["inspection"]["next"] = {"packing": 0.92, "rework": 0.18}
    steps["assembly"]["resorces"] = steps["assembly"].pop("resources")
    spec["arrivals"][0]["route"] = "machinng"  # a wiring problem, reported with the field errors
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(spec))
    done = subprocess.run([TWIN_CLI, "validate", "broken.yaml"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 2
    for session in sessions:
        assert sorted(done.stderr.strip().splitlines()) == sorted(session.splitlines()[1:])


def test_readme_commands_name_real_files() -> None:
    """Every example, script, benchmark and test file named in the README or a page exists."""
    for name, text in everything().items():
        named = re.findall(r"(scenarios/examples/\w+\.(?:yaml|json)|scripts/\w+\.sh|bench/\w+\.py|\.ci/run"
                           r"|tests/\w+\.py)", text)
        for path in named:
            assert (ROOT / path).exists(), (name, path)


def test_readme_run_table_is_what_twin_run_prints() -> None:
    """The rows of the run tables (README's tour, docs/running.md) are rows of the clinic's table
    (10 replications, seed 7) as printed on an 80-column terminal."""
    (table,) = [b for b in blocks(page("running.md"), "text") if b.lstrip().startswith("KPI")]
    (tour,) = [b for b in blocks(README, "text") if b.lstrip().startswith("KPI")]
    assert "twin run scenarios/examples/clinic.yaml --replications 10 --seed 7\n" in README
    command = [TWIN_CLI, "run", "scenarios/examples/clinic.yaml", "--replications", "10", "--seed", "7"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "80"})
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    for line in table.splitlines() + tour.splitlines():
        assert line.rstrip() in printed, line
