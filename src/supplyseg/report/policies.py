"""Section 6: stocking policies — what they cost in stock, whether they hold up when replayed
against past demand, lifecycle and obsolete stock, and how much the forecasts add over a naive
one (forecast value added)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplyseg.report import figures_policy as fp
from supplyseg.report.blocks import TOP_ROWS, Block, Chart, Context, Missing, Section, plural
from supplyseg.report.blocks import table_block as _table
from supplyseg.report.columns import fraction_scale
from supplyseg.report.headline import inventory_unknown
from supplyseg.report.trust import forecast_value_added, fva_column, policy_kpis, trust_blocks

__all__ = ["policies_section"]

_FVA_WORDS = (
    "Forecast value added (FVA) = 1 − forecast MAE / naive-forecast MAE: the share of the naive"
    " forecast's error the forecast removes. Above 0 the forecast is worth its effort; below 0"
    " the naive forecast would do better."
)


def _inventory_blocks(ctx: Context) -> list[Block]:
    why = ctx.lacks("policies", ["product_segment"], "policy")
    if why:
        return [Missing("inventory_by_segment", "Service target vs inventory", why)]
    pol = ctx.run.table("policies")
    assert pol is not None
    value = pol.get("inventory_value", pd.Series(np.nan, index=pol.index, dtype="float64"))
    groups = pol.assign(inventory_value=value).groupby("product_segment")
    summary = pd.DataFrame(
        {"items": groups.size(), "inventory_value": groups["inventory_value"].sum(min_count=1)}
    )
    if "safety_stock" in pol.columns:
        summary["safety_stock"] = groups["safety_stock"].sum(min_count=1)
    if "service_target" in pol.columns:
        summary["service_target"] = groups["service_target"].mean()
    summary = summary.reset_index().rename(columns={"product_segment": "segment"})
    summary = summary.sort_values(["inventory_value", "items"], ascending=False)
    scale = fraction_scale(pol["service_target"]) if "service_target" in pol.columns else 1.0
    target = summary.get("service_target", pd.Series(np.nan, index=summary.index))
    summary["service_target_pct"] = target.astype("float64") * scale
    blocks: list[Block] = []
    why = ctx.lacks("policies", ["inventory_value"], "policy") or inventory_unknown(ctx)
    if why:
        blocks.append(Missing("inventory_by_segment", "Service target vs inventory", why))
    else:
        blocks.append(
            Chart(
                "inventory_by_segment", "Service target vs inventory value per segment",
                "Bar height: inventory the policy holds for the segment; label: its average"
                " service target. High targets on erratic items cost the most stock.",
                fp.inventory_by_segment(summary, ctx.palette, ctx.cur),
            )
        )  # fmt: skip
    blocks.append(
        _table(
            ctx, "policy_summary", "Policies per segment",
            "Items, safety stock (units), average service target and inventory value.",
            summary.head(TOP_ROWS),
            ["segment", "items", "service_target", "safety_stock", "inventory_value"],
            total=len(summary),
        )
    )  # fmt: skip
    return blocks


def _stock_to_service(ctx: Context) -> Block:
    why = ctx.lacks("stock_to_service", ["segment", "service_target", "inventory_value"], "policy")
    sts = ctx.run.table("stock_to_service")
    if why or sts is None:
        return Missing("stock_to_service", "Stock-to-service curves", why or "")
    return Chart(
        "stock_to_service", "Stock-to-service curves",
        "Inventory value needed for each service target, per segment. The curves steepen"
        " near 100 %: the last points of service are the most expensive.",
        fp.stock_to_service_curves(sts, ctx.palette, ctx.cur),
    )  # fmt: skip


def _optimised_frontier(ctx: Context) -> Block | None:
    """The stock-mix frontier, when the run optimised the targets (policies.optimise)."""
    frontier = ctx.run.table("stock_to_service_frontier")
    rows = ctx.run.summary("optimise")
    if frontier is None or frontier.empty or not isinstance(rows, list):
        return None
    savings = [
        f"{r['scope']} {r['saving_pct']:.0f} %"
        for r in rows
        if isinstance(r.get("saving_pct"), int | float) and np.isfinite(r["saving_pct"])
    ]
    caption = (
        "Per-item targets chosen by the stock-mix optimiser reach each segment's service as a"
        " demand-value-weighted fill rate at the least safety-stock value (solid), against one"
        " target for every item (dashed)."
    )
    if savings:
        caption += " Same service for less safety stock: " + ", ".join(savings) + "."
    points = pd.DataFrame([r for r in rows if isinstance(r, dict)])
    need = {"scope", "target_fill_rate", "safety_stock_value", "uniform_safety_stock_value"}
    caption += (
        " Large dots: this run's policy at its segment's target; open dots: one target for"
        " every item at the same service."
    )
    counts = points.get("unit_cost_unknown_items", pd.Series(dtype="float64"))
    unknown = int(pd.to_numeric(counts, errors="coerce").fillna(0).sum())
    if unknown:
        caption += (
            f" {plural(unknown, 'item')} without a unit cost entered at the median known cost"
            " (by units when no cost is known)."
        )
    return Chart(
        "stock_to_service_frontier", "Optimised stock mix against uniform targets", caption,
        fp.optimised_frontier(
            frontier, ctx.palette, ctx.cur, points if need <= set(points.columns) else None
        ),
    )  # fmt: skip


def _forecast_blocks(ctx: Context) -> list[Block]:
    title = "Forecast value added by demand pattern"
    why = ctx.lacks("forecast_accuracy", ["pattern"], "forecast")
    acc = ctx.run.table("forecast_accuracy")
    if why or acc is None:
        return [Missing("forecast_accuracy", "Forecast accuracy", why or "")]
    if not ({"fva"} <= set(acc.columns) or "relative_mae" in acc.columns) and not {
        "mae",
        "baseline_mae",
    } <= set(acc.columns):
        return [Missing("forecast_accuracy", title, "forecast_accuracy has no FVA or MAE columns")]
    fva = forecast_value_added(acc)
    if fva.unscored_series is not None and fva.unscored_series:
        apart = (
            f" {plural(fva.unscored_series, 'series')} with too little history to score are"
            " counted apart, not drawn."
        )
    elif fva.unscored_rows:
        apart = " Series with too little history to score are left out."
    else:
        apart = ""
    pp = fva.per_pattern
    known = pp[np.isfinite(pp["fva"].astype("float64"))] if "fva" in pp else pp.iloc[0:0]
    if known.empty:
        reason = "no series had enough history to be scored" + (
            f" ({plural(fva.unscored_series, 'series')})" if fva.unscored_series else ""
        )
        return [Missing("forecast_accuracy", title, reason)]
    blocks: list[Block] = [
        Chart(
            "forecast_accuracy", title,
            f"{_FVA_WORDS} Bars: FVA per demand pattern (hover for the share of series that beat"
            " the naive forecast)"
            + ("; dashed line: all patterns together." if fva.overall is not None else ".")
            + apart,
            fp.fva_by_pattern(known, ctx.palette, fva.overall),
        )
    ]  # fmt: skip
    if fva.per_segment is not None:
        blocks.append(
            Chart(
                "forecast_fva_segment", "Forecast value added per segment and demand pattern",
                "Blue cells: the forecast beats the naive one for the segment's items of that"
                " pattern; red: the naive forecast would do better there.",
                fp.fva_by_segment(fva.per_segment),
            )
        )  # fmt: skip
    rows = acc.assign(fva=fva_column(acc))
    unscored = rows["pattern"].astype(str).eq("insufficient_history")
    if "scored" in rows.columns:
        unscored |= rows["scored"].eq(False)
    rows.loc[unscored, "fva"] = np.nan  # not scored: no FVA, whatever the ratio says
    if "segment" in acc.columns:
        totals = rows[rows["segment"].isna() | rows["segment"].astype(str).eq("all")]
        rows = totals if len(totals) else rows
    blocks.append(
        _table(
            ctx, "forecast_accuracy_table", "Forecast accuracy: all measures",
            "Errors in units of demand per period; bias > 0 means over-forecasting; FVA and the"
            " share of series beating the naive forecast as above.",
            rows,
            ["pattern", "series", "fva", "share_beating_baseline", "mae", "baseline_mae",
             "rmse", "bias", "mase", "relative_mae"],
            total=len(acc), source="forecast_accuracy",
        )
    )  # fmt: skip
    return blocks


def policies_section(ctx: Context) -> Section:
    """Section 6: inventory per segment, the replay, lifecycle, obsolete stock and FVA."""
    sec = Section(
        "policies", "6. Stocking policies",
        "The service level set per product segment, what it costs in inventory, whether it"
        " holds up when replayed against past demand, and how much the forecasts behind it"
        " add over a naive forecast.",
        kpis=policy_kpis(ctx),
    )  # fmt: skip
    sec.blocks += _inventory_blocks(ctx)
    sec.blocks += trust_blocks(ctx)
    sec.blocks.append(_stock_to_service(ctx))
    frontier = _optimised_frontier(ctx)
    if frontier is not None:
        sec.blocks.append(frontier)
    sec.blocks += _forecast_blocks(ctx)
    return sec
