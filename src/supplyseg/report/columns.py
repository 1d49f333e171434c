"""What each output column means and its unit: one vocabulary for the report and the workbook.

Units decide formatting everywhere: ``currency`` (amounts), ``percent`` (values already × 100,
e.g. ``cts_pct_revenue``), ``fraction`` (0–1 shares shown as %), ``count``, ``days``, ``number``,
``date``, ``text``. Columns not listed get their unit from the dtype.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "Column",
    "Unit",
    "column_info",
    "format_value",
    "fraction_scale",
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Unit = Literal["currency", "percent", "fraction", "count", "days", "number", "date", "text"]


@dataclass(frozen=True)
class Column:
    """A column's one-line meaning and its unit."""

    description: str
    unit: Unit


def _c(description: str, unit: Unit) -> Column:
    return Column(description, unit)


COLUMNS: dict[str, Column] = {
    # ids and labels
    "customer_id": _c("Customer id as in the source data.", "text"),
    "product_id": _c("Product id as in the source data.", "text"),
    "location_id": _c("Location (plant, DC, store) id as in the source data.", "text"),
    "scheme": _c("Segmentation scheme the segment belongs to.", "text"),
    "segment": _c("Segment name.", "text"),
    "rule": _c("The segment rule that matched.", "text"),
    "explanation": _c("Why the entity is in its segment, in words.", "text"),
    "from": _c("Segment in the earlier run ((new) = not present then).", "text"),
    "to": _c("Segment in this run ((gone) = no longer present).", "text"),
    "pattern": _c(
        "Demand pattern (Syntetos-Boylan): smooth, erratic, intermittent, lumpy or"
        " insufficient_history.",
        "text",
    ),
    "abc_class": _c(
        "ABC class by cumulative share of the ABC measure (A = most important).", "text"
    ),
    "xyz_class": _c("XYZ class by coefficient of variation of demand (X = steadiest).", "text"),
    "rfm_segment": _c("RFM segment from the recency, frequency and monetary scores.", "text"),
    "product_segment": _c("Segment of the product the policy was set for.", "text"),
    "service_type": _c("Service measure of the policy (cycle service or fill rate).", "text"),
    "pool": _c("Cost pool (activity) of cost-to-serve.", "text"),
    "driver": _c("What the pool's cost is driven by (orders, lines, weight, days...).", "text"),
    # rejects
    "table": _c("Input table the row came from.", "text"),
    "row_number": _c("Row number in the source file (1-based, header excluded).", "count"),
    "reason_code": _c("Why the row was rejected (stable code).", "text"),
    "field": _c("Column that failed the check.", "text"),
    "value": _c("The offending value as read.", "text"),
    "message": _c("What is wrong and how to fix it.", "text"),
    # demand
    "revenue": _c("Net revenue (quantity × unit price, credit notes netted).", "currency"),
    "margin": _c("Revenue minus cost of goods.", "currency"),
    "quantity": _c("Net quantity (units).", "number"),
    "order_lines": _c("Number of order lines.", "count"),
    "orders": _c("Number of distinct orders.", "count"),
    "first_period": _c("Start of the first period with demand.", "date"),
    "last_period": _c("Start of the last period with demand.", "date"),
    "n_periods": _c("Periods in the active horizon (first demand to end).", "count"),
    "n_nonzero": _c("Periods with non-zero demand.", "count"),
    "mean": _c("Mean demand per period (zero periods included).", "number"),
    "std": _c("Standard deviation of demand per period.", "number"),
    "cv": _c("Coefficient of variation of demand per period (std / mean).", "number"),
    "adi": _c("Average demand interval: periods / non-zero periods.", "number"),
    "cv2": _c("Squared coefficient of variation of the non-zero demand sizes.", "number"),
    "share": _c("Share of the ABC measure.", "fraction"),
    "cum_share": _c("Cumulative share of the ABC measure, largest first.", "fraction"),
    "rank": _c("Rank by the ABC measure (1 = largest).", "count"),
    # cost-to-serve
    "cogs": _c("Cost of goods sold.", "currency"),
    "gross_margin": _c("Revenue minus COGS.", "currency"),
    "cts_total": _c("Total cost-to-serve (sum of the cost pools).", "currency"),
    "net_profit": _c("Gross margin minus cost-to-serve.", "currency"),
    "cts_pct_revenue": _c("Cost-to-serve as % of revenue.", "percent"),
    "net_margin_pct": _c("Net profit as % of revenue.", "percent"),
    "profit_rank": _c("Rank by net profit (1 = most profitable).", "count"),
    "cum_profit_share": _c(
        "Cumulative net profit / total net profit (the whale curve).", "fraction"
    ),
    "driver_quantity": _c("Quantity of the cost driver.", "number"),
    "rate": _c("Cost per unit of the driver.", "currency"),
    "cost": _c("Cost of the pool for the customer (driver quantity × rate).", "currency"),
    # customer metrics
    "first_order": _c("Date of the first purchase.", "date"),
    "last_order": _c("Date of the last purchase.", "date"),
    "recency_days": _c("Days since the last purchase.", "days"),
    "frequency": _c("Distinct purchase orders in the RFM window.", "count"),
    "monetary": _c("Net revenue in the RFM window.", "currency"),
    "aov": _c("Average order value (monetary / frequency).", "currency"),
    "r_score": _c("Recency score 1-5 (5 = most recent).", "count"),
    "f_score": _c("Frequency score 1-5 (5 = most frequent).", "count"),
    "m_score": _c("Monetary score 1-5 (5 = largest spend).", "count"),
    "repeat_customer": _c("Bought on at least two distinct days.", "text"),
    "interpurchase_days_median": _c("Median days between purchase days.", "days"),
    "churn_risk": _c("Probability the customer has stopped buying (1 - p_alive).", "fraction"),
    "churned": _c("Silent for longer than the churn window.", "text"),
    "otif": _c(
        "Share of due lines delivered on time and in full (on time = delivered by the due date"
        " + tolerance; early counts as on time).",
        "fraction",
    ),
    "on_time": _c("Share of due lines delivered on time.", "fraction"),
    "in_full": _c("Share of due lines delivered in full.", "fraction"),
    "lines_delivered": _c("Due lines delivered.", "count"),
    "lines_due": _c("Lines due by the as-of date (the OTIF denominator).", "count"),
    "lines_not_due": _c("Lines not yet due (excluded from OTIF).", "count"),
    "dso_days": _c("Days sales outstanding (amount-weighted).", "days"),
    "days_past_due": _c("Days past due (amount-weighted).", "days"),
    "open_amount": _c("Invoiced amount not yet paid.", "currency"),
    "clv_12m": _c(
        "Customer lifetime value over the next 12 months (discounted revenue × clv.margin).",
        "currency",
    ),
    "p_alive": _c("Probability the customer is still active (BG/NBD).", "fraction"),
    "expected_purchases_12m": _c("Expected purchases in the next 12 months (BG/NBD).", "number"),
    "expected_avg_value": _c("Expected value per purchase (Gamma-Gamma).", "currency"),
    # segments
    "entities": _c("Number of customers or products.", "count"),
    "entity_share": _c("Share of all entities in the scheme.", "fraction"),
    "share_entities": _c("Share of all entities in the scheme.", "fraction"),
    "margin_pct": _c("Gross margin as % of revenue.", "percent"),
    "pattern_mix": _c("Demand patterns of the segment's items and their shares.", "text"),
    "revenue_share": _c("Share of revenue.", "fraction"),
    "cts_pct": _c("Cost-to-serve as % of revenue.", "percent"),
    # policies and forecasts
    "service_target": _c("Target service level of the policy.", "fraction"),
    "safety_stock": _c("Safety stock (units).", "number"),
    "reorder_point": _c("Reorder point (units).", "number"),
    "inventory_value": _c("Inventory investment (average stock × unit cost).", "currency"),
    "mae": _c("Mean absolute error of the forecast (units).", "number"),
    "rmse": _c("Root mean squared error of the forecast (units).", "number"),
    "bias": _c("Mean forecast error (forecast - actual; > 0 over-forecasts).", "number"),
    "mase": _c("Mean absolute scaled error (MAE / in-sample naive MAE).", "number"),
    "baseline_mae": _c("MAE of the naive baseline forecast.", "number"),
    "relative_mae": _c("MAE / baseline MAE (< 1 beats the baseline).", "number"),
    "series": _c("Number of series (items) in the row.", "count"),
    "fva": _c(
        "Forecast value added: 1 - MAE / naive MAE (> 0: the forecast beats the naive one).",
        "fraction",
    ),
    "share_beating_baseline": _c(
        "Share of the series whose forecast beats the naive forecast.", "fraction"
    ),
    "scored": _c("The series had enough history to be backtested.", "text"),
    "lifecycle": _c("Item lifecycle: new, active, dormant or obsolete.", "text"),
    "target_met": _c("The replay of past demand met the item's service target.", "text"),
    "demand_source": _c("Where the policy's demand figures come from.", "text"),
    "inventory_rule": _c(
        "Stocking rule (rop_eoq, order_up_to, base_stock, make_to_order, no_stock).", "text"
    ),
    "unique_id": _c("Series id (product and location).", "text"),
    "achieved": _c(
        "Service the replay achieved, in the policy's measure (fill rate or cycle service).",
        "fraction",
    ),
    "achieved_fill_rate": _c("Fill rate the replay of past demand achieved.", "fraction"),
    "achieved_cycle_service": _c(
        "Share of replenishment cycles without a stock-out in the replay.", "fraction"
    ),
    "avg_on_hand": _c("Average stock on hand in the replay (units).", "number"),
    "avg_on_hand_value": _c("Average stock on hand in the replay × unit cost.", "currency"),
    "stockout_buckets": _c("Periods of the replay that ended out of stock.", "count"),
    "demand": _c("Demand in the replay (units).", "number"),
    "shortfall_pct": _c("Service target minus achieved service, in points.", "percent"),
    "make_to_order_items": _c("Items made to order rather than stocked.", "count"),
    "no_stock_items": _c("Items not stocked at all (no_stock).", "count"),
    "on_hand": _c("Stock on hand (units).", "number"),
    "unit_cost": _c("Cost per unit.", "currency"),
    "last_demand_date": _c("Date of the last demand.", "date"),
    "ds": _c("Start of the period.", "date"),
    "y": _c("Demand in the period as recorded (units).", "number"),
    "y_clean": _c("Demand in the period after cleansing (units).", "number"),
    # suppliers, lead times and landed cost
    "supplier_id": _c("Supplier id as in the source data.", "text"),
    "spend": _c("Purchase spend: quantity × unit price of the purchase-order lines.", "currency"),
    "po_lines": _c("Purchase-order lines.", "count"),
    "otif_lines": _c("Purchase lines judged for OTIF (receipt, promise, quantity known).", "count"),
    "lead_time_mean_days": _c("Mean lead time (order to receipt), days.", "days"),
    "lead_time_std_days": _c("Standard deviation of the lead time, days.", "days"),
    "lead_time_p90_days": _c("90th percentile of the lead time, days.", "days"),
    "lead_time_cv": _c("Lead-time std / mean.", "number"),
    "mean_days": _c("Mean lead time, days (of the level named in source).", "days"),
    "std_days": _c("Lead-time standard deviation, days.", "days"),
    "p90_days": _c("90th percentile of the lead time, days.", "days"),
    "risk_score": _c("Supply-risk factors the supplier shows (0-4).", "count"),
    "program": _c("Replenishment program of the supplier segment.", "text"),
    "total_per_unit": _c("Total landed cost per unit (the sum of its components).", "currency"),
    "current_total": _c("Total landed cost per unit from the current supplier.", "currency"),
    "pipeline_carrying": _c("Carrying cost of stock in the pipeline, per unit.", "currency"),
    "safety_stock_carrying": _c(
        "Yearly carrying cost of the safety stock the option's lead time needs, per unit of"
        " annual demand.",
        "currency",
    ),
    "saving_vs_current_per_unit": _c("Current option's total minus this one's.", "currency"),
    "annual_saving_vs_current": _c("Saving per unit × annual demand.", "currency"),
    "priority": _c("Allocation priority of the customer segment (1 = served first).", "count"),
    "strategy": _c("Backorder-processing strategy (win, gain, redistribute, fill, lose).", "text"),
    "share_source": _c("Where the share comes from: config, or demand (its share of it).", "text"),
    "fill_target": _c(
        "Fill rate the segment keeps when supply is short (allocation.fill_target).", "fraction"
    ),
    "products_protected": _c("Products with a quantity protected by fill target.", "count"),
    "expected_demand": _c("Forecast demand of the segment over the supply horizon.", "number"),
    "protected_quantity": _c(
        "Units kept for the segment: expected shortfall beyond it = (1 − fill target) ×"
        " expected demand.",
        "number",
    ),
    "protected_share_of_supply": _c("Protected units / the product's supply.", "fraction"),
    "supply": _c("Supply over the horizon: on hand plus receipts (units).", "number"),
    "horizon_start": _c("First day of the supply horizon (the run's as-of date).", "date"),
    "horizon_end": _c("Last day the protection is for.", "date"),
    "horizon_days": _c("Days to the product's last supply date, at least its lead time.", "days"),
    "demand_share": _c("The segment's share of the product's historic demand.", "fraction"),
}
# Names that mean something else in one table.
_TABLE_COLUMNS: dict[tuple[str, str], Column] = {
    ("allocation_shares", "share"): _c("Share of each period's supply protected.", "fraction"),
    ("allocation_shares", "rank"): _c("Protection level (1 = highest priority).", "count"),
    ("allocation_shares", "rule"): _c("The segment's allocation rule.", "text"),
    ("allocation_protection", "demand_std"): _c(
        "Standard deviation of the segment's demand over the horizon.", "number"
    ),
    ("obsolete_stock", "value"): _c("Stock value: on hand × unit cost.", "currency"),
    ("landed_cost", "unit_price"): _c("Price per unit.", "currency"),
    ("landed_cost", "freight"): _c("Freight per unit.", "currency"),
    ("landed_cost", "insurance"): _c("Insurance per unit.", "currency"),
    ("landed_cost", "duty"): _c("Duty per unit (duty rate × customs value).", "currency"),
    ("demand_cleansing", "rule"): _c(
        "Cleansing rule that changed the value (empty: kept as recorded).", "text"
    ),
}


