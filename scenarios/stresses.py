"""Random stress windows, drawn once per replication.

A stress with a `random` window draws, in replication r, a uniform u, a start and a length
from its own stream `twin.streams.stream(seed, r, "stress.<name>")`, always all three and
in that order, so every scenario with the same stress sees the same window in replication
r (common random numbers) and drawing shifts no other stream. It occurs when
u < probability: probability 0 never changes a replication, probability 1 always does.
The draws travel with the replication's uncertain inputs as `stress.<name>.occurred`,
`.start` and `.end`, so the results table shows every window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scenarios.spec import ScenarioStress
from scenarios.uncertain import applied
from twin.loader import parse_twin
from twin.policies import Stress
from twin.spec import Twin
from twin.streams import stream


def source(name: str) -> str:
    return f"stress.{name}"


def draw(stress: ScenarioStress, seed: int, replication: int) -> dict[str, float]:
    """This replication's window of a random stress, as input values."""
    assert stress.random is not None
    rng = stream(seed, replication, source(stress.name))
    u = float(rng.random())
    start = float(stress.random.start.sample(rng))
    length = float(stress.random.length.sample(rng))
    key = f"stress.{stress.name}"
    return {f"{key}.occurred": float(u < stress.random.probability), f"{key}.start": start,
            f"{key}.end": start + length}


def draws(stresses: list[ScenarioStress], seed: int, replications: list[int]) -> list[dict[str, float]]:
    """Per replication, the input values of every random stress."""
    out: list[dict[str, float]] = [{} for _ in replications]
    for stress in stresses:
        for row, r in zip(out, replications, strict=True):
            row |= draw(stress, seed, r)
    return out


def closeup_replication(stresses: Sequence[ScenarioStress], seed: int, replications: int) -> int:
    """The replication a close-up shows: the first in which every random stress occurs, else
    the first with any, else 0 (the study keeps its trace; the report draws it)."""
    flags = [[bool(draw(s, seed, r)[f"stress.{s.name}.occurred"]) for s in stresses if s.random is not None]
             for r in range(replications)]
    for test in (all, any):
        hit = next((r for r, row in enumerate(flags) if row and test(row)), None)
        if hit is not None:
            return hit
    return 0


def occurred(stresses: Sequence[ScenarioStress], values: dict[str, float]) -> list[Stress]:
    """The twin stresses of the random stresses that occurred in `values`."""
    out = []
    for stress in stresses:
        key = f"stress.{stress.name}"
        start, end = values.get(f"{key}.start", 0.0), values.get(f"{key}.end", 0.0)
        if values.get(f"{key}.occurred") and end > start:  # a window of zero length changes nothing
            out.append(stress.at(start, end))
    return out


def replication_twin(base: Twin, data: dict[str, Any], source: str, values: dict[str, float],
                     stresses: Sequence[ScenarioStress]) -> Twin:
    """The twin of one replication: `base` (whose plain data is `data`) with its uncertain
    values set, re-validated, and the random stress windows that occurred added. Those were
    checked when the study loaded, so they join without re-checking the whole twin."""
    drawn = {p: v for p, v in values.items() if not p.startswith("stress.")}
    twin = parse_twin(applied(data, drawn), source) if drawn else base
    windows = occurred(stresses, values)
    return twin.model_copy(update={"stresses": [*twin.stresses, *windows]}) if windows else twin
