"""Service configuration: typed settings read from `TWIN_*` environment variables."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where data lives, how many jobs run at once, and the limits every request obeys."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path("~/.twin").expanduser())
    database_url: str | None = None  # default: SQLite file `HOME/twin.db`
    workers: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1)
    dask: str | None = None  # a Dask scheduler address, or "local": studies' replications run there
    max_body_bytes: int = Field(default=1_000_000, ge=1)  # any request body
    max_upload_bytes: int = Field(default=2_000_000, ge=1)  # an uploaded file
    max_upload_columns: int = Field(default=200, ge=1)  # columns of an uploaded CSV
    max_upload_rows: int = Field(default=1_000_000, ge=1)  # data rows of an uploaded CSV
    max_upload_checks: int = Field(default=2, ge=1)  # uploads checked at once (more: 429)
    upload_check_seconds: float = Field(default=60, gt=0)  # time limit of one upload's check
    # A study's work, estimated from the final twin of every run (service.work):
    max_work: float = Field(default=5_000_000, gt=0)  # replications x runs x horizon (hours)
    max_arrivals: float = Field(default=50_000_000, gt=0)  # expected entities, all replications
    max_events: float = Field(default=500_000_000, gt=0)  # expected engine events, all replications
    max_capacity: int = Field(default=10_000, ge=1)  # units of one pool at its peak
    max_replications: int = Field(default=1000, ge=2)
    max_forecast_events: float = Field(default=20_000_000, gt=0)  # a forecast's events (answered at once)
    max_live_events: int = Field(default=1_000_000, ge=1)  # events kept per live twin
    max_scenarios: int = Field(default=10, ge=1)
    # Per API key (service.quotas): each answered 429 naming the limit
    max_queued_per_key: int = Field(default=20, ge=1)  # studies, calibrations and optimisations waiting
    max_running_per_key: int = Field(default=2, ge=1)  # at once; the key's others wait queued
    max_storage_per_key: int = Field(default=5_000_000_000, ge=1)  # bytes: job folders and twin specs
    rate_per_minute: int = Field(default=120, ge=1)  # writes (POST, DELETE) a minute, bursts as many
    job_seconds: float = Field(default=6 * 3600, gt=0)  # one run of a job; then it is stopped, failed
    worker_memory_mb: int = Field(default=8192, ge=64)  # address space of a job's worker process
    max_attempts: int = Field(default=3, ge=1)  # runs of a job whose worker dies, before it fails
    poll_seconds: float = Field(default=0.2, gt=0)  # how often the dispatcher looks for work
    # A running job's lease: its worker renews it every third of this; a lease not renewed
    # for this long (its server or worker died, or hung) is taken over by any server, and the
    # job resumes from its finished chunks. Servers' clocks must agree well within it (NTP).
    lease_seconds: float = Field(default=30, gt=0)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'twin.db'}"

    @property
    def studies_dir(self) -> Path:
        return self.home / "studies"

    @property
    def calibrations_dir(self) -> Path:
        return self.home / "calibrations"

    @property
    def optimizations_dir(self) -> Path:
        return self.home / "optimizations"

    def prepare(self) -> None:
        """Create the data folders."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.studies_dir.mkdir(exist_ok=True)
        self.calibrations_dir.mkdir(exist_ok=True)
        self.optimizations_dir.mkdir(exist_ok=True)
