"""Section 1: headline numbers (customers, products, revenue, unprofitable customers, inventory
investment, make-to-order share) and data quality (row accounting, rejects by reason, examples).

A figure that cannot be known (no unit cost) reads "unknown (no unit cost)", never 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from supplyseg.report import figures as fg
from supplyseg.report.blocks import Block, Chart, Context, Kpi, Missing, Section, table_block
from supplyseg.report.columns import format_value
from supplyseg.report.run_folder import RunFolder
from supplyseg.report.unknown import NO_UNIT_COST, cost_unknown_reason, known_total

__all__ = ["headline_numbers", "headline_section", "inventory_unknown"]


def _customertable_block(run: RunFolder) -> pd.DataFrame | None:
    for name in ("customer_metrics", "cost_to_serve_customer", "demand_customer"):
        frame = run.table(name)
        if frame is not None and "customer_id" in frame.columns:
            return frame
    return None


def _revenuetable_block(run: RunFolder) -> tuple[str, pd.DataFrame] | None:
    for name in ("demand_product", "cost_to_serve_customer", "demand_customer"):
        frame = run.table(name)
        if frame is not None and "revenue" in frame.columns:
            return name, frame
    return None


def _unknown_kpi(key: str, label: str, why: str, *, no_cost: bool) -> Kpi:
    """A card for a figure the run could not know, and why (the step's words when it has them)."""
    text = "unknown (no unit cost)" if no_cost else "unknown"
    return Kpi(key, label, None, text, f"unknown because {why}")


def _inventory_kpi(run: RunFolder, cost_why: str | None) -> Kpi:
    cur = run.currency
    pol = run.table("policies")
    if pol is None or "inventory_value" not in pol.columns:
        why = run.reason_absent("policies")
        return Kpi("inventory", "Inventory investment", None, "—", f"not computed because {why}")
    total = known_total(pol["inventory_value"])
    missing = int(pol["inventory_value"].isna().sum())
    if np.isnan(total) or (missing and total == 0):
        # Known values of 0 only (make-to-order items hold no stock) say nothing of the rest.
        why = NO_UNIT_COST if cost_why else "no stocked item has a known inventory value"
        if missing:
            why += f"; {missing:,} items with stock have no inventory value"
        return _unknown_kpi("inventory", "Inventory investment", why, no_cost=bool(cost_why))
    by = "service_type" if "service_type" in pol.columns else None
    parts = (
        pol.groupby(by)["inventory_value"].sum(min_count=1) if by else pd.Series(dtype="float64")
    )
    detail = " · ".join(
        f"{k}: {format_value(float(v), 'currency', cur) if pd.notna(v) else 'unknown'}"
        for k, v in parts.items()
    )
    text = format_value(total, "currency", cur)
    if missing:
        # A lower bound: the items without a unit cost would add to it.
        text = f"≥ {text}"
        detail += f" · {missing:,} items without a unit cost are not included"
    return Kpi("inventory", "Inventory investment", total, text, detail)


def _make_to_order_kpi(run: RunFolder) -> Kpi:
    """Share of items the policy makes to order; the manifest's summary, else the rule column."""
    label = "Make-to-order share"
    summary = run.summary("policy")
    share = summary.get("make_to_order_share") if isinstance(summary, dict) else None
    pol = run.table("policies")
    rules = pol["inventory_rule"] if pol is not None and "inventory_rule" in pol.columns else None
    if share is None and rules is not None and len(rules):
        share = float((rules == "make_to_order").mean())
    if share is None:
        why = (
            run.reason_absent("policies")
            if pol is None
            else "the policies have no inventory_rule column"
        )
        return Kpi("make_to_order", label, None, "—", f"not computed because {why}")
    share = float(share)
    detail = "of items with a policy are made to order, not stocked"
    if rules is not None:
        mto = int((rules == "make_to_order").sum())
        no_stock = int((rules == "no_stock").sum())
        detail = f"{mto:,} of {len(rules):,} items are made to order, not stocked"
        if no_stock:
            detail += f"; {no_stock:,} are not stocked at all (no_stock)"
    return Kpi("make_to_order", label, share, format_value(share, "fraction"), detail)


def headline_numbers(run: RunFolder) -> list[Kpi]:
    """Customers, products, revenue, share of unprofitable customers, inventory investment and
    make-to-order share; unknown figures say why instead of showing 0."""
    cur = run.currency
    cost_why = cost_unknown_reason(run)
    kpis: list[Kpi] = []
    cust = _customertable_block(run)
    if cust is None:
        kpis.append(
            Kpi("customers", "Customers", None, "—", "not computed because no customer table")
        )
    else:
        n = int(cust["customer_id"].nunique())
        kpis.append(Kpi("customers", "Customers", n, f"{n:,}", "with at least one order line"))
    prod = run.table("demand_product")
    if prod is None or "product_id" not in prod.columns:
        why = run.reason_absent("demand_product")
        kpis.append(Kpi("products", "Products", None, "—", f"not computed because {why}"))
    else:
        n = int(prod["product_id"].nunique())
        kpis.append(Kpi("products", "Products", n, f"{n:,}", "with demand in the horizon"))
    rev = _revenuetable_block(run)
    if rev is None:
        kpis.append(Kpi("revenue", "Revenue", None, "—", "not computed because no revenue table"))
    else:
        total = known_total(rev[1]["revenue"])
        if np.isnan(total):
            why = "no line has a known revenue"
            kpis.append(_unknown_kpi("revenue", "Revenue", why, no_cost=False))
        else:
            text = format_value(total, "currency", cur)
            kpis.append(Kpi("revenue", "Revenue", total, text, "net of credit notes"))
    cts = run.table("cost_to_serve_customer")
    known_profit = (
        cts["net_profit"].notna().any() if cts is not None and "net_profit" in cts else False
    )
    if cts is None:
        why = run.reason_absent("cost_to_serve_customer")
        kpis.append(
            Kpi("unprofitable", "Unprofitable customers", None, "—", f"not computed because {why}")
        )
    elif not known_profit:
        note = next(
            (n for n in run.notes_about("cost_to_serve") if "net profit" in n.lower()), None
        )
        why = note or (NO_UNIT_COST if cost_why else "net profit is unknown for every customer")
        kpis.append(
            _unknown_kpi("unprofitable", "Unprofitable customers", why, no_cost=bool(cost_why))
        )
    else:
        known = cts["net_profit"].dropna()
        losing = known[known < 0]
        share = len(losing) / len(known) if len(known) else float("nan")
        kpis.append(
            Kpi(
                "unprofitable",
                "Unprofitable customers",
                share,
                format_value(share, "fraction"),
                f"{len(losing):,} of {len(known):,} customers lose "
                f"{format_value(-float(losing.sum()), 'currency', cur)} after cost-to-serve",
            )
        )
    kpis.append(_inventory_kpi(run, cost_why))
    kpis.append(_make_to_order_kpi(run))
    return kpis


def _data_quality(ctx: Context) -> list[Block]:
    run = ctx.run
    blocks: list[Block] = []
    tables = run.manifest.get("tables") or {}
    acc = pd.DataFrame(
        [
            {
                "table": name,
                "source": Path(str(t.get("source", ""))).name,
                "read": t.get("read", 0),
                "loaded": t.get("loaded", 0),
                "rejected": t.get("rejected", 0),
            }
            for name, t in tables.items()
        ]
    )
    if acc.empty:
        return [Missing("row_accounting", "Row accounting", "the manifest lists no input tables")]
    acc["rejected_pct"] = 100.0 * acc["rejected"] / acc["read"].where(acc["read"] > 0)
    blocks.append(
        table_block(
            ctx, "row_accounting", "Row accounting per input table",
            "Every row read is either loaded or rejected: read = loaded + rejected.",
            acc, ["table", "source", "read", "loaded", "rejected", "rejected_pct"],
        )
    )  # fmt: skip
    reasons = pd.DataFrame(
        [
            {"table": name, "reason_code": code, "rows": int(n)}
            for name, t in tables.items()
            for code, n in (t.get("reasons") or {}).items()
            if n
        ],
        columns=["table", "reason_code", "rows"],
    )
    if reasons.empty:
        blocks.append(Missing("rejects", "Rejected rows by reason", "no row was rejected"))
        return blocks
    blocks.append(
        Chart(
            "rejects_by_reason", "Rejected rows by reason",
            "Each bar counts the rows set aside for one reason, split by input table. The"
            " longest bars are the first fixes to ask of the data owner.",
            fg.rejects_by_reason(reasons),
        )
    )  # fmt: skip
    rejects = run.table("rejects")
    if rejects is not None and len(rejects):
        order = rejects["reason_code"].value_counts().index
        examples = (
            rejects.groupby("reason_code", sort=False).head(3).set_index("reason_code").loc[order]
        ).reset_index()
        blocks.append(
            table_block(
                ctx, "reject_examples", "Examples of rejected rows",
                "Up to three rows per reason, most frequent reason first, with the message"
                " that says how to fix the source.",
                examples.head(30),
                ["reason_code", "table", "row_number", "field", "value", "message"],
                total=len(rejects), source="rejects",
            )
        )  # fmt: skip
    return blocks


def inventory_unknown(ctx: Context) -> str | None:
    """Why no inventory chart can be drawn although some values are known: every known value
    is 0 (make-to-order items) and the stocked items' values are unknown."""
    pol = ctx.run.table("policies")
    if pol is None or "inventory_value" not in pol.columns:
        return None
    values = pol["inventory_value"]
    if values.fillna(0).ne(0).any() or not values.isna().any():
        return None
    cause = NO_UNIT_COST if ctx.cost_unknown else "their value is not known"
    return f"inventory value is unknown for every item with stock: {cause}"


def headline_section(ctx: Context) -> Section:
    """Section 1: the KPI cards, inventory by policy and the data-quality blocks."""
    sec = Section(
        "headline", "1. Headline numbers and data quality",
        "The size of the business analysed, where profit leaks, and how clean the input data was.",
        kpis=headline_numbers(ctx.run),
    )  # fmt: skip
    why = ctx.lacks("policies", ["inventory_value"]) or inventory_unknown(ctx)
    if why:
        sec.blocks.append(Missing("inventory_by_policy", "Inventory investment by policy", why))
    else:
        pol = ctx.run.table("policies")
        assert pol is not None
        by = "service_type" if "service_type" in pol.columns else "product_segment"
        sec.blocks.append(
            Chart(
                "inventory_by_policy", "Inventory investment by policy",
                f"Average inventory value held under each {by.replace('_', ' ')}.",
                fg.inventory_by_policy(pol, by, ctx.palette, ctx.cur),
            )
        )  # fmt: skip
    sec.blocks += _data_quality(ctx)
    return sec
