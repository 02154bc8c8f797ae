"""Hypothesis strategies for small, valid twin specs (plain dicts, as read from YAML).

Every spec `twins()` draws parses with `twin.loader.parse_twin` by construction:

- activities `act_0 .. act_{n-1}` form a chain: each one branches to the next with
  positive probability (so every activity is reachable from `act_0`, where the first
  arrival routes), may skip ahead or exit early, and the last one always has an `exit`
  branch; at most one rework edge points back (possibly to itself), so every loop has
  an exit;
- branch probabilities are integer weights over their sum, the last one set to
  1 - sum(others), so they sum to 1 within validation tolerance;
- shifts come from one partition of the day into non-overlapping slots, plus at most
  one overlapping extra shift whose capacity fits on top of the others; an activity
  never needs more units of a pool than one single shift puts on duty (a lower bound of
  the peak on duty), nor more than the pool's capacity.

A material may lose sales, review periodically, and have several suppliers (a primary and
backups, or a split by share). An arrival stream is renewal (`interarrival`) or, sometimes,
a weekly `rate_profile` (168 hourly rates with zero hours, scaled to the same bound on
expected arrivals). An activity whose pools cannot fail sometimes measures its duration in
`working_hours`. An activity sometimes takes one unit of any of several pools it does not
otherwise need (`one_of`), some of them with their own duration.

Specs are small (horizon 50-300, a few hundred arrivals at most) so one SimPy
replication takes a few milliseconds; reuse them to compare engines or executors.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Partitions of the day into shift slots that never overlap (an end <= start runs overnight).
SHIFT_SLOTS = (
    (("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00")),
    (("00:00", "08:00"), ("08:00", "16:00"), ("16:00", "24:00")),
    (("07:30", "19:30"), ("19:30", "07:30")),
)
EXTRA_SLOT = ("10:00", "18:00")  # overlaps the slots above

MAX_EXPECTED_ARRIVALS = 150  # per arrival stream over the horizon: keeps runs fast

Spec = dict[str, Any]


def _num(x: float, digits: int = 3) -> float:
    return round(x, digits)


def positive_floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False).map(_num)


@st.composite
def interarrivals(draw: st.DrawFn, low: float = 0.5, high: float = 5.0) -> Spec | float:
    """A renewal time with mean in [low, high]: exponential, gamma, uniform or constant."""
    mean = draw(positive_floats(low, high))
    kind = draw(st.sampled_from(["exponential", "gamma", "uniform", "constant", "bare"]))
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "gamma":
        return {"dist": "gamma", "mean": mean, "cv": draw(positive_floats(0.2, 2.0))}
    if kind == "uniform":
        half = _num(mean * draw(st.floats(0.1, 1.0)))
        return {"dist": "uniform", "low": _num(mean - half), "high": _num(mean + half)}
    if kind == "constant":
        return {"dist": "constant", "value": mean}
    return mean  # a bare number means a constant


UNITS_PER_HOUR = {"minute": 60.0, "hour": 1.0, "day": 1.0 / 24.0}


@st.composite
def rate_profiles(draw: st.DrawFn, time_unit: str, mean_gap: float) -> Spec:
    """A weekly `rate_profile`: `per_hour` with long-run mean gap `mean_gap` time units (many
    hours at rate 0), or `hours` ranges whose rates stay below one per `mean_gap`."""
    if draw(st.booleans()):
        weights = draw(st.lists(st.sampled_from([0, 0, 0, 1, 2, 5]), min_size=168, max_size=168))
        if not any(weights):
            weights[draw(st.integers(0, 167))] = 1
        per_week = 168 / (mean_gap / UNITS_PER_HOUR[time_unit])  # arrivals per week
        scale = per_week / sum(weights)
        return {"per_hour": [_num(w * scale, 6) for w in weights]}
    hours: dict[str, float] = {}
    for _ in range(draw(st.integers(1, 3))):
        days = draw(st.sampled_from(["mon", "mon-fri", "sat,sun", "daily", "fri-mon"]))
        begin, length = draw(st.integers(0, 23)), draw(st.integers(1, 24))
        most = UNITS_PER_HOUR[time_unit] / mean_gap / 3  # per hour; three overlaps at most
        key = f"{days} {begin:02d}:00-{(begin + length) % 24:02d}:00"
        hours[key] = _num(most * draw(st.floats(0.1, 1.0)), 6)
    return {"hours": hours}


@st.composite
def durations(draw: st.DrawFn, low: float = 0.05, high: float = 1.5) -> Spec | float:
    """An activity duration, mean in [low, high], from any contract family (zero allowed)."""
    mean = draw(positive_floats(low, high))
    kind = draw(st.sampled_from([
        "exponential", "gamma", "lognormal", "normal", "weibull",
        "uniform", "triangular", "constant", "empirical", "zero",
    ]))
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "gamma":
        return {"dist": "gamma", "mean": mean, "cv": draw(positive_floats(0.1, 1.5))}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean, "sd": _num(mean * draw(st.floats(0.1, 1.5))) or 0.001}
    if kind == "normal":
        return {"dist": "normal", "mean": mean, "sd": _num(mean * draw(st.floats(0.0, 1.0)))}
    if kind == "weibull":
        shape = draw(positive_floats(0.7, 3.0))
        return {"dist": "weibull", "shape": shape, "scale": _num(mean / math.gamma(1 + 1 / shape)) or 0.001}
    if kind == "uniform":
        half = _num(mean * draw(st.floats(0.0, 1.0)))
        return {"dist": "uniform", "low": _num(mean - half), "high": _num(mean + half)}
    if kind == "triangular":
        low_, high_ = 0.0, _num(2 * mean + 0.001)
        return {"dist": "triangular", "low": low_, "mode": _num(draw(st.floats(low_, high_))), "high": high_}
    if kind == "constant":
        return draw(st.sampled_from([{"dist": "constant", "value": mean}, mean]))
    if kind == "empirical":
        values = draw(st.lists(positive_floats(0.0, 2 * mean), min_size=1, max_size=5))
        return {"dist": "empirical", "values": values}
    return {"dist": "constant", "value": 0}


def branch(weights: dict[str, int]) -> dict[str, float]:
    """Integer weights -> probabilities summing to 1 (the last one takes the remainder)."""
    total = sum(weights.values())
    names = list(weights)
    probs = {name: weights[name] / total for name in names[:-1]}
    probs[names[-1]] = 1.0 - sum(probs.values())
    return probs


@st.composite
def shifts(draw: st.DrawFn, capacity: int) -> tuple[list[Spec], int]:
    """Weekly shifts for a pool of `capacity` units, and a level some shift puts on duty."""
    slots = draw(st.sampled_from(SHIFT_SLOTS))
    chosen = draw(st.lists(st.sampled_from(range(len(slots))), min_size=1, max_size=len(slots),
                           unique=True))
    extra = draw(st.booleans()) and capacity >= 2
    top = capacity - 1 if extra else capacity  # leave room for the overlapping shift
    out = []
    for i in sorted(chosen):
        start, end = slots[i]
        shift: Spec = {"start": start, "end": end, "capacity": draw(st.integers(1, top))}
        if draw(st.booleans()):
            shift["days"] = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
        out.append(shift)
    if extra:
        most = max(s["capacity"] for s in out)
        out.append({
            "days": draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True)),
            "start": EXTRA_SLOT[0], "end": EXTRA_SLOT[1],
            "capacity": draw(st.integers(1, capacity - most)),
        })
    return out, max(s["capacity"] for s in out)


@st.composite
def failures(draw: st.DrawFn) -> Spec:
    """Per-unit breakdowns: uptime mean 20-200 (exponential or Weibull), repair mean 1-10."""
    mean = draw(positive_floats(20, 200))
    if draw(st.booleans()):
        uptime: Spec = {"dist": "exponential", "mean": mean}
    else:
        shape = draw(positive_floats(0.8, 3.0))
        uptime = {"dist": "weibull", "shape": shape, "scale": _num(mean / math.gamma(1 + 1 / shape))}
    repair_mean = draw(positive_floats(1, 10))
    repair = draw(st.sampled_from([
        {"dist": "exponential", "mean": repair_mean},
        {"dist": "constant", "value": repair_mean},
        {"dist": "lognormal", "mean": repair_mean, "sd": _num(repair_mean / 2)},
        {"dist": "uniform", "low": _num(repair_mean / 2), "high": _num(repair_mean * 1.5)},
    ]))
    return {"uptime": uptime, "repair": repair}


@st.composite
def resources(draw: st.DrawFn, name: str) -> tuple[Spec, int]:
    """A pool spec and the most units one activity may ask of it."""
    capacity = draw(st.integers(1, 4))
    spec: Spec = {"name": name, "capacity": capacity}
    most = capacity
    if draw(st.booleans()):
        spec["shifts"], most = draw(shifts(capacity))
    if draw(st.booleans()):
        spec["failures"] = draw(failures())
    return spec, most


@st.composite
def materials(draw: st.DrawFn, name: str) -> Spec:
    spec: Spec = {"name": name, "initial": draw(st.integers(0, 50))}
    if draw(st.integers(0, 3)) == 0:
        spec["shortage"] = "lose"  # lost sales
    if draw(st.integers(0, 3)) == 0:
        return spec  # no replenishment
    point = draw(st.integers(0, 20))
    policy = draw(st.sampled_from(["sS", "rQ", "periodic"]))
    if policy == "sS":
        spec["reorder"] = {"point": point, "up_to": point + draw(st.integers(1, 40))}
    elif policy == "rQ":
        spec["reorder"] = {"point": point, "quantity": draw(st.integers(1, 30))}
    else:  # periodic review, (R, S) or (R, s, S), sometimes with a first-review offset
        spec["reorder"] = {"review": draw(st.sampled_from([1.0, 2.5, 7.0, draw(positive_floats(0.5, 30))])),
                           "up_to": point + draw(st.integers(1, 40))}
        if draw(st.booleans()):
            spec["reorder"]["point"] = point
        if draw(st.booleans()):
            spec["reorder"]["first_review"] = draw(st.sampled_from([0.0, 2.5, draw(positive_floats(0, 40))]))
    if draw(st.integers(0, 2)) > 0:
        spec["supplier"] = draw(suppliers())
        return spec
    several = [{"name": f"sup_{k}", **draw(suppliers())} for k in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):  # a split by share; else the first is the primary, the others backups
        shares = branch({s["name"]: draw(st.integers(1, 4)) for s in several})
        several = [{**s, "share": shares[s["name"]]} for s in several]
    spec["suppliers"] = several
    return spec


@st.composite
def suppliers(draw: st.DrawFn) -> Spec:
    """A supplier: gamma or constant lead times, sometimes disruptions."""
    if draw(st.booleans()):
        lead: Spec | float = {"dist": "gamma", "mean": draw(positive_floats(1, 20)),
                              "cv": draw(positive_floats(0.1, 1.0))}
    else:
        lead = {"dist": "constant", "value": draw(st.sampled_from([0.0, 1.0, 2.5, 5.0, 12.0]))}
    supplier: Spec = {"lead_time": lead}
    if draw(st.booleans()):
        low = draw(positive_floats(1, 10))
        supplier["disruptions"] = {
            "every": {"dist": "exponential", "mean": draw(positive_floats(10, 100))},
            "duration": draw(st.sampled_from([
                {"dist": "uniform", "low": low, "high": _num(low + 10)},
                {"dist": "constant", "value": low},
            ])),
        }
    return supplier


@st.composite
def working_hours(draw: st.DrawFn) -> Spec:
    """Office hours, two daily windows with a half-pace one, or 168 random shares."""
    form = draw(st.integers(0, 2))
    if form == 0:
        return {"hours": {"mon-fri 09:00-17:00": 1.0}}
    if form == 1:
        return {"hours": {"daily 06:00-12:00": 1.0, "daily 13:00-22:00": 0.5}}
    shares = draw(st.lists(st.sampled_from([0.0, 0.0, 0.25, 0.5, 1.0]), min_size=168, max_size=168))
    return {"per_hour": shares if any(shares) else [1.0] * 168}


@st.composite
def activities(
    draw: st.DrawFn, count: int, pools: dict[str, int], stocks: list[str],
    failing: frozenset[str] = frozenset(),
) -> list[Spec]:
    """`count` chained activities (see module docstring) using `pools` (name -> most units);
    `failing`: pools that can go down (their steps keep clock-time durations)."""
    names = [f"act_{i}" for i in range(count)]
    rework = draw(st.none() | st.integers(0, count - 1))  # the activity that may send work back
    out = []
    for i, name in enumerate(names):
        weights: dict[str, int] = {}
        if i + 1 < count:
            weights[names[i + 1]] = draw(st.integers(1, 4))
            for j in range(i + 2, count):  # skip ahead
                if draw(st.integers(0, 3)) == 0:
                    weights[names[j]] = draw(st.integers(1, 2))
            if draw(st.integers(0, 3)) == 0:  # leave early
                weights["exit"] = draw(st.integers(1, 2))
        else:
            weights["exit"] = draw(st.integers(1, 4))
        if rework == i:
            back = names[draw(st.integers(0, i))]
            weights[back] = weights.get(back, 0) + 1  # rework at most 1 / (1 + others)
        keys = list(weights)
        order = draw(st.permutations(keys))
        weights = {k: weights[k] for k in order}
        spec: Spec = {"name": name, "duration": draw(durations())}
        if len(weights) == 1:
            (target,) = weights
            if target == "exit":
                choice = draw(st.sampled_from(["omit", "string", "dict"]))
            else:
                choice = draw(st.sampled_from(["string", "dict"]))
            if choice == "string":
                spec["next"] = target
            elif choice == "dict":
                spec["next"] = {target: 1.0}
        else:
            spec["next"] = branch(weights)
        needs = {p: draw(st.integers(1, most)) for p, most in pools.items() if draw(st.booleans())}
        if needs:
            spec["resources"] = needs
        others = [p for p in pools if p not in needs]
        if others and draw(st.integers(0, 2)) == 0:
            skilled = draw(st.lists(st.sampled_from(others), min_size=1, max_size=len(others), unique=True))
            spec["one_of"] = skilled
            own = {p: draw(durations()) for p in skilled if draw(st.booleans())}
            if own:
                spec["durations"] = own
        consumes = {m: draw(st.integers(1, 3)) for m in stocks if draw(st.integers(0, 2)) == 0}
        if consumes:
            spec["consumes"] = consumes
        if not (set(needs) | set(spec.get("one_of", []))) & failing and draw(st.integers(0, 3)) == 0:
            spec["working_hours"] = draw(working_hours())
        out.append(spec)
    return out


@st.composite
def twins(
    draw: st.DrawFn,
    max_activities: int = 4,
    max_resources: int = 3,
    max_materials: int = 2,
    time_units: tuple[str, ...] = ("hour", "hour", "hour", "minute", "day"),
) -> Spec:
    """A small valid twin spec as plain data (see the module docstring)."""
    horizon = draw(st.integers(50, 300))
    warmup = _num(horizon * draw(st.floats(0.0, 0.2)), 2)
    spec: Spec = {"name": "hypothesis-twin", "time_unit": draw(st.sampled_from(time_units)),
                  "horizon": horizon}
    if warmup > 0 or draw(st.booleans()):
        spec["warmup"] = warmup
    if draw(st.booleans()):  # calendar start somewhere in the week, quarter-hour aligned
        quarter = draw(st.integers(0, 7 * 96 - 1))
        spec["start"] = f"2026-01-{5 + quarter // 96:02d}T{quarter % 96 // 4:02d}:{quarter % 4 * 15:02d}:00"

    pools: dict[str, int] = {}
    pool_specs = []
    for i in range(draw(st.integers(0, max_resources))):
        pool, most = draw(resources(f"pool-{i}"))
        pool_specs.append(pool)
        pools[pool["name"]] = most
    stock_specs = [draw(materials(f"mat_{i}")) for i in range(draw(st.integers(0, max_materials)))]

    count = draw(st.integers(1, max_activities))
    failing = frozenset(p["name"] for p in pool_specs if "failures" in p)
    acts = draw(activities(count, pools, [m["name"] for m in stock_specs], failing))
    arrivals = []
    for i in range(draw(st.integers(1, 2))):
        low = max(0.5, horizon / MAX_EXPECTED_ARRIVALS)
        route = "act_0" if i == 0 else draw(st.sampled_from([a["name"] for a in acts]))
        if draw(st.integers(0, 3)) == 0:
            gap = draw(positive_floats(low, 5.0))
            source: Spec = {"rate_profile": draw(rate_profiles(spec["time_unit"], gap))}
        else:
            source = {"interarrival": draw(interarrivals(low, 5.0))}
        arrivals.append({"name": f"arr_{i}", **source, "route": route})

    spec |= {"arrivals": arrivals, "activities": acts}
    if pool_specs or draw(st.booleans()):
        spec["resources"] = pool_specs
    if stock_specs or draw(st.booleans()):
        spec["materials"] = stock_specs
    return spec


@st.composite
def policies(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with random due dates, stress windows, contingency rules and costs that are
    valid for it (twin.policies), windows and thresholds where they bite."""
    spec = {**spec, "arrivals": [dict(a) for a in spec["arrivals"]]}
    horizon = spec["horizon"]
    pools = {p["name"]: p for p in spec.get("resources", [])}
    supplied = [m["name"] for m in spec.get("materials", []) if "supplier" in m or "suppliers" in m]
    several = {m["name"]: [s["name"] for s in m["suppliers"]] for m in spec.get("materials", [])
               if "suppliers" in m}
    stocked = [m["name"] for m in spec.get("materials", [])]
    queued = [a["name"] for a in spec["activities"]
              if a.get("resources") or a.get("one_of") or a.get("consumes")]
    for arrival in spec["arrivals"]:
        if draw(st.booleans()):
            arrival["due"] = _num(draw(st.floats(0.5, horizon / 4)))

    def window() -> tuple[float, float]:
        start = _num(draw(st.floats(0.0, horizon * 0.9)))
        return start, _num(start + draw(st.floats(0.5, horizon / 2)))

    kinds = [("demand_surge", [a["name"] for a in spec["arrivals"]])]
    kinds += [(k, list(pools)) for k in ("equipment_down", "staff_absence", "failure_rate")]
    kinds += [(k, supplied) for k in ("supplier_outage", "lead_time")]
    stresses = []
    for i in range(draw(st.integers(0, 4))):
        kind, targets = draw(st.sampled_from([k for k in kinds if k[1]]))
        start, end = window()
        stress: Spec = {"name": f"stress_{i}", "kind": kind, "target": draw(st.sampled_from(targets)),
                        "start": start, "end": end}
        if kind in ("equipment_down", "staff_absence") and draw(st.booleans()):
            stress["units"] = draw(st.integers(1, pools[stress["target"]]["capacity"]))
        if kind in ("demand_surge", "failure_rate", "lead_time"):
            stress["factor"] = _num(draw(st.floats(1.2, 4.0)))
        if stress["target"] in several and kind in ("supplier_outage", "lead_time") and draw(st.booleans()):
            stress["supplier"] = draw(st.sampled_from(several[stress["target"]]))  # one of them
        stresses.append(stress)
    rules = []
    for i in range(draw(st.integers(0, 3))):
        whens = ([{"stock": m, "below": draw(st.integers(1, 20))} for m in stocked[:1]]
                 + [{"queue": a, "above": draw(st.integers(0, 6))} for a in queued[:1]]
                 + [{"down": p, "units": 1, "for": _num(draw(st.floats(0.0, 10.0)))}
                    for p, spec_ in list(pools.items())[:1] if "failures" in spec_])
        actions = ([{"order": {"material": m, "quantity": draw(st.integers(1, 30)),
                               "lead_time": draw(interarrivals(0.5, 5.0))}} for m in stocked[:1]]
                   + [{"overtime": {"pool": p, "units": 1, "duration": _num(draw(st.floats(0.5, 20)))}}
                      for p in list(pools)[:1]]
                   + [{"switch": {"material": m, "supplier": names[-1],
                                  "duration": _num(draw(st.floats(0.5, 20)))}}
                      for m, names in list(several.items())[:1]]
                   + [{"reroute": {"from": a, "to": b, "duration": _num(draw(st.floats(0.5, 20)))}}
                      for a in queued[:1] for b in [x["name"] for x in spec["activities"]][:2] if b != a][:1])
        if not whens or not actions:
            break
        rule: Spec = {"name": f"rule_{i}", "when": draw(st.sampled_from(whens)),
                      "action": draw(st.sampled_from(actions)), "delay": _num(draw(st.floats(0.0, 5.0)))}
        if draw(st.booleans()):
            rule["max_activations"] = draw(st.integers(1, 5))
        rules.append(rule)
    if any("reroute" in r["action"] for r in rules[1:]) and len(
            [r for r in rules if "reroute" in r["action"]]) > 1:
        rules = [r for r in rules if "reroute" not in r["action"]] + [
            next(r for r in rules if "reroute" in r["action"])]
    downed = {s["target"] for s in stresses if s["kind"] == "equipment_down"}
    spec["activities"] = [  # a job on a pool that can go down runs in clock time
        {k: v for k, v in a.items()
         if k != "working_hours" or not (set(a.get("resources", {})) | set(a.get("one_of", []))) & downed}
        for a in spec["activities"]
    ]
    spec |= {"stresses": stresses, "contingency": rules}
    if draw(st.booleans()):
        spec["costs"] = {"resources": {p: {"per_time": 1.0, "overtime_per_time": 0.5, "per_repair": 3.0}
                                       for p in pools},
                         "materials": {m: {"holding": 0.01, "per_stockout": 2.0} for m in stocked},
                         "per_late": 1.5}
    return spec


