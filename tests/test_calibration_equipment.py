"""Equipment upkeep calibration (maintenance and failure records -> an equipment pool's
`failures`, `maintenance` and `wear: operating`), the supplier split, and the CLI flags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter
from scipy import stats

from calibration.cli import fit_equipment
from calibration.equipment import EquipmentFitter, attach, machine_hours
from calibration.loaders import CalibrationDataError
from calibration.supply import LeadTimeFitter, SupplierSplit, attach_suppliers
from twin.distributions import Dist
from twin.loader import load_twin, parse_twin

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
AZURE = Path("/work/shared/data/azure-pdm-maintenance")
if not AZURE.is_dir():
    AZURE = ROOT.parent / "shared" / "data" / "azure-pdm-maintenance"
needs_azure = pytest.mark.skipif(not AZURE.is_dir(), reason="the Azure PdM data is not here")


def azure(machines: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Azure maintenance and failure records of machines 1..`machines`."""
    out = []
    for name in ("PdM_maint.csv.gz", "PdM_failures.csv.gz"):
        table = pd.read_csv(AZURE / name, dtype=str)
        out.append(table[table["machineID"].astype(int) <= machines].reset_index(drop=True))
    return out[0], out[1]


@needs_azure
def test_azure_planned_maintenance_runs_on_each_machines_360_hour_clock() -> None:
    maint, fails = azure(12)
    fit = EquipmentFitter(repair_hours=8, maintenance_hours=4).fit(maint, fails)
    counts = fit.counts_
    assert counts["planned_records"] + counts["failure_driven_records"] == counts["maintenance_records"]
    assert counts["failure_driven_records"] + counts["failures_without_maintenance_record"] == len(fails)
    interval = fit.interval_
    assert interval is not None and interval["interval"] == 360 and interval["on_grid_share"] > 0.95
    assert all(c["interval"] == 360 for c in interval["by_component"].values())
    # Each machine keeps its own phase (one phase for all does not hold); its failures fall on
    # that grid too, so a count restarted at every stop explains the planned stops as well.
    shares = interval["regime_shares"]
    assert min(shares["machine_clock"], shares["after_renewal"], shares["failures_on_machine_clock"]) > 0.95
    assert shares["common_clock"] < 0.5
    assert fit.spec_["wear"] == "operating" and fit.spec_["maintenance"]["every"] > 360


@needs_azure
def test_azure_twin_gives_as_many_planned_stops_and_about_as_many_failures() -> None:
    """`every` is chosen for the planned-stop rate: the engine run (120 machine-years) gives
    it within 4 Poisson standard errors of both counts; failures, which nothing is matched
    to, within a third of the records' rate."""
    fit = EquipmentFitter(repair_hours=8, maintenance_hours=4).fit(*azure(12)).check(years=10)
    check = fit.check_
    years = check["machine_years"]
    rec, twin = check["records"]["planned_stops"], check["twin"]["planned_stops"]
    assert abs(twin - rec) <= 4 * np.sqrt(rec / years["records"] + twin / years["twin"])
    assert check["twin"]["failures"] == pytest.approx(check["records"]["failures"], rel=1 / 3)


def synthetic(
    machines: int, years: float, every: float, uptime: stats.rv_continuous, share: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of machines that run `share` of the time and renew at a failure (uptime in
    operating hours) or at `every` operating hours of age, whichever first, for `years`."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01")
    maint, fails = [], []
    for m in range(1, machines + 1):
        t = rng.uniform(0, every) / share  # calendar hours; the records start mid-life
        while True:
            up = float(uptime.rvs(random_state=rng))
            t += min(up, every) / share
            if t > years * 8760:
                break
            when = (start + pd.Timedelta(hours=t)).isoformat()
            maint.append({"datetime": when, "machineID": m, "comp": "comp1"})
            if up < every:
                fails.append({"datetime": when, "machineID": m, "failure": "comp1"})
    return pd.DataFrame(maint), pd.DataFrame(fails)


