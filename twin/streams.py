"""One named random stream per stochastic source (DESIGN.md, randomness).

Replication r's stream for source N is
`Generator(PCG64(SeedSequence(seed, spawn_key=(r, crc32(N)))))`: adding a source shifts
no other stream, and scenarios that share a source share its numbers.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, replication: int, source: str) -> np.random.Generator:
    key = (replication, zlib.crc32(source.encode()))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def arrival_source(arrival: str) -> str:
    return f"arrival.{arrival}.interarrival"


def duration_source(activity: str) -> str:
    return f"activity.{activity}.duration"


def setup_source(activity: str) -> str:
    return f"activity.{activity}.setup"


def branch_source(activity: str) -> str:
    return f"activity.{activity}.branch"


def uptime_source(resource: str, unit: int) -> str:
    return f"resource.{resource}.{unit}.uptime"


def repair_source(resource: str, unit: int) -> str:
    return f"resource.{resource}.{unit}.repair"


def maintenance_source(resource: str, unit: int) -> str:
    return f"resource.{resource}.{unit}.maintenance"


def lead_time_source(material: str, supplier: str | None = None) -> str:
    """A material's one `supplier`'s lead times (supplier None), or those of one of its `suppliers`."""
    base = f"material.{material}" if supplier is None else f"material.{material}.supplier.{supplier}"
    return f"{base}.lead_time"


def disruption_sources(material: str, supplier: str | None = None) -> tuple[str, str]:
    base = f"material.{material}" if supplier is None else f"material.{material}.supplier.{supplier}"
    return f"{base}.disruption.every", f"{base}.disruption.duration"


def supplier_choice_source(material: str) -> str:
    """The draw of the supplier of each order, where a material's orders are split by share."""
    return f"material.{material}.supplier_choice"


def surge_source(stress: str) -> str:
    return f"stress.{stress}.arrivals"


def contingency_source(rule: str) -> str:
    return f"contingency.{rule}.lead_time"


def class_source(arrival: str) -> str:
    return f"arrival.{arrival}.class"


def surge_class_source(stress: str) -> str:
    return f"stress.{stress}.class"


def patience_source(activity: str) -> str:
    return f"activity.{activity}.patience"


def balk_source(activity: str) -> str:
    return f"activity.{activity}.balk"
