"""The supplier step of a run: lead times, supplier metrics and segments, landed cost; and the
learned lead times handed to the inventory policies.

`supplier_outputs` runs when the workspace provides ``purchase_orders`` (landed cost also needs
``sourcing_options``) and returns the three output tables and the per-product lead times. In a
run, landed cost comes after the policy step (`supplier_landed_cost`), so that each product's
safety-stock carrying cost uses its own policy's service level (`policy_service_levels`).
`products_with_learned_lead_times` puts those into the products table the policies read (mean
and std from the product's current supplier where purchase history or the supplier's other
receipts give them; the products column and the default stay where they do not), and
`policies_with_lead_time_source` names that source in each policy row and its rationale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.analytics.landed_cost import landed_cost
from supplyseg.analytics.lead_times import (
    current_suppliers,
    lead_times,
    location_lead_times,
    product_lead_times,
)
from supplyseg.analytics.supplier import supplier_metrics
from supplyseg.config.policy import PolicySettings
from supplyseg.config.supplier import SupplierSettings
from supplyseg.data.contract import require_columns
from supplyseg.segment.suppliers import supplier_segments

__all__ = [
    "ITEM_SOURCES",
    "LEARNED_SOURCES",
    "LandedCostResult",
    "SupplierResult",
    "item_lead_times",
    "policies_with_lead_time_source",
    "policy_service_levels",
    "products_with_learned_lead_times",
    "supplier_landed_cost",
    "supplier_outputs",
]

LEARNED_SOURCES = ("supplier_product", "supplier")
"""Lead-time sources learned from receipts (the others are the products column, the default)."""
ITEM_SOURCES = ("supplier_product_location", *LEARNED_SOURCES)
"""Learned sources of a product x location's lead time (its own location's receipts first)."""
DAYS_PER_BUCKET = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}


@dataclass
class SupplierResult:
    """The supplier step's tables, the product lead times for policies, notes and a summary."""

    lead_times: pd.DataFrame
    supplier_metrics: pd.DataFrame
    product_lead_times: pd.DataFrame
    landed_cost: pd.DataFrame | None = None
    location_lead_times: pd.DataFrame | None = None
    """Per product x location from its current supplier there (`location_lead_times`), when
    ``supplier.lead_time_by_location`` and the purchase orders name locations."""
    notes: list[str] = field(default_factory=list)
    summary: dict[str, object] = field(default_factory=dict)

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The run outputs by name: lead_times, supplier_metrics and (with options) landed_cost."""
        out = {"lead_times": self.lead_times, "supplier_metrics": self.supplier_metrics}
        return out | ({"landed_cost": self.landed_cost} if self.landed_cost is not None else {})


def _daily_demand(demand_product: pd.DataFrame | None, bucket: str) -> pd.DataFrame:
    """Mean and std of daily demand per product from the per-bucket profile (days independent:
    the std scales with the square root of the days)."""
    cols = ["product_id", "demand_per_day", "demand_std_per_day"]
    if demand_product is None or not {"product_id", "mean", "std"} <= set(demand_product.columns):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    days = DAYS_PER_BUCKET[bucket]
    return pd.DataFrame(
        {
            "product_id": demand_product["product_id"].to_numpy(dtype=object),
            "demand_per_day": demand_product["mean"].to_numpy(dtype=float) / days,
            "demand_std_per_day": demand_product["std"].to_numpy(dtype=float) / np.sqrt(days),
        }
    )


def supplier_outputs(
    tables: dict[str, ir.Table],
    settings: SupplierSettings,
    policies: PolicySettings,
    *,
    demand_product: pd.DataFrame | None = None,
    bucket: str = "week",
    with_landed_cost: bool = True,
) -> SupplierResult:
    """The supplier step over loaded tables (``purchase_orders`` required).

    ``with_landed_cost=False`` leaves landed cost out: the pipeline computes it after the
    policy step (`supplier_landed_cost`), with each product's own service level."""
    po = tables["purchase_orders"]
    products = tables.get("products")
    product_frame = products.to_pandas() if products is not None else None
    defaults = {
        "default_days": policies.default_lead_time_days,
        "default_std_days": policies.default_lead_time_std_days,
    }
    table = lead_times(
        po,
        product_frame,
        min_receipts=settings.min_receipts,
        by_location=settings.lead_time_by_location,
        **defaults,
    )
    per_product = product_lead_times(
        po, product_frame, min_receipts=settings.min_receipts, **defaults
    )
    per_location = None
    if settings.lead_time_by_location and "location_id" in po.columns:
        per_location = location_lead_times(
            po, product_frame, min_receipts=settings.min_receipts, **defaults
        )
    metrics = supplier_metrics(
        po,
        tables.get("suppliers"),
        otif_tolerance_days=settings.otif_tolerance_days,
        in_full_tolerance=settings.in_full_tolerance,
    )
    segmented = supplier_segments(metrics, settings)
    result = SupplierResult(table, segmented, per_product, location_lead_times=per_location)
    counts = table["source"].value_counts()
    result.notes.append(
        f"supplier: lead times of {len(table):,} supplier x product"
        + (" x location" if settings.lead_time_by_location else "")
        + " rows from "
        + ", ".join(f"{src} {n:,}" for src, n in counts.items())
    )
    shares = segmented["segment"].value_counts(normalize=True).round(4).to_dict()
    result.summary = {
        "suppliers": len(segmented),
        "segments": {str(k): float(v) for k, v in shares.items()},
        "lead_time_sources": {str(k): int(v) for k, v in counts.items()},
    }
    if "sourcing_options" not in tables:
        result.notes.append("supplier: no sourcing_options, so no landed-cost comparison")
        return result
    if with_landed_cost:
        lc = supplier_landed_cost(
            tables, settings, policies, demand_product=demand_product, bucket=bucket
        )
        result.landed_cost = lc.table
        result.summary["landed_cost"] = lc.summary
        result.notes.extend(lc.notes)
    return result