def test_synthetic_interval_and_uptime_are_recovered_in_operating_time() -> None:
    """Weibull(2, 500 h) uptime, maintenance every 400 h of age, machines running half the
    time: the fit in operating hours finds the 800 h calendar grid after each renewal, the
    uptime's mean and its survival at 400 h, and the age 400 h. Tolerance: 4 standard errors,
    taking a censored fit's information as that of its r failures: 4 * cv / sqrt(r) on the
    mean, 4 * sqrt(p (1 - p) / r) on a survival p, and 4 / sqrt(planned stops) on the age."""
    uptime, every = stats.weibull_min(2.0, scale=500.0), 400.0
    maint, fails = synthetic(40, 8, every, uptime, share=0.5, seed=3)
    fit = EquipmentFitter(machine_hours=4380, repair_hours=5, maintenance_hours=2).fit(maint, fails)
    r, planned = fit.counts_["failure_stops"], fit.counts_["planned_stops"]
    assert r > 300 and planned > 300
    interval = fit.interval_
    assert interval is not None and interval["interval"] == 800 and interval["regime"] == "after_renewal"
    assert fit.uptime_ is not None
    fitted = fit.uptime_dist_
    cv = uptime.std() / uptime.mean()
    assert fitted.mean() == pytest.approx(uptime.mean(), rel=4 * cv / np.sqrt(r))
    p = uptime.sf(every)
    assert abs(fitted.sf(every) - p) <= 4 * np.sqrt(p * (1 - p) / r)
    assert fit.every_ == pytest.approx(every, rel=4 / np.sqrt(planned))
    pool = {"name": "press", "capacity": 3}
    spec = {"name": "t", "horizon": 100, "arrivals": [{"name": "a", "interarrival": 1.0, "route": "p"}],
            "activities": [{"name": "p", "duration": 0.5, "resources": {"press": 1}}], "resources": [pool]}
    attach(spec, "press", fit)
    twin = parse_twin(spec)
    assert twin.resources[0].wear == "operating" and twin.resources[0].maintenance is not None


def test_records_with_no_repair_durations_need_the_flags() -> None:
    maint, fails = synthetic(5, 2, 400.0, stats.weibull_min(2.0, scale=500.0), share=1.0, seed=1)
    with pytest.raises(CalibrationDataError, match="--repair-hours: the failure records carry no repair"):
        EquipmentFitter(maintenance_hours=2).fit(maint, fails)
    with pytest.raises(CalibrationDataError, match="--maintenance-hours: the maintenance records carry no"):
        EquipmentFitter(repair_hours=2).fit(maint, fails)
    with pytest.raises(CalibrationDataError, match="machine hours must be in"):
        EquipmentFitter(machine_hours=9000, repair_hours=1, maintenance_hours=1).fit(maint, fails)


def inspected(
    machines: int, years: float, q: float, keep: float, uptime: stats.rv_continuous, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records of machines inspected every `q` hours after their last renewal (as the Azure
    data looks): a failure is found at the first inspection after it, and at an inspection
    without one the machine is maintained with probability `keep`."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2020-01-01")
    maint, fails = [], []
    for m in range(1, machines + 1):
        t = rng.uniform(0, q)
        while True:
            up, age = float(uptime.rvs(random_state=rng)), q
            while up > age and rng.random() >= keep:
                age += q
            t += age
            if t > years * 8760:
                break
            when = (start + pd.Timedelta(hours=t)).isoformat()
            maint.append({"datetime": when, "machineID": m, "comp": "comp1"})
            if up <= age:
                fails.append({"datetime": when, "machineID": m, "failure": "comp1"})
    return pd.DataFrame(maint), pd.DataFrame(fails)


