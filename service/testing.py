"""A real `twin serve` in a subprocess on a free loopback port (for tests and benchmarks)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from service.cli import create_key
from service.settings import Settings

SMALL_TWIN = {  # an M/M/1 that runs in milliseconds: for tests and benchmarks of the service
    "name": "mm1-small",
    "time_unit": "hour",
    "horizon": 2000,
    "warmup": 100,
    "arrivals": [{"name": "jobs", "interarrival": {"dist": "exponential", "mean": 1.0}, "route": "serve"}],
    "activities": [
        {"name": "serve", "duration": {"dist": "exponential", "mean": 0.7}, "resources": {"clerk": 1}}
    ],
    "resources": [{"name": "clerk", "capacity": 1}],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m twin.cli serve` with TWIN_* settings; start(), kill() (SIGKILL), stop()."""

    def __init__(self, home: Path, database_url: str | None = None, **env: str) -> None:
        self.home = home
        self.database_url = database_url
        self.env = {**os.environ, "TWIN_HOME": str(home), **{f"TWIN_{k.upper()}": v for k, v in env.items()}}
        if database_url:
            self.env["TWIN_DATABASE_URL"] = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = home / f"server-{self.port}.log"

    @property
    def settings(self) -> Settings:
        return Settings(home=self.home, database_url=self.database_url)

    def key(self, role: str) -> str:
        return create_key(role, f"test {role}", self.settings)[1]

    def start(self, timeout: float = 60) -> Server:
        self.home.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "twin.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}: {self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError(f"server not up after {timeout} s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (as when a machine dies)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def client(server: Server, key: str | None, timeout: float = 30) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=timeout)


def wait_for(
    api: httpx.Client,
    study_id: str,
    statuses: tuple[str, ...] = ("done", "failed", "cancelled"),
    timeout: float = 180,
) -> dict[str, object]:
    """Poll a study until its status is one of `statuses`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        study: dict[str, object] = api.get(f"/studies/{study_id}").json()
        if study["status"] in statuses:
            return study
        time.sleep(0.2)
    raise TimeoutError(f"study {study_id} still {study['status']} after {timeout} s")
