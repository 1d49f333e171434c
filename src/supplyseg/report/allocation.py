"""Section 8: allocation — how order promising shares short supply between customer segments.

Drawn for runs that wrote the allocation plan (``allocation_shares.parquet``): each customer
segment's priority, its rule (a fill target, a configured share or its share of demand) and its
backorder strategy; with supply, what the fill targets protect (``allocation_protection``) and
the products where they hold back most of the supply from the lower segments. The full tables
are the workbook's sheets ``allocation_shares`` and ``allocation_protection``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.report.blocks import TOP_ROWS, Block, Context, Kpi, Missing, Note, Section, plural
from supplyseg.report.blocks import table_block as _table

__all__ = ["allocation_section"]


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _rule(rows: pd.DataFrame) -> str:
    """The segment's allocation rule in words (its rows over the product segments)."""
    target = rows["fill_target"].dropna() if "fill_target" in rows.columns else pd.Series()
    if len(target):
        return f"fill target {_pct(float(target.iloc[0]))}"
    share = rows["share"].astype("float64")
    if (rows["share_source"] == "config").all():
        return f"share {_pct(float(share.iloc[0]))}"
    low, high = float(share.min()), float(share.max())
    spread = _pct(low) if np.isclose(low, high) else f"{_pct(low)}–{_pct(high)}"
    return f"share of demand {spread}"


def _segments_block(
    ctx: Context,
    shares: pd.DataFrame,
    kept: pd.DataFrame | None,
    supply: pd.Series,
    products: pd.DataFrame | None,
) -> Block:
    # per customer segment x product with supply: the units a target or a share keeps
    held = pd.DataFrame(columns=["customer_segment", "product_id", "kept", "supply"])
    if products is not None and len(supply):
        by_share = products.astype({"product_id": str}).merge(
            shares[["product_segment", "customer_segment", "share"]], on="product_segment"
        )
        by_share["supply"] = by_share["product_id"].map(supply)
        by_share = by_share.dropna(subset=["supply"])
        by_share["kept"] = by_share["share"] * by_share["supply"]
        if kept is not None and len(kept):
            target = kept.assign(supply=kept["product_id"].map(supply)).dropna(subset=["supply"])
            target["kept"] = np.minimum(target["protected_quantity"], target["supply"])
            keys = set(zip(target["customer_segment"], target["product_id"], strict=True))
            mask = [k not in keys for k in zip(by_share["customer_segment"],
                                                by_share["product_id"], strict=True)]  # fmt: skip
            by_share = pd.concat([by_share[mask], target], ignore_index=True)
        held = by_share[["customer_segment", "product_id", "kept", "supply"]]
    rows = []
    # the lowest level keeps nothing of its own: it books what the others leave
    lowest = int(shares["priority"].max()) if shares["priority"].nunique() > 1 else None
    for seg, g in shares.groupby("customer_segment", sort=False):
        priority = int(g["priority"].iloc[0])
        mine = held[(held["customer_segment"] == seg) & (held["kept"] > 0)]
        if priority == lowest:
            mine = mine.iloc[:0]
        total = float(held.loc[held["customer_segment"] == seg, "supply"].sum())
        rows.append(
            {
                "customer_segment": seg,
                "priority": priority,
                "rule": "what the others leave" if priority == lowest else _rule(g),
                "strategy": str(g["strategy"].iloc[0]),
                "products_protected": len(mine),
                "protected_quantity": float(mine["kept"].sum()),
                "protected_share_of_supply": float(mine["kept"].sum()) / total
                if total > 0 else np.nan,
            }
        )  # fmt: skip
    table = pd.DataFrame(rows).sort_values(["priority", "customer_segment"])
    return _table(
        ctx, "allocation_segments", "Who keeps what when supply is short",
        "Segments are served in priority order (1 first) under nested booking limits: a lower"
        " segment never books into what a higher one keeps, a higher one may take whatever is"
        " left. A fill target keeps, per product, the quantity whose expected shortfall is"
        " (1 − target) of the segment's forecast demand over the supply horizon; a share keeps"
        " that fraction of each product's supply. Kept units are capped at each product's"
        " supply (on hand and receipts) and are a segment's own, before the nesting adds what"
        " the higher ones keep; the strategy is what backorder processing does to the segment's"
        " open lines when supply changes.",
        table,
        ["customer_segment", "priority", "rule", "strategy", "products_protected",
         "protected_quantity", "protected_share_of_supply"],
        source="allocation_shares",
    )  # fmt: skip


