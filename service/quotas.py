"""Per-key quotas (jobs queued, jobs running, bytes stored) and a per-key rate limit.

Each refusal is a Busy (429) naming the limit and its setting. Queued jobs and storage are
counted in the database, in the transaction that adds the new row, so concurrent
submissions of one key cannot both slip under a quota (SQLite serializes writers; on
PostgreSQL the key's row is locked). Running jobs are capped by the dispatcher, which leaves
a key's further jobs queued. The rate limit is a token bucket per key in each server.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction
from service.errors import Busy
from service.models import ApiKey, CalibrationRow, OptimizationRow, StudyRow, TwinRow
from service.settings import Settings


def admit_job(session: Session, settings: Settings, key: ApiKey, adding: int = 0) -> None:
    """Refuse a new job of `key` (holding `adding` bytes) over its queued or storage quota."""
    _lock(session, key)
    queued = sum(
        session.scalar(select(func.count()).where(table.owner == key.id, table.status == "queued")) or 0
        for table in (StudyRow, CalibrationRow, OptimizationRow)
    )
    if queued >= settings.max_queued_per_key:
        raise Busy(f"this key has {queued} jobs queued: the limit max_queued_per_key = "
                   f"{settings.max_queued_per_key} (TWIN_MAX_QUEUED_PER_KEY); wait for some to start")
    admit_bytes(session, settings, key, adding, locked=True)


def store_job(db: sessionmaker[Session], settings: Settings, key: ApiKey, folder: Path, row: Any) -> Any:
    """Add a new job's row once the key's quotas admit it (its folder's bytes); if they do
    not, or the database fails, the folder goes and the error propagates."""
    try:
        with transaction(db) as session:
            row.bytes = folder_bytes(folder)
            admit_job(session, settings, key, row.bytes)
            session.add(row)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return row


def admit_bytes(session: Session, settings: Settings, key: ApiKey, adding: int, locked: bool = False) -> None:
    """Refuse `adding` bytes more for `key` over its storage quota."""
    if not locked:
        _lock(session, key)
    stored = stored_bytes(session, key.id)
    if stored + adding > settings.max_storage_per_key:
        raise Busy(f"this key stores {stored:,} bytes; {adding:,} more exceed the limit "
                   f"max_storage_per_key = {settings.max_storage_per_key:,} (TWIN_MAX_STORAGE_PER_KEY); "
                   "delete twins or studies")


def stored_bytes(session: Session, owner: str) -> int:
    """Bytes a key holds: its jobs' folders (as last measured) and its twins' specs."""
    jobs = sum(
        int(session.scalar(select(func.coalesce(func.sum(table.bytes), 0)).where(table.owner == owner)) or 0)
        for table in (StudyRow, CalibrationRow, OptimizationRow)
    )
    specs = session.scalars(select(TwinRow.spec).where(TwinRow.owner == owner))
    return jobs + sum(spec_bytes(spec) for spec in specs)


def spec_bytes(spec: object) -> int:
    return len(json.dumps(spec, separators=(",", ":")))


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _lock(session: Session, key: ApiKey) -> None:
    """Serialize one key's admissions (a row lock on PostgreSQL; SQLite's writer lock)."""
    session.execute(select(ApiKey.id).where(ApiKey.id == key.id).with_for_update())


class RateLimit:
    """At most `per_minute` writes per key, with bursts up to that many (a token bucket)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> None:
        with self._lock:
            now = time.monotonic()
            tokens, then = self._buckets.get(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - then) * self.per_minute / 60)
            if tokens < 1:
                wait = (1 - tokens) * 60 / self.per_minute
                raise Busy(f"over the limit rate_per_minute = {self.per_minute} writes a minute for this key "
                           f"(TWIN_RATE_PER_MINUTE); retry in {wait:.1f} s")
            self._buckets[key_id] = (tokens - 1, now)