def column_info(name: str, dtype: Any = None, table: str = "") -> Column:
    """The column's meaning and unit; unlisted columns by name pattern, then by dtype.

    In the cost-to-serve tables an unlisted numeric column is a cost pool (an amount).
    """
    if (table, name) in _TABLE_COLUMNS:
        return _TABLE_COLUMNS[(table, name)]
    if name in COLUMNS:
        return COLUMNS[name]
    numeric = dtype is not None and pd.api.types.is_numeric_dtype(dtype)
    if table.startswith("cost_to_serve") and numeric and not pd.api.types.is_bool_dtype(dtype):
        return Column(f"Cost-to-serve of the {name} pool.", "currency")
    if name.startswith("channel_share_"):
        channel = name.removeprefix("channel_share_")
        return Column(
            f"Share of the customer's purchase revenue through channel {channel}.", "fraction"
        )
    if name.endswith("_share"):
        return Column(f"Share ({name}).", "fraction")
    if name.endswith("_pct") or "_pct_" in name:
        return Column(f"Percentage ({name}).", "percent")
    if dtype is not None:
        if pd.api.types.is_bool_dtype(dtype):
            return Column(name.replace("_", " ").capitalize() + ".", "text")
        if pd.api.types.is_integer_dtype(dtype):
            return Column(name.replace("_", " ").capitalize() + ".", "count")
        if pd.api.types.is_float_dtype(dtype):
            return Column(name.replace("_", " ").capitalize() + ".", "number")
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return Column(name.replace("_", " ").capitalize() + ".", "date")
    return Column(name.replace("_", " ").capitalize() + ".", "text")


