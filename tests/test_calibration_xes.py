"""XES input: lifecycle start/complete pairs become activity instances, drops are counted."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from calibration.loaders import CalibrationDataError, load_events

TINY = Path(__file__).parent / "data" / "tiny.xes"


def test_xes_pairs_starts_with_completes_and_counts_drops(tmp_path: Path) -> None:
    log, report = load_events(TINY)
    assert list(log["case_id"]) == ["c1", "c1", "c1", "c2"]
    assert list(log["activity"]) == ["Check", "Check", "Pay", "Check"]
    assert list(log["resource"]) == ["ann", "bob", "cat", "ann"]
    minutes = (log["end_time"] - log["start_time"]).dt.total_seconds() / 60
    assert list(minutes) == [30, 60, 0, 45]  # the complete-only Pay is an instant
    assert log["start_time"].iloc[0] == pd.Timestamp("2026-01-05 08:00")  # +01:00 kept: local wall clock
    assert "+01:00" in report.clock
    utc = load_events(TINY, timezone="UTC")[0]
    assert utc["start_time"].iloc[0] == pd.Timestamp("2026-01-05 07:00")
    assert report.dropped == {
        "XES starts never completed": 1,
        "XES events of other lifecycle transitions": 1,
    }
    packed = tmp_path / "tiny.xes.gz"
    packed.write_bytes(gzip.compress(TINY.read_bytes()))
    assert load_events(packed)[0].equals(log)


def test_broken_xes_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xes"
    bad.write_text("<log><trace>")
    with pytest.raises(CalibrationDataError, match=r"bad\.xes: cannot read as XES"):
        load_events(bad)
    with pytest.raises(CalibrationDataError, match="no such file"):
        load_events(tmp_path / "none.xes")
