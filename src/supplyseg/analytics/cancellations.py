"""Orders fully cancelled by credit notes: their net quantity is <= 0 once credit notes net.

Credit notes rarely name the order they cancel (in the UCI Online Retail data a cancellation is
an invoice of its own: C581484 cancels 581483's 80,995 units of one product). So a credit
note's quantity is matched to the purchases it most plausibly cancels: the same customer's
purchases of the same product, **latest first** (last in, first out), over the whole history.
A purchase line is cancelled up to its quantity; an order is **fully cancelled** when every
one of its purchase lines is (net quantity <= 0). Such an order was never picked, packed or
shipped as far as activity costs go, so cost-to-serve charges it no order, line or unit costs.

This is an assumption, stated in the notes: an order returned after delivery and credited in
full is treated like one cancelled before picking. Partial cancellations keep their costs.
Credit-note lines are those flagged ``is_credit_note`` (without that column: negative
quantities), as everywhere in cost-to-serve. Generic Ibis only: one window over the credited
customer x product pairs.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from supplyseg.errors import DataContractError

__all__ = ["fully_cancelled_orders"]

_REQUIRED = ("order_id", "customer_id", "product_id", "order_date", "quantity")
_EPS = 1e-9  # relative slack on quantity sums: absorbs float noise only


def _is_credit(t: ir.Table) -> Any:
    if "is_credit_note" in t.columns:
        return t.is_credit_note.fill_null(False)
    return t.quantity < 0


def fully_cancelled_orders(order_lines: ir.Table) -> ir.Table:
    """Orders whose purchase quantity credit notes cancel entirely (Ibis expression).

    Columns: order_id, customer_id, purchased (the order's purchase quantity), cancelled (the
    part of it matched by credit notes, see the module docstring); one row per fully
    cancelled order, none for others.
    """
    missing = [c for c in _REQUIRED if c not in order_lines.columns]
    if missing:
        raise DataContractError(f"order_lines: missing column(s) {missing} to match credit notes")
    t = order_lines.mutate(_credit=_is_credit(order_lines))
    pair = ["customer_id", "product_id"]
    credits = (
        t.filter(t._credit)
        .group_by(pair)
        .agg(_credited=(-t.quantity).sum().cast("float64"))
        .filter(lambda c: c._credited > 0)
    )
    buys = t.filter(~t._credit & (t.quantity > 0))
    b = buys.inner_join(credits, pair)
    latest_first = ibis.cumulative_window(
        group_by=[b.customer_id, b.product_id],
        order_by=[ibis.desc(b.order_date), ibis.desc(b.order_id)],
    )
    later = b.quantity.sum().over(latest_first) - b.quantity  # bought after this line
    matched = ibis.least(ibis.greatest(b._credited - later, 0.0), b.quantity)
    per_order = b.mutate(_matched=matched).group_by("order_id").agg(cancelled=ibis._._matched.sum())
    orders = buys.group_by(["order_id", "customer_id"]).agg(purchased=buys.quantity.sum())
    j = orders.inner_join(per_order, "order_id")
    j = j.filter(j.cancelled >= j.purchased * (1.0 - _EPS))
    return j.select("order_id", "customer_id", purchased=j.purchased.cast("float64"),
                    cancelled=j.cancelled.cast("float64"))  # fmt: skip
