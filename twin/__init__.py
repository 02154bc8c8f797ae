"""twin: discrete-event digital twins of operations.

Load a spec, run it, read KPIs with confidence intervals:

    >>> from twin import load_twin, run
    >>> result = run(load_twin("scenarios/examples/clinic.yaml"), replications=5, seed=1)
    >>> summary = result.to_json()
"""

from twin.engine_simpy import Replication, simulate
from twin.errors import SpecError
from twin.loader import dumps_twin, load_twin, loads_twin, parse_twin, spec_sha256
from twin.runner import EngineUnavailable, RunResult, run
from twin.spec import Twin

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
