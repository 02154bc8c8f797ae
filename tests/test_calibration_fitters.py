"""Fitters recover known parameters from synthetic samples, within tolerances set by n."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from calibration.arrivals import ArrivalFitter
from calibration.calibrate import calibrate
from calibration.fitters import DurationFitter
from calibration.resources import ResourceFitter, peak_concurrency, weekly_shifts
from calibration.routing import RoutingFitter
from calibration.simlog import simulate_log
from twin.loader import parse_twin

N = 2000
rng = np.random.default_rng(20260105)


def test_lognormal_is_chosen_and_mean_sd_recovered() -> None:
    mean, sd = 5.0, 3.0
    sigma2 = math.log1p((sd / mean) ** 2)
    x = rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), N)
    fit = DurationFitter().fit(x)
    assert fit.family_ == "lognormal" and fit.fit(x) is fit
    # standard error of the mean is sd/sqrt(n) = 0.067; allow 4 of them. The MLE's sd has a
    # parametric-bootstrap standard error of about 2.5% of sd at n=2000; allow 4 of those.
    assert abs(fit.params_["mean"] - mean) < 4 * sd / math.sqrt(N)
    assert abs(fit.params_["sd"] - sd) < 0.10 * sd
    assert fit.n_ == N and fit.gof_["ks_pvalue"] > 0.01 and math.isfinite(fit.aic_)
    assert {c["family"] for c in fit.candidates_} >= {"exponential", "gamma", "lognormal", "weibull"}


def test_a_fitted_tail_far_beyond_the_data_is_refused() -> None:
    """40 values of a lognormal of sigma 4: the lognormal wins by AIC and passes KS, but its
    fitted mean is hundreds of times the observed one. Refused, the next plausible family
    (or the empirical) is used, and the report says why; without the cap it is chosen."""
    x = np.random.default_rng(8).lognormal(0.0, 4.0, 40)
    loose = DurationFitter(max_mean_ratio=math.inf, max_tail_ratio=math.inf).fit(x)
    assert loose.family_ == "lognormal" and loose.params_["mean"] > 40 * x.mean()
    fit = DurationFitter().fit(x)
    assert fit.family_ != "lognormal" and "lognormal" in fit.refused_
    assert "observed" in fit.summary()["refused"]["lognormal"]
    if fit.family_ != "empirical":
        chosen = next(c for c in fit.candidates_ if c["family"] == fit.family_)
        assert chosen["fitted_mean"] <= 3 * x.mean() and chosen["fitted_p99"] <= 5 * np.quantile(x, 0.99)
    plain = rng.lognormal(0.0, 1.0, 500)  # a tail the data supports is kept
    assert DurationFitter().fit(plain).family_ == "lognormal"
    assert DurationFitter().fit(plain).refused_.get("lognormal") is None


@pytest.mark.parametrize(
    ("family", "draw", "check"),
    [
        (
            "gamma",
            lambda: rng.gamma(4.0, 0.5, N),
            lambda p: abs(p["mean"] - 2.0) < 0.05 and abs(p["cv"] - 0.5) < 0.03,
        ),
        (
            "weibull",
            lambda: 3.0 * rng.weibull(2.5, N),
            lambda p: abs(p["shape"] - 2.5) < 0.2 and abs(p["scale"] - 3) < 0.1,
        ),
        (
            "exponential",
            lambda: rng.exponential(7.0, N),
            lambda p: abs(p["mean"] - 7.0) < 4 * 7 / math.sqrt(N),
        ),
    ],
)
def test_family_chosen_by_aic(family: str, draw, check) -> None:  # type: ignore[no-untyped-def]
    fit = DurationFitter().fit(draw())
    assert fit.family_ == family
    assert check(fit.params_)
    assert fit.spec_["dist"] == family


def test_empirical_fallback_and_thin_warning() -> None:
    x = np.concatenate([np.zeros(50), rng.exponential(1.0, 50)])
    fit = DurationFitter().fit(x)
    assert fit.family_ == "empirical" and "zero" in fit.fallback_reason_
    few = DurationFitter().fit([1.0, 2.0, 3.5])
    assert few.family_ == "empirical" and any("thin data" in w for w in few.warnings_)
    assert DurationFitter().fit([2.0, 2.0]).spec_ == {"dist": "constant", "value": 2.0}


def test_bad_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        DurationFitter().fit([1.0, -1.0])
    with pytest.raises(ValueError, match="no observations"):
        DurationFitter().fit([])


def _log(traces: dict[str, list[str]]) -> pd.DataFrame:
    rows = []
    t0 = pd.Timestamp("2026-01-05 08:00")
    for case, trace in traces.items():
        for i, activity in enumerate(trace):
            start = t0 + pd.Timedelta(hours=i)
            rows.append((case, activity, "r1", start, start + pd.Timedelta(minutes=30)))
    return pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])


def test_routing_on_a_tiny_log() -> None:
    log = _log({"c1": ["A", "B", "C"], "c2": ["A", "B", "B", "C"], "c3": ["A", "C"], "c4": ["B", "C"]})
    fit = RoutingFitter().fit(log)
    assert fit.start_ == {"A": 0.75, "B": 0.25}
    assert fit.next_["A"] == {"B": 2 / 3, "C": 1 / 3}
    assert fit.next_["B"] == pytest.approx({"B": 0.25, "C": 0.75})
    assert fit.next_["C"] == {"exit": 1.0}
    assert fit.longest_run_["B"] == 2
    assert fit.expected_events_per_case_ == pytest.approx(fit.observed_events_per_case_) == 2.75
    assert not fit.warnings_


def test_second_order_routing_remembers_where_a_case_came_from() -> None:
    """A then B goes on to C, D then B to E: first order mixes them (A B E), second order
    never does, in the chain and in the calibrated twin."""
    traces = {f"c{i}": (["A", "B", "C"] if i % 2 else ["D", "B", "E"]) for i in range(40)}
    log = _log(traces)
    log["start_time"] += pd.to_timedelta(log["case_id"].str[1:].astype(int) * 5, "h")  # a case every 5 h
    log["end_time"] += pd.to_timedelta(log["case_id"].str[1:].astype(int) * 5, "h")
    first = RoutingFitter().fit(log)
    assert first.next_["B"] == {"C": 0.5, "E": 0.5}
    second = RoutingFitter(order=2).fit(log)
    assert second.next_["B after A"] == {"C after B": 1.0} and second.next_["B after D"] == {"E after B": 1.0}
    assert second.pairs_["B after A"] == ("A", "B") and second.pairs_["A"] == (None, "A")
    assert second.expected_events_per_case_ == pytest.approx(3.0)
    spec, report = calibrate(log, routing=2)
    twin = parse_twin(spec)
    assert report["routing"]["order"] == 2 and report["options"]["routing"] == 2
    assert paths(simulate_log(twin, twin.start, 60, seed=2, meta=report)) == {"ABC", "DBE"}
    spec, report = calibrate(log)
    mixed = paths(simulate_log(parse_twin(spec), twin.start, 60, seed=2, meta=report))
    assert {"ABE", "DBC"} & mixed


def paths(log: pd.DataFrame) -> set[str]:
    return set(log.sort_values(["case_id", "start_time"]).groupby("case_id")["activity"].agg("".join))


def test_arrivals_profile_and_stationary_fit() -> None:
    starts = pd.Series(
        pd.Timestamp("2026-01-05") + pd.to_timedelta(np.cumsum(rng.exponential(2.0, 500)), "h")
    )
    fit = ArrivalFitter().fit(starts)
    assert abs(fit.interarrival_.spec_["mean"] - 2.0) < 4 * 2 / math.sqrt(499)
    assert len(fit.profile_) == 168 and fit.preferred_ == "stationary"
    office = starts[(starts.dt.hour >= 9) & (starts.dt.hour < 17) & (starts.dt.dayofweek < 5)]
    assert ArrivalFitter().fit(office).preferred_ == "profile"


def test_resources_capacity_and_calendar() -> None:
    days = pd.date_range("2026-01-05", periods=20 * 7, freq="D")
    rows = [
        (f"c{i}{h}", "serve", f"r{h % 2}", d + pd.Timedelta(hours=h), d + pd.Timedelta(hours=h, minutes=50))
        for i, d in enumerate(days)
        if d.dayofweek < 5
        for h in range(8, 16)
    ]
    log = pd.DataFrame(rows, columns=["case_id", "activity", "resource", "start_time", "end_time"])
    fit = ResourceFitter().fit(log)
    assert fit.capacity_ == {"serve": 2} and fit.skills_ == {"r0": ["serve"], "r1": ["serve"]}
    assert fit.calendars_["serve"]["clear"]
    # r0 and r1 take turns hour by hour: one of the two is on duty at a time
    assert fit.shifts_["serve"][0] == {"days": ["mon"], "start": "08:00", "end": "16:00", "capacity": 1}
    assert len(fit.shifts_["serve"]) == 5
    both = ResourceFitter(staffed=False).fit(log).shifts_["serve"][0]
    assert both == {"days": ["mon"], "start": "08:00", "end": "16:00", "capacity": 2}
    assert weekly_shifts(np.arange(168) % 24 < 2, np.arange(168) % 24 + 1)[:2] == [
        {"days": ["mon"], "start": "00:00", "end": "01:00", "capacity": 1},
        {"days": ["mon"], "start": "01:00", "end": "02:00", "capacity": 2},
    ]
    assert peak_concurrency(log["start_time"], log["end_time"]) == 1
    assert weekly_shifts(np.zeros(168, dtype=bool), 1) == []


def test_durations_per_resource_and_whether_they_differ() -> None:
    from calibration.per_resource import per_resource_durations

    local = np.random.default_rng(11)  # its own stream: the verdicts do not depend on test order

    def log(scale_b: float) -> pd.DataFrame:
        draws = np.concatenate([local.exponential(1.0, 200), local.exponential(scale_b, 200), [1.0] * 5])
        return pd.DataFrame({
            "activity": "cut", "resource": ["a"] * 200 + ["b"] * 200 + ["c"] * 5, "duration": draws,
        })

    slow = per_resource_durations(log(3.0))["cut"]
    assert slow["differ"] and slow["kruskal_pvalue"] < 1e-6
    assert set(slow["resources"]) == {"a", "b"}  # c has too few instances
    assert slow["resources"]["b"]["observed_mean"] == pytest.approx(3.0, rel=0.25)
    assert not per_resource_durations(log(1.0))["cut"]["differ"]


def test_staffing_counts_resources_busy_through_an_hour() -> None:
    """Two long jobs at once on Monday and one short one: 2 on duty 09-11, 1 at 11."""
    from calibration.resources import staffing

    day = pd.Timestamp("2026-01-05")
    jobs = pd.DataFrame({
        "resource": ["a", "b", "a"],
        "start_time": day + pd.to_timedelta([9, 9.5, 11], unit="h"),
        "end_time": day + pd.to_timedelta([10.9, 10.5, 11.5], unit="h"),
    })
    on = staffing(jobs)
    assert list(on[8:13]) == [0, 2, 2, 1, 0] and on.sum() == 5


def renewal_failures(machines: int, seed: int, hours: float = 8760.0) -> pd.DataFrame:
    """Gamma(shape 2, mean 1,400 h) uptimes per machine, first failure in the first 2,000 h."""
    rng = np.random.default_rng(seed)
    rows = []
    for m in range(machines):
        t = rng.uniform(0, 2000)
        while t < hours:
            rows.append((pd.Timestamp("2015-01-01") + pd.Timedelta(hours=t), m, "comp1"))
            t += rng.gamma(2.0, 700.0)
    return pd.DataFrame(rows, columns=["datetime", "machineID", "failure"])


def test_uptimes_censored_at_the_window_end_are_not_biased_short() -> None:
    """A window sees the uptimes that end inside it, biased short; with each machine's last
    uptime censored at the end the fit recovers the mean (3 standard errors), and the
    out-of-sample check, which simulates the same selection, finds no error."""
    from calibration.failures import FailureFitter
    from twin.distributions import Dist

    fit = FailureFitter().fit(renewal_failures(200, seed=4)).summary()
    complete = fit["uptime_hours"]["comp1"]
    mean = TypeAdapter(Dist).validate_python(fit["uptime_censored_fit"]["comp1"]["spec"]).mean_value
    se = 1400 / math.sqrt(2) / math.sqrt(complete["n"])
    assert abs(mean - 1400) < 3 * se < 1400 - complete["observed_mean"]  # the naive mean is off by more
    check = fit["holdout"]["comp1"]
    se_test = 1 / math.sqrt(2) / math.sqrt(check["n_test"])  # relative standard error of the test mean
    assert abs(check["mean_err"]) < 3 * se_test and check["ks_pvalue"] > 0.01


def test_a_component_that_failed_once_per_machine_has_no_uptime_to_fit() -> None:
    from calibration.failures import FailureFitter

    records = pd.DataFrame({"datetime": ["2015-01-01", "2015-02-01", "2015-03-01"],
                            "machineID": [1, 1, 2], "failure": ["a", "a", "b"]})
    fit = FailureFitter().fit(records).summary()
    assert list(fit["uptime_hours"]) == list(fit["uptime_censored_fit"]) == ["a"]
    assert fit["first_failures_not_used"] == 2


def test_lead_time_check_sees_late_orders_as_the_data_does() -> None:
    """Orders placed near the end of the records show only if already delivered, so the
    last 30% of orders look short: the plain check finds the fit too long; conditioned on
    what could have been seen by the last delivery, it finds no error (3 standard errors)."""
    from calibration.failures import holdout
    from calibration.supply import LeadTimeFitter

    rng = np.random.default_rng(8)
    ordered = pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.uniform(0, 3 * 365, 6000), "D").round("h")
    lead = pd.to_timedelta(rng.gamma(4.0, 25.0, len(ordered)), "D").round("h")  # mean 100 days
    delivered = ordered + lead
    seen = delivered <= ordered.max()
    columns = ("PO Sent to Vendor Date", "Scheduled Delivery Date", "Delivered to Client Date")
    records = pd.DataFrame(dict(zip(columns, (ordered[seen], delivered[seen], delivered[seen]), strict=True)))
    check = LeadTimeFitter().fit(records).holdout_
    hours = (lead[seen].total_seconds() / 3600).to_series(index=range(seen.sum()))
    naive = holdout(hours, pd.Series(ordered[seen]), 0.7)  # the same split, unconditioned
    se = 0.5 / math.sqrt(check["n_test"])  # relative standard error of a gamma(4) test mean
    assert check["seen_until"] == str(delivered[seen].max().isoformat())
    assert abs(check["mean_err"]) < 3 * se < naive["mean_err"]
