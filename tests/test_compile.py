"""twin.compile: a validated Twin -> flat numpy arrays (CompiledTwin), on its own."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from twin import load_twin, loads_twin
from twin.compile import DIST_CODES, CompiledTwin, compile_twin

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [ROOT / "scenarios" / "examples" / f"{name}.yaml" for name in ("clinic", "manufacturing")]

SMALL = """
name: small
time_unit: hour
horizon: 100
warmup: 10
start: 2026-01-07T06:00
arrivals:
  - {name: a, interarrival: {dist: exponential, mean: 2}, route: one}
activities:
  - name: one
    duration: {dist: lognormal, mean: 1.0, sd: 0.5}
    resources: {crew: 2, tool: 1}
    consumes: {parts: 3}
    next: {two: 0.25, exit: 0.75}
  - {name: two, duration: {dist: empirical, values: [1, 2, 4]}, next: one}
resources:
  - name: crew
    capacity: 3
    shifts: [{days: [mon, tue], start: "08:00", end: "16:00", capacity: 2}]
  - name: tool
    capacity: 2
    failures: {uptime: {dist: weibull, shape: 1.5, scale: 50}, repair: {dist: gamma, mean: 4, cv: 0.5}}
materials:
  - name: parts
    initial: 7
    reorder: {point: 3, quantity: 5}
    supplier:
      lead_time: 2.5
      disruptions: {every: {dist: exponential, mean: 40}, duration: {dist: uniform, low: 1, high: 3}}
"""


@pytest.fixture(scope="module")
def small() -> tuple:
    twin = loads_twin(SMALL)
    return twin, compile_twin(twin)


def test_pure_and_flat() -> None:
    for path in EXAMPLES:
        twin = load_twin(path)
        a, b = compile_twin(twin), compile_twin(twin)
        assert isinstance(a, CompiledTwin)
        for name, x, y in zip(CompiledTwin._fields, a, b, strict=True):
            assert isinstance(x, np.ndarray), name
            np.testing.assert_array_equal(x, y, err_msg=name)
            if name != "sources":
                assert x.dtype in (np.int64, np.float64), name
                assert x.flags.c_contiguous, name


def test_tables(small: tuple) -> None:
    _, c = small
    np.testing.assert_array_equal(c.clock, [100.0, 10.0])
    assert c.arr_route.tolist() == [0]
    # activity one needs crew x2 then tool x1, consumes 3 parts, branches two / exit
    assert c.need_ptr.tolist() == [0, 2, 2]
    assert c.need_pool.tolist() == [0, 1] and c.need_amount.tolist() == [2, 1]
    assert c.use_ptr.tolist() == [0, 1, 1] and c.use_amount.tolist() == [3]
    assert c.succ_ptr.tolist() == [0, 2, 3]
    assert c.succ_to.tolist() == [1, -1, 0] and c.succ_p.tolist() == [0.25, 0.75, 1.0]
    assert c.act_can_fail.tolist() == [1, 0]
    assert c.act_branch_stream[1] == -1  # one way on: no branch stream, no draw
    assert c.unit_ptr.tolist() == [0, 3, 5] and c.unit_pool.tolist() == [0, 0, 0, 1, 1]
    assert c.pool_fails.tolist() == [0, 1]
    assert c.mat_policy.tolist() == [2] and c.mat_point.tolist() == [3] and c.mat_quantity.tolist() == [5]


def test_streams_named_as_the_reference_engine(small: tuple) -> None:
    _, c = small
    sources = c.sources.tolist()
    assert sources[c.arr_stream[0]] == "arrival.a.interarrival"
    assert sources[c.act_dur_stream[1]] == "activity.two.duration"
    assert sources[c.act_branch_stream[0]] == "activity.one.branch"
    assert sources[c.unit_up_stream[4]] == "resource.tool.1.uptime"
    assert sources[c.unit_repair_stream[3]] == "resource.tool.0.repair"
    assert sources[c.sup_lead_stream[0]] == "material.parts.lead_time"
    assert sources[c.sup_every_stream[0]] == "material.parts.disruption.every"
    assert sources[c.sup_duration_stream[0]] == "material.parts.disruption.duration"
    assert len(set(sources)) == len(sources)


def test_distribution_parameters_transformed_as_the_spec_samples(small: tuple) -> None:
    _, c = small
    one = c.act_dur[0]
    assert c.dist_code[one] == DIST_CODES["lognormal"]
    sigma2 = math.log1p(0.5**2)
    assert c.dist_par[one, 0] == math.log(1.0) - sigma2 / 2 and c.dist_par[one, 1] == math.sqrt(sigma2)
    repair = c.fail_repair[1]
    assert c.dist_code[repair] == DIST_CODES["gamma"]
    assert c.dist_par[repair, 0] == 1.0 / 0.5**2 and c.dist_par[repair, 1] == 4 * 0.5**2
    two = c.act_dur[1]
    assert c.emp_val[c.emp_ptr[two]:c.emp_ptr[two + 1]].tolist() == [1.0, 2.0, 4.0]
    assert c.dist_code[c.sup_lead[0]] == DIST_CODES["constant"] and c.dist_par[c.sup_lead[0], 0] == 2.5


def test_calendar_is_the_spec_calendar(small: tuple) -> None:
    twin, c = small
    cal = twin.calendar(twin.resources[0])
    lo, hi = c.cal_ptr[0], c.cal_ptr[1]
    np.testing.assert_array_equal(c.cal_points[lo:hi], cal.breakpoints)
    np.testing.assert_array_equal(c.cal_levels[lo:hi], cal.levels)
    assert c.cal_week[0] == cal.week and c.cal_offset[0] == cal.offset
    assert c.pool_has_cal.tolist() == [1, 0]
    assert c.pool_on_duty0.tolist() == [cal.on_duty(0.0), 2]
