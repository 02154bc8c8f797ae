"""Where chunks run: `serial` (this process), `processes` (all cores) or `dask`.

Every executor maps a top-level function over picklable items and yields each result as
it finishes, in any order; the runner puts rows back in order, so the table is the same
on every executor.

A parallel executor starts its workers only when the work pays for them: it runs the first
items in this process, estimates the rest from their time (not the very first's: that one
also loaded the engine, and would make any work look worth splitting), and goes on serially
while the time parallel work would save (on the cores the load average leaves free) is under
twice the cost of starting the workers (`START_SECONDS`). So a small study, or one on a machine
busy with other work, is never slower than serial, and the processes, forked from this one
once per study, inherit the fast engine's kernel loaded by that first item.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
EXECUTORS = ("serial", "processes", "dask")
# Seconds that starting the workers costs, about (a forked pool, a spawned one, a local Dask
# cluster); a parallel executor starts them only when that saves twice as much.
START_SECONDS = {"fork": 0.25, "spawn": 2.0, "dask": 3.0}


class Executor(Protocol):
    workers: int

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class _Closing(AbstractContextManager["_Closing"]):
    workers = 1

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        raise NotImplementedError

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release."""


class Serial(_Closing):
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


def free_cores() -> float:
    """Cores not busy with other work: the cores less the 1-minute load average, counting this
    process's own share as free (at least 1)."""
    return max(1.0, (os.cpu_count() or 1) - os.getloadavg()[0] + 1)


class _Parallel(_Closing):
    """Runs items serially in this process until the estimated rest of the work is worth
    starting workers for (`_start`), then maps the rest on them (`_map`)."""

    def __init__(self, workers: int, start_seconds: float) -> None:
        self.workers = workers
        self.start_seconds = start_seconds
        self.started = False
        self.first: float | None = None  # seconds of the first item run here (loading included)
        self.measured = (0, 0.0)  # items run here after the first, seconds they took

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        rest = list(items)
        while rest and not self.started:
            started = time.perf_counter()
            result = fn(rest.pop(0))
            took = time.perf_counter() - started
            if self.first is None:  # it paid for loading the engine, which the rest never will
                self.first = took
            else:
                n, seconds = self.measured
                self.measured = (n + 1, seconds + took)
            if self.worth_starting(len(rest)):
                self._start()
                self.started = True
            yield result
        if rest:
            yield from self._map(fn, rest)

    def worth_starting(self, remaining: int) -> bool:
        """Whether `remaining` items, estimated at the mean time of those run here after the
        first (which also loaded the engine), save more on the workers (as many at once as there
        are free cores) than twice what starting them costs."""
        n, seconds = self.measured
        if self.workers < 2 or remaining < 2 or n == 0:
            return False
        rest = seconds / n * remaining
        return rest * (1 - 1 / min(self.workers, remaining, free_cores())) > 2 * self.start_seconds

    def _start(self) -> None:
        raise NotImplementedError

    def _map(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        raise NotImplementedError


class Processes(_Parallel):
    """A pool of worker processes, started once per study when the work pays for it: forked on
    Linux (the workers inherit the loaded modules and kernel; they only run chunks, so a
    thread of the parent, such as a progress bar's, is not missed), else spawned."""

    def __init__(self, workers: int | None = None) -> None:
        method = "fork" if sys.platform == "linux" else "spawn"
        super().__init__(workers or os.cpu_count() or 1, START_SECONDS[method])
        self.pool: ProcessPoolExecutor | None = None
        self.context = get_context(method)

    def _start(self) -> None:
        self.pool = ProcessPoolExecutor(self.workers, mp_context=self.context)

    def _map(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        assert self.pool is not None
        futures = [self.pool.submit(fn, item) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def local_cluster(workers: int | None = None) -> Any:
    """A Dask LocalCluster of worker processes on loopback that takes no fixed port: its
    scheduler and HTTP endpoints listen on free ports of 127.0.0.1, so it starts beside
    anything on Dask's defaults (8786, dashboard 8787), with no "port in use" warning.
    No dashboard: without one the scheduler still serves /health and /metrics, on 8787
    unless told otherwise, hence the explicit port 0."""
    from distributed import LocalCluster

    return LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                        host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                        worker_dashboard_address=None,
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


class Dask(_Parallel):
    """A Dask cluster: `local` starts a LocalCluster of worker processes (when the work pays
    for it, as `_Parallel` decides), else connects to a scheduler's address at once."""

    def __init__(self, address: str = "local", workers: int | None = None) -> None:
        super().__init__(workers or os.cpu_count() or 1, START_SECONDS["dask"])
        self.address = address
        self.cluster: Any = None
        self.client: Any = None
        if address != "local":  # a cluster that runs already: no start-up to save
            self._start()
            self.started = True

    def _start(self) -> None:
        from distributed import Client

        if self.address == "local":
            self.cluster = local_cluster(self.workers)
            self.client = Client(self.cluster)
        else:
            self.client = Client(self.address)
            self.workers = max(1, sum(self.client.nthreads().values()))

    def _map(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        from distributed import as_completed as dask_completed

        futures = [self.client.submit(fn, item, pure=False) for item in items]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(kind: str = "processes", address: str | None = None,
                  workers: int | None = None) -> _Closing:
    """An executor by name; use it as a context manager so its workers are released."""
    if kind == "serial":
        return Serial()
    if kind == "processes":
        return Processes(workers)
    if kind == "dask":
        return Dask(address or "local", workers)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, not '{kind}'")
