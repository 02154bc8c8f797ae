"""Run replications of a twin on an engine and package the result with provenance."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from twin.loader import spec_sha256
from twin.replication import Replication
from twin.results import nest
from twin.spec import Twin

ENGINES = ("simpy", "fast")


class EngineUnavailable(RuntimeError):
    """The requested engine cannot run here (kept for callers; both engines are available)."""


def twin_version() -> str:
    try:
        return version("twin")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class RunResult:
    twin: Twin
    engine: str
    seed: int
    replications: list[Replication] = field(default_factory=list)
    compile_seconds: float = 0.0

    @property
    def records(self) -> list[dict[str, float]]:
        return [r.record for r in self.replications]

    def to_json(self) -> dict[str, Any]:
        """The run output contract of DESIGN.md, plus provenance."""
        return {
            "name": self.twin.name,
            "engine": self.engine,
            "replications": len(self.replications),
            "seed": self.seed,
            **nest(self.records),
            "performance": {
                "events": sum(r.events for r in self.replications),
                "sim_seconds": sum(r.sim_seconds for r in self.replications),
                "compile_seconds": self.compile_seconds,
            },
            "provenance": {
                "spec_sha256": spec_sha256(self.twin),
                "version": twin_version(),
                "seed": self.seed,
                "engine": self.engine,
                "replications": len(self.replications),
            },
        }


def run(
    twin: Twin,
    replications: int = 10,
    seed: int = 1,
    engine: str = "fast",
    trace: bool = False,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> RunResult:
    """Replications 0..n-1 of `twin`, each on its own named streams of `seed`.

    engine "fast" (default) runs the compiled kernel, replications in parallel on
    `workers` Python threads (the kernel releases the GIL; default: all cores; the results
    do not depend on it); "simpy" runs the reference engine, one replication after
    another. Both give the same records.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not '{engine}'")
    if replications < 1:
        raise ValueError("replications must be at least 1")
    result = RunResult(twin, engine, seed)
    if engine == "fast":
        _run_fast(result, replications, trace, progress, workers)
        return result
    from twin.engine_simpy import simulate  # here: the fast engine's runs never load SimPy

    for r in range(replications):
        result.replications.append(simulate(twin, seed, r, trace))
        if progress is not None:
            progress(r + 1)
    return result


def _run_fast(result: RunResult, replications: int, trace: bool,
              progress: Callable[[int], None] | None, workers: int | None) -> None:
    from twin import compiling, engine_fast  # imported here: the SimPy path and the CLI start without numba

    result.compile_seconds = engine_fast.prepare(compiling=compiling.announce)  # a word if it must compile
    packed = engine_fast.Packed(result.twin)  # compiled once per run
    if trace:  # traces come one replication at a time
        for r in range(replications):
            result.replications.append(engine_fast.simulate_fast(result.twin, result.seed, r, True, packed))
            if progress is not None:
                progress(r + 1)
        return
    threads = max(1, workers or os.cpu_count() or 1)
    chunk = 16 * threads  # progress is reported per chunk
    for first in range(0, replications, chunk):
        reps = range(first, min(first + chunk, replications))
        result.replications += engine_fast.simulate_many_fast(result.twin, result.seed, reps, packed,
                                                              workers=threads)
        if progress is not None:
            progress(reps.stop)
