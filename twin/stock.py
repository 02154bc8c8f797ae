"""Materials: on-hand stock, reordering (continuous or periodic review), lost sales and
supplier state."""

from __future__ import annotations

import math

from twin.monitors import Level
from twin.spec import Material


class Stock:
    """One material's inventory; the allocator holds its on-hand count in `free`.

    Inventory position = on hand + on order - still-waiting requests. It drops when a
    request is made and rises when an order is placed; a delivery moves stock from on
    order to on hand and leaves the position unchanged.
    """

    def __init__(self, spec: Material, warmup: float) -> None:
        self.name = spec.name
        self.spec = spec
        self.position = spec.initial
        self.on_hand = Level(warmup, spec.initial)
        self.empty = Level(warmup, 1.0 if spec.initial == 0 else 0.0)
        self.requests = 0
        self.filled = 0
        self.lost = 0  # requests lost for want of stock (shortage: lose), after the warm-up
        self.periodic = spec.reorder is not None and spec.reorder.periodic
        self.disrupted = 0  # causes now holding deliveries: a disruption, an outage stress
        self.recovered: object | None = None  # an event that fires when the last one ends

    def order_quantity(self) -> int:
        """What a review orders now. Continuous: 0 unless the position is at or below the
        point. Periodic: up to `up_to` when the position is below it (and, with a point, at
        or below that)."""
        policy = self.spec.reorder
        if policy is None:
            return 0
        if policy.periodic:
            assert policy.up_to is not None
            if self.position >= policy.up_to or (policy.point is not None and self.position > policy.point):
                return 0
            return policy.up_to - self.position
        assert policy.point is not None
        if self.position > policy.point:
            return 0
        if policy.up_to is not None:
            return policy.up_to - self.position
        assert policy.quantity is not None
        return (policy.point - self.position) // policy.quantity * policy.quantity + policy.quantity

    def record(self, now: float, on_hand: int) -> None:
        self.on_hand.set(now, on_hand)
        self.empty.set(now, 1.0 if on_hand == 0 else 0.0)

    def count_request(self, now: float, warmup: float, served_at_once: bool) -> None:
        if now >= warmup:
            self.requests += 1
            self.filled += served_at_once

    def count_lost(self, now: float, warmup: float) -> None:
        if now >= warmup:
            self.lost += 1

    def kpis(self, horizon: float) -> dict[str, float]:
        out = {
            "inventory": self.on_hand.mean(horizon),
            "fill_rate": self.filled / self.requests if self.requests else math.nan,
            "stockout_fraction": self.empty.mean(horizon),
        }
        if self.spec.loses:
            out["lost_sales"] = self.lost / self.requests if self.requests else math.nan
        return out
