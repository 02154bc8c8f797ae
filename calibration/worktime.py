"""Waits in working time, as a chain of one-hour steps that each begin only while open.

The engines run a step's duration in clock time: a unit whose shift ends finishes its job.
So a wait of w open hours is replayed as: a first step for the fraction of an hour, then
floor(w) steps of one hour, each needing a unit of the `open_hours` pool (whose shifts are
the site's calendar), so the chain stops at closing and resumes at the next opening, as the
observed waits did. The number of whole hours follows the observed distribution exactly up
to `longest` hours (the branch from step j goes on with the observed P(m > j | m >= j)) and
geometrically beyond it, with the observed mean excess. A wait ending in a closed hour
overshoots by less than an hour: the price of the one-hour grain.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from calibration.fitters import DurationFitter


def _r(value: float) -> float:
    return float(f"{value:.6g}")


def chain_steps(
    name: str, target: str, waits: np.ndarray, pool: str, longest: int = 24
) -> list[dict[str, Any]]:
    """Steps `name` (the fraction), `name_1`..`name_k` (one hour each), ending in `target`."""
    whole = np.floor(waits).astype(int)
    fraction = DurationFitter().fit(waits - whole)
    top = int(min(whole.max(), longest))
    hop = {j: f"{name}_{j}" for j in range(1, top + 1)}
    steps = [_step(name, fraction.spec_, pool, _branch(whole, 0, top, hop, target))]
    for j in range(1, top + 1):
        steps.append(_step(hop[j], 1.0, pool, _branch(whole, j, top, hop, target)))
    return steps


def _branch(whole: np.ndarray, j: int, top: int, hop: dict[int, str], target: str) -> dict[str, float]:
    """Where a wait that has done j whole hours goes next."""
    reached = whole >= j
    if j == top:  # the tail: geometric with the observed mean excess
        excess = float(np.mean(whole[reached] - j))
        on = excess / (1 + excess)
    else:
        on = float(np.mean(whole[reached] > j))
    if on <= 0:
        return {target: 1.0}
    on = _r(on)
    return {hop[min(j + 1, top)]: on, target: 1 - on}  # unrounded rest: the sum is exactly 1


def _step(name: str, duration: Any, pool: str, nxt: dict[str, float]) -> dict[str, Any]:
    return {"name": name, "duration": duration, "resources": {pool: 1}, "next": nxt}
