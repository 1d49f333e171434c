"""Supply for promising: the ``supply`` table, or ``inventory.on_hand`` when it is absent, as
dated supply events per product and location.

A product-location's latest ``on_hand`` row is its stock as of that date; a ``receipt`` dated on
or before it is already in that stock and is left out, so stock is never counted twice. A
product-location with receipts but no ``on_hand`` row starts from zero stock.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from supplyseg.data.contract import SUPPLY_KINDS, require_columns
from supplyseg.errors import DataContractError

__all__ = ["SUPPLY_COLUMNS", "supply_events", "supply_periods", "supply_table"]

SUPPLY_COLUMNS = ("product_id", "location_id", "date", "quantity", "kind")


def supply_table(
    supply: pd.DataFrame | None, inventory: pd.DataFrame | None, as_of: dt.date
) -> pd.DataFrame:
    """The ``supply`` table (`SUPPLY_COLUMNS`): ``supply`` when given, else each inventory row's
    ``on_hand`` as ``kind = on_hand`` dated ``inventory.as_of`` (or ``as_of`` where that is
    empty); empty when neither is given."""
    if supply is not None:
        require_columns("supply", supply, SUPPLY_COLUMNS)
        out = supply[list(SUPPLY_COLUMNS)].copy()
    elif inventory is not None:
        require_columns("inventory", inventory, ("product_id", "location_id", "on_hand"))
        dates = inventory["as_of"] if "as_of" in inventory.columns else None
        when = pd.Series(as_of, index=inventory.index) if dates is None else dates.fillna(as_of)
        out = pd.DataFrame(
            {
                "product_id": inventory["product_id"],
                "location_id": inventory["location_id"],
                "date": when,
                "quantity": inventory["on_hand"],
                "kind": "on_hand",
            }
        )
    else:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in SUPPLY_COLUMNS})
    out["product_id"] = out["product_id"].astype(str)
    out["location_id"] = out["location_id"].astype(str)
    out["date"] = pd.to_datetime(out["date"]).dt.date
    out["quantity"] = pd.to_numeric(out["quantity"], errors="coerce").astype("float64")
    out["kind"] = out["kind"].astype(str)
    bad = ~out["kind"].isin(SUPPLY_KINDS) | out["quantity"].isna() | (out["quantity"] < 0)
    if bad.any():
        row = out[bad].iloc[0]
        raise DataContractError(
            f"supply: row {dict(row)} has kind outside {SUPPLY_KINDS} or a quantity that is"
            " missing or negative; fix the row (the loader rejects such rows)"
        )
    return out.reset_index(drop=True)


def supply_events(supply: pd.DataFrame) -> pd.DataFrame:
    """``product_id, location_id, date, quantity``: the latest on-hand per product-location and
    the receipts after it, summed per date (see the module docstring)."""
    s = supply_table(supply, None, dt.date.today())
    keys = ["product_id", "location_id"]
    on_hand = s[s["kind"] == "on_hand"]
    latest = on_hand.groupby(keys, as_index=False).agg(snapshot=("date", "max"))
    s = s.merge(latest, on=keys, how="left")
    is_snapshot = (s["kind"] == "on_hand") & (s["date"] == s["snapshot"])
    later_receipt = (s["kind"] == "receipt") & (s["snapshot"].isna() | (s["date"] > s["snapshot"]))
    kept = s[is_snapshot | later_receipt]
    out = kept.groupby([*keys, "date"], as_index=False).agg(quantity=("quantity", "sum"))
    return out.sort_values([*keys, "date"], ignore_index=True)


def supply_periods(events: pd.DataFrame, start: dt.date) -> pd.DataFrame:
    """``events`` (`supply_events`) with ``period`` = days after ``start``; events on or before
    ``start`` are in period 0 (stock there now)."""
    require_columns("events", events, ("product_id", "location_id", "date", "quantity"))
    days = (pd.to_datetime(events["date"]) - pd.Timestamp(start)).dt.days
    out = events.copy()
    out["period"] = np.maximum(days.to_numpy(), 0).astype("int64")
    return out
