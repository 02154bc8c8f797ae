"""The one door to the engines: every study replication runs through `simulate_one`."""

from __future__ import annotations

from twin.engine_simpy import Replication, simulate
from twin.runner import ENGINES
from twin.spec import Twin


def simulate_one(twin: Twin, seed: int, replication: int, engine: str = "simpy",
                 trace: bool = False) -> Replication:
    """Replication `replication` of `twin` on `engine`, on the named streams of `seed`."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not '{engine}'")
    if engine == "fast":
        from twin.engine_fast import simulate_fast  # numba loads only when asked for

        return simulate_fast(twin, seed, replication, trace)
    return simulate(twin, seed, replication, trace)
