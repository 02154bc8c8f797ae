"""File-level work behind `twin health`: load the twin and the logs, pick the reference, print."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from calibration.cli import header_clock
from calibration.health import health
from calibration.loaders import CalibrationDataError, load_events
from calibration.scoring import require_scoring
from calibration.simlog import read_header
from calibration.validation import ThinSplit
from twin.loader import load_twin


class HealthInputError(ValueError):
    """Bad input to `twin health`; the message starts with the option at fault."""


def parse_window(text: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """`FROM..TO` (ISO times, either side may be empty) -> (from, to); None -> (None, None)."""
    if text is None:
        return None, None
    if text.count("..") != 1:
        raise HealthInputError(f"--window '{text}': not FROM..TO (ISO times, e.g. 2022-12-05..2022-12-24)")
    bounds = []
    for part in text.split(".."):
        try:
            bounds.append(pd.Timestamp(part.strip()).tz_localize(None) if part.strip() else None)
        except ValueError:
            raise HealthInputError(
                f"--window '{text}': '{part}' is not an ISO time such as 2022-12-05") from None
    low, high = bounds
    if low is not None and high is not None and high <= low:
        raise HealthInputError(f"--window '{text}': its end is not after its start")
    return low, high


def in_window(log: pd.DataFrame, low: pd.Timestamp | None, high: pd.Timestamp | None) -> pd.DataFrame:
    """The cases of `log` whose first start lies in [low, high) (site wall clock)."""
    first = log.groupby("case_id")["start_time"].transform("min")
    keep = pd.Series(True, index=log.index)
    if low is not None:
        keep &= first >= low
    if high is not None:
        keep &= first < high
    return log[keep].reset_index(drop=True)


def health_files(
    twin_path: Path, events: Path, reference: Path | None, window: str | None = None,
    threshold: float = 1.5, runs: int | None = None, seed: int = 1,
    mapping: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`twin health`: the twin's health on `events` (its `window`) against `reference` (an
    older log: the training log or a holdout). HealthInputError names the option at fault."""
    if not threshold > 0:
        raise HealthInputError(f"--threshold: must be a positive ratio (e.g. 1.5), not {threshold}")
    if reference is None:
        raise HealthInputError("--reference: needed: the older log the twin is judged against "
                               "(its training log, or a holdout the twin did well on)")
    for flag, path in (("--events", events), ("--reference", reference)):
        if not path.is_file():
            raise HealthInputError(f"{flag}: {path}: no such file")
    require_scoring()
    low, high = parse_window(window)
    twin, meta = load_twin(twin_path), read_header(twin_path)
    zone = meta.get("clock", {}).get("timezone")
    zone = None if zone == header_clock(None, "")["timezone"] else zone
    new_log = _load(events, mapping, zone, "--events")
    new_log = in_window(new_log, low, high)
    if new_log.empty:
        raise HealthInputError(f"--window '{window}': no case of {events} starts in it")
    old_log = _load(reference, mapping, zone, "--reference")
    try:
        result = health(twin, new_log, old_log, threshold, runs, seed, meta)
    except ThinSplit as why:
        flag = "--reference" if str(why).startswith("reference") else ("--window" if window else "--events")
        raise HealthInputError(f"{flag}: {why}") from None
    return finite(result) | {"twin": str(twin_path), "events": str(events), "window": window,
                             "reference_log": str(reference)}


def finite(value: Any) -> Any:
    """`value` with every infinite or NaN float replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _load(path: Path, mapping: dict[str, str] | None, zone: str | None, flag: str) -> pd.DataFrame:
    try:
        return load_events(path, mapping or {}, timezone=zone)[0]
    except CalibrationDataError as why:
        raise HealthInputError(f"{flag}: {why}") from None


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def health_text(result: dict[str, Any], width: int = 16) -> str:
    """The per-distance table, the verdict and what changed, for a terminal."""
    lines = [f"{'distance':9s}{'ref twin':>10s}{'ref noise':>10s}{'new twin':>10s}{'new noise':>10s}"
             f"{'drift':>8s}  flag   measures"]
    for key, r in result["distances"].items():
        ref, new = r["reference"], r["new"]
        lines.append(f"{key:9s}{_num(ref['twin'], '10.4g')}{_num(ref['noise'], '10.4g')}"
                     f"{_num(new['twin'], '10.4g')}{_num(new['noise'], '10.4g')}{_num(r['drift'], '8.2f')}"
                     f"  {'DRIFT' if r['flag'] else 'ok':5s}  {r['measures']}")
    for key, r in result["plain"].items():
        ref, new = r["reference"], r["new"]
        lines.append(f"{key:9s}{_num(ref['twin'], '10.4g')}{_num(ref['data'], '10.4g')}"
                     f"{_num(new['twin'], '10.4g')}{_num(new['data'], '10.4g')}{_num(r['drift'], '8.2f')}"
                     f"  {'DRIFT' if r['flag'] else 'ok':5s}  {r['measures']} (twin, data)")
    lines += ["", f"verdict: {result['message']} (threshold {result['threshold']:g})"]
    durations = result["changes"]["durations"]
    if durations:
        lines.append("mean duration (hours), reference -> new window, largest changes (twin on the new):")
        lines += [f"  {d['activity'][:width]:{width}s}{_num(d['reference_hours'], '9.3g')} ->"
                  f"{_num(d['new_hours'], '9.3g')}  ({d['change']:+.0%}, {d['events']} events; "
                  f"twin {_num(d['twin_hours'], '.3g')})" for d in durations]
    return "\n".join(lines)