@dataclass
class LandedCostResult:
    """Landed cost per product x sourcing option, its manifest summary and notes."""

    table: pd.DataFrame
    summary: dict[str, object]
    notes: list[str] = field(default_factory=list)


def policy_service_levels(policies: pd.DataFrame) -> pd.DataFrame:
    """Each product's cycle service level from its policies: ``product_id, service_level,
    stocked`` for landed cost's safety-stock carrying cost.

    An item-location's level is its target when the target is a cycle service, else (a
    fill-rate target) the cycle service its policy runs at (``expected_cycle_service``), kept
    within [0.5, 0.9999]; a product's level is the demand-weighted mean over its stocked
    item-locations (a plain mean when none has demand). ``stocked`` is false when none of its
    items holds stock (make to order, no stock): ``service_level`` is then empty.
    """
    need = ["product_id", "service_type", "service_target"]
    frame = require_columns("policies", policies, need)
    kind = frame["service_type"].astype(str).to_numpy()
    target = pd.to_numeric(frame["service_target"], errors="coerce").to_numpy(dtype=float)
    cycle = (
        pd.to_numeric(frame["expected_cycle_service"], errors="coerce").to_numpy(dtype=float)
        if "expected_cycle_service" in frame.columns
        else np.full(len(frame), np.nan)
    )
    level = np.where(kind == "cycle", target, np.where(kind == "fill_rate", cycle, np.nan))
    level = np.clip(level, 0.5, 0.9999)
    weight = (
        pd.to_numeric(frame["demand_mean"], errors="coerce").fillna(0.0).clip(lower=0.0)
        if "demand_mean" in frame.columns
        else pd.Series(0.0, index=frame.index)
    ).to_numpy(dtype=float)
    known = np.isfinite(level)
    rows = pd.DataFrame(
        {
            "product_id": frame["product_id"].to_numpy(dtype=object),
            "stocked": kind != "none",
            "_known": known.astype(float),
            "_w": np.where(known, weight, 0.0),
            "_wl": np.where(known, weight * np.nan_to_num(level), 0.0),
            "_l": np.nan_to_num(level),
        }
    )
    per = rows.groupby("product_id", sort=True).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        weighted = per["_wl"] / per["_w"]
        plain = per["_l"] / per["_known"]
    out = weighted.where(per["_w"] > 0, plain).where(per["_known"] > 0)
    return pd.DataFrame(
        {
            "product_id": per.index.to_numpy(dtype=object),
            "service_level": out.to_numpy(dtype=float),
            "stocked": per["stocked"].to_numpy() > 0,
        }
    )


