"""Supplier lead times, lateness and disruption episodes from delivery records.

`LeadTimeFitter().fit(deliveries)` reads order, scheduled and delivered dates (the SCMS
column names by default). Lead time = delivered - ordered (hours), fitted overall, per
shipment mode and per vendor with at least `min_rows` rows; lateness = delivered -
scheduled (days; > 0 is late). Disruption episodes are runs of consecutive weeks (by
scheduled date, at least 5 deliveries) whose late share exceeds max(2 x overall,
overall + 0.1); their gaps and lengths give the spec's `disruptions` block when there are
enough of them. Rows without a usable date are dropped and counted, never silently.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibration.failures import holdout
from calibration.fitters import DurationFitter

DEFAULTS = {
    "ordered": "PO Sent to Vendor Date",
    "scheduled": "Scheduled Delivery Date",
    "delivered": "Delivered to Client Date",
    "mode": "Shipment Mode",
    "vendor": "Vendor",
}


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype(str), errors="coerce", format="mixed")


class LeadTimeFitter:
    def __init__(
        self, columns: dict[str, str] | None = None, min_rows: int = 100, train_share: float = 0.7
    ) -> None:
        self.columns = columns
        self.min_rows = min_rows
        self.train_share = train_share

    def fit(self, deliveries: pd.DataFrame) -> LeadTimeFitter:
        cols = DEFAULTS | (self.columns or {})
        missing = [c for c in ("ordered", "scheduled", "delivered") if cols[c] not in deliveries.columns]
        if missing:
            raise ValueError(f"deliveries: missing column(s) {[cols[c] for c in missing]}")
        df = pd.DataFrame({k: deliveries[v] for k, v in cols.items() if v in deliveries.columns})
        for k in ("ordered", "scheduled", "delivered"):
            df[k] = _dates(df[k])
        self.dropped_: dict[str, int] = {}
        self._fit_lateness(df)
        self._fit_lead(df)
        self._fit_episodes(df)
        return self

    def _drop(self, reason: str, mask: pd.Series) -> None:
        if mask.any():
            self.dropped_[reason] = int(mask.sum())

    def _fit_lead(self, df: pd.DataFrame) -> None:
        self._drop("lead time: no parsable order date", df["ordered"].isna())
        lead = df.dropna(subset=["ordered"]).copy()
        lead["hours"] = (lead["delivered"] - lead["ordered"]).dt.total_seconds() / 3600
        self._drop("lead time: delivered before ordered", lead["hours"] < 0)
        lead = lead[lead["hours"] >= 0]
        self.lead_ = DurationFitter().fit(lead["hours"])
        self.lead_by_ = {}
        for key in ("mode", "vendor"):
            if key in lead:
                self.lead_by_[key] = {
                    str(k): DurationFitter().fit(g["hours"])
                    for k, g in lead.groupby(key)
                    if len(g) >= self.min_rows and k != ""
                }
        self.holdout_ = holdout(  # a late order shows only once delivered, by the last delivery
            lead["hours"].reset_index(drop=True), lead["ordered"].reset_index(drop=True), self.train_share,
            end=df["delivered"].max(),
        )

    def _fit_lateness(self, df: pd.DataFrame) -> None:
        ok = df.dropna(subset=["scheduled", "delivered"])
        self._drop(
            "lateness: no parsable scheduled/delivered date", df["scheduled"].isna() | df["delivered"].isna()
        )
        days = (ok["delivered"] - ok["scheduled"]).dt.days
        self.late_share_ = float((days > 0).mean())
        self.lateness_ = {
            "n": len(days),
            "mean_days": float(days.mean()),
            "late_share": self.late_share_,
            "late_p90_days": float(days[days > 0].quantile(0.9)) if (days > 0).any() else 0.0,
            "max_days": float(days.max()),
        }
        self.late_by_mode_ = {
            str(m): float((g > 0).mean())
            for m, g in days.groupby(ok.get("mode", pd.Series("", index=ok.index)))
        }
        self._weekly = pd.DataFrame({"week": ok["scheduled"].dt.to_period("W"), "late": days > 0})

    def _fit_episodes(self, df: pd.DataFrame) -> None:
        weekly = self._weekly.groupby("week")["late"].agg(["mean", "size"])
        weekly = weekly[weekly["size"] >= 5]
        threshold = max(2 * self.late_share_, self.late_share_ + 0.1)
        bad = (weekly["mean"] > threshold).to_numpy()
        weeks = weekly.index.to_timestamp().to_numpy()
        self.episodes_ = _runs(bad, weeks)
        self.threshold_ = threshold
        self.disruptions_: dict[str, Any] | None = None
        if len(self.episodes_) >= 3:
            starts = np.array([np.datetime64(e["start"]) for e in self.episodes_])
            gaps = np.diff(starts).astype("timedelta64[h]").astype(float)
            lengths = np.array([e["weeks"] * 168.0 for e in self.episodes_])
            self.disruptions_ = {
                "every": DurationFitter().fit(np.maximum(gaps - lengths[:-1], 1.0)).spec_,
                "duration": DurationFitter().fit(lengths).spec_,
            }

    def summary(self) -> dict[str, Any]:
        supplier: dict[str, Any] = {"lead_time": self.lead_.spec_}
        if self.disruptions_:
            supplier["disruptions"] = self.disruptions_
        return {
            "dropped": self.dropped_,
            "lead_time_hours": self.lead_.summary(),
            "lead_time_by": {k: {n: f.summary() for n, f in v.items()} for k, v in self.lead_by_.items()},
            "holdout": self.holdout_,
            "lateness": self.lateness_,
            "late_share_by_mode": self.late_by_mode_,
            "episodes": {
                "threshold_late_share": self.threshold_,
                "count": len(self.episodes_),
                "list": self.episodes_,
            },
            "supplier_spec": supplier,
            "warnings": []
            if self.disruptions_
            else ["fewer than 3 disruption episodes: no disruptions block"],
        }


def _runs(flags: np.ndarray, weeks: np.ndarray) -> list[dict[str, Any]]:
    episodes, i = [], 0
    while i < len(flags):
        if flags[i]:
            j = i
            while j + 1 < len(flags) and flags[j + 1]:
                j += 1
            episodes.append({"start": str(pd.Timestamp(weeks[i]).date()), "weeks": j - i + 1})
            i = j + 1
        else:
            i += 1
    return episodes


class SupplierSplit:
    """The split of orders between suppliers per material, as each material's `suppliers` (a
    split by share). An order is a delivery row; a material needs `min_orders` of them, a
    supplier a share of at least `min_share` (smaller ones are left out and the shares
    renormalised; the share left out is reported). A supplier's lead time is its own fit over
    all materials where the lead-time fit has one (`LeadTimeFitter.min_rows` orders with an
    order date), else that of all orders."""

    def __init__(
        self, material: str = "Molecule/Test Type", vendor: str = "Vendor", min_orders: int = 20,
        min_share: float = 0.05,
    ) -> None:
        self.material, self.vendor = material, vendor
        self.min_orders, self.min_share = min_orders, min_share

    def fit(self, deliveries: pd.DataFrame, lead: LeadTimeFitter) -> SupplierSplit:
        from calibration.names import slugs

        missing = [c for c in (self.material, self.vendor) if c not in deliveries.columns]
        if missing:
            raise ValueError(f"deliveries: no column(s) {missing} for the supplier split")
        rows = deliveries[[self.material, self.vendor]].astype(str).apply(lambda c: c.str.strip())
        rows = rows[(rows[self.material] != "") & (rows[self.vendor] != "")]
        counts = rows.groupby(self.material)[self.vendor].value_counts()
        materials = [m for m, n in rows[self.material].value_counts().items() if n >= self.min_orders]
        self.material_names_ = slugs(sorted(materials))
        self.vendor_names_ = slugs(sorted(rows[self.vendor].unique()))
        self.lead_by_vendor_ = lead.lead_by_.get("vendor", {})  # vendors with enough rows
        self.split_: dict[str, dict[str, Any]] = {}
        for m in sorted(materials):
            share = counts[m] / counts[m].sum()
            kept = share[share >= self.min_share]
            self.split_[self.material_names_[m]] = {
                "label": m, "orders": int(counts[m].sum()), "left_out_share": float(1 - kept.sum()),
                "suppliers": self._suppliers(kept / kept.sum(), lead),
            }
        return self

    def _suppliers(self, shares: pd.Series, lead: LeadTimeFitter) -> list[dict[str, Any]]:
        out = []
        rounded = [round(float(s), 4) for s in shares]
        rounded[0] = round(1 - sum(rounded[1:]), 6)  # shares must sum to 1
        for (vendor, _), share in zip(shares.items(), rounded, strict=True):
            fit = self.lead_by_vendor_.get(str(vendor), lead.lead_)
            out.append({"name": self.vendor_names_[str(vendor)], "share": share, "lead_time": fit.spec_})
        return out

    def summary(self) -> dict[str, Any]:
        return {"material_column": self.material, "vendor_column": self.vendor,
                "vendors_with_own_lead_time": sorted(self.lead_by_vendor_), "materials": self.split_}


def attach_suppliers(spec: dict[str, Any], split: SupplierSplit) -> list[str]:
    """Give each material of `spec` named as a material of the split its `suppliers` (in place
    of its `supplier`); the names of the materials given them."""
    done = []
    for material in spec.get("materials", []):
        found = split.split_.get(material["name"])
        if found is not None and material.get("reorder") is not None:
            material.pop("supplier", None)
            material["suppliers"] = found["suppliers"]
            done.append(material["name"])
    return done
