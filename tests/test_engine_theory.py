"""The SimPy engine against exact queueing, reliability and inventory theory.

Every statistical check runs independent replications (warm-up removed), takes the
per-replication estimates of one KPI, builds the t-based 99% confidence interval of their
mean and asserts that the exact value lies inside it. No loose tolerances: the interval is
also required to be narrow (a few percent of the exact value), so a check can neither pass
by being vague nor by accident of a wide interval. Seeds are fixed, so every run of this
file sees the same numbers; they were chosen before looking at any result.

The theory twins live in ``tests/twins/*.yaml`` (reusable by other tests); the exact values
come from ``tests/theory.py``, which is itself checked in ``tests/test_theory.py``.
Deterministic checks (shift capacity, sample-path Little's law, reproducibility) use exact
equality.
"""

from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))  # robust to pytest import modes

import theory

from twin.calendar import parse_clock
from twin.loader import load_twin
from twin.runner import run
from twin.spec import Twin

HERE = Path(__file__).resolve().parent
TWINS = HERE / "twins"
ROOT = HERE.parent
CONFIDENCE = 0.99
MAX_REL_HALF_WIDTH = 0.05  # "a few percent": every CI must be at least this tight


def _example_twins() -> list[Path]:
    """Shipped example twins (scenario files in the same folder are left out)."""
    found = []
    for path in sorted((ROOT / "scenarios" / "examples").glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and "arrivals" in data and "activities" in data:
            found.append(path)
    return found


EXAMPLES = _example_twins()  # globbed at import time


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def twin_file(name: str) -> Twin:
    return load_twin(TWINS / f"{name}.yaml")


@functools.cache
def records(name: str, replications: int, seed: int, **changes: float) -> tuple[dict, ...]:
    """Per-replication KPI records of a theory twin (cached across tests of this module)."""
    twin = twin_file(name)
    if changes:
        twin = _changed(twin, **changes)
    return tuple(run(twin, replications, seed).records)


def _changed(twin: Twin, **changes: object) -> Twin:
    """A validated copy of `twin` with top-level fields or `arrivals[0].interarrival.mean`."""
    data = twin.model_dump(mode="json")
    if "interarrival_mean" in changes:
        data["arrivals"][0]["interarrival"]["mean"] = changes.pop("interarrival_mean")
    data.update(changes)
    return Twin.model_validate(data)


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """(mean, half-width) of the t-based confidence interval over replications."""
    x = np.asarray(values, dtype=float)
    assert x.size >= 2 and np.all(np.isfinite(x)), f"need >= 2 finite estimates, got {x}"
    half = stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def check_against_theory(
    recs: Sequence[Mapping[str, float]],
    exact: Mapping[str, float],
    max_rel_half_width: float = MAX_REL_HALF_WIDTH,
) -> None:
    """For each KPI: the exact value lies in the 99% CI, and the CI is tight.

    Every KPI is checked before failing, so one failure report shows the whole table.
    """
    rows, problems = [], []
    for key, value in exact.items():
        mean, half = t_interval([r[key] for r in recs])
        rows.append(f"  {key:40s} {mean:12.6g} ± {half:<10.3g} exact {value:.6g}")
        if not abs(mean - value) <= half:
            problems.append(f"{key}: exact {value:.6g} outside {mean:.6g} ± {half:.3g}")
        if not half <= max_rel_half_width * abs(value):
            problems.append(f"{key}: CI half-width {half:.3g} is more than "
                            f"{max_rel_half_width:.0%} of {value:.6g}; run longer")
    assert not problems, "\n".join([*problems, "99% CIs over replications:", *rows])


def per_time(recs: Sequence[Mapping[str, float]], key: str, twin: Twin) -> list[dict[str, float]]:
    """Records with `key` (a count after warm-up) turned into a rate per unit time."""
    window = twin.horizon - twin.warmup
    return [{**r, key: r[key] / window} for r in recs]


# ---------------------------------------------------------------------------
# 1. M/M/1 and M/M/c (Erlang C)
# ---------------------------------------------------------------------------


def mmc_exact(servers: int, lam: float, mean_service: float) -> dict[str, float]:
    wq = theory.mmc_mean_wait(servers, lam, mean_service)
    return {
        "activities.serve.wait": wq,
        "activities.serve.queue_length": theory.mmc_mean_queue(servers, lam, mean_service),
        "resources.clerk.utilization": lam * mean_service / servers,
        "throughput": lam,
        "activities.serve.completed": lam,  # per unit time after warm-up
        "cycle_time": wq + mean_service,
        "wip": lam * (wq + mean_service),
    }


def test_mm1_matches_erlang_c() -> None:
    twin = twin_file("mm1")
    recs = per_time(records("mm1", 20, 101), "activities.serve.completed", twin)
    check_against_theory(recs, mmc_exact(1, 1.0, 0.7))


def test_mm1_at_half_pace_working_time_matches_erlang_c() -> None:
    """Work at half pace in every hour (`working_hours` share 0.5): service of mean 0.35
    working hours is exponential with mean 0.7 clock hours, so the exact M/M/1 values hold."""
    twin = twin_file("mm1_half_pace")
    recs = per_time(records("mm1_half_pace", 20, 101), "activities.serve.completed", twin)
    check_against_theory(recs, mmc_exact(1, 1.0, 0.7))


@pytest.mark.slow
def test_mm3_matches_erlang_c() -> None:
    twin = twin_file("mm3")
    recs = per_time(records("mm3", 20, 102), "activities.serve.completed", twin)
    check_against_theory(recs, mmc_exact(3, 1.0, 2.4))


@pytest.mark.slow
def test_mm3_as_three_skilled_pools_matches_erlang_c() -> None:
    """Three one-person pools with the same skill (`one_of`) form one M/M/3 line: whoever
    is free takes the longest-waiting job. Their utilisations add up to lambda * E[S]."""
    twin = twin_file("mm3_skills")
    recs = [{**r, "busy": sum(r[f"resources.{p}.utilization"] for p in ("ann", "bo", "cy"))}
            for r in per_time(records("mm3_skills", 20, 102), "activities.serve.completed", twin)]
    exact = mmc_exact(3, 1.0, 2.4)
    del exact["resources.clerk.utilization"]
    check_against_theory(recs, {**exact, "busy": 2.4})


# ---------------------------------------------------------------------------
# 2. M/G/1 with lognormal service (Pollaczek-Khinchine)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_mg1_lognormal_matches_pollaczek_khinchine() -> None:
    lam, mean, sd = 1.0, 0.6, 0.9  # service cv 1.5
    wq = theory.mg1_mean_wait(lam, mean, sd)
    check_against_theory(records("mg1_lognormal", 20, 103), {
        "activities.serve.wait": wq,
        "activities.serve.queue_length": lam * wq,
        "resources.clerk.utilization": lam * mean,
        "cycle_time": wq + mean,
    })


# ---------------------------------------------------------------------------
# 3. Open Jackson network with feedback (traffic equations, product form)
# ---------------------------------------------------------------------------

JACKSON_EXTERNAL = {"A": 0.5}
JACKSON_ROUTING = {"A": {"B": 1.0}, "B": {"A": 0.3, "exit": 0.7}}
JACKSON_SERVERS = {"A": 1, "B": 2}
JACKSON_SERVICE = {"A": 0.9, "B": 2.0}
JACKSON_POOLS = {"A": "a_server", "B": "b_server"}


def jackson_records() -> list[dict[str, float]]:
    twin = twin_file("jackson_feedback")
    recs = records("jackson_feedback", 20, 104)
    for node in JACKSON_SERVERS:
        recs = per_time(recs, f"activities.{node}.completed", twin)
    return recs


@pytest.mark.slow
def test_jackson_feedback_network_matches_product_form() -> None:
    exact = theory.jackson_mean_sojourn(
        JACKSON_EXTERNAL, JACKSON_ROUTING, JACKSON_SERVERS, JACKSON_SERVICE)
    expected = {
        "throughput": sum(JACKSON_EXTERNAL.values()),
        "wip": exact["network"]["mean_number_in_system"],
        "cycle_time": exact["network"]["mean_time_in_system"],
    }
    for node, pool in JACKSON_POOLS.items():
        rate = exact[node]["arrival_rate"]  # visit rate from the traffic equations
        expected |= {
            f"activities.{node}.completed": rate,
            f"activities.{node}.wait": exact[node]["mean_wait"],
            f"activities.{node}.queue_length": rate * exact[node]["mean_wait"],
            f"resources.{pool}.utilization": exact[node]["utilization"],
        }
    check_against_theory(jackson_records(), expected)


# ---------------------------------------------------------------------------
# 4. Availability of a failing pool: MTBF / (MTBF + MTTR), in calendar time
# ---------------------------------------------------------------------------

LOADS = {"light": 1.0, "heavy": 0.7}  # interarrival means: utilisation ~0.55 and ~0.8


@pytest.mark.parametrize("load", list(LOADS))
def test_failing_pool_availability(load: str) -> None:
    mtbf = theory.weibull_mean(1.5, 100.0)
    recs = records("failing_pool", 20, 105, interarrival_mean=LOADS[load])
    check_against_theory(recs, {
        "resources.machine.availability": theory.availability(mtbf, 10.0),
    })


def test_failures_run_in_calendar_time_regardless_of_load() -> None:
    """Uptime is calendar time: each unit's failures come from its own streams only, so
    the availability of every replication is bitwise the same under any load."""
    light = records("failing_pool", 20, 105, interarrival_mean=LOADS["light"])
    heavy = records("failing_pool", 20, 105, interarrival_mean=LOADS["heavy"])
    key = "resources.machine.availability"
    assert [r[key] for r in light] == [r[key] for r in heavy]
    # ... while the load really differs
    assert min(r["resources.machine.utilization"] for r in heavy) > max(
        r["resources.machine.utilization"] for r in light)


# ---------------------------------------------------------------------------
# 5. Little's law L = lambda W
# ---------------------------------------------------------------------------


def check_little(recs: Sequence[Mapping[str, float]], max_rel_half_width: float) -> None:
    diffs = [r["wip"] - r["throughput"] * r["cycle_time"] for r in recs]
    mean, half = t_interval(diffs)
    wip = float(np.mean([r["wip"] for r in recs]))
    assert abs(mean) <= half, f"L - lambda W = {mean:.4g} ± {half:.3g} excludes 0 (L = {wip:.4g})"
    assert half <= max_rel_half_width * wip, f"CI ± {half:.3g} too wide for L = {wip:.4g}"


@pytest.mark.slow
def test_little_law_on_jackson_feedback() -> None:
    check_little(records("jackson_feedback", 20, 104), 0.01)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_little_law_on_examples(path: Path) -> None:
    # Three times the shipped horizon: the edge terms of L - lambda W (work in the system
    # at warm-up end and at the horizon) shrink as 1/horizon, faster than the CI.
    twin = load_twin(path)
    longer = _changed(twin, horizon=twin.warmup + 3 * (twin.horizon - twin.warmup))
    check_little(run(_everyone_completes(longer), 20, 106).records, MAX_REL_HALF_WIDTH)


def _everyone_completes(twin: Twin) -> Twin:
    """The same twin with those who give up or are turned away, where they would leave, sent
    through a zero-time step instead: they then count in throughput and cycle time, so
    L = lambda W holds over every departure, on the same sample paths (the step holds
    nothing; its name adds a stream and shifts none)."""
    data = twin.model_dump(mode="json")
    gone = "left_unserved"
    for act, spec in zip(data["activities"], twin.activities, strict=True):
        if spec.reneges and spec.abandon_to is None:
            act["abandon_to"] = gone
        if spec.turns_away and spec.lost_to is None and spec.when_full == "lose":  # block: none is lost
            act["lost_to"] = gone
    if any(gone in (a.get("abandon_to"), a.get("lost_to")) for a in data["activities"]):
        data["activities"].append({"name": gone, "duration": 0})
    return Twin.model_validate(data)


def sample_path_little(twin: Twin, seed: int) -> None:
    """Exact bookkeeping identities on one traced replication.

    With entity k in the system over [born_k, left_k) (left_k = horizon if still there):
    wip * (h - w) = sum_k |[born_k, left_k) ∩ [w, h]|; throughput * (h - w) = number of
    departures in [w, h] after service; cycle_time = their mean time in system.
    """
    rep = run(twin, 1, seed, trace=True).replications[0]
    assert rep.trace is not None
    born = {e: t for t, kind, e, _ in rep.trace if kind == "arrival"}
    left = {e: t for t, kind, e, _ in rep.trace if kind == "leave"}
    last = {e: kind for _, kind, e, _ in rep.trace if kind in ("start", "renege", "lost", "balk")}
    w, h = twin.warmup, twin.horizon
    area = sum(max(0.0, min(left.get(e, h), h) - max(b, w)) for e, b in born.items())
    # those who reneged, were lost or balked and left count in no completion KPI
    sojourns = [t - born[e] for e, t in left.items() if t >= w and last.get(e) == "start"]
    record = rep.record
    assert len(left) < len(born)  # the identities are not vacuous: some never left
    assert record["wip"] == pytest.approx(area / (h - w), rel=1e-9)
    assert record["throughput"] * (h - w) == pytest.approx(len(sojourns), rel=1e-12)
    assert record["cycle_time"] == pytest.approx(float(np.mean(sojourns)), rel=1e-9)


def test_little_sample_path_identities() -> None:
    twin = _changed(twin_file("jackson_feedback"), horizon=5000.0, warmup=500.0)
    sample_path_little(twin, 107)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_little_sample_path_identities_on_examples(path: Path) -> None:
    sample_path_little(load_twin(path), 107)


# ---------------------------------------------------------------------------
# 6. Shifts: a saturated pool delivers exactly what its calendar allows
# ---------------------------------------------------------------------------

WEEK_HOURS = 168


def calendar_capacity_jobs(path: Path, service: float) -> int:
    """Jobs the calendar allows in whole weeks, counted from the YAML by hand."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    weeks = data["horizon"] / WEEK_HOURS
    assert data["time_unit"] == "hour" and weeks == int(weeks) and data["warmup"] == 0
    total = 0.0
    for pool in data["resources"]:
        for shift in pool["shifts"]:
            hours = (parse_clock(shift["end"]) - parse_clock(shift["start"])) % 24
            per_unit = hours / service
            assert per_unit == int(per_unit), "service time must divide the shift length"
            total += len(shift["days"]) * shift["capacity"] * per_unit
    return int(total * weeks)


@pytest.mark.parametrize("start", ["2026-01-05T00:00", "2026-01-07T04:00", "2026-01-10T23:30"],
                         ids=["monday-midnight", "wednesday-0400", "saturday-2330"])
def test_saturated_shifts_deliver_calendar_capacity_exactly(start: str) -> None:
    path = TWINS / "shifts_saturated.yaml"
    twin = _changed(load_twin(path), start=start)
    expected = calendar_capacity_jobs(path, service=0.5)
    assert expected == 800  # 2 weeks x 5 days x (3 x 16 + 2 x 16)
    for record in run(twin, 3, 108).records:
        assert record["activities.serve.completed"] == expected
        assert record["throughput"] * twin.horizon == pytest.approx(expected, rel=1e-12)
        assert record["resources.crew.utilization"] == 1.0


# ---------------------------------------------------------------------------
# 7. (s, S) inventory with Poisson unit demand and constant lead time
# ---------------------------------------------------------------------------


def test_sS_inventory_matches_theory() -> None:
    s, big_s, lam, lead = 3, 10, 1.0, 4.0
    check_against_theory(records("sS_poisson", 20, 109), {
        "materials.m.stockout_fraction": theory.sS_stockout_probability(s, big_s, lam, lead),
        "materials.m.inventory": theory.sS_mean_on_hand(s, big_s, lam, lead),
        "materials.m.fill_rate": theory.sS_fill_rate(s, big_s, lam, lead),
    })


# ---------------------------------------------------------------------------
# Reproducibility: same seed, identical records
# ---------------------------------------------------------------------------

THEORY_TWINS = sorted(p.stem for p in TWINS.glob("*.yaml"))


def short(name: str) -> Twin:
    twin = twin_file(name)
    horizon = min(twin.horizon, 3000.0)
    return _changed(twin, horizon=horizon, warmup=min(twin.warmup, horizon / 10))


def same(a: Sequence[Mapping[str, float]], b: Sequence[Mapping[str, float]]) -> bool:
    """Equal key for key, bit for bit (NaN equals NaN)."""
    return [list(r) for r in a] == [list(r) for r in b] and all(
        np.array_equal(np.array(list(x.values())), np.array(list(y.values())), equal_nan=True)
        for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("name", THEORY_TWINS)
def test_same_seed_gives_identical_records(name: str) -> None:
    twin = short(name)
    first, second = run(twin, 3, 7).records, run(twin, 3, 7).records
    assert same(first, second)
    if name != "shifts_saturated":  # there every KPI above is pinned by the calendar
        assert not same(first, run(twin, 3, 8).records)


def test_same_seed_gives_identical_records_across_processes() -> None:
    """A fresh interpreter with another hash seed reproduces the records exactly."""
    script = (
        "import json, sys\n"
        "from twin.loader import load_twin\n"
        "from twin.runner import run\n"
        "twin = load_twin(sys.argv[1]).model_copy(update={'horizon': 3000.0, 'warmup': 300.0})\n"
        "print(json.dumps(run(twin, 2, 7).records))\n"
    )
    path = str(TWINS / "jackson_feedback.yaml")
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script, path], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        outputs.append(json.loads(done.stdout))
    here = [dict(r) for r in run(_changed(twin_file("jackson_feedback"), horizon=3000.0,
                                          warmup=300.0), 2, 7).records]
    assert outputs[0] == outputs[1] == here


# ---------------------------------------------------------------------------
# 8. Stresses over the whole run turn a theory twin into another theory twin
# ---------------------------------------------------------------------------


def stressed_records(name: str, stress: dict, replications: int, seed: int) -> list[dict[str, float]]:
    """Records of a theory twin with one stress window covering [0, horizon)."""
    data = twin_file(name).model_dump(mode="json")
    data["stresses"] = [{"name": "all-run", "start": 0.0, "end": data["horizon"], **stress}]
    return run(Twin.model_validate(data), replications, seed).records


def mm3_stressed(mean_service: float, stress: dict, seed: int) -> list[dict[str, float]]:
    """Records of the M/M/3 twin with service mean `mean_service` and one whole-run stress."""
    data = twin_file("mm3").model_dump(mode="json")
    data["activities"][0]["duration"]["mean"] = mean_service
    data["stresses"] = [{"name": "all-run", "start": 0.0, "end": data["horizon"], **stress}]
    return run(Twin.model_validate(data), 20, seed).records


def test_staff_absence_for_the_whole_run_is_erlang_c_with_fewer_servers() -> None:
    """M/M/3 at lambda 1, E[S] 2.4 with one clerk absent: M/M/2 would be unstable (rho 1.2),
    so the test lightens it: E[S] = 1.5 on 2 servers, rho = 0.75."""
    recs = mm3_stressed(1.5, {"kind": "staff_absence", "target": "clerk", "units": 1}, 111)
    check_against_theory(recs, {
        "activities.serve.wait": theory.mmc_mean_wait(2, 1.0, 1.5),
        "resources.clerk.utilization": 0.75,
    })


def test_equipment_down_for_the_whole_run_leaves_the_other_units() -> None:
    recs = mm3_stressed(1.5, {"kind": "equipment_down", "target": "clerk", "units": 1}, 111)
    check_against_theory(recs, {"activities.serve.wait": theory.mmc_mean_wait(2, 1.0, 1.5)})
    assert all(r["resources.clerk.availability"] == pytest.approx(2 / 3, abs=1e-12) for r in recs)


def test_failure_storm_for_the_whole_run_divides_the_mtbf() -> None:
    mtbf = theory.weibull_mean(1.5, 100.0)
    recs = stressed_records("failing_pool", {"kind": "failure_rate", "target": "machine", "factor": 2.5},
                            20, 105)
    check_against_theory(recs, {"resources.machine.availability": theory.availability(mtbf / 2.5, 10.0)})


def test_demand_surge_for_the_whole_run_multiplies_the_arrival_rate() -> None:
    """M/M/3 (lambda 1) surged x1.5: Poisson arrivals at 1.5, E[S] 1.2 -> M/M/3 at rho 0.6."""
    recs = mm3_stressed(1.2, {"kind": "demand_surge", "target": "jobs", "factor": 1.5}, 113)
    check_against_theory(recs, {
        "throughput": 1.5,
        "activities.serve.wait": theory.mmc_mean_wait(3, 1.5, 1.2),
    })


def test_longer_lead_times_for_the_whole_run_match_the_sS_formulas() -> None:
    s, big_s, lam, lead = 3, 10, 1.0, 4.0 * 1.5
    recs = stressed_records("sS_poisson", {"kind": "lead_time", "target": "m", "factor": 1.5}, 20, 109)
    check_against_theory(recs, {
        "materials.m.stockout_fraction": theory.sS_stockout_probability(s, big_s, lam, lead),
        "materials.m.fill_rate": theory.sS_fill_rate(s, big_s, lam, lead),
    })
