"""Optional ``supply`` table for the synthetic company (`supplyseg.data.synth`).

The company's inventory as of its "today" (2025-12-31) becomes the ``on_hand`` rows, and each
product-location gets weekly ``receipt`` rows for the next ``weeks`` weeks sized at its average
weekly demand of the last 13 weeks times ``cover`` (with ±30 % noise, rounded). ``cover`` below
1 makes supply scarce, the case differentiated allocation is for. Kept apart from
`synth_company` so the company's tables (and what tests know of them) do not change.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from supplyseg.errors import DataContractError

if TYPE_CHECKING:
    from supplyseg.data.synth import SynthCompany

__all__ = ["TODAY", "synth_supply"]

TODAY = dt.date(2025, 12, 31)
"""The synthetic company's "today": its inventory's as-of date."""


def synth_supply(
    company: SynthCompany, weeks: int = 8, cover: float = 1.0, seed: int = 0
) -> pd.DataFrame:
    """The ``supply`` table (``product_id, location_id, date, quantity, kind``) of ``company``."""
    if not 0 <= weeks <= 104:
        raise DataContractError(f"weeks: {weeks!r}; allowed: 0..104 weeks of receipts")
    if not 0 <= cover <= 10:
        raise DataContractError(f"cover: {cover!r}; allowed: 0..10 (1 = receipts meet demand)")
    rng = np.random.default_rng(seed)
    inv = company.inventory
    on_hand = pd.DataFrame(
        {
            "product_id": inv["product_id"].astype(str),
            "location_id": inv["location_id"].astype(str),
            "date": TODAY,
            "quantity": inv["on_hand"].astype("float64"),
            "kind": "on_hand",
        }
    )
    lines = company.order_lines
    recent = pd.to_datetime(lines["order_date"], errors="coerce") > pd.Timestamp(
        TODAY - dt.timedelta(weeks=13)
    )
    qty = pd.to_numeric(lines["quantity"], errors="coerce").where(recent, 0.0).clip(lower=0.0)
    loc = lines["location_id"] if "location_id" in lines.columns else pd.Series("DC1")
    recent_lines = pd.DataFrame(
        {"product_id": lines["product_id"].astype(str), "location_id": loc.astype(str), "q": qty}
    )
    weekly = recent_lines.groupby(["product_id", "location_id"], as_index=False).agg(q=("q", "sum"))
    weekly["q"] /= 13.0
    keys = on_hand[["product_id", "location_id"]].merge(
        weekly, on=["product_id", "location_id"], how="left"
    )
    base = keys["q"].fillna(0.0).to_numpy() * cover
    n = len(keys)
    noise = rng.uniform(0.7, 1.3, (weeks, n))
    receipts = pd.DataFrame(
        {
            "product_id": np.tile(keys["product_id"].to_numpy(), weeks),
            "location_id": np.tile(keys["location_id"].to_numpy(), weeks),
            "date": np.repeat([TODAY + dt.timedelta(weeks=w + 1) for w in range(weeks)], n),
            "quantity": np.rint(base[None, :] * noise).ravel(),
            "kind": "receipt",
        }
    )
    receipts = receipts[receipts["quantity"] > 0]
    return pd.concat([on_hand, receipts], ignore_index=True)
