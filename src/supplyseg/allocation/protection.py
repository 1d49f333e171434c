"""Protected quantities: the supply a customer segment with a fill target keeps per product.

A share of capacity (`supplyseg.allocation.plan`) cuts every segment in proportion when supply
is short. A segment with a ``fill_target`` beta (``policies.customer.<segment>.allocation``)
instead keeps, per product, the quantity y whose expected shortfall is ``(1 - beta)`` of its
expected demand over the supply horizon: for normal demand D ~ N(mu, sigma),
``E[(D - y)+] = sigma * G((y - mu) / sigma) = (1 - beta) * mu``, the fill-rate order-up-to
level (Silver, Pyke & Peterson, *Inventory Management and Production Planning and Scheduling*,
3rd ed., 1998, §7.3.3, with the order quantity Q = mu: one horizon is one cycle). The nested
booking limits then keep the lower segments out of it; what the segment leaves unused goes to
whoever asks next.

Expectation, per product (`allocation_protection`):

- **mu**: the policies' ``demand_mean`` per bucket (the forecast's, summed over locations) x the
  horizon in buckets x the segment's share of the product's historic demand quantity;
- **sigma**: ``demand_std`` (root sum of squares over locations) x sqrt(horizon buckets x
  share): the buckets' forecast errors are independent, as in the policies' safety stock
  (``sigma sqrt(L)``), and the segment's demand is an independent part of the product's, with
  a variance in proportion to its share. A level error of the forecast (a December 30 % above
  the months before) is not in it: `bench/promise.py` measures what that costs the target;
- **horizon**: from ``as_of`` to the product's last supply date, and at least the product's
  lead time and one bucket (the supply in view is all there is until new orders can arrive).

A product whose forecast is unknown protects nothing by target (it keeps the share rules).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import PolicyError
from supplyseg.policy._codes import DAYS_PER_BUCKET
from supplyseg.policy.inventory import safety_stock

__all__ = ["PROTECTION_COLUMNS", "allocation_protection", "protected_quantity"]

FloatArray = npt.NDArray[np.float64]

PROTECTION_COLUMNS = (
    "product_id",
    "customer_segment",
    "priority",
    "fill_target",
    "horizon_start",
    "horizon_end",
    "horizon_days",
    "demand_share",
    "expected_demand",
    "demand_std",
    "protected_quantity",
)


def protected_quantity(
    expected: npt.ArrayLike, std: npt.ArrayLike, fill_target: npt.ArrayLike
) -> FloatArray:
    """The quantity y with ``E[(D - y)+] = (1 - fill_target) * expected`` for D normal with
    mean ``expected`` and deviation ``std`` (module docstring); 0 where nothing is expected.

    >>> protected_quantity(100.0, 50.0, 0.95).round(1).tolist()  # G(k) = 0.1: k = 0.902
    [145.1]
    """
    mu, sd, beta = np.broadcast_arrays(
        np.atleast_1d(np.asarray(expected, dtype=np.float64)),
        np.atleast_1d(np.asarray(std, dtype=np.float64)),
        np.atleast_1d(np.asarray(fill_target, dtype=np.float64)),
    )
    if not (np.isfinite(mu).all() and np.isfinite(sd).all()) or (mu < 0).any() or (sd < 0).any():
        raise PolicyError("expected, std: NaN, infinite or negative; allowed: numbers >= 0")
    if not ((beta > 0) & (beta < 1)).all():
        raise PolicyError(f"fill_target: {np.unique(beta)[:5]}; allowed: 0 < target < 1")
    out = np.zeros(mu.shape)
    some = mu > 0
    if some.any():
        ss = safety_stock(
            mu[some], sd[some], 1.0, 0.0, beta[some], "fill_rate", order_quantity=mu[some]
        )
        out[some] = np.maximum(mu[some] + np.asarray(ss), 0.0)
    return out


def _horizon_days(supply: pd.DataFrame, policies: pd.DataFrame, as_of: dt.date) -> pd.Series[float]:
    last = pd.to_datetime(supply["date"]).groupby(supply["product_id"].astype(str)).max()
    days = (last - pd.Timestamp(as_of)).dt.days.astype("float64")
    bucket_days = policies["bucket"].map(DAYS_PER_BUCKET).astype("float64")
    lead = (policies["lead_time"].astype("float64") * bucket_days).groupby(policies["product_id"])
    floor = pd.concat([lead.max(), bucket_days.groupby(policies["product_id"]).max()], axis=1)
    return days.reindex(floor.index).clip(lower=floor.max(axis=1)).dropna()


def allocation_protection(
    policies: pd.DataFrame,
    product_mix: pd.DataFrame,
    rules: pd.DataFrame,
    supply: pd.DataFrame,
    as_of: dt.date,
) -> pd.DataFrame:
    """`PROTECTION_COLUMNS` per product with supply x customer segment with a fill target.

    ``policies``: ``product_id, demand_mean, demand_std, lead_time, bucket`` (the policies table,
    one row per location); ``product_mix``: ``product_id, customer_segment, quantity`` (historic
    demand); ``rules``: ``customer_segment, priority, fill_target`` (NaN: none); ``supply``:
    ``product_id, date`` (`supplyseg.allocation.supply_table`). Products without supply, demand
    history or a known forecast get no rows.
    """
    require_columns(
        "policies", policies, ("product_id", "demand_mean", "demand_std", "lead_time", "bucket")
    )
    require_columns("product_mix", product_mix, ("product_id", "customer_segment", "quantity"))
    require_columns("rules", rules, ("customer_segment", "priority", "fill_target"))
    require_columns("supply", supply, ("product_id", "date"))
    targets: pd.DataFrame = rules.loc[
        rules["fill_target"].notna(), ["customer_segment", "priority", "fill_target"]
    ]
    if targets.empty or supply.empty or policies.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PROTECTION_COLUMNS})
    pol = policies.assign(product_id=policies["product_id"].astype(str))
    pol = pol[pol["demand_mean"].notna() & pol["bucket"].isin(list(DAYS_PER_BUCKET))]
    horizon = _horizon_days(supply, pol, as_of)
    per = pol.assign(var=pol["demand_std"].astype("float64") ** 2).groupby("product_id")
    forecast = pd.DataFrame(
        {
            "mean": per["demand_mean"].sum(),
            "std": np.sqrt(per["var"].sum(min_count=1)).fillna(0.0),
            "bucket_days": per["bucket"].first().map(DAYS_PER_BUCKET).astype("float64"),
            "horizon_days": horizon,
        }
    ).dropna(subset=["horizon_days"])
    mix = product_mix[["product_id", "customer_segment", "quantity"]].astype(
        {"product_id": str, "customer_segment": str}
    )
    mix["quantity"] = pd.to_numeric(mix["quantity"], errors="coerce").fillna(0.0).clip(lower=0.0)
    mix = mix.groupby(["product_id", "customer_segment"], as_index=False).agg(
        quantity=("quantity", "sum")
    )
    total = mix.groupby("product_id")["quantity"].transform("sum")
    mix["demand_share"] = mix["quantity"] / total.where(total > 0)
    out = (
        mix.dropna(subset=["demand_share"])
        .merge(targets.astype({"customer_segment": str}), on="customer_segment")
        .merge(forecast, left_on="product_id", right_index=True)
    )
    buckets = out["horizon_days"] / out["bucket_days"]
    out["expected_demand"] = out["mean"].clip(lower=0.0) * buckets * out["demand_share"]
    out["demand_std"] = out["std"].clip(lower=0.0) * np.sqrt(buckets * out["demand_share"])
    out["protected_quantity"] = protected_quantity(
        out["expected_demand"], out["demand_std"], out["fill_target"]
    )
    out["horizon_start"] = as_of
    out["horizon_end"] = [as_of + dt.timedelta(days=float(d)) for d in out["horizon_days"]]
    out = out.astype({"priority": "int64", "fill_target": "float64"})
    out = out.sort_values(["product_id", "priority", "customer_segment"], ignore_index=True)
    return out[list(PROTECTION_COLUMNS)]
