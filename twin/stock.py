"""Materials: on-hand stock, reordering (continuous or periodic review), lost sales and
supplier state."""

from __future__ import annotations

import math

from twin.monitors import Level
from twin.spec import Material, Supplier


class Vendor:
    """One supplier of a material: whether its deliveries are held, and its orders."""

    def __init__(self, name: str, spec: Supplier) -> None:
        self.name, self.spec = name, spec
        self.disrupted = 0  # causes now holding deliveries: a disruption, an outage stress, a closure
        self.recovered: object | None = None  # an event that fires when the last one ends
        self.orders = 0  # orders placed with it after the warm-up


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
        self.vendors = [Vendor(name, supplier) for name, supplier in spec.sources]
        self.switched: int | None = None  # a contingency switch sends orders to this vendor

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

    def vendor(self, u: float | None) -> int:
        """Who gets an order: the vendor a switch names; else by share, with the uniform draw
        `u`; else the first not disrupted (all disrupted: the primary)."""
        if self.switched is not None:
            return self.switched
        if u is not None:
            return _by_share([s.share or 0.0 for s in self.spec.suppliers], u)
        return next((k for k, v in enumerate(self.vendors) if not v.disrupted), 0)

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
        if self.spec.suppliers:
            orders = sum(v.orders for v in self.vendors)
            out |= {f"suppliers.{v.name}.orders": v.orders / orders if orders else math.nan
                    for v in self.vendors}
        return out


def _by_share(shares: list[float], u: float) -> int:
    """The index whose cumulative share first exceeds u (the last one if rounding leaves u above)."""
    cumulative = 0.0
    for k, share in enumerate(shares):
        cumulative += share
        if u < cumulative:
            return k
    return len(shares) - 1
