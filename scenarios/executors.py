"""Where chunks run: `serial` (this process), `processes` (all cores) or `dask`.

Every executor maps a top-level function over picklable items and yields each result as
it finishes, in any order; the runner puts rows back in order, so the table is the same
on every executor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import AbstractContextManager
from multiprocessing import get_context
from types import TracebackType
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
EXECUTORS = ("serial", "processes", "dask")


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


class Processes(_Closing):
    """A pool of spawned worker processes (no fork: safe with threads in the parent)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.pool = ProcessPoolExecutor(self.workers, mp_context=get_context("spawn"))

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        futures = [self.pool.submit(fn, item) for item in items]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
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


class Dask(_Closing):
    """A Dask cluster: `local` starts a LocalCluster of worker processes, else an address."""

    def __init__(self, address: str = "local", workers: int | None = None) -> None:
        from distributed import Client

        self.cluster: Any = None
        if address == "local":
            self.cluster = local_cluster(workers)
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)
        self.workers = max(1, sum(self.client.nthreads().values()))

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        from distributed import as_completed as dask_completed

        futures = [self.client.submit(fn, item, pure=False) for item in items]
        try:
            for future in dask_completed(futures):
                yield future.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
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
