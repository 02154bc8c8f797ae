"""File-level work behind `twin health`: load the twin and the logs, pick the reference, print."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from calibration.cli import twin_zone
from calibration.health import ThinWindow, health
from calibration.loaders import CalibrationDataError, load_events
from calibration.scoring import require_scoring
from calibration.simlog import read_header
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
    zone = twin_zone(twin, meta)
    new_log = _load(events, mapping, zone, "--events")
    new_log = in_window(new_log, low, high)
    if new_log.empty:
        raise HealthInputError(f"--window '{window}': no case of {events} starts in it")
    old_log = _load(reference, mapping, zone, "--reference")
    try:
        result = health(twin, new_log, old_log, threshold, runs, seed, meta)
    except ThinWindow as why:
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


def _row(key: str, cells: list[float | None], row: dict[str, Any], measures: str) -> str:
    flag = "DRIFT" if row["flag"] else "ok"
    numbers = "".join(_num(c, "10.4g") if c is not None or i < 4 else " " * 10 for i, c in enumerate(cells))
    return f"{key:9s}{numbers}{_num(row['drift'], '8.2f')}  {flag:5s}  {measures}"


def health_text(result: dict[str, Any], width: int = 16) -> str:
    """The per-distance table (the twin and its noise on each window, `twin score`'s replay on the
    new one; for rate and cycle the twin's value and the data's), the verdict and what changed."""
    lines = [f"{'distance':9s}{'ref twin':>10s}{'ref noise':>10s}{'new twin':>10s}{'new noise':>10s}"
             f"{'replay':>10s}{'drift':>8s}  flag   measures"]
    for key, r in result["distances"].items():
        ref, new = r["reference"], r["new"]
        cells = [ref["twin"], ref["noise"], new["twin"], new["noise"], new["replay"]]
        lines.append(_row(key, cells, r, r["measures"]))
    for key, r in result["plain"].items():
        ref, new = r["reference"], r["new"]
        cells = [ref["twin"], ref["data"], new["twin"], new["data"], None]
        lines.append(_row(key, cells, r, f"{r['measures']} (twin, data)"))
    lines += ["", f"verdict: {result['message']} (threshold {result['threshold']:g})"]
    durations = result["changes"]["durations"]
    if durations:
        lines.append("mean duration (hours), reference -> new window, largest changes (twin on the new):")
        lines += [f"  {d['activity'][:width]:{width}s}{_num(d['reference_hours'], '9.3g')} ->"
                  f"{_num(d['new_hours'], '9.3g')}  ({d['change']:+.0%}, {d['events']} events; "
                  f"twin {_num(d['twin_hours'], '.3g')})" for d in durations]
    return "\n".join(lines)
