"""Valid, unique spec names for the labels of a log (activities, resources)."""

from __future__ import annotations

import re
from collections.abc import Iterable

WAIT = "wait_"  # the prefix of a wait step: a delay before an activity that takes no units


def slugs(labels: Iterable[str], reserved: Iterable[str] = (), prefix: str = "") -> dict[str, str]:
    """label -> unique valid spec name: `prefix` and the label's letters, digits, _ and -
    (at most 48 characters), never one of `reserved` nor the `wait_` step of a name taken."""
    out: dict[str, str] = {}
    taken = set(reserved)
    for label in labels:
        base = prefix + (re.sub(r"[^A-Za-z0-9_\-]+", "_", label).strip("_-")[:40] or "activity")
        if not re.match(r"[A-Za-z_]", base):
            base = f"a_{base}"
        name, k = base, 2
        while name in taken or WAIT + name in taken:
            name, k = f"{base}_{k}", k + 1
        taken |= {name, WAIT + name}
        out[label] = name
    return out
