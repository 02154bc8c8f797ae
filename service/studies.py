"""Studies: check and store a submission (the job runs later), read state and outputs.

A study's folder (`TWIN_HOME/studies/ID/`) holds its inputs (`input/twin.yaml` and one
scenario file per scenario, based on it) and what `scenarios` writes: resumable
`chunks/`, `results.parquet`, `summary.json`, `provenance.json`, `specs/`, and
`figures/` when viz is installed.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session, sessionmaker

from scenarios.variants import Unit, units_of
from service import jobs, quotas, twins, work
from service.db import fetch, newest_first, transaction
from service.errors import Conflict, Invalid, NotFound
from service.models import ApiKey, StudyRow, now
from service.schemas import FigureInfo, Progress, StudyCreate, StudyPublic
from service.settings import Settings
from twin.errors import SpecError


def input_files(folder: Path) -> list[str | Path]:
    """The study's twin then its scenario files, in order (the first is the baseline)."""
    return [folder / "input" / "twin.yaml", *sorted((folder / "input").glob("*.scenario.yaml"))]


def submit(db: sessionmaker[Session], settings: Settings, body: StudyCreate, key: ApiKey) -> StudyRow:
    """Check the submission against the limits and the scenario rules; queue its job.

    The slow part (writing and loading the scenario files) runs outside any transaction.
    """
    with transaction(db) as session:
        try:
            twin_row = twins.get(session, body.twin_id, key.workspace)
        except NotFound as error:
            raise Invalid([("twin_id", str(error))]) from None
    _check_counts(settings, body)
    study_id = uuid.uuid4().hex
    folder = settings.studies_dir / study_id
    try:
        names, units = _write_inputs(folder, twin_row.spec, body.scenarios)
        work.check(settings, units, body.replications)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    row = StudyRow(
        id=study_id,
        twin_id=twin_row.id,
        status="queued",
        request=body.model_dump(mode="json"),
        scenarios=names,
        replications=body.replications,
        seed=body.seed,
        engine=body.engine,
        done=0,
        total=len(units) * body.replications,
        resumed=0,
        attempts=0,
        folder=str(folder.relative_to(settings.home)),
        owner=key.id,
        workspace=key.workspace,
        created_at=now(),
    )
    return quotas.store_job(db, settings, key, folder, row)


def _check_counts(settings: Settings, body: StudyCreate) -> None:
    if body.replications > settings.max_replications:
        raise Invalid(
            [
                (
                    "replications",
                    f"{body.replications} exceeds the limit max_replications = "
                    f"{settings.max_replications} (TWIN_MAX_REPLICATIONS)",
                )
            ]
        )
    if len(body.scenarios) + 1 > settings.max_scenarios:
        raise Invalid(
            [
                (
                    "scenarios",
                    f"{len(body.scenarios) + 1} scenarios (the twin and "
                    f"{len(body.scenarios)} more) exceed the limit max_scenarios = "
                    f"{settings.max_scenarios} (TWIN_MAX_SCENARIOS)",
                )
            ]
        )
    for i, scenario in enumerate(body.scenarios):
        if "base" in scenario:
            raise Invalid([(f"scenarios[{i}].base", "not allowed: the base of every scenario is the twin")])


def _write_inputs(
    folder: Path, spec: dict[str, Any], scenarios: list[dict[str, Any]]
) -> tuple[list[str], list[Unit]]:
    """Write the input files and load them as the job will (the scenarios' names and every
    run unit, sensitivity variants included); SpecError -> Invalid with fields."""
    from scenarios.loader import load_study

    inputs = folder / "input"
    inputs.mkdir(parents=True)
    (inputs / "twin.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    prefixes = {str(inputs / "twin.yaml"): "twin"}
    for i, scenario in enumerate(scenarios):
        path = inputs / f"{i:03d}.scenario.yaml"
        path.write_text(yaml.safe_dump({**scenario, "base": "twin.yaml"}, sort_keys=False), encoding="utf-8")
        prefixes[str(path)] = f"scenarios[{i}]"
    try:
        loaded = load_study(input_files(folder))
        units = units_of(loaded)
    except SpecError as error:
        prefix = prefixes.get(error.source, "scenarios")
        raise Invalid(
            [
                (f"{prefix}.{path}" if path else prefix, _unpath(reason, prefixes))
                for path, reason in error.problems
            ]
        ) from None
    return [s.name for s in loaded], units


def _unpath(reason: str, prefixes: dict[str, str]) -> str:
    """A message naming the files the service wrote, with their fields instead."""
    for path, prefix in prefixes.items():
        reason = reason.replace(path, prefix)
    return reason



def get(session: Session, study_id: str, workspace: str | None) -> StudyRow:
    return fetch(session, StudyRow, study_id, "study", workspace)


def listing(session: Session, workspace: str, twin_id: str | None, limit: int, offset: int) -> list[StudyRow]:
    where = () if twin_id is None else (StudyRow.twin_id == twin_id,)
    return newest_first(session, StudyRow, workspace, limit, offset, *where)


def cancel(session: Session, study_id: str, workspace: str) -> StudyRow:
    """Queued -> cancelled now; running -> cancelling (service.jobs.cancel)."""
    row: StudyRow = jobs.cancel(session, StudyRow, study_id, "study", workspace)
    return row


def output(settings: Settings, row: StudyRow, name: str) -> Path:
    """A file of a finished study's folder (Conflict while the study is not done)."""
    if row.status != "done":
        raise Conflict(f"study '{row.id}' is {row.status}, not done: its results are not there yet")
    path = settings.home / row.folder / name
    if not path.is_file():
        raise NotFound(f"study '{row.id}' has no {name}")
    return path


def results_csv(settings: Settings, row: StudyRow) -> str:
    import pandas as pd

    table = pd.read_parquet(output(settings, row, "results.parquet"))
    for column in table.select_dtypes(include="object").columns:
        table[column] = table[column].map(defuse)
    return str(table.to_csv(index=False))


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def defuse(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, quoted with a leading `'`
    (OWASP's CSV injection advice); numbers and other text are left as they are."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA) else value


def remove_folder(settings: Settings, row: StudyRow) -> None:
    shutil.rmtree(settings.home / row.folder, ignore_errors=True)


def public(row: StudyRow) -> StudyPublic:
    total = max(row.total, 0)
    return StudyPublic(
        id=row.id,
        twin_id=row.twin_id,
        status=row.status,
        progress=Progress(done=row.done, total=total, fraction=row.done / total if total else 0.0),
        replications=row.replications,
        seed=row.seed,
        engine=row.engine,
        scenarios=list(row.scenarios),
        resumed=row.resumed,
        attempts=row.attempts,
        error=row.error,
        figures=[FigureInfo(**f) for f in row.figures or []],
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
