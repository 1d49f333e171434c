"""On time in full (OTIF): ONE definition, per order line, per customer and for any group.

The unit is the **purchase order line** with quantity > 0 (credit notes excluded), judged against
its due date (``otif.reference_date``: requested or promised) and its delivery date
(``otif.delivery_date``: delivered or shipped), all as known at ``as_of`` (the last order date
unless given):

- **due** (measured): the line has a due date, the due date is on or before as_of, and the line
  is either delivered by as_of or its late tolerance has run out (due + late_tolerance_days <=
  as_of), so an open line is never failed before it could still arrive on time. A due line never
  delivered is a failure. Lines not yet due and lines without a due date are counted, not judged.
- **on time**: delivered no later than due + ``late_tolerance_days``. Early deliveries are on
  time — the common practice (e.g. SCOR "delivered on or before the committed date") — unless
  an early window is set: with ``early_tolerance_days = k`` a line delivered more than k days
  before its due date fails. The default ``early_tolerance_days: null`` means no early limit.
- **in full**: delivered_quantity >= quantity x (1 - in_full_tolerance_pct / 100); without the
  delivered_quantity column, or where it is null, a delivered line counts as in full.
- **OTIF** = lines due that are on time and in full / lines due (line-weighted).

Any roll-up (a segment, a region, the whole company) is the same ratio of line counts, never a
mean of customer percentages: `otif_summary` sums ``lines_otif`` and ``lines_due`` of the customer
table. A plain mean of customer OTIF weighs a customer with 1 line like one with 1,000 (on the demo
company 52 % against 78.5 % line-weighted), and weighting by delivered lines leaves out the due
lines never delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.config.customer import OtifSettings
from supplyseg.errors import DataContractError

__all__ = [
    "OTIF_COUNT_COLUMNS",
    "otif_by_customer",
    "otif_lines",
    "otif_summary",
]

OTIF_COUNT_COLUMNS: tuple[str, ...] = (
    "lines_due",
    "lines_otif",
    "lines_on_time",
    "lines_in_full",
    "lines_early",
    "lines_delivered",
    "lines_not_due",
)
"""Per-customer line counts of `otif_by_customer` / customer_metrics; all roll-ups use them."""

_REQUIRED_LINES = ("order_id", "customer_id", "order_date", "quantity", "unit_price")
# Relative slack when comparing delivered with ordered quantities: absorbs float noise only.
_QTY_EPS = 1e-9


def _require(t: ir.Table, table: str, cols: Sequence[str]) -> None:
    missing = [c for c in cols if c not in t.columns]
    if missing:
        raise DataContractError(
            f"{table}: missing column(s) {missing}; columns present: {list(t.columns)}"
        )


def _is_purchase(lines: ir.Table) -> ir.BooleanValue:
    if "is_credit_note" in lines.columns:
        out: ir.BooleanValue = ~lines.is_credit_note.fill_null(False)
        return out
    return ibis.literal(True)


def _reference_column(settings: OtifSettings) -> str:
    return f"{settings.reference_date}_date"


def _otif_skip_reason(lines: ir.Table, settings: OtifSettings) -> str | None:
    ref = _reference_column(settings)
    missing = [c for c in (ref, settings.delivery_date) if c not in lines.columns]
    if not missing:
        return None
    return (
        f"otif: skipped, order_lines has no {' or '.join(missing)} column"
        f" (otif.reference_date = {settings.reference_date},"
        f" otif.delivery_date = {settings.delivery_date}); map the column(s) to measure OTIF"
    )


def _with_otif_flags(t: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """Add never-null boolean OTIF flags (_eligible, _has_ref, _not_due, _measured, _delivered,
    _on_time, _in_full, _early) to order lines; lines that are not purchases with quantity > 0
    get False everywhere. Staged mutates keep each flag computed once in the generated SQL."""
    ref, when = _reference_column(settings), settings.delivery_date
    t = t.mutate(
        _eligible=(_is_purchase(t) & (t.quantity > 0)).fill_null(False),
        _due=t[ref],
        _when=t[when],
        _delivered=(t[when] <= as_of).fill_null(False),
        _got=t.delivered_quantity.fill_null(t.quantity)
        if "delivered_quantity" in t.columns
        else t.quantity,
    )
    open_until = as_of - timedelta(days=settings.late_tolerance_days)
    t = t.mutate(
        _has_ref=t._eligible & t._due.notnull(),
        _not_due=(
            t._eligible & ((t._due > as_of) | (~t._delivered & (t._due > open_until)))
        ).fill_null(False),
        _lateness=t._when.delta(t._due, unit="day"),
    )
    in_window = t._lateness <= settings.late_tolerance_days
    if settings.early_tolerance_days is not None:
        in_window &= t._lateness >= -settings.early_tolerance_days
    need = 1.0 - settings.in_full_tolerance_pct / 100.0 - _QTY_EPS
    return t.mutate(
        _measured=t._has_ref & ~t._not_due,
        _on_time=(t._eligible & t._delivered & in_window).fill_null(False),
        _in_full=(t._eligible & t._delivered & (t._got >= t.quantity * need)).fill_null(False),
        _early=(t._eligible & t._delivered & (t._lateness < 0)).fill_null(False),
    )


def otif_lines(order_lines: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """Per purchase line with quantity > 0 ordered by as_of: its OTIF flags (Ibis expression).

    Columns: customer_id, order_id, due_date (the reference date), delivery_date, has_reference,
    not_due, measured, delivered, on_time, in_full, otif, early (booleans, never null); the
    definitions are in the module docstring (``early``: delivered before the due date).
    """
    _require(order_lines, "order_lines", _REQUIRED_LINES)
    reason = _otif_skip_reason(order_lines, settings)
    if reason:
        raise DataContractError(reason)
    t = _with_otif_flags(order_lines.filter(order_lines.order_date <= as_of), settings, as_of)
    t = t.filter(t._eligible)
    return t.select(
        customer_id=t.customer_id,
        order_id=t.order_id,
        due_date=t._due,
        delivery_date=t._when,
        has_reference=t._has_ref,
        not_due=t._not_due,
        measured=t._measured,
        delivered=t._delivered,
        on_time=t._on_time,
        in_full=t._in_full,
        otif=t._on_time & t._in_full,
        early=t._early,
    )


def _otif_counts(t: ir.Table) -> dict[str, ir.Value]:
    """Per-group OTIF line counts from `_with_otif_flags` columns."""
    m = t._measured
    return {
        "lines_due": t.count(where=m),
        "lines_otif": t.count(where=m & t._on_time & t._in_full),
        "lines_on_time": t.count(where=m & t._on_time),
        "lines_in_full": t.count(where=m & t._in_full),
        "lines_early": t.count(where=m & t._early),
        "lines_delivered": t.count(where=m & t._delivered),
        "lines_not_due": t.count(where=t._not_due),
        "lines_no_reference": t.count(where=t._eligible & ~t._has_ref),
    }


def _otif_shares(t: ir.Table) -> dict[str, ir.Value]:
    denominator = t.lines_due.nullif(0).cast("float64")
    return {
        "otif": t.lines_otif / denominator,
        "on_time": t.lines_on_time / denominator,
        "in_full": t.lines_in_full / denominator,
    }


def otif_by_customer(order_lines: ir.Table, settings: OtifSettings, as_of: date) -> ir.Table:
    """OTIF rolled up per customer (Ibis expression); flags as in `otif_lines`.

    Columns: customer_id, otif, on_time, in_full (shares of lines_due; null when it is 0), then
    the counts `OTIF_COUNT_COLUMNS` and lines_no_reference.
    """
    _require(order_lines, "order_lines", _REQUIRED_LINES)
    reason = _otif_skip_reason(order_lines, settings)
    if reason:
        raise DataContractError(reason)
    t = order_lines.filter(order_lines.order_date <= as_of)
    t = _with_otif_flags(t.filter(_is_purchase(t) & (t.quantity > 0)), settings, as_of)
    per = t.group_by("customer_id").agg(**_otif_counts(t))
    counts = {c: per[c] for c in (*OTIF_COUNT_COLUMNS, "lines_no_reference")}
    return per.select("customer_id", **_otif_shares(per), **counts)


def otif_summary(metrics: pd.DataFrame, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """OTIF of groups of customers: sums of the line counts, and their ratios.

    ``metrics`` is the customer table of `customer_metrics` (or `otif_by_customer`): it needs
    ``lines_due``, ``lines_otif``, ``lines_on_time``, ``lines_in_full``. ``by`` names the
    grouping column(s) (None: one row for all customers). Returns the ``by`` columns, the summed
    counts, and ``otif``, ``on_time``, ``in_full`` as fractions of lines_due (NaN, i.e.
    unknown, where no line is due). Customers with a null group are left out.
    """
    need = ["lines_due", "lines_otif", "lines_on_time", "lines_in_full"]
    missing = [c for c in need if c not in metrics.columns]
    if missing:
        raise DataContractError(
            f"otif_summary: metrics lack column(s) {missing}; pass customer_metrics' table"
        )
    keys = [by] if isinstance(by, str) else list(by or [])
    counts = metrics[need].astype("float64").fillna(0.0)
    if keys:
        counts[keys] = metrics[keys]
        out = counts.groupby(keys, sort=True, dropna=True)[need].sum().reset_index()
    else:
        out = counts.sum().to_frame().T
    due = out["lines_due"].where(out["lines_due"] > 0, np.nan)
    for share, count in (("otif", "lines_otif"), ("on_time", "lines_on_time")):
        out[share] = out[count] / due
    out["in_full"] = out["lines_in_full"] / due
    for c in need:
        out[c] = out[c].astype("int64")
    return out