@st.composite
def queueing(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with entity classes on its streams and, on activities that wait for units,
    random priorities, per-class durations and branches, patience, waiting rooms and
    balking, blocking when full, and where those who leave go (twin.spec.Activity).
    Per-class branches keep the activity's own targets, so every activity still reaches
    `exit`; `abandon_to` and `lost_to` only point ahead, so turning away never loops at
    one instant nor leads back into a rerouting rule's source."""
    spec = {**spec, "arrivals": [dict(a) for a in spec["arrivals"]],
            "activities": [dict(a) for a in spec["activities"]]}
    classes: list[str] = []
    for arrival in spec["arrivals"]:
        names = draw(st.lists(st.sampled_from(["gold", "silver", "bronze"]), max_size=3, unique=True))
        if len(names) > 1 or (names and draw(st.booleans())):
            arrival["classes"] = branch({c: draw(st.integers(1, 4)) for c in names})
            if "due" in arrival and draw(st.booleans()):
                arrival["class_due"] = {names[0]: _num(draw(st.floats(0.5, 20.0)))}
        classes += list(arrival.get("classes", {})) or [arrival["name"]]
    classes = list(dict.fromkeys(classes))
    spec["stresses"] = [  # a demand surge may bring its own mix of classes
        {**x, "classes": branch({c: draw(st.integers(1, 3)) for c in classes})}
        if x["kind"] == "demand_surge" and draw(st.booleans()) else x
        for x in spec.get("stresses", [])
    ]
    if "costs" in spec and draw(st.booleans()):  # a class's own price of lateness
        spec["costs"] = {**spec["costs"], "per_late_class": {classes[0]: _num(draw(st.floats(0.0, 9.0)))}}
    acts = spec["activities"]
    for i, act in enumerate(acts):
        if draw(st.integers(0, 2)) == 0:
            act["priority"] = {c: draw(st.integers(0, 2)) for c in classes if draw(st.booleans())}
        if "durations" not in act and draw(st.integers(0, 3)) == 0:
            act["class_durations"] = {classes[0]: draw(durations())}
        targets = list(act["next"]) if isinstance(act.get("next"), dict) else [act.get("next", "exit")]
        if draw(st.integers(0, 3)) == 0:
            act["class_next"] = {classes[-1]: branch({t: draw(st.integers(1, 3)) for t in targets})}
        if not (act.get("resources") or act.get("one_of")):
            continue
        if act.get("priority") and "working_hours" not in act and draw(st.booleans()):
            act["preempt"] = True
        if draw(st.integers(0, 2)) == 0:
            act["patience"] = draw(durations(0.2, 5.0))
            if i + 1 < len(acts) and draw(st.booleans()):
                act["abandon_to"] = acts[draw(st.integers(i + 1, len(acts) - 1))]["name"]
        if len(classes) > 1 and draw(st.integers(0, 3)) == 0:
            act["class_patience"] = {classes[0]: draw(durations(0.2, 5.0))}
        if draw(st.integers(0, 2)) == 0:
            act["queue_capacity"] = draw(st.integers(0, 4))
        if draw(st.integers(0, 3)) == 0:
            act["join"] = draw(st.lists(st.sampled_from([1.0, 0.7, 0.3, 0.0]), min_size=1, max_size=4))
        if ("queue_capacity" in act or "join" in act) and i + 1 < len(acts) and draw(st.booleans()):
            act["lost_to"] = acts[draw(st.integers(i + 1, len(acts) - 1))]["name"]
        if "queue_capacity" in act and "lost_to" not in act and draw(st.integers(0, 2)) == 0:
            act["when_full"] = "block"  # work ahead waits where it is, holding its units
        if "abandon_to" in act and "patience" not in act and "class_patience" not in act:
            del act["abandon_to"]
    return spec


@st.composite
def upkeep(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with planned maintenance (by age, weekly, or both) on some pools, and repair and
    maintenance crews taken from pools that never go down, some of them urgent, and units that
    wear by operating time or by jobs. Activities on a
    pool that now goes down lose `working_hours` (the spec forbids the two together)."""
    pools = [dict(p) for p in spec.get("resources", [])]
    downed = {s["target"] for s in spec.get("stresses", []) if s["kind"] == "equipment_down"}
    for pool in pools:
        if draw(st.integers(0, 2)) == 0:
            care: Spec = {"duration": draw(durations(0.5, 6.0))}
            if draw(st.booleans()):
                care["every"] = _num(draw(st.floats(5.0, 120.0)))
            if "every" not in care or draw(st.booleans()):
                days = draw(st.sampled_from(["mon", "sun", "mon-fri", "daily", "tue,thu"]))
                hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 30]))
                care["weekly"] = [f"{days} {hour:02d}:{minute:02d}"]
            pool["maintenance"] = care
    down = {p["name"] for p in pools if "failures" in p or "maintenance" in p} | downed
    if down and draw(st.booleans()):  # a crew pool of its own, sometimes on shifts
        fitters: Spec = {"name": "fitters", "capacity": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            fitters["shifts"], _ = draw(shifts(fitters["capacity"]))
        pools.append(fitters)
    crews = [p for p in pools if p["name"] not in down]
    for pool in pools:
        for field in ("failures", "maintenance"):
            if field in pool and crews and draw(st.booleans()):
                crew = draw(st.sampled_from(crews))
                pool[field] = {**pool[field], "crew": {crew["name"]: draw(st.integers(1, _fewest(crew)))}}
                if draw(st.booleans()):
                    pool[field]["urgent"] = True
    down |= {p["name"] for p in pools if "maintenance" in p}
    for pool in pools:  # wear by use where something wears out
        if ("failures" in pool or "every" in pool.get("maintenance", {})) and draw(st.integers(0, 2)) == 0:
            pool["wear"] = draw(st.sampled_from(["operating", "jobs"]))
    acts = [{k: v for k, v in a.items()
             if k != "working_hours" or not (set(a.get("resources", {})) | set(a.get("one_of", []))) & down}
            for a in spec["activities"]]
    return {**spec, "resources": pools, "activities": acts} if pools else spec


def _fewest(pool: Spec) -> int:
    """A crew size the pool always can give when some shift is on (its smallest shift, or capacity)."""
    return min([s["capacity"] for s in pool.get("shifts", [])] or [pool["capacity"]])


BATCH_EXCLUDES = ("consumes", "produces", "class_durations", "priority", "preempt", "patience",
                  "class_patience", "queue_capacity", "join", "when_full")


@st.composite
def batches(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with batches (size 1-4, sometimes a timeout and a smallest partial batch) on some
    activities that neither consume nor let work give up, be turned away or preempt."""
    acts = []
    for act in spec["activities"]:
        act = dict(act)
        if not any(k in act for k in BATCH_EXCLUDES) and draw(st.integers(0, 2)) == 0:
            batch: Spec = {"size": draw(st.integers(1, 4))}
            if draw(st.booleans()):
                batch["timeout"] = _num(draw(st.floats(0.2, 10.0)))
                if draw(st.booleans()):
                    batch["min_size"] = draw(st.integers(1, batch["size"]))
            act["batch"] = batch
        acts.append(act)
    return {**spec, "activities": acts}


@st.composite
def assembly(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with some activities (not batches) producing into its materials: parts for the
    steps that consume them."""
    mats = [m["name"] for m in spec.get("materials", [])]
    if not mats:
        return spec
    acts = []
    for act in spec["activities"]:
        act = dict(act)
        if "batch" not in act and draw(st.integers(0, 2)) == 0:
            made = {m: draw(st.integers(1, 3)) for m in mats if draw(st.booleans())}
            act["produces"] = made or {mats[0]: 1}
        acts.append(act)
    return {**spec, "activities": acts}


@st.composite
def setups(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with set-ups (a step's, sometimes a class's own) on some activities that take units
    and do not batch."""
    classes = [c for a in spec["arrivals"] for c in (a.get("classes") or [a["name"]])]
    acts = []
    for act in spec["activities"]:
        act = dict(act)
        if (act.get("resources") or act.get("one_of")) and "batch" not in act and draw(st.integers(0, 1)):
            if draw(st.booleans()):
                act["setup"] = draw(durations(0.05, 2.0))
            if not act.get("setup") or draw(st.booleans()):
                act["class_setups"] = {classes[0]: draw(durations(0.05, 2.0))}
        acts.append(act)
    return {**spec, "activities": acts}


@st.composite
def closures(draw: st.DrawFn, spec: Spec) -> Spec:
    """`spec` with plant closures (every pool with shifts off) and closures of its suppliers, as
    calendar dates somewhere in (or around) the horizon."""
    start = datetime.fromisoformat(str(spec.get("start", "2026-01-05T00:00:00")))
    hours = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}[spec.get("time_unit", "hour")] * spec["horizon"]

    def window(name: str) -> Spec:
        begin = start + timedelta(hours=draw(st.floats(-0.2, 1.0)) * hours)
        end = begin + timedelta(hours=draw(st.floats(0.01, 0.4)) * hours)
        return {"name": name, "from": begin.isoformat(timespec="seconds"),
                "to": end.isoformat(timespec="seconds")}

    out = {**spec}
    if draw(st.booleans()):
        out["closures"] = [window(f"shut_{i}") for i in range(draw(st.integers(1, 2)))]
    mats = []
    for m in spec.get("materials", []):
        m = dict(m)
        if "supplier" in m and draw(st.booleans()):
            m["supplier"] = {**m["supplier"], "closures": [window("holiday")]}
        elif m.get("suppliers") and draw(st.booleans()):
            m["suppliers"] = [{**m["suppliers"][0], "closures": [window("holiday")]}, *m["suppliers"][1:]]
        mats.append(m)
    if mats:
        out["materials"] = mats
    return out
