"""Select the best plan with a statistical guarantee: Kim and Nelson's procedure (KN).

KN (Kim & Nelson 2001) is fully sequential: after n0 first-stage replications of every
plan it adds one replication at a time to the plans still in contention and eliminates
plan i as soon as some plan l beats it by more than the triangular continuation region
W_il(r) = max(0, delta / (2 r) * (h^2 S_il^2 / delta^2 - r)), where S_il^2 is the first-stage
variance of the paired differences (common random numbers are allowed) and
h^2 = 2 eta (n0 - 1), eta = ((2 alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2. When one plan is
left, it is the best with probability >= 1 - alpha whenever the best is at least `delta`
better than the rest (the indifference zone); every plan stops by
N = floor(h^2 max S_il^2 / delta^2) + 1 replications.

The decisions at r use only replications 1..r, so `kim_nelson` replays the procedure on
a table of any length: the study runner adds replications in rounds until it stops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scenarios.analysis import Table, values


def kn_constant(k: int, n0: int, alpha: float) -> float:
    """h^2 of KN for k plans, n0 first-stage replications, error alpha."""
    eta = ((2 * alpha / (k - 1)) ** (-2 / (n0 - 1)) - 1) / 2
    return 2 * eta * (n0 - 1)


def kim_nelson(table: Table, scenarios: Sequence[str], kpi: str, goal: str, delta: float,
               alpha: float = 0.05, n0: int = 10) -> dict[str, Any]:
    """Replay KN on the replications in `table` (paired by replication index)."""
    sign = 1.0 if goal == "max" else -1.0  # KN picks the largest mean
    x = np.array([sign * values(table, s, kpi) for s in scenarios])
    k, n = len(scenarios), x.shape[1] if len(scenarios) else 0
    out: dict[str, Any] = {"method": "Kim-Nelson (KN) fully sequential selection, common random numbers",
                           "kpi": kpi, "goal": goal, "indifference": delta, "confidence": 1 - alpha,
                           "first_stage": n0}
    if k < 2 or n < n0 or np.isnan(x[:, :n0]).any():
        return out | {"done": k == 1, "selected": scenarios[0] if k == 1 else None,
                      "survivors": list(scenarios), "replications": n, "needed": n0, "eliminated": {}}
    h2 = kn_constant(k, n0, alpha)
    s2 = np.array([[np.var(x[i, :n0] - x[j, :n0], ddof=1) for j in range(k)] for i in range(k)])
    needed = max(n0, math.floor(h2 * s2.max() / delta**2) + 1)  # zero variance: decide at n0
    alive, eliminated, r = list(range(k)), {}, n0
    while len(alive) > 1 and r <= min(n, needed):
        means = np.nanmean(x[:, :r], axis=1)
        keep = []
        for i in alive:
            w = [max(0.0, delta / (2 * r) * (h2 * s2[i, j] / delta**2 - r)) for j in alive]
            if all(means[i] >= means[j] - wij for j, wij in zip(alive, w, strict=True) if j != i):
                keep.append(i)
            else:
                eliminated[scenarios[i]] = r
        alive = keep
        r += 1
    done = len(alive) == 1 or r > needed
    best = max(alive, key=lambda i: float(np.nanmean(x[i, :min(n, needed)])))
    return out | {"done": done, "selected": scenarios[best] if done else None,
                  "survivors": [scenarios[i] for i in alive], "replications": min(r - 1, n),
                  "needed": needed, "eliminated": eliminated}


def more_for_kn(result: dict[str, Any], n: int, cap: int) -> int:
    """Replications the study needs for KN to stop (n when it has, or at the cap)."""
    if result.get("done") or n >= cap:
        return n
    return min(cap, max(n + 1, min(result["needed"], n + max(10, n // 2))))
