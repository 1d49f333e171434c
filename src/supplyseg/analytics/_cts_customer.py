"""Customer-level cost-to-serve pools: credit (receivable days), customer years, custom drivers.

Each returns breakdown rows (customer_id, driver, driver_quantity, rate) per customer, or None
with a note when the pool must be skipped; see `supplyseg.analytics.cost_to_serve`.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from supplyseg.analytics._cts_base import Expr, _concat, _pandas, _Run
from supplyseg.config.cost_to_serve import CostPool, CustomDriver

__all__: list[str] = []


def _credit_rows(run: _Run, pool: CostPool, ca: pd.DataFrame, orders: Expr) -> pd.DataFrame:
    """Σ receivable × days outstanding per customer, from invoices or else payment terms."""
    if run.has("invoices"):
        inv = run.tables["invoices"]
        # What is known at as-of (the last order date unless given): later invoices are left
        # out, and an invoice paid after as-of is still open then.
        as_of = ibis.literal(run.as_of)
        inv = inv.filter(inv.invoice_date <= as_of)
        if "paid_date" in inv.columns:
            end = ibis.cases(
                ((inv.paid_date <= as_of).fill_null(False), inv.paid_date), else_=as_of
            )
        else:
            end = as_of
        days = ibis.greatest(end.delta(inv.invoice_date, unit="day"), 0)
        q = inv.group_by("customer_id").aggregate(driver_quantity=(inv.amount * days).sum())
        out = _pandas(q).assign(driver="receivable_days_invoices")
    else:
        out = ca[["customer_id"]].assign(terms=pool.terms_days)
        if run.has("customers", "payment_terms_days"):
            c = _pandas(run.tables["customers"].select("customer_id", "payment_terms_days"))
            out = out.merge(c, on="customer_id", how="left")
            out["terms"] = out.pop("payment_terms_days").fillna(pool.terms_days)
        out["driver_quantity"] = ca["revenue"].clip(lower=0).to_numpy() * out.pop("terms")
        out["driver"] = "receivable_days_terms"
        run.note(f"pool {pool.name!r}: no invoices table; receivables are revenue × terms")
    return out.assign(rate=(pool.rate or 0.0) / 365.0)


def _where(t: Expr, column: str, value: Any) -> Expr:
    return t[column].isin(value) if isinstance(value, list) else t[column] == value


def _years_rows(run: _Run, pool: CostPool, ca: pd.DataFrame, _o: Expr) -> pd.DataFrame | None:
    """The horizon in years (first to last order date, 365 days a year) for matching customers."""
    ids = ca["customer_id"]
    if pool.where:
        if not run.has("customers", *pool.where):
            run.note(f"pool {pool.name!r} skipped: customers table or a `where` column is absent")
            return None
        c = run.tables["customers"]
        c = c.filter([_where(c, k, v) for k, v in pool.where.items()]).select("customer_id")
        ids = ids[ids.isin(_pandas(c)["customer_id"])]
    days = (ca["last_date"].max() - ca["order_date"].min()).days + 1 if len(ca) else 0
    years = pool.years if pool.years is not None else days / 365.0
    return pd.DataFrame({"customer_id": ids.to_numpy(), "driver": "customer_years"}).assign(
        driver_quantity=years, rate=pool.rate or 0.0
    )


def _custom_rows(run: _Run, pool: CostPool, _ca: pd.DataFrame, orders: Expr) -> pd.DataFrame | None:
    """A user-defined count or sum per customer over the rows matching ``where``."""
    d = pool.driver
    assert isinstance(d, CustomDriver)
    if not run.has(d.table, d.column, *d.where):
        run.note(f"pool {pool.name!r} skipped: table {d.table} or a column it names is absent")
        return None
    t = run.tables[d.table]
    if d.where:
        t = t.filter([_where(t, k, v) for k, v in d.where.items()])
    if "customer_id" not in t.columns:  # shipments, returns: the customer of the order
        t = t.inner_join(orders.select("order_id", "customer_id"), "order_id")
    col = t[d.column]
    agg = getattr(col, {"sum": "sum", "count_distinct": "nunique", "count": "count"}[d.agg])()
    q = _pandas(t.group_by("customer_id").aggregate(driver_quantity=agg.cast("float64")))
    return q.fillna({"driver_quantity": 0.0}).assign(driver=d.label, rate=pool.rate or 0.0)


def _customer_rows(run: _Run, pools: list[CostPool], ca: pd.DataFrame, o: Expr) -> pd.DataFrame:
    """Breakdown rows of the customer-level pools, restricted to customers with order lines."""
    frames, make = [], {"receivable_days": _credit_rows, "customer_years": _years_rows}
    for pool in pools:
        rows = make.get(pool.driver_name, _custom_rows)(run, pool, ca, o)
        if rows is None:
            continue
        known = rows["customer_id"].isin(ca["customer_id"])
        if not known.all():
            lost = float(rows.loc[~known, "driver_quantity"].sum())
            run.note(f"pool {pool.name!r}: {int((~known).sum())} customers without order lines"
                     f" left out (driver quantity {lost:.2f})")  # fmt: skip
        q = rows.loc[known, "driver_quantity"].astype("float64")
        frames.append(rows[known].assign(pool=pool.name, driver_quantity=q, cost=q * rows["rate"]))
    return _concat(frames)