def supplier_landed_cost(
    tables: dict[str, ir.Table],
    settings: SupplierSettings,
    policies: PolicySettings,
    *,
    demand_product: pd.DataFrame | None = None,
    bucket: str = "week",
    service_levels: pd.DataFrame | None = None,
) -> LandedCostResult:
    """Landed cost over loaded tables (``purchase_orders`` and ``sourcing_options``).

    ``service_levels``: ``product_id, service_level`` (and ``stocked``) per product, as from
    `policy_service_levels` on the run's policies; products without one (or without it) take
    ``supplier.landed_cost.service_level``.
    """
    po = tables["purchase_orders"]
    products = tables.get("products")
    product_frame = products.to_pandas() if products is not None else None
    pair = lead_times(
        po,
        product_frame,
        min_receipts=settings.min_receipts,
        by_location=False,
        default_days=policies.default_lead_time_days,
        default_std_days=policies.default_lead_time_std_days,
    )
    demand = _daily_demand(demand_product, bucket)
    if service_levels is not None:
        cols = [c for c in ("product_id", "service_level", "stocked") if c in service_levels]
        demand = demand.merge(service_levels[cols], on="product_id", how="left")
    holding = settings.landed_cost.holding_rate or policies.holding_rate
    lc = landed_cost(
        tables["sourcing_options"].to_pandas(),
        demand,
        holding_rate=holding,
        service_level=settings.landed_cost.service_level,
        customs_value_basis=settings.landed_cost.customs_value_basis,
        lead_times=pair,
        current=current_suppliers(po),
        default_std_days=policies.default_lead_time_std_days,
    )
    switch = lc[lc["cheapest"] & ~lc["current"] & (lc["saving_vs_current_per_unit"] > 0)]
    unknown = int(lc["total_per_unit"].isna().sum())
    own = 0
    if service_levels is not None and "service_level" in service_levels:
        own = int(service_levels["service_level"].notna().sum())
    summary: dict[str, object] = {
        "options": len(lc),
        "products_cheaper_elsewhere": int(switch["product_id"].nunique()),
        "annual_saving_vs_current": float(switch["annual_saving_vs_current"].sum()),
        "options_total_unknown": unknown,
        "products_with_policy_service_level": own,
    }
    result = LandedCostResult(lc, summary)
    if unknown:
        result.notes.append(
            f"supplier: {unknown:,} sourcing option(s) with an unknown landed cost (a freight,"
            " insurance or duty figure or the product's demand is missing; fill 0 where none"
            " applies)"
        )
    return result


def products_with_learned_lead_times(
    products: pd.DataFrame | None, per_product: pd.DataFrame
) -> pd.DataFrame | None:
    """``products`` with ``lead_time_days`` / ``lead_time_std_days`` replaced by the learned
    figures where the source is learned (`LEARNED_SOURCES`); products only in purchase history
    are added. The original columns are kept as ``*_column``."""
    learned = per_product[per_product["source"].isin(LEARNED_SOURCES)]
    if learned.empty:
        return products
    base = (
        products.copy()
        if products is not None
        else pd.DataFrame({"product_id": pd.Series(dtype="object")})
    )
    for col in ("lead_time_days", "lead_time_std_days"):
        if col not in base.columns:
            base[col] = np.nan
    new = learned[~learned["product_id"].isin(base["product_id"])][["product_id"]]
    out = pd.concat([base, new], ignore_index=True) if len(new) else base
    by = learned.drop_duplicates("product_id").set_index("product_id")
    mean = out["product_id"].map(by["mean_days"])
    std = out["product_id"].map(by["std_days"])
    hit = mean.notna().to_numpy()
    out.loc[hit, "lead_time_days"] = mean[hit].to_numpy(dtype=float)
    out.loc[hit, "lead_time_std_days"] = std[hit].to_numpy(dtype=float)
    return out


