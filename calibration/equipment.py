"""Equipment upkeep from maintenance and failure records: an equipment pool's `failures` and
`maintenance`, in operating time.

`EquipmentFitter(...).fit(maintenance, failures)` takes rows of (time, machine, component)
such as the Azure PdM `PdM_maint.csv` and `PdM_failures.csv`. A maintenance record that
coincides with a failure record of the same machine and component is the repair of that
failure; the rest are planned. The records are read from the first failure record on (a
maintenance record before it cannot be told planned or failure-driven; they are counted).
A *stop* is a machine down at one time (several components replaced together are one stop):
a failure stop if a failure is recorded then, else a planned stop.

Planned maintenance: the hours from a machine's previous stop (of any kind) to each planned
stop give the interval grid `q` (the most common of them, with the share that are whole
multiples of it; in calendar hours, as recorded). Whether the planned stops keep a fixed
clock (each machine's own phase, or one phase for all machines) or come whole slots after
the machine's last stop of any kind (a failure restarts the count) is decided by which of
the three explains more planned stops. Not every slot has a stop (`stops_per_slot`: a slot
where nothing needed replacing leaves no record), so the twin's `every` is the age at which
the fitted uptime makes planned stops as frequent as in the records (renewal-reward:
S(T) / integral of S over [0, T] per operating hour). The spec has no fixed clock grid; the
report warns where the records keep one.

Failures: a twin unit fails `uptime` after its last renewal (repair or maintenance), so each
stretch between two stops of a machine is an uptime, complete when it ends in a failure and
right-censored when it ends in a planned stop or at the end of the records; the families are
fitted by censored MLE (scipy's CensoredData), best by AIC (`fitters.censored_fit`). Where
90%+ of the failures fall on the grid of planned stops (as in the Azure data), a failure was
found at an inspection slot, so its uptime is only known to lie in the slot before: those
are interval-censored. Hours are operating hours: calendar hours times `machine_hours` /
8760 (the hours a machine runs a year, one number or per machine; default all year round,
which the report says). The pool gets `wear: operating`. The Azure records hold instants
only, so repair and maintenance durations come from `repair_hours` and `maintenance_hours`;
without them, from a `duration` column (hours) of the maintenance records where it has 8+
values (the failure-driven ones for repairs).

`check()` runs the fitted upkeep in the SimPy engine (a pool of the records' machine count,
always operating) and sets `check_`: failures and planned stops per machine-year, twin
against records.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import integrate, optimize, stats

from calibration.failures import COLUMNS, pick
from calibration.fitters import DurationFitter, censored_fit
from calibration.loaders import CalibrationDataError, parse_times, read_table

HOURS_PER_YEAR = 8760.0
REGIMES = ("after_renewal", "machine_clock", "common_clock")


def records(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """(time, machine, component) rows of a maintenance or failure table, by time; errors
    name `source` (the flag that gave the table)."""
    cols = list(table.columns)
    if table.empty:
        raise CalibrationDataError(f"{source}: no records")
    try:
        t, m = pick(cols, COLUMNS["time"], "time"), pick(cols, COLUMNS["machine"], "machine")
    except CalibrationDataError as error:
        raise CalibrationDataError(f"{source}: {error}") from None
    comp = next((c for c in cols if c.lower() in COLUMNS["component"] + ("part",)), None)
    out = pd.DataFrame({
        "time": parse_times(table[t].astype(str).reset_index(drop=True), t, source),
        "machine": table[m].astype(str).str.strip().to_numpy(),
        "component": table[comp].astype(str).to_numpy() if comp else "",
    })
    if "duration" in {c.lower() for c in cols}:
        column = next(c for c in cols if c.lower() == "duration")
        out["duration"] = pd.to_numeric(table[column], errors="coerce").to_numpy()
    return out.sort_values("time", kind="stable").reset_index(drop=True)


def grid(gaps: np.ndarray, tol: float = 0.5) -> dict[str, Any]:
    """The interval grid of positive gaps (hours): the most common gap `q`, and the share of
    gaps that are whole multiples of it (within `tol` hours)."""
    gaps = gaps[gaps > tol]
    if len(gaps) == 0:
        return {"interval": None, "on_grid_share": 0.0, "gaps": 0}
    q = float(pd.Series(np.round(gaps)).mode().min())
    return {"interval": q, "on_grid_share": float(_multiple(gaps, q, tol).mean()), "gaps": len(gaps)}


def _multiple(hours: np.ndarray, q: float, tol: float = 0.5) -> np.ndarray:
    k = np.round(hours / q)
    return (k >= 1) & (np.abs(hours - k * q) <= tol)


def _phase_share(
    hours: pd.Series, groups: pd.Series | None, q: float, tol: float = 0.5, only: int = 0
) -> float:
    """Share of `hours` (from an epoch) at the modal phase mod q: per group, or over all.
    With `only`, the phases are those of the first `only` hours and the share is of the rest."""
    phase = np.round(hours.to_numpy() % q) % q
    frame = pd.DataFrame({"phase": phase, "group": "all" if groups is None else groups.to_numpy()})
    modal = frame.iloc[:only or len(frame)].groupby("group")["phase"].agg(lambda s: s.mode().min())
    rest = frame.iloc[only:]
    off = np.abs(rest["phase"] - rest["group"].map(modal).to_numpy())
    return float((np.minimum(off, q - off) <= tol).mean()) if len(rest) else 0.0


class EquipmentFitter:
    """Fitted attributes: `counts_`, `stops_` (machine, time, failure), `interval_` and `q_`
    (the planned grid), `uptime_` (the censored fit) and `uptime_dist_` (it, frozen scipy),
    `every_`, `durations_`, `warnings_`; `spec_` is the pool's upkeep as plain spec data."""

    def __init__(
        self,
        machine_hours: float | dict[str, float] | None = None,
        repair_hours: float | None = None,
        maintenance_hours: float | None = None,
    ) -> None:
        self.machine_hours = machine_hours
        self.repair_hours = repair_hours
        self.maintenance_hours = maintenance_hours

    def fit(self, maintenance: pd.DataFrame | None, failures: pd.DataFrame | None) -> EquipmentFitter:
        if maintenance is None and failures is None:
            raise ValueError("give maintenance records, failure records or both")
        maint = records(maintenance, "--maintenance") if maintenance is not None else None
        fails = records(failures, "--failures") if failures is not None else None
        self.warnings_: list[str] = []
        self._window(maint, fails)
        self._stops(maint, fails)
        self._utilisation()
        self._fit_grid(maint)
        self._fit_uptime()
        self._fit_every()
        self._durations(maint)
        self.spec_ = self._spec()
        return self

    def _window(self, maint: pd.DataFrame | None, fails: pd.DataFrame | None) -> None:
        """Records from the first failure record on (or all maintenance without failures)."""
        start = fails["time"].min() if fails is not None else maint["time"].min()  # type: ignore[index]
        ends = [t["time"].max() for t in (maint, fails) if t is not None]
        self.start_, self.end_ = pd.Timestamp(start), pd.Timestamp(max(ends))
        self.before_window_ = 0 if maint is None else int((maint["time"] < self.start_).sum())
        if fails is None:
            self.warnings_.append("no failure records: every maintenance record is taken as planned")
        elif self.before_window_:
            self.warnings_.append(f"{self.before_window_} maintenance record(s) before the first failure "
                                  "record not used (they cannot be told planned or failure-driven)")

    def _stops(self, maint: pd.DataFrame | None, fails: pd.DataFrame | None) -> None:
        key = ["time", "machine", "component"]
        m = maint[maint["time"] >= self.start_] if maint is not None else pd.DataFrame(columns=key)
        f = fails if fails is not None else pd.DataFrame(columns=key)
        matched = m[key].merge(f[key].drop_duplicates(), on=key, how="left", indicator=True)
        driven = matched["_merge"] == "both"
        self.planned_records_ = m.loc[~driven.to_numpy()]
        self.driven_index_ = m.index[driven.to_numpy()]
        self.counts_ = {
            "maintenance_records": len(m), "failure_records": len(f),
            "failure_driven_records": int(driven.sum()), "planned_records": len(self.planned_records_),
        }
        if maint is not None:
            self.counts_["failures_without_maintenance_record"] = len(f) - int(driven.sum())
        parts = [t[["time", "machine"]].assign(failure=kind) for t, kind in ((m, False), (f, True)) if len(t)]
        down = pd.concat(parts) if parts else pd.DataFrame(columns=["time", "machine", "failure"])
        stops = down.groupby(["machine", "time"], as_index=False)["failure"].max()
        self.stops_ = stops.sort_values(["machine", "time"], kind="stable").reset_index(drop=True)
        self.machines_ = sorted(self.stops_["machine"].unique())
        if not self.machines_:
            raise CalibrationDataError("maintenance/failures: no records from the first failure record on")
        self.counts_ |= {"failure_stops": int(self.stops_["failure"].sum()),
                         "planned_stops": int((~self.stops_["failure"]).sum()),
                         "machines": len(self.machines_)}

    def _utilisation(self) -> None:
        """Each machine's operating share of calendar time (machine_hours / 8760)."""
        hours = self.machine_hours
        if hours is None:
            self.warnings_.append("machine hours unknown: machines taken to run all year round "
                                  "(operating time = calendar time); give --machine-hours")
            hours = HOURS_PER_YEAR
        if isinstance(hours, dict):
            missing = [m for m in self.machines_ if m not in hours]
            if missing:
                raise CalibrationDataError(f"machine hours: no hours for machine(s) {', '.join(missing[:5])}")
            self.share_ = {m: hours[m] / HOURS_PER_YEAR for m in self.machines_}
        else:
            self.share_ = dict.fromkeys(self.machines_, float(hours) / HOURS_PER_YEAR)
        bad = {m: s for m, s in self.share_.items() if not 0 < s <= 1}
        if bad:
            machine, share = next(iter(bad.items()))
            raise CalibrationDataError(f"machine hours must be in (0, 8760] a year; machine {machine} "
                                       f"has {share * HOURS_PER_YEAR:g}")
        window = (self.end_ - self.start_).total_seconds() / 3600
        self.machine_years_ = len(self.machines_) * window / HOURS_PER_YEAR
        self.operating_hours_ = sum(self.share_.values()) * window

    def stretches(self) -> pd.DataFrame:
        """Per stop, the operating hours to the machine's next stop (or the end), and whether
        that is a failure."""
        s = self.stops_.copy()
        s["next"] = s.groupby("machine")["time"].shift(-1).fillna(self.end_)
        s["ends_in_failure"] = s.groupby("machine")["failure"].shift(-1).eq(True)
        s["calendar"] = (s["next"] - s["time"]).dt.total_seconds() / 3600
        s["hours"] = s["calendar"] * s["machine"].map(self.share_)
        return s

    def _fit_grid(self, maint: pd.DataFrame | None) -> None:
        """`interval_` (the grid of planned stops and its regime) and `q_`, the grid in
        calendar hours (None where planned stops keep none)."""
        self.interval_: dict[str, Any] | None = None
        self.q_: float | None = None
        if maint is None or self.counts_["planned_stops"] == 0:
            return
        s = self.stops_
        gaps = s.groupby("machine")["time"].diff().dt.total_seconds().div(3600)
        found = grid(gaps[~s["failure"]].dropna().to_numpy(float))  # the gaps ending in a planned stop
        self.interval_ = found | {"by_component": self._component_grids()}
        if found["interval"] is not None and found["on_grid_share"] >= 0.5:
            self.q_ = found["interval"]
            self.interval_ |= self._regime(s, gaps, self.q_)

    def _fit_uptime(self) -> None:
        """Censored MLE of the uptime. Where 90% or more of the failures fall on the grid of
        planned stops, a failure is taken as found at the first slot after it: its uptime is
        only known to lie in the slot before (interval-censored)."""
        s = self.stretches()
        ends = s[s["ends_in_failure"]]
        complete = ends["hours"].to_numpy(float)
        censored = s.loc[~s["ends_in_failure"], "hours"].to_numpy(float)
        self.uptime_: dict[str, Any] | None = None
        self.failures_on_grid_: float | None = None
        if len(complete) < 2:
            if self.counts_["failure_records"]:
                self.warnings_.append(f"only {len(complete)} uptime(s) end in a failure: no failures fitted")
            return
        slotted = np.zeros(len(complete), bool)
        if self.q_ is not None:
            on = _multiple(ends["calendar"].to_numpy(float), self.q_)
            self.failures_on_grid_ = float(on.mean())
            slotted = on if self.failures_on_grid_ >= 0.9 else slotted
        slot = self.q_ * ends["machine"].map(self.share_).to_numpy(float) if slotted.any() else 0.0
        boxes = np.column_stack([complete - slot, complete])[slotted]
        self.uptime_ = censored_fit(complete[~slotted], censored, boxes)
        self.uptime_complete_ = DurationFitter(allow_empirical=False).fit(complete)
        self.uptime_dist_ = _frozen(self.uptime_["spec"])

    def _fit_every(self) -> None:
        """`every_`: the age (operating hours) that gives planned stops as often as the records."""
        self.every_: float | None = None
        if self.interval_ is None:
            return
        self.planned_rate_ = self.counts_["planned_stops"] / self.operating_hours_  # per operating hour
        self.every_ = self._matching_age(self.planned_rate_)
        if min(self.share_.values()) < 1:
            self.warnings_.append(
                "wear: operating ages maintenance too (the spec's wear is one per pool): `every` counts "
                "operating hours, matched to the planned stops per operating hour of the records")
        regime = self.interval_.get("regime")
        if regime in ("machine_clock", "common_clock"):
            whose = "each machine's own" if regime == "machine_clock" else "one"
            self.warnings_.append(
                f"planned maintenance keeps {whose} fixed {self.q_:g} h clock grid, which the spec cannot "
                f"say (its maintenance runs `every` after a renewal, or `weekly`): the twin uses every "
                f"{self.every_:g} h, the age that gives as many planned stops")

    def _component_grids(self) -> dict[str, Any]:
        p = self.planned_records_
        out = {}
        for comp, g in p.groupby("component"):
            gaps = g.groupby("machine")["time"].diff().dt.total_seconds().div(3600).dropna()
            out[str(comp)] = {"planned_records": len(g), **grid(gaps.to_numpy(float))}
        return out

    def _regime(self, s: pd.DataFrame, gaps: pd.Series, q: float) -> dict[str, Any]:
        planned = ~s["failure"] & gaps.notna()
        since = gaps[planned].to_numpy(float)
        epoch = (s.loc[planned, "time"] - self.start_.normalize()).dt.total_seconds() / 3600
        shares = {
            "after_renewal": float(_multiple(since, q).mean()),
            "machine_clock": _phase_share(epoch, s.loc[planned, "machine"], q),
            "common_clock": _phase_share(epoch, None, q),
        }
        regime = max(REGIMES, key=lambda r: shares[r])  # the first on a tie: the spec's own `every`
        failed = s["failure"] & s["machine"].isin(s.loc[planned, "machine"])
        shares["failures_on_machine_clock"] = _phase_share(
            pd.concat([epoch, (s.loc[failed, "time"] - self.start_.normalize()).dt.total_seconds() / 3600]),
            pd.concat([s.loc[planned, "machine"], s.loc[failed, "machine"]]), q, only=len(epoch))
        stops = (self.counts_["planned_stops"] + self.counts_["failure_stops"]) / self.machine_years_
        return {"regime": regime, "regime_shares": shares,
                "stops_per_slot": stops / (HOURS_PER_YEAR / q)}  # a slot without a stop leaves no record

    def _matching_age(self, rate: float) -> float:
        """The age T (operating hours) at which planned stops come at `rate` per operating hour."""
        if self.uptime_ is None:
            return _r(1 / rate)
        dist = self.uptime_dist_

        def gap(t: float) -> float:
            return float(dist.sf(t) / integrate.quad(dist.sf, 0, t, limit=200)[0] - rate)

        hi = 1 / rate
        for _ in range(60):
            if gap(hi) <= 0:
                break
            hi *= 2
        return _r(optimize.brentq(gap, 1e-6 * hi, hi, xtol=1e-3))

    def _durations(self, maint: pd.DataFrame | None) -> None:
        """Repair and maintenance durations: the options, else fits of a `duration` column (hours)
        of the failure-driven and of the planned maintenance records (8 or more each)."""
        self.durations_: dict[str, Any] = {}
        if maint is not None and "duration" in maint:
            planned = self.planned_records_["duration"].dropna()
            driven = maint.loc[self.driven_index_, "duration"].dropna()
            for kind, x in (("maintenance", planned), ("repair", driven)):
                if len(x) >= 8:
                    self.durations_[kind] = DurationFitter().fit(x.to_numpy(float)).spec_
        for kind, hours in (("repair", self.repair_hours), ("maintenance", self.maintenance_hours)):
            if hours is not None:
                self.durations_[kind] = {"dist": "constant", "value": float(hours)}
        if self.uptime_ is not None and "repair" not in self.durations_:
            raise CalibrationDataError("--repair-hours: the failure records carry no repair durations; "
                                       "give the mean repair time in hours")
        if self.every_ is not None and "maintenance" not in self.durations_:
            raise CalibrationDataError("--maintenance-hours: the maintenance records carry no durations; "
                                       "give the hours a planned maintenance takes")

    def _spec(self) -> dict[str, Any]:
        """The equipment pool's upkeep: `failures`, `maintenance` and `wear`."""
        out: dict[str, Any] = {}
        if self.uptime_ is not None:
            out["failures"] = {"uptime": self.uptime_["spec"], "repair": self.durations_["repair"]}
        if self.every_ is not None:
            out["maintenance"] = {"duration": self.durations_["maintenance"], "every": self.every_}
        if out:
            out["wear"] = "operating"
        return out

    def check(self, seed: int = 0, years: float = 10.0) -> EquipmentFitter:
        """`check_`: failures and planned stops per machine-year, records against the twin
        (its upkeep on a pool of the records' machines, always operating, `years` long)."""
        from twin import parse_twin
        from twin.engine_simpy import simulate

        per_year = sum(self.share_.values()) / len(self.share_) * HOURS_PER_YEAR  # operating hours
        upkeep = {k: v for k, v in self.spec_.items() if k != "wear"}  # always operating: calendar = use
        twin = parse_twin({
            "name": "upkeep_check", "horizon": years * per_year,
            "arrivals": [{"name": "none", "interarrival": {"dist": "constant", "value": 2 * years * per_year},
                          "route": "idle"}],
            "activities": [{"name": "idle", "duration": 0.0}],
            "resources": [{"name": "machines", "capacity": len(self.machines_), **upkeep}],
        })
        trace = simulate(twin, seed, trace=True).trace or []
        went = pd.Series([kind for _, kind, _, _ in trace]).value_counts()  # units going down, by why
        machine_years = len(self.machines_) * years
        self.check_ = {
            "records": {"failures": self.counts_["failure_stops"] / self.machine_years_,
                        "planned_stops": self.counts_["planned_stops"] / self.machine_years_},
            "twin": {"failures": float(went.get("failure", 0)) / machine_years,
                     "planned_stops": float(went.get("maintenance", 0)) / machine_years},
            "machine_years": {"records": self.machine_years_, "twin": machine_years},
        }
        return self

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "window": [self.start_.isoformat(), self.end_.isoformat()],
            "counts": self.counts_,
            "machine_years": self.machine_years_,
            "operating_share": float(np.mean(list(self.share_.values()))),
            "planned_interval": self.interval_,
            "every_hours": self.every_,
            "failures_on_grid": self.failures_on_grid_,
            "uptime_operating_hours": None if self.uptime_ is None
            else self.uptime_ | {"mean": float(self.uptime_dist_.mean()),
                                 "complete_only": self.uptime_complete_.summary()},
            "durations": self.durations_,
            "pool_spec": self.spec_,
            "warnings": self.warnings_,
        }
        if hasattr(self, "check_"):
            out["per_machine_year"] = self.check_
        return out


