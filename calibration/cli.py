"""File-level work behind `twin calibrate`, `twin simulate-log` and `twin score`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from calibration.calibrate import calibrate
from calibration.classes import NO_CLASSES
from calibration.equipment import EquipmentFitter, attach, machine_hours
from calibration.loaders import CalibrationDataError, LoadReport, load_events, read_table
from calibration.report import write_report
from calibration.scoring import require_scoring
from calibration.simlog import header_lines, read_header, simulate_log
from calibration.validation import GRID, OptionSelector, ThinSplit
from twin.loader import load_twin, parse_twin
from twin.spec import Twin

DEFAULTS: dict[str, Any] = {
    "waits": True, "delays": "observed", "calendars": True, "capacity": "distinct", "arrivals": "auto",
    "worktime": "weighted",
    "routing": 1, "processing": "clock", "pools": "activity", "history": 1.0, "classes": NO_CLASSES,
}


def calibrate_files(
    events: Path,
    failures: Path | None,
    deliveries: Path | None,
    mapping: dict[str, str],
    output: Path,
    report_path: Path | None,
    validate: bool = False,
    progress: Callable[[int, int], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Calibrate from files; write the twin YAML (with label header) and the report.

    Options left None are chosen on a validation split of the log (`validate`), else take
    the CLI's defaults (DEFAULTS). `class_candidates`: the columns validation tries as
    `classes` (None: those it finds); `cancelled`: a column marking cancelled cases;
    `timezone`: the site's IANA zone to read times in (else each timestamp's own offset),
    which the YAML's header then names."""
    for path in (output, report_path):  # before minutes of fitting, not after
        writable(path)
    upkeep = fit_equipment(failures, options.pop("equipment", None) or {})
    candidates = options.pop("class_candidates", None)
    name = options.pop("name", None) or events.name.split(".")[0].replace(" ", "_")
    zone = options.pop("timezone", None)
    given = {k: v for k, v in options.items() if v is not None}
    log, loaded = load_for_calibration(events, mapping, given, validate, candidates, zone)
    fail = read_table(failures)[0] if failures else None
    deliv = read_table(deliveries)[0] if deliveries else None
    workers = os.cpu_count() or 1  # candidates are scored in parallel processes
    spec, report = calibrate_with_options(log, fail, deliv, name, given, validate, progress, workers,
                                          candidates, loaded.case_ends)
    report["data"] = loaded.as_dict()
    if upkeep is not None:
        pool, fitted = upkeep
        attach(spec, pool, fitted)
        report["equipment"] = {"pool": pool, **fitted.check().summary()}
        report["warnings"] += [f"equipment: {w}" for w in fitted.warnings_]
    if zone is not None:  # the site's zone: its wall times are the twin's (a state's clock is read in it)
        head = {k: v for k, v in spec.items() if k != "arrivals"}
        spec = {**head, "timezone": zone, "arrivals": spec["arrivals"]}
    parse_twin(spec, str(output))  # never write a twin that does not load
    body = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=120)
    try:
        clock = header_clock(zone, loaded.clock)
        output.write_text(header_lines(report["labels"], report["units"], clock) + body, encoding="utf-8")
        if report_path is not None:
            write_report(report, report_path)
    except OSError as error:
        raise ValueError(f"cannot write {error.filename}: {error.strerror}") from None
    return report


EQUIPMENT_FLAGS = {"maintenance": "--maintenance", "machine_hours": "--machine-hours",
                   "repair_hours": "--repair-hours", "maintenance_hours": "--maintenance-hours"}


def fit_equipment(failures: Path | None, options: dict[str, Any]) -> tuple[str, EquipmentFitter] | None:
    """(pool, fitted upkeep) from `options` (pool, maintenance, machine_hours, repair_hours,
    maintenance_hours) and the failure records, or None without an equipment pool; checked and
    fitted before the event log (seconds, and a bad flag fails at once)."""
    pool = options.get("pool")
    given = [flag for key, flag in EQUIPMENT_FLAGS.items() if options.get(key) is not None]
    if pool is None:
        if given:
            raise ValueError(f"{given[0]}: needs --equipment-pool, the pool of the twin the machines are")
        return None
    if options.get("maintenance") is None and failures is None:
        raise ValueError("--equipment-pool: give --maintenance and/or --failures records to fit its upkeep")
    for key in ("repair_hours", "maintenance_hours"):
        value = options.get(key)
        if value is not None and not value > 0:
            raise ValueError(f"{EQUIPMENT_FLAGS[key]}: must be a positive number of hours, not {value}")
    maint = read_table(options["maintenance"])[0] if options.get("maintenance") is not None else None
    fail = read_table(failures)[0] if failures is not None else None
    fitted = EquipmentFitter(machine_hours(options.get("machine_hours")), options.get("repair_hours"),
                             options.get("maintenance_hours")).fit(maint, fail)
    return pool, fitted


