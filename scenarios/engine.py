"""The one door to the engines: every study replication runs through `simulate_one`."""

from __future__ import annotations

from typing import Any, Literal

from twin.replication import Replication
from twin.runner import ENGINES
from twin.spec import Twin


def prepare(twin: Twin, engine: str) -> Any:
    """What `engine` can reuse across replications of one twin: the fast engine's packed
    arrays (compiling a twin costs about a millisecond, a replication less); None for simpy."""
    _check(engine)
    if engine == "fast":
        from twin.engine_fast import Packed  # numba loads only when asked for

        return Packed(twin)
    return None


def simulate_one(twin: Twin, seed: int, replication: int, engine: str = "simpy",
                 trace: bool | Literal["flow"] = False, prepared: Any = None,
                 sample_every: float | None = None) -> Replication:
    """Replication `replication` of `twin` on `engine`, on the named streams of `seed`;
    `prepared` is `prepare(twin, engine)`, when the caller keeps it; `trace`: True, or "flow"
    for its flow alone (twin.replication); `sample_every` records the state series (twin.series)."""
    _check(engine)
    if engine == "fast":
        from twin.engine_fast import simulate_fast

        return simulate_fast(twin, seed, replication, trace, prepared, sample_every)
    from twin.engine_simpy import simulate

    return simulate(twin, seed, replication, trace, sample_every)


def _check(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not '{engine}'")
