"""The front door's scripts. scripts/apt-get.sh, through which set-up installs Debian packages,
waits for the package locks another apt/dpkg holds instead of failing: exercised on a lock file
of our own (named by TWIN_APT_LOCKS), with no arguments so that it only waits (apt itself never
runs here). .ci/run stops the PostgreSQL it starts (scripts/postgres.sh stop)."""

import fcntl
import os
import re
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "apt-get.sh"


def _wait(locks: list[Path], timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {**os.environ, "TWIN_APT_LOCKS": ":".join(map(str, locks)),
           "TWIN_APT_LOCK_TIMEOUT": str(timeout)}
    start = time.monotonic()
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    return done, time.monotonic() - start


def _held(path: Path):
    """Hold an fcntl write lock on path, as apt and dpkg do (flock(1) locks are invisible to them)."""
    f = path.open("a")
    fcntl.lockf(f, fcntl.LOCK_EX)
    return f


def test_free_or_missing_locks_pass_at_once(tmp_path):
    free = tmp_path / "lock"
    free.touch()
    done, took = _wait([free, tmp_path / "missing"], timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert took < 10


def test_waits_for_a_held_lock_then_proceeds(tmp_path):
    lock = tmp_path / "lock-frontend"
    f = _held(lock)
    release = threading.Timer(1.5, f.close)  # closing the file drops the lock
    release.start()
    try:
        done, took = _wait([tmp_path / "free", lock], timeout=30)
    finally:
        release.cancel()
        f.close()
    assert done.returncode == 0, done.stderr
    assert took >= 1.4
    assert f"waiting (up to 30 s) for {lock}, held by process {os.getpid()}" in done.stderr
    assert "the package locks are free" in done.stderr


def test_gives_up_after_the_timeout(tmp_path):
    lock = tmp_path / "lock"
    f = _held(lock)
    try:
        done, took = _wait([lock], timeout=1)
    finally:
        f.close()
    assert done.returncode == 1
    assert f"gave up after 1 s: {lock} is held by process {os.getpid()}" in done.stderr
    assert took < 10


def test_setup_scripts_install_through_the_waiting_wrapper():
    for name in ("setup.sh", "postgres.sh"):
        text = (ROOT / "scripts" / name).read_text()
        assert "apt-get.sh" in text
        bare = [line for line in text.splitlines() if re.search(r"(^|[\s;(])apt-get\s", line)]
        assert bare == [], f"{name} runs apt-get directly: {bare}"


def test_ci_stops_the_postgres_it_starts():
    text = (ROOT / ".ci" / "run").read_text()
    stop = text.index("trap 'bash scripts/postgres.sh stop' EXIT")  # on any exit, failing too
    assert stop < text.index('"$(bash scripts/postgres.sh)"')


def test_postgres_stop_and_status_without_a_server(tmp_path):
    env = {**os.environ, "TWIN_PG_DIR": str(tmp_path / "none")}
    script = str(ROOT / "scripts" / "postgres.sh")
    run = [subprocess.run(["bash", script, mode], env=env, capture_output=True, text=True, timeout=60)
           for mode in ("stop", "status", "restart")]
    assert [r.returncode for r in run] == [0, 1, 2], [r.stderr for r in run]
    assert "usage: bash scripts/postgres.sh [start|stop|status]" in run[2].stderr
    assert not (tmp_path / "none").exists()  # neither mode creates anything
