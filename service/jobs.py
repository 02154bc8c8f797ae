"""The job dispatcher: runs queued studies in worker processes, one process per job.

State lives in the database only, so a server killed at any moment loses nothing: at
start-up every job that was running is queued again, and its worker resumes from the
study's finished chunks. Cancelling a running job stops its process (chunks are written
atomically, so a stopped worker leaves whole chunks or none).
"""

from __future__ import annotations

import logging
import threading
from multiprocessing import get_context
from multiprocessing.process import BaseProcess

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from service.db import transaction
from service.models import StudyRow, now
from service.settings import Settings
from service.worker import execute

log = logging.getLogger("twin.service.jobs")


class Dispatcher:
    """Polls the database for work; at most `settings.workers` jobs run at once."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.running: dict[str, BaseProcess] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="twin-dispatcher")
        self._context = get_context("spawn")

    def start(self) -> None:
        requeue(self.factory)
        self._thread.start()

    def close(self) -> None:
        """Stop dispatching; stop running workers and queue their jobs for the next start."""
        self._stop.set()
        self._thread.join(timeout=10)
        for process in self.running.values():
            process.terminate()
            process.join(timeout=5)
        self.running.clear()
        requeue(self.factory)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a database hiccup must not kill the dispatcher
                log.exception("dispatcher tick failed")
            self._stop.wait(self.settings.poll_seconds)

    def tick(self) -> None:
        self._reap()
        self._cancel()
        self._launch()

    def _reap(self) -> None:
        for study_id, process in list(self.running.items()):
            if process.is_alive():
                continue
            process.join()
            del self.running[study_id]
            with transaction(self.factory) as session:  # a worker that died without a word
                session.execute(
                    update(StudyRow)
                    .where(StudyRow.id == study_id, StudyRow.status == "running")
                    .values(
                        status="failed",
                        finished_at=now(),
                        error=f"worker process exited with code {process.exitcode}",
                    )
                )

    def _cancel(self) -> None:
        with transaction(self.factory) as session:
            ids = list(session.scalars(select(StudyRow.id).where(StudyRow.status == "cancelling")))
        for study_id in ids:
            process = self.running.pop(study_id, None)
            if process is not None:
                process.terminate()
                process.join(timeout=10)
            with transaction(self.factory) as session:
                session.execute(
                    update(StudyRow)
                    .where(StudyRow.id == study_id, StudyRow.status == "cancelling")
                    .values(status="cancelled", finished_at=now())
                )

    def _launch(self) -> None:
        free = self.settings.workers - len(self.running)
        if free <= 0:
            return
        with transaction(self.factory) as session:
            query = select(StudyRow.id).where(StudyRow.status == "queued").order_by(StudyRow.created_at)
            ids = list(session.scalars(query.limit(free)))
        for study_id in ids:
            if self._claim(study_id):
                process = self._context.Process(
                    target=execute,
                    name=f"twin-job-{study_id[:8]}",
                    daemon=True,
                    args=(study_id, self.settings.url, str(self.settings.home)),
                )
                process.start()
                self.running[study_id] = process

    def _claim(self, study_id: str) -> bool:
        with transaction(self.factory) as session:
            result = session.execute(
                update(StudyRow)
                .where(StudyRow.id == study_id, StudyRow.status == "queued")
                .values(status="running", started_at=now(), error=None, attempts=StudyRow.attempts + 1)
            )
            return bool(getattr(result, "rowcount", 0))


def requeue(factory: sessionmaker[Session]) -> int:
    """Queue again every job left running (its worker is gone); finish pending cancels."""
    with transaction(factory) as session:
        session.execute(
            update(StudyRow)
            .where(StudyRow.status == "cancelling")
            .values(status="cancelled", finished_at=now())
        )
        result = session.execute(update(StudyRow).where(StudyRow.status == "running").values(status="queued"))
        return int(getattr(result, "rowcount", 0))
