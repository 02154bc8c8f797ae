"""The Studies page (docs/studies.md): its scenario example loads, its commands name real files,
its verdict (and the README tour's) is what `twin study` says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from documents import README, ROOT, page

from scenarios.loader import load_study

TWIN_CLI = Path(sys.executable).parent / "twin"
SECTION = page("studies.md")


def test_the_scenario_example_is_valid(tmp_path: Path) -> None:
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", SECTION, flags=re.S) if "base:" in b]
    examples = ROOT / "scenarios" / "examples"
    path = tmp_path / "scenario.yaml"
    base = examples / "clinic_baseline.yaml"
    path.write_text(block.replace("base: clinic_baseline.yaml", f"base: {base}"))
    (scenario,) = load_study([path])
    assert [r.name for r in scenario.twin.resources][-1] == "scribe"
    assert scenario.twin.resources[4].failures is None
    assert len(scenario.targets) == 4  # two of its five repeat inherited ones


def test_the_study_commands_name_real_files() -> None:
    commands = re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)[0]
    files = re.findall(r"scenarios/examples/\w+\.yaml", commands)
    assert len(files) == 19
    assert len(load_study([ROOT / f for f in files[:3]])) == 3


@pytest.mark.slow
def test_the_clinic_verdict_is_what_twin_study_prints(tmp_path: Path) -> None:
    """The page's verdict on the clinic study, and the README tour's, are what `twin study` says
    (words, not layout)."""
    (said,) = [b for b in re.findall(r"```text\n(.*?)```", SECTION, flags=re.S) if b.startswith("Best plan")]
    (tour,) = [b for b in re.findall(r"```text\n(.*?)```", README, flags=re.S) if b.startswith("Best plan")]
    command = re.findall(r"```bash\n(.*?)```", SECTION, flags=re.S)[0].split("twin study")[1]
    files = re.findall(r"scenarios/examples/\w+\.yaml", command)
    (tour_command,) = [b for b in re.findall(r"```bash\n(.*?)```", README, flags=re.S) if "twin study" in b]
    assert re.findall(r"scenarios/examples/\w+\.yaml", tour_command) == files  # the tour runs this study
    done = subprocess.run([TWIN_CLI, "study", *files, "--executor", "serial", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "80"})
    assert " ".join(said.split()) in " ".join(done.stdout.split())
    assert " ".join(tour.split()) in " ".join(done.stdout.split())