def test_failures_found_at_inspections_are_interval_censored() -> None:
    """Failures recorded on the grid of planned stops happened in the slot before: fitted as
    interval-censored, the uptime's survival at the first four slots is recovered within 4
    standard errors of the Kaplan-Meier estimate from the same records (Greenwood: S^2 times
    the sum over slots of d / (n (n - d)), n at risk, d failures; a parametric fit does at
    least as well). Eight seeds gave at most 1.8 of these."""
    uptime, q = stats.weibull_min(1.5, scale=600.0), 100.0
    maint, fails = inspected(30, 6, q, 0.3, uptime, seed=3)
    fit = EquipmentFitter(repair_hours=1, maintenance_hours=1).fit(maint, fails)
    assert fit.q_ == q and fit.failures_on_grid_ == 1.0 and fit.uptime_ is not None
    assert fit.uptime_["interval_censored"] == fit.uptime_["n"]  # every uptime ending in a failure
    stretches = fit.stretches()
    hours, failed = stretches["hours"].to_numpy(float), stretches["ends_in_failure"].to_numpy(bool)
    greenwood = 0.0
    for k in (1, 2, 3, 4):
        at_risk = (hours >= k * q - 0.5).sum()
        died = (failed & (np.abs(hours - k * q) <= 0.5)).sum()
        greenwood += died / (at_risk * (at_risk - died))
        true = uptime.sf(k * q)
        assert abs(fit.uptime_dist_.sf(k * q) - true) <= 4 * true * np.sqrt(greenwood), k


def test_failures_alone_and_durations_from_the_records() -> None:
    """Without maintenance records the pool gets failures only (uptimes between failures);
    a `duration` column gives the repair and maintenance times: means within 4 standard
    errors (sd / sqrt(n), exponential: sd = mean)."""
    maint, fails = synthetic(20, 4, 400.0, stats.weibull_min(2.0, scale=500.0), share=1.0, seed=2)
    alone = EquipmentFitter(repair_hours=3).fit(None, fails)
    assert set(alone.spec_) == {"failures", "wear"} and alone.spec_["failures"]["repair"]["value"] == 3
    rng = np.random.default_rng(5)
    key = ["datetime", "machineID"]
    failed = maint.set_index(key).index.isin(fails.set_index(key).index)
    maint["duration"] = np.where(failed, rng.exponential(6.0, len(maint)), rng.exponential(2.0, len(maint)))
    fit = EquipmentFitter().fit(maint, fails)
    for kind, mean, n in (("repair", 6.0, failed.sum()), ("maintenance", 2.0, (~failed).sum())):
        fitted = TypeAdapter(Dist).validate_python(fit.durations_[kind])
        assert fitted.mean_value == pytest.approx(mean, rel=4 / np.sqrt(n)), fitted


