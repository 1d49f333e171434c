"""Supplier metrics from purchase-order lines: spend, reliability, lead time, price, sourcing.

One row per supplier with purchase-order lines (`SUPPLIER_METRIC_COLUMNS`); every per-line sum
runs on the engine (Ibis), one small query per metric group:

- ``spend``: sum of ``quantity x unit_price`` over lines with a price (unknown when none has);
  ``po_lines``; ``products``: distinct products bought.
- ``otif``: share of the judged lines received on time (``receipt_date <= promised_date +
  otif_tolerance_days``) and in full (``received_quantity >= quantity x (1 -
  in_full_tolerance)``); a line is judged when its receipt and promised dates and received
  quantity are known (``otif_lines``); unknown when no line is.
- ``lead_time_*``: the supplier-wide lead-time statistics of `supplyseg.analytics.lead_times`
  (``lead_time_n`` receipts, mean, std, p90) and ``lead_time_cv = std / mean``.
- ``price_variance_pct``: price instability, the spend-weighted coefficient of variation (%)
  of the unit price paid within each supplier x product (population std / mean).
- ``single_source_share``: share of the supplier's lines on products that no other supplier
  delivered in the purchase history.
- ``main_mode``: the transport mode of most of its lines (ties: alphabetical); ``name``,
  ``country``, ``currency`` from the suppliers table when given.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.analytics.lead_times import receipt_days, receipt_stats
from supplyseg.errors import ConfigError, DataContractError

__all__ = ["SUPPLIER_METRIC_COLUMNS", "supplier_metrics"]

SUPPLIER_METRIC_COLUMNS = (
    "supplier_id",
    "name",
    "country",
    "currency",
    "main_mode",
    "spend",
    "po_lines",
    "products",
    "otif",
    "otif_lines",
    "lead_time_n",
    "lead_time_mean_days",
    "lead_time_std_days",
    "lead_time_p90_days",
    "lead_time_cv",
    "price_variance_pct",
    "single_source_share",
)


def _pandas(expr: ir.Table) -> pd.DataFrame:
    frame: pd.DataFrame = expr.to_pandas()
    return frame


def _has(t: ir.Table, *cols: str) -> bool:
    return all(c in t.columns for c in cols)


def _volume(po: ir.Table) -> pd.DataFrame:
    spend = (po.quantity * po.unit_price).sum() if _has(po, "unit_price") else ibis.null("float64")
    return _pandas(
        po.group_by("supplier_id").agg(
            spend=spend, po_lines=po.count(), products=po.product_id.nunique()
        )
    )


def _otif(po: ir.Table, tolerance_days: int, in_full_tolerance: float) -> pd.DataFrame | None:
    if not _has(po, "promised_date", "receipt_date", "received_quantity"):
        return None
    judged = po.receipt_date.notnull() & po.promised_date.notnull() & po.received_quantity.notnull()
    on_time = po.receipt_date <= po.promised_date + ibis.interval(days=tolerance_days)
    in_full = po.received_quantity >= po.quantity * (1.0 - in_full_tolerance)
    hit = (on_time & in_full).cast("float64")
    return _pandas(
        po.group_by("supplier_id").agg(
            otif=hit.mean(where=judged), otif_lines=judged.cast("int64").sum()
        )
    )


def _price_variance(po: ir.Table) -> pd.DataFrame | None:
    if not _has(po, "unit_price"):
        return None
    priced = po.filter(po.unit_price.notnull() & (po.unit_price > 0))
    pair = priced.group_by(["supplier_id", "product_id"]).agg(
        mean=priced.unit_price.mean(),
        std=priced.unit_price.std(how="pop"),
        spend=(priced.quantity * priced.unit_price).sum(),
    )
    weighted = (pair.std / pair.mean * pair.spend).sum()
    return _pandas(
        pair.group_by("supplier_id").agg(price_variance_pct=100.0 * weighted / pair.spend.sum())
    )


def _single_source(po: ir.Table) -> pd.DataFrame:
    sources = po.group_by("product_id").agg(_suppliers=po.supplier_id.nunique())
    lines = po.select("supplier_id", "product_id").join(sources, "product_id")
    single = (lines._suppliers == 1).cast("float64")
    return _pandas(lines.group_by("supplier_id").agg(single_source_share=single.mean()))


def _main_mode(po: ir.Table) -> pd.DataFrame | None:
    if not _has(po, "mode"):
        return None
    counts = (
        po.filter(po["mode"].notnull()).group_by(["supplier_id", "mode"]).agg(_lines=ibis._.count())
    )
    ranked = counts.mutate(
        _rank=ibis.row_number().over(
            group_by=counts.supplier_id, order_by=[counts._lines.desc(), counts["mode"]]
        )
    )
    first = ranked.filter(ranked._rank == 0)
    return _pandas(first.select("supplier_id", main_mode=first["mode"]))


def _master(suppliers: ir.Table | pd.DataFrame | None) -> pd.DataFrame | None:
    if suppliers is None:
        return None
    frame = _pandas(suppliers) if isinstance(suppliers, ir.Table) else suppliers
    if "supplier_id" not in frame.columns:
        raise DataContractError(
            f"suppliers: column supplier_id missing; present: {list(map(str, frame.columns))}"
        )
    cols = [c for c in ("supplier_id", "name", "country", "currency") if c in frame.columns]
    return frame[cols].drop_duplicates("supplier_id")


def supplier_metrics(
    purchase_orders: ir.Table,
    suppliers: ir.Table | pd.DataFrame | None = None,
    *,
    otif_tolerance_days: int = 0,
    in_full_tolerance: float = 0.0,
) -> pd.DataFrame:
    """One row of `SUPPLIER_METRIC_COLUMNS` per supplier with purchase-order lines (module
    doc); a metric the data cannot give is unknown (NaN), never 0."""
    po = purchase_orders
    if not isinstance(po, ir.Table):
        raise DataContractError(
            f"purchase_orders: got {type(po).__name__}; give an Ibis table (e.g."
            " ibis.memtable(frame) or a table of a loaded Dataset)"
        )
    need = {"supplier_id", "product_id", "order_date", "quantity"}
    if missing := sorted(need - set(po.columns)):
        raise DataContractError(
            f"purchase_orders: column(s) {missing} missing; required: {sorted(need)};"
            f" present: {list(po.columns)}"
        )
    if not (isinstance(otif_tolerance_days, int) and otif_tolerance_days >= 0):
        raise ConfigError(
            f"otif_tolerance_days: value {otif_tolerance_days!r} is not allowed; give a whole"
            " number of days >= 0"
        )
    if not 0 <= in_full_tolerance < 1:
        raise ConfigError(
            f"in_full_tolerance: value {in_full_tolerance!r} is not allowed; give a share in"
            " [0, 1), e.g. 0.02"
        )
    out = _volume(po)
    parts = [_otif(po, otif_tolerance_days, in_full_tolerance), _price_variance(po)]
    parts += [_single_source(po), _main_mode(po)]
    if _has(po, "receipt_date"):
        lt = receipt_stats(receipt_days(po), ["supplier_id"]).rename(
            columns={
                "n": "lead_time_n",
                "mean_days": "lead_time_mean_days",
                "std_days": "lead_time_std_days",
                "p90_days": "lead_time_p90_days",
            }
        )
        parts.append(lt)
    for part in parts:
        if part is not None:
            out = out.merge(part, on="supplier_id", how="left")
    master = _master(suppliers)
    if master is not None:
        out = out.merge(master, on="supplier_id", how="left")
    for col in SUPPLIER_METRIC_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["otif_lines"] = out["otif_lines"].fillna(0).astype(np.int64)
    out["lead_time_n"] = out["lead_time_n"].fillna(0).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = out["lead_time_mean_days"].to_numpy(dtype=float)
        cv = out["lead_time_std_days"].to_numpy(dtype=float) / mean
    out["lead_time_cv"] = np.where(mean > 0, cv, np.nan)
    return out[list(SUPPLIER_METRIC_COLUMNS)].sort_values("supplier_id", ignore_index=True)