def _products_block(ctx: Context, kept: pd.DataFrame, supply: pd.Series) -> tuple[Block, int]:
    t = kept.assign(supply=kept["product_id"].map(supply).astype("float64"))
    # beyond the supply the share reads "all of it": 100 %
    share = t["protected_quantity"] / t["supply"].where(t["supply"] > 0)
    full = int((share >= 1).sum())
    t = t.assign(order=share).sort_values("order", ascending=False, na_position="last")
    t["protected_share_of_supply"] = t.pop("order").clip(upper=1.0)
    block = _table(
        ctx, "allocation_products", "Products where a fill target holds back most supply",
        "The supply (on hand and receipts over the horizon) of these products goes first to the"
        " segment named: the lower segments get only what the protection leaves, and the"
        " protection rolls down as the horizon passes. A share of 100 % means the protected"
        " quantity is the whole supply or more: the lower segments get nothing until the"
        " segment's orders or the days use it up.",
        t.head(TOP_ROWS),
        ["product_id", "customer_segment", "fill_target", "horizon_days", "expected_demand",
         "demand_std", "protected_quantity", "supply", "protected_share_of_supply"],
        total=len(t), source="allocation_protection",
    )  # fmt: skip
    return block, full


def allocation_section(ctx: Context) -> Section:
    """The allocation section (module doc)."""
    sec = Section(
        "allocation", "8. Allocation under scarce supply",
        "How order promising shares short supply between customer segments: priorities,"
        " protected quantities and backorder strategies, as `supplyseg publish` carries them"
        " into the order service.",
    )  # fmt: skip
    shares = ctx.run.table("allocation_shares")
    if shares is None:
        sec.blocks.append(
            Missing("allocation", "Allocation plan", ctx.run.reason_absent("allocation_shares"))
        )
        return sec
    kept = ctx.run.table("allocation_protection")
    supply_rows = ctx.run.table("supply")
    supply = (
        supply_rows.groupby(supply_rows["product_id"].astype(str))["quantity"].sum()
        if supply_rows is not None
        else pd.Series(dtype="float64")
    )
    products = ctx.run.table("allocation_products")
    sec.blocks.append(_segments_block(ctx, shares, kept, supply, products))
    if kept is None or kept.empty:
        why = (
            "no segment has a fill target"
            if "fill_target" not in shares.columns or shares["fill_target"].isna().all()
            else "the run had no supply (a supply or inventory table) or no forecast to protect"
        )
        sec.blocks.append(Note("allocation_no_protection", f"Nothing is protected by fill"
                               f" target: {why}; segments keep their shares.", "info"))  # fmt: skip
        return sec
    block, full = _products_block(ctx, kept, supply)
    capped = np.minimum(kept["protected_quantity"], kept["product_id"].map(supply).fillna(0.0))
    total = float(supply.reindex(kept["product_id"].unique()).sum())
    share = float(capped.sum()) / total if total > 0 else None
    sec.kpis.append(
        Kpi(
            "allocation_protected", "Supply kept by fill targets", share,
            "unknown" if share is None else _pct(share),
            f"of the supply of {plural(kept['product_id'].nunique(), 'product')}; all of it on"
            f" {plural(full, 'product')}",
            warn=full > 0,
        )
    )  # fmt: skip
    sec.blocks.append(block)
    return sec
