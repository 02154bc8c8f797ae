"""Reading an engine trace: what each row holds beyond its own fields."""

from __future__ import annotations

from twin.spec import Twin

Trace = list[tuple[float, str, int, str]]


def unit_needs(twin: Twin, trace: Trace) -> list[dict[str, int]]:
    """Per trace row, the units a start takes or an end gives back: the step's fixed needs
    and, for a `one_of` step, one unit of the pool its grant named (`by`)."""
    acts = {a.name: a for a in twin.activities}
    chosen: dict[int, str] = {}
    out: list[dict[str, int]] = []
    for _, kind, subject, name in trace:
        needs: dict[str, int] = {}
        if kind == "by":
            chosen[subject] = name
        elif kind in ("start", "end"):
            needs = dict(acts[name].resources)
            if acts[name].one_of:
                needs[chosen[subject]] = 1
        out.append(needs)
    return out