def fraction_scale(values: pd.Series) -> float:
    """100 when a share column holds 0–1 fractions (the contract), 1 when it is already in %.

    The analytics write shares as fractions; this guards charts against a table in % instead.
    """
    finite = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    finite = finite[np.isfinite(finite)]
    return 1.0 if finite.size and float(np.abs(finite).max()) > 1.5 else 100.0


def format_value(value: Any, unit: Unit, currency: str = "", decimals: int | None = None) -> str:
    """The value as the report shows it: thousands separators, % for shares, '' for missing.

    ``decimals`` fixes the decimals of an amount (a table column shows them alike); by default
    amounts of 100 and more have none, smaller ones two.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if unit == "date":
        return str(value)[:10]
    if unit == "text" or not isinstance(value, int | float | np.integer | np.floating):
        # Hidden control characters (a common cause of rejects) are shown as escapes.
        return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))
    x = float(value)
    if not math.isfinite(x):
        return "∞" if x > 0 else "-∞"
    if unit == "currency":
        places = decimals if decimals is not None else (0 if abs(x) >= 100 else 2)
        text = f"{x:,.{places}f}"
        return f"{currency} {text}".strip()
    if unit == "percent":
        return f"{x:.1f} %"
    if unit == "fraction":
        return f"{100 * x:.1f} %"
    if unit == "count":
        return f"{x:,.0f}"
    if unit == "days":
        return f"{x:,.1f}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"
