"""twin: discrete-event digital twins of operations.

Load a spec, run it, read KPIs with confidence intervals:

    >>> from twin import load_twin, run
    >>> result = run(load_twin("scenarios/examples/clinic.yaml"), replications=5, seed=1)
    >>> summary = result.to_json()

The names below are imported on first use, so `twin --help` starts without the engines.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twin.engine_simpy import simulate
    from twin.errors import SpecError
    from twin.loader import dumps_twin, load_twin, loads_twin, parse_twin, spec_sha256
    from twin.replication import Replication
    from twin.runner import EngineUnavailable, RunResult, run
    from twin.spec import Twin

_HOME = {
    "Replication": "twin.replication", "simulate": "twin.engine_simpy", "SpecError": "twin.errors",
    "dumps_twin": "twin.loader", "load_twin": "twin.loader", "loads_twin": "twin.loader",
    "parse_twin": "twin.loader", "spec_sha256": "twin.loader", "EngineUnavailable": "twin.runner",
    "RunResult": "twin.runner", "run": "twin.runner", "Twin": "twin.spec",
}

__all__ = [
    "EngineUnavailable",
    "Replication",
    "RunResult",
    "SpecError",
    "Twin",
    "dumps_twin",
    "load_twin",
    "loads_twin",
    "parse_twin",
    "run",
    "simulate",
    "spec_sha256",
]


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'twin' has no attribute '{name}'")
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