def writable(path: Path | None) -> None:
    """ValueError (the CLI's clean error) when `path` cannot be written as a file."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: folder {path.parent} does not exist")


def header_clock(zone: str | None, clock: str) -> dict[str, str]:
    """The header's `clock` line: the site's zone, and how the log's times were read."""
    return {"timezone": zone or "local wall clock of the log", "read": clock}


def load_for_calibration(
    events: Path, mapping: dict[str, str], given: dict[str, Any], validate: bool,
    candidates: list[str] | None = None, timezone: str | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """The event log with the columns the options name (`classes`, `cancelled`, the class
    `candidates`), and with validation and no `classes` given, every other column (the
    selector looks among them for class columns)."""
    keep = {c: "class candidates" for c in candidates or []}
    keep |= {given[k]: k for k in ("classes", "cancelled") if given.get(k) not in (None, NO_CLASSES)}
    search = validate and "classes" not in given and candidates is None
    return load_events(events, mapping, keep=keep, keep_all=search, timezone=timezone)


def parse_columns(text: str | None) -> list[str] | None:
    """`--class-candidates A,B` -> ["A", "B"] (None when not given)."""
    if text is None:
        return None
    return [c.strip() for c in text.split(",") if c.strip()]


def calibrate_with_options(
    log: pd.DataFrame,
    failures: pd.DataFrame | None,
    deliveries: pd.DataFrame | None,
    name: str,
    given: dict[str, Any],
    validate: bool,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    class_candidates: list[str] | None = None,
    case_ends: pd.Series | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`calibrate` with the options `given`; the others chosen on a validation split of the
    log (`validate`, the selector's summary in the report's `validation`), else DEFAULTS."""
    validation, skipped = (
        _choose_options(log, given, progress, workers, class_candidates) if validate else ({}, None)
    )
    spec, report = calibrate(log, failures, deliveries, name=name, case_ends=case_ends,
                             **(DEFAULTS | given | validation.get("chosen", {})))
    if validation:
        report["validation"] = validation
    if skipped:
        report["warnings"].append(f"validation skipped ({skipped}); options are the defaults")
    return spec, report


def _choose_options(
    log: pd.DataFrame,
    given: dict[str, Any],
    progress: Callable[[int, int], None] | None,
    workers: int,
    class_candidates: list[str] | None = None,
) -> tuple[dict[str, Any], str | None]:
    """(the option selector's summary; or {} and why it could not run: too little history,
    or no scoring extra)."""
    try:
        require_scoring()
        fixed = {k: v for k, v in given.items() if k in GRID or k == "classes"}
        selector = OptionSelector(fixed=fixed, progress=progress, workers=workers,
                                  class_columns=class_candidates)
        return selector.fit(log).summary(), None
    except (ThinSplit, RuntimeError) as why:
        return {}, str(why)


def simulate_log_file(twin_path: Path, start: str, cases: int, seed: int, output: Path) -> pd.DataFrame:
    twin = load_twin(twin_path)
    try:
        when = datetime.fromisoformat(start)
    except ValueError:
        raise CalibrationDataError(f"--start '{start}': not an ISO time such as 2012-02-20T00:00") from None
    log = simulate_log(twin, when, cases, seed, meta=read_header(twin_path))
    log.to_csv(output, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
    return log


def twin_zone(twin: Twin, meta: dict[str, Any]) -> str | None:
    """The zone to read a twin's logs in: its spec's `timezone`, else its header's clock line
    (twins calibrated before the spec had the field); None: each timestamp's own wall clock."""
    zone = twin.timezone or meta.get("clock", {}).get("timezone")
    return None if zone == header_clock(None, "")["timezone"] else zone


def score_files(
    twin_path: Path, train: Path, test: Path, runs: int, seed: int, mapping: dict[str, str],
    timezone: str | None = None,
) -> dict[str, Any]:
    """`twin score`: the three protocols' scorecards (see calibration.scoring); `timezone`
    as the twin was calibrated with (its own when None: `twin_zone`)."""
    from calibration.scoring import score

    twin = load_twin(twin_path)
    meta = read_header(twin_path)
    zone = timezone or twin_zone(twin, meta)
    train_log, _ = load_events(train, mapping, timezone=zone)
    test_log, _ = load_events(test, mapping, timezone=zone)
    return score(twin, train_log, test_log, runs, seed, meta)


def scorecard_text(result: dict[str, Any]) -> str:
    """The model (mean, 95% CI) and the replay per metric, for each protocol scored."""
    protocols = result.get("protocols") or {"cut": result}
    lines = []
    for name, side in protocols.items():
        lines.append(f"{'metric (' + name + ')':24s}{'model mean':>12s}{'model 95% CI':>24s}{'replay':>12s}")
        for key, m in side["model"].items():
            lo, hi = m["ci95"]
            base = side["baseline"][key]["mean"]
            lines.append(f"{key:24s}{m['mean']:12.4g}{f'[{lo:.4g}, {hi:.4g}]':>24s}{base:12.4g}")
        lines.append("")
    lines.append(
        "reference (test log): " + json.dumps({k: round(v, 3) for k, v in result["reference"].items()})
    )
    return "\n".join(lines)