def item_lead_times(per_location: pd.DataFrame | None) -> pd.DataFrame | None:
    """The learned lead times per product x location (`ITEM_SOURCES`) as the policies read
    them: ``product_id, location_id, lead_time_days, lead_time_std_days``; None without any."""
    if per_location is None or per_location.empty:
        return None
    learned = per_location[per_location["source"].isin(ITEM_SOURCES)]
    if learned.empty:
        return None
    return pd.DataFrame(
        {
            "product_id": learned["product_id"].to_numpy(dtype=object),
            "location_id": learned["location_id"].to_numpy(dtype=object),
            "lead_time_days": learned["mean_days"].to_numpy(dtype=float),
            "lead_time_std_days": learned["std_days"].to_numpy(dtype=float),
        }
    )


def _row_sources(
    policies: pd.DataFrame, per_product: pd.DataFrame, per_location: pd.DataFrame | None
) -> pd.DataFrame:
    """``supplier_id, source, n`` per policy row: its location's learned figures where there
    are some, else its product's."""
    by = per_product.drop_duplicates("product_id").set_index("product_id")
    out = pd.DataFrame(
        {c: policies["product_id"].map(by[c]).to_numpy() for c in ("supplier_id", "source", "n")},
        index=policies.index,
    ).astype(object)
    if per_location is None or per_location.empty or "location_id" not in policies.columns:
        return out
    learned = per_location[per_location["source"].isin(ITEM_SOURCES)]
    keys = pd.MultiIndex.from_frame(learned[["product_id", "location_id"]].astype(str))
    rows = pd.MultiIndex.from_arrays(
        [policies["product_id"].astype(str), policies["location_id"].astype(str)]
    )
    at = keys.get_indexer(rows)
    hit = at >= 0
    for c in ("supplier_id", "source", "n"):
        values = out[c].to_numpy(dtype=object)
        values[hit] = learned[c].to_numpy(dtype=object)[at[hit]]
        out[c] = values
    return out


def policies_with_lead_time_source(
    policies: pd.DataFrame,
    per_product: pd.DataFrame,
    suppliers: pd.DataFrame | None = None,
    products: pd.DataFrame | None = None,
    per_location: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Policies with ``supplier_id`` (current supplier), ``lead_time_source``
    (``supplier_product_location``, ``supplier_product`` or ``supplier``: learned from
    receipts; else ``product_column`` when ``products`` has the product's lead_time_days, else
    ``default``) and, from ``suppliers`` (segmented supplier metrics), ``supplier_segment`` and
    ``supplier_program``. With ``per_location`` (`location_lead_times`) an item-location whose
    lead time was learned there names its location's current supplier and source. A rationale
    whose lead time was learned names the purchase history instead of the products column."""
    out = policies.copy()
    rows = _row_sources(out, per_product, per_location)
    out["supplier_id"] = rows["supplier_id"]
    source = rows["source"]
    learned = source.isin(ITEM_SOURCES).to_numpy()
    has_column = np.zeros(len(out), dtype=bool)
    if products is not None and "lead_time_days" in products.columns:
        known = products.loc[products["lead_time_days"].notna(), "product_id"]
        has_column = out["product_id"].isin(known).to_numpy()
    out["lead_time_source"] = np.where(
        learned, source.astype(str), np.where(has_column, "product_column", "default")
    )
    if suppliers is not None and len(suppliers):
        seg = suppliers.drop_duplicates("supplier_id").set_index("supplier_id")
        out["supplier_segment"] = out["supplier_id"].map(seg["segment"])
        out["supplier_program"] = out["supplier_id"].map(seg["program"])
    if "rationale" in out.columns and learned.any():
        label = (
            " from purchase history ("
            + out["supplier_id"].astype(str)
            + ", "
            + source.astype(str).str.replace("_", " x ")
            + ", "
            + pd.to_numeric(rows["n"], errors="coerce").astype("Int64").astype(str)
            + " receipts)"
        )
        text = out["rationale"].astype(str)
        pairs = pd.DataFrame({"t": text[learned], "l": label[learned]})
        unique = pairs.drop_duplicates()
        swapped = {
            (t, lbl): t.replace(" from products.lead_time_days", lbl).replace(
                "σL from products.lead_time_std_days", "σL from purchase history"
            )
            for t, lbl in zip(unique["t"], unique["l"], strict=True)
        }
        new = text.to_numpy(dtype=object)
        new[learned] = [swapped[k] for k in zip(pairs["t"], pairs["l"], strict=True)]
        out["rationale"] = pd.Categorical(new)
    return out