def test_bad_equipment_flags_name_the_flag_and_the_reason(tmp_path: Path) -> None:
    maint = tmp_path / "maint.csv"
    synthetic(3, 1, 400.0, stats.expon(scale=500.0), share=1.0, seed=1)[0].to_csv(maint, index=False)
    cases = [
        ({"maintenance": maint}, "--maintenance: needs --equipment-pool"),
        ({"repair_hours": 3.0}, "--repair-hours: needs --equipment-pool"),
        ({"pool": "press"}, "--equipment-pool: give --maintenance and/or --failures"),
        ({"pool": "press", "maintenance": maint, "maintenance_hours": -1.0}, "--maintenance-hours: must be"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=message):
            fit_equipment(None, options)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("when,machine\n2020-01-01,1\n")
    with pytest.raises(CalibrationDataError, match=r"--maintenance: no time column \(tried datetime"):
        fit_equipment(None, {"pool": "press", "maintenance": wrong, "maintenance_hours": 2.0})
    wrong.write_text("datetime,machineID\n")
    with pytest.raises(CalibrationDataError, match="--failures: no records"):
        fit_equipment(wrong, {"pool": "press", "repair_hours": 2.0})
    with pytest.raises(CalibrationDataError, match="--machine-hours 'lots': not a number"):
        machine_hours("lots")
    fitted = fit_equipment(None, {"pool": "press", "maintenance": maint, "maintenance_hours": 2.0})
    assert fitted is not None
    spec = {"resources": [{"name": "lathe", "capacity": 1}, {"name": "mill", "capacity": 1}]}
    with pytest.raises(CalibrationDataError, match=r"--equipment-pool 'press': no such pool.*lathe, mill"):
        attach(spec, "press", fitted[1])


def test_machine_hours_per_machine_from_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "hours.csv"
    path.write_text("machineID,hours\n1,4000\n2,8000\n")
    assert machine_hours(str(path)) == {"1": 4000.0, "2": 8000.0}
    assert machine_hours("6000") == 6000.0


def test_supplier_split_by_material_goes_on_the_twins_material() -> None:
    rows = [("Nevirapine", "A Ltd", 60), ("Nevirapine", "B Inc", 38), ("Nevirapine", "C", 2),
            ("Rare", "A Ltd", 5)]
    table = pd.DataFrame([
        {"Molecule/Test Type": m, "Vendor": v, "PO Sent to Vendor Date": "1/1/10",
         "Scheduled Delivery Date": f"{1 + k % 20}-Feb-10",
         "Delivered to Client Date": f"{1 + k % 25}-Feb-10"}
        for m, v, n in rows for k in range(n)
    ])
    split = SupplierSplit().fit(table, LeadTimeFitter().fit(table))
    assert list(split.split_) == ["Nevirapine"]  # Rare has too few orders
    found = split.split_["Nevirapine"]
    assert found["left_out_share"] == pytest.approx(0.02)
    assert [(s["name"], s["share"]) for s in found["suppliers"]] == [
        ("A_Ltd", pytest.approx(60 / 98, abs=1e-4)), ("B_Inc", pytest.approx(38 / 98, abs=1e-4))]
    spec = {"name": "t", "horizon": 100, "arrivals": [{"name": "a", "interarrival": 1.0, "route": "p"}],
            "activities": [{"name": "p", "duration": 0.5, "consumes": {"Nevirapine": 1}}],
            "materials": [{"name": "Nevirapine", "initial": 5, "reorder": {"point": 2, "up_to": 8},
                           "supplier": {"lead_time": 3.0}}]}
    assert attach_suppliers(spec, split) == ["Nevirapine"]
    assert parse_twin(spec).materials[0].split


@needs_azure
def test_cli_fits_the_equipment_pool(tmp_path: Path) -> None:
    maint, fails = azure(6)
    paths = {name: tmp_path / f"{name}.csv" for name in ("maint", "fails")}
    maint.to_csv(paths["maint"], index=False)
    fails.to_csv(paths["fails"], index=False)
    out, report = tmp_path / "t.yaml", tmp_path / "r.html"
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "calibrate", "--events", str(DATA / "production_sample.csv"),
         "--no-validate", "-o", str(out), "--report", str(report), "--maintenance", str(paths["maint"]),
         "--failures", str(paths["fails"]), "--equipment-pool", "Turning_Milling", "--repair-hours", "8",
         "--maintenance-hours", "4", "--machine-hours", "7000"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    pool = next(r for r in load_twin(out).resources if r.name == "Turning_Milling")
    assert pool.wear == "operating" and pool.failures is not None and pool.maintenance is not None
    assert "Stops per machine-year: twin vs records" in report.read_text()


def test_cli_bad_equipment_flag_is_a_clear_error_before_any_fitting(tmp_path: Path) -> None:
    maint = tmp_path / "maint.csv"
    maint.write_text("datetime,machineID,comp\n2020-01-01 06:00:00,1,comp1\n")
    done = subprocess.run(
        [sys.executable, "-m", "twin.cli", "calibrate", "--events", str(DATA / "production_sample.csv"),
         "--no-validate", "-o", str(tmp_path / "t.yaml"), "--maintenance", str(maint)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 2 and "--maintenance: needs --equipment-pool" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "t.yaml").exists()
