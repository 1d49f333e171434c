"""Lead times learned from purchase history: receipt date - order date, per supplier and product.

A receipt is a purchase-order line with a ``receipt_date``; its lead time is the whole days
from ``order_date`` to ``receipt_date`` (open lines and lines without a receipt date do not
count). Statistics per group: ``n`` receipts, ``mean_days``, ``std_days`` (sample std, ddof 1;
unknown for one receipt), ``p90_days`` (linear interpolation, as numpy's default quantile).

Every supplier x product (x location) the purchase orders name gets one row, its figures from
the first level with at least ``min_receipts`` receipts, named in ``source``:

1. ``supplier_product_location``: its own receipts (only with ``by_location`` and a location);
2. ``supplier_product``: the supplier's receipts of the product at every location;
3. ``supplier``: all the supplier's receipts (the supplier's typical lead time);
4. ``product_column``: ``products.lead_time_days`` / ``lead_time_std_days`` (no p90);
5. ``default``: the given default mean and std (``policies.default_lead_time_days``, ...).

``receipts`` is the row's own receipt count; ``n`` the count behind the figures (0 for 4, 5).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.errors import ConfigError, DataContractError

__all__ = [
    "LEAD_TIME_COLUMNS",
    "LEAD_TIME_SOURCES",
    "current_suppliers",
    "lead_times",
    "location_lead_times",
    "product_lead_times",
    "receipt_days",
    "receipt_stats",
]

LEAD_TIME_SOURCES = (
    "supplier_product_location",
    "supplier_product",
    "supplier",
    "product_column",
    "default",
)
LEAD_TIME_COLUMNS = (
    "supplier_id",
    "product_id",
    "location_id",
    "receipts",
    "n",
    "mean_days",
    "std_days",
    "p90_days",
    "source",
)
_STATS = ("n", "mean_days", "std_days", "p90_days")


def _pandas(expr: ir.Table) -> pd.DataFrame:
    frame: pd.DataFrame = expr.to_pandas()
    return frame


def receipt_days(purchase_orders: ir.Table) -> ir.Table:
    """The received purchase-order lines with their lead time ``days`` (float)."""
    po = purchase_orders
    received = po.filter(po.receipt_date.notnull() & po.order_date.notnull())
    return received.mutate(days=received.receipt_date.delta(received.order_date, unit="day"))


def receipt_stats(received: ir.Table, by: list[str]) -> pd.DataFrame:
    """n, mean, sample std and p90 of ``days`` per group (one query)."""
    d = received.days.cast("float64")
    return _pandas(
        received.group_by(by).agg(
            n=d.count(), mean_days=d.mean(), std_days=d.std(how="sample"), p90_days=d.quantile(0.9)
        )
    )


def _check(min_receipts: int, default_days: float, default_std_days: float) -> None:
    if not (isinstance(min_receipts, int) and min_receipts >= 1):
        raise ConfigError(
            f"min_receipts: value {min_receipts!r} is not allowed; give a whole number >= 1"
        )
    for name, value in (("default_days", default_days), ("default_std_days", default_std_days)):
        if not (np.isfinite(value) and value >= 0):
            raise ConfigError(f"{name}: value {value!r} is not allowed; give a number >= 0")


def _product_columns(products: pd.DataFrame | None) -> pd.DataFrame:
    """``product_id, _col_mean, _col_std`` from the products table (empty without one)."""
    out = pd.DataFrame({"product_id": pd.Series(dtype="object")})
    if products is None or "product_id" not in products.columns:
        return out.assign(_col_mean=np.nan, _col_std=np.nan)
    if products["product_id"].duplicated().any():
        dup = products["product_id"][products["product_id"].duplicated()].iloc[0]
        raise DataContractError(f"products: product_id {dup!r} appears twice; give one row each")
    out = pd.DataFrame({"product_id": products["product_id"].to_numpy(dtype=object)})
    for col, name in (("lead_time_days", "_col_mean"), ("lead_time_std_days", "_col_std")):
        values = (
            products[col] if col in products.columns else pd.Series(np.nan, index=products.index)
        )
        out[name] = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    return out


def _with_fallbacks(
    rows: pd.DataFrame,
    levels: list[tuple[str, pd.DataFrame, list[str]]],
    products: pd.DataFrame | None,
    min_receipts: int,
    default_days: float,
    default_std_days: float,
) -> pd.DataFrame:
    """``rows`` (keys) with the figures of the first level holding ``min_receipts`` receipts."""
    out = rows.reset_index(drop=True)
    chosen = np.full(len(out), -1)
    figures = {c: np.full(len(out), np.nan) for c in _STATS}
    for i, (_, stats, keys) in enumerate(levels):
        joined = out[keys].merge(stats, on=keys, how="left")
        enough = (joined["n"].fillna(0).to_numpy() >= min_receipts) & (chosen < 0)
        for c in _STATS:
            figures[c] = np.where(enough, joined[c].to_numpy(dtype=float), figures[c])
        chosen = np.where(enough, i, chosen)
    col = out[["product_id"]].merge(_product_columns(products), on="product_id", how="left")
    col_mean, col_std = col["_col_mean"].to_numpy(float), col["_col_std"].to_numpy(float)
    use_col = (chosen < 0) & np.isfinite(col_mean)
    figures["mean_days"] = np.where(use_col, col_mean, figures["mean_days"])
    figures["std_days"] = np.where(
        use_col, np.where(np.isfinite(col_std), col_std, default_std_days), figures["std_days"]
    )
    use_default = (chosen < 0) & ~use_col
    figures["mean_days"] = np.where(use_default, default_days, figures["mean_days"])
    figures["std_days"] = np.where(use_default, default_std_days, figures["std_days"])
    figures["n"] = np.where(chosen < 0, 0, figures["n"])
    names = np.array([name for name, _, _ in levels] + ["product_column", "default"], dtype=object)
    source = np.where(chosen >= 0, chosen, np.where(use_col, len(levels), len(levels) + 1))
    out["n"] = figures["n"].astype(np.int64)
    for c in _STATS[1:]:
        out[c] = figures[c]
    out["source"] = names[source]
    return out


def _validated(purchase_orders: object) -> ir.Table:
    if not isinstance(purchase_orders, ir.Table):
        raise DataContractError(
            f"purchase_orders: got {type(purchase_orders).__name__}; give an Ibis table (e.g."
            " ibis.memtable(frame) or a table of a loaded Dataset)"
        )
    need = {"supplier_id", "product_id", "order_date", "receipt_date"}
    missing = sorted(need - set(purchase_orders.columns))
    if missing:
        raise DataContractError(
            f"purchase_orders: column(s) {missing} missing; required for lead times:"
            f" {sorted(need)}; present: {list(purchase_orders.columns)}"
        )
    return purchase_orders


def lead_times(
    purchase_orders: ir.Table,
    products: pd.DataFrame | None = None,
    *,
    min_receipts: int = 3,
    by_location: bool = True,
    default_days: float = 14.0,
    default_std_days: float = 0.0,
) -> pd.DataFrame:
    """Lead-time statistics per supplier x product (x location), with fallbacks (module doc).

    Columns `LEAD_TIME_COLUMNS` (``location_id`` null when not by location), sorted by
    supplier, product and location.
    """
    po = _validated(purchase_orders)
    _check(min_receipts, default_days, default_std_days)
    with_loc = by_location and "location_id" in po.columns
    keys = ["supplier_id", "product_id", *(["location_id"] if with_loc else [])]
    received = receipt_days(po)
    rows = _pandas(po.group_by(keys).agg())
    own = receipt_stats(received, keys).rename(columns={"n": "receipts"})
    levels: list[tuple[str, pd.DataFrame, list[str]]] = []
    if with_loc:
        levels.append(("supplier_product_location", receipt_stats(received, keys), keys))
    levels.append(("supplier_product", receipt_stats(received, keys[:2]), keys[:2]))
    levels.append(("supplier", receipt_stats(received, keys[:1]), keys[:1]))
    if with_loc:
        # A line without a location has no location-level figures of its own (pandas would
        # match the null keys to each other).
        levels[0] = (levels[0][0], levels[0][1].dropna(subset=["location_id"]), keys)
    out = _with_fallbacks(rows, levels, products, min_receipts, default_days, default_std_days)
    out = out.merge(own[[*keys, "receipts"]], on=keys, how="left")
    out["receipts"] = out["receipts"].fillna(0).astype(np.int64)
    if not with_loc:
        out["location_id"] = pd.Series([None] * len(out), dtype="object")
    return (
        out[list(LEAD_TIME_COLUMNS)]
        .sort_values(["supplier_id", "product_id", "location_id"], na_position="first")
        .reset_index(drop=True)
    )


def current_suppliers(purchase_orders: ir.Table, *, by_location: bool = False) -> pd.DataFrame:
    """Each product's current supplier: the one of its latest purchase order (the larger
    quantity breaks a tie, then the supplier id): ``product_id, supplier_id, last_order_date``.

    ``by_location``: each product x location's (``location_id`` after ``product_id``), over
    the lines that name a location."""
    po = _validated(purchase_orders)
    keys = ["product_id"]
    if by_location:
        if "location_id" not in po.columns:
            raise DataContractError(
                "purchase_orders: no location_id column; current suppliers by location need it"
            )
        po = po.filter(po.location_id.notnull())
        keys.append("location_id")
    per = po.group_by([*keys, "supplier_id"]).agg(
        last_order_date=po.order_date.max(), quantity=po.quantity.sum()
    )
    ranked = per.mutate(
        _rank=ibis.row_number().over(
            group_by=[per[k] for k in keys],
            order_by=[per.last_order_date.desc(), per.quantity.desc(), per.supplier_id],
        )
    )
    current = ranked.filter(ranked._rank == 0).select(*keys, "supplier_id", "last_order_date")
    return _pandas(current).sort_values(keys, ignore_index=True)


def product_lead_times(
    purchase_orders: ir.Table,
    products: pd.DataFrame | None = None,
    *,
    min_receipts: int = 3,
    default_days: float = 14.0,
    default_std_days: float = 0.0,
) -> pd.DataFrame:
    """Each purchased product's lead time from its current supplier (`current_suppliers`), over
    all locations: ``product_id, supplier_id, n, mean_days, std_days, p90_days, source``.

    The figures the inventory policies use in place of ``products.lead_time_days`` (and
    ``lead_time_std_days``); the fallbacks are those of `lead_times` without the location level.
    """
    po = _validated(purchase_orders)
    table = lead_times(
        po,
        products,
        min_receipts=min_receipts,
        by_location=False,
        default_days=default_days,
        default_std_days=default_std_days,
    )
    current = current_suppliers(po)[["product_id", "supplier_id"]]
    out = current.merge(table, on=["product_id", "supplier_id"], how="left")
    return out[["product_id", "supplier_id", *_STATS, "source"]]


def location_lead_times(
    purchase_orders: ir.Table,
    products: pd.DataFrame | None = None,
    *,
    min_receipts: int = 3,
    default_days: float = 14.0,
    default_std_days: float = 0.0,
) -> pd.DataFrame:
    """Each purchased product x location's lead time from its current supplier there
    (`current_suppliers` by location): ``product_id, location_id, supplier_id, n, mean_days,
    std_days, p90_days, source`` with the fallbacks of `lead_times` (the location's own
    receipts first). Empty (same columns) when the lines name no location."""
    po = _validated(purchase_orders)
    cols = ["product_id", "location_id", "supplier_id", *_STATS, "source"]
    if "location_id" not in po.columns:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    table = lead_times(
        po,
        products,
        min_receipts=min_receipts,
        by_location=True,
        default_days=default_days,
        default_std_days=default_std_days,
    )
    current = current_suppliers(po, by_location=True)[["product_id", "location_id", "supplier_id"]]
    out = current.merge(table, on=["product_id", "location_id", "supplier_id"], how="left")
    return out[cols]
