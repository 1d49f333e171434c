"""Section 7: suppliers — Kraljic segments and their replenishment programs, where lead times
came from, and what a cheaper sourcing option would save (total landed cost).

Drawn only for runs with purchase orders (``supplier_metrics.parquet``); the full tables are the
workbook's sheets ``supplier_metrics``, ``lead_times`` and ``landed_cost``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.report.blocks import TOP_ROWS, Block, Context, Kpi, Missing, Note, Section, plural
from supplyseg.report.blocks import table_block as _table

__all__ = ["suppliers_section"]


def _segments_block(ctx: Context, m: pd.DataFrame) -> Block:
    spend = m["spend"].astype("float64")
    g = m.assign(spend=spend).groupby("segment")
    total = float(spend.sum())
    table = pd.DataFrame(
        {
            "suppliers": g.size(),
            "spend": g["spend"].sum(min_count=1),
            "spend_share": g["spend"].sum(min_count=1) / total if total > 0 else np.nan,
            "otif": g["otif"].mean(),
            "lead_time_mean_days": g["lead_time_mean_days"].median(),
            "program": g["program"].first(),
        }
    ).reset_index()
    table = table.sort_values("spend", ascending=False)
    return _table(
        ctx, "supplier_segments", "Kraljic supplier segments and their programs",
        "Profit impact (ABC class of spend) against supply risk (lead-time variability, OTIF,"
        " single sourcing, distance): strategic suppliers get VMI or a shared forecast,"
        " leverage suppliers blanket orders and tenders, bottleneck suppliers safety stock"
        " and a second source, non-critical ones catalogue buying with min-max. OTIF: mean of"
        " the suppliers; lead time: their median.",
        table,
        ["segment", "suppliers", "spend", "spend_share", "otif", "lead_time_mean_days", "program"],
        source="supplier_metrics",
    )  # fmt: skip


def _lead_time_block(ctx: Context) -> Block:
    lt = ctx.run.table("lead_times")
    if lt is None:
        return Missing(
            "lead_time_sources", "Where lead times come from", ctx.run.reason_absent("lead_times")
        )
    counts = lt["source"].value_counts()
    table = pd.DataFrame(
        {
            "source": counts.index,
            "rows": counts.to_numpy(),
            "row_share": (counts / len(lt)).to_numpy(),
        }
    )
    return _table(
        ctx, "lead_time_sources", "Where lead times come from",
        "Each supplier × product (× location) takes its lead-time statistics from its own"
        " receipts when it has enough (supplier.min_receipts), else the supplier × product,"
        " the supplier, the products table or the default. Policies use the current"
        " supplier's figures (mean and std) and name the source in their rationale.",
        table, ["source", "rows", "row_share"], source="lead_times",
    )  # fmt: skip


def _landed_cost_blocks(ctx: Context) -> tuple[list[Block], list[Kpi]]:
    lc = ctx.run.table("landed_cost")
    if lc is None:
        why = ctx.run.reason_absent("landed_cost")
        return [Missing("landed_cost", "Total landed cost", why)], []
    current = lc[lc["current"]].set_index("product_id")
    best = lc[lc["cheapest"] & ~lc["current"] & (lc["saving_vs_current_per_unit"] > 0)]
    rows = pd.DataFrame(
        {
            "product_id": best["product_id"].to_numpy(),
            "current_supplier": best["product_id"].map(current["supplier_id"]).to_numpy(),
            "cheapest_supplier": best["supplier_id"].to_numpy(),
            "current_total": best["product_id"].map(current["total_per_unit"]).to_numpy(),
            "total_per_unit": best["total_per_unit"].to_numpy(),
            "saving_vs_current_per_unit": best["saving_vs_current_per_unit"].to_numpy(),
            "annual_saving_vs_current": best["annual_saving_vs_current"].to_numpy(),
        }
    ).sort_values("annual_saving_vs_current", ascending=False)
    saving = float(rows["annual_saving_vs_current"].sum()) if len(rows) else 0.0
    kpis = [
        Kpi(
            "landed_cost_saving", "Landed-cost saving a year", saving,
            f"{ctx.cur} {saving:,.0f}".strip(),
            f"{plural(len(rows), 'product')} cheaper landed from another qualified option",
        )
    ]  # fmt: skip
    unknown = int(lc["total_per_unit"].isna().sum())
    blocks: list[Block] = [
        _table(
            ctx, "landed_cost", "Cheaper landed elsewhere",
            "Total landed cost per unit = price + freight + insurance + duty (on the"
            " incoterm's customs value) + pipeline carrying cost (price × holding rate × lead"
            " time) + the carrying cost of the safety stock the option's lead time and its"
            " variability need. Products whose cheapest option is not the current supplier.",
            rows.head(TOP_ROWS),
            list(rows.columns), total=len(rows), source="landed_cost",
        )
    ]  # fmt: skip
    if unknown:
        blocks.append(
            Note(
                "landed_cost_unknown",
                f"{plural(unknown, 'sourcing option')} with an unknown landed cost (a cost"
                " figure or the product's demand is missing) are not compared.",
                "warn",
            )
        )
    return blocks, kpis


def suppliers_section(ctx: Context) -> Section:
    """The suppliers section (module doc)."""
    sec = Section(
        "suppliers", "7. Suppliers",
        "Lead times learned from purchase history, supplier segments (Kraljic) with a"
        " replenishment program each, and the total landed cost of every sourcing option.",
    )  # fmt: skip
    why = ctx.lacks("supplier_metrics", ["supplier_id", "segment"], "supplier")
    if why:
        sec.blocks.append(Missing("suppliers", "Supplier metrics", why))
        return sec
    m = ctx.run.table("supplier_metrics")
    assert m is not None
    strategic = int((m["segment"] == "strategic").sum())
    otif = pd.to_numeric(m["otif"], errors="coerce")
    sec.kpis.append(
        Kpi("suppliers", "Suppliers", float(len(m)), f"{len(m):,}", f"{strategic:,} strategic")
    )
    if otif.notna().any():
        mean = float(otif.mean())
        sec.kpis.append(
            Kpi("supplier_otif", "Supplier OTIF", mean, f"{100 * mean:.1f} %", "mean of suppliers")
        )
    sec.blocks.append(_segments_block(ctx, m))
    top = m.sort_values("spend", ascending=False).head(TOP_ROWS)
    sec.blocks.append(
        _table(
            ctx, "supplier_top", "Largest suppliers by spend",
            "Spend, reliability (OTIF), learned lead time and its variability, and why each"
            " supplier is in its segment.",
            top,
            ["supplier_id", "country", "spend", "otif", "lead_time_mean_days", "lead_time_cv",
             "single_source_share", "segment", "explanation"],
            total=len(m), source="supplier_metrics",
        )
    )  # fmt: skip
    sec.blocks.append(_lead_time_block(ctx))
    blocks, kpis = _landed_cost_blocks(ctx)
    sec.blocks.extend(blocks)
    sec.kpis.extend(kpis)
    return sec