def _r(value: float) -> float:
    return float(f"{value:.4g}")


def _frozen(spec: dict[str, Any]) -> Any:
    """A fitted positive family's twin spec as a frozen scipy distribution."""
    kind = spec["dist"]
    if kind == "exponential":
        return stats.expon(scale=spec["mean"])
    if kind == "gamma":
        shape = 1 / spec["cv"] ** 2
        return stats.gamma(shape, scale=spec["mean"] / shape)
    if kind == "lognormal":
        sigma2 = np.log1p((spec["sd"] / spec["mean"]) ** 2)
        return stats.lognorm(np.sqrt(sigma2), scale=spec["mean"] * np.exp(-sigma2 / 2))
    return stats.weibull_min(spec["shape"], scale=spec["scale"])


def attach(spec: dict[str, Any], pool: str, fitted: EquipmentFitter) -> None:
    """Put the fitted upkeep (`failures`, `maintenance`, `wear`) on the pool `pool` of `spec`."""
    pools = [r["name"] for r in spec["resources"]]
    if pool not in pools:
        raise CalibrationDataError(f"--equipment-pool '{pool}': no such pool in the calibrated twin; "
                                   f"its pools are {', '.join(pools)}")
    target = next(r for r in spec["resources"] if r["name"] == pool)
    target.update(fitted.spec_)


def machine_hours(text: str | None) -> float | dict[str, float] | None:
    """`--machine-hours`: hours a machine runs a year, one number or a CSV of (machine, hours)."""
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        table, _ = read_table(text)
    except CalibrationDataError as error:
        raise CalibrationDataError(
            f"--machine-hours '{text}': not a number of hours a year, and {error}") from None
    cols = list(table.columns)
    m = pick(cols, COLUMNS["machine"], "machine")
    h = pick(cols, ("hours", "machine_hours", "operating_hours"), "hours")
    hours = pd.to_numeric(table[h], errors="coerce")
    if hours.isna().any():
        raise CalibrationDataError(f"--machine-hours {text}: column '{h}' has values that are not numbers")
    return dict(zip(table[m].astype(str).str.strip(), hours.astype(float), strict=True))
