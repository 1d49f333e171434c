"""Total landed cost per unit of every sourcing option, and the cheapest option per product.

Each component is a column, and they sum to ``total_per_unit`` (all per unit, in the options'
currency):

- ``unit_price``: the supplier's price;
- ``freight``: ``freight_per_unit`` (what the buyer pays for carriage on top of the price);
- ``insurance``: ``insurance_rate x (unit_price + freight)`` (insured value: cost and freight);
- ``duty``: ``duty_rate x customs value``. Customs value, basis ``CIF`` (the EU's and most
  countries'): price + freight + insurance when the incoterm leaves main carriage to the buyer
  (EXW, FCA, FAS, FOB, or no incoterm given), price + insurance for CFR and CPT (the seller
  pays carriage, the buyer insures), the price alone for CIF, CIP, DAP, DPU (it includes
  both); basis ``FOB`` (the US): the price alone. DDP: no duty for the buyer (the seller pays).
- ``pipeline_carrying``: ``unit_price x holding_rate x lead_time_days / 365`` (stock in transit
  and on order, carried for the lead time);
- ``safety_stock_carrying``: the yearly carrying cost of the safety stock this option's lead
  time needs, per unit of annual demand: ``z x sqrt(L x sd^2 + d^2 x sL^2) x unit_price x
  holding_rate / (365 x d)``, with ``z`` the normal quantile of the product's cycle service
  level, ``d`` and ``sd`` the mean and std of daily demand, ``L`` and ``sL`` the option's lead
  time mean and std in days. A product that holds no stock (the demand table's ``stocked``
  is false: make to order, no stock) carries none: 0, and its ``service_level`` is empty.

The option's lead time is learned from purchase history when the supplier x product has its
own receipts (`supplyseg.analytics.lead_times`: source ``supplier_product``), else quoted
(``lead_time_days``; a quote without ``lead_time_std_days`` takes ``default_std_days``), named
in ``lead_time_source``. A component the data cannot give (no freight, insurance or duty
figure; no demand) is unknown and so is the total: fill 0 at the source where none applies.

``current`` marks each product's current supplier; ``cheapest`` the option with the lowest
known total per product (ties: the current supplier, then the first supplier id);
``saving_vs_current_per_unit`` = the current option's total - this option's (positive: this
option is cheaper), ``annual_saving_vs_current`` = that x annual demand.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError

__all__ = ["COMPONENTS", "LANDED_COST_COLUMNS", "customs_value", "landed_cost"]

COMPONENTS = (
    "unit_price",
    "freight",
    "insurance",
    "duty",
    "pipeline_carrying",
    "safety_stock_carrying",
)
LANDED_COST_COLUMNS = (
    "product_id",
    "supplier_id",
    "incoterm",
    "mode",
    "lead_time_days",
    "lead_time_std_days",
    "lead_time_source",
    "annual_demand",
    "service_level",
    *COMPONENTS,
    "total_per_unit",
    "customs_value_per_unit",
    "current",
    "cheapest",
    "saving_vs_current_per_unit",
    "annual_saving_vs_current",
)
_BUYER_CARRIAGE = ("EXW", "FCA", "FAS", "FOB")
_BUYER_INSURES = ("CFR", "CPT")
_SELLER_PAYS_DUTY = ("DDP",)
_KNOWN_TERMS = (*_BUYER_CARRIAGE, *_BUYER_INSURES, "CIF", "CIP", "DAP", "DPU", "DDP")


def _floats(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)


def customs_value(
    unit_price: np.ndarray,
    freight: np.ndarray,
    insurance: np.ndarray,
    incoterm: np.ndarray,
    basis: Literal["CIF", "FOB"] = "CIF",
) -> np.ndarray:
    """The value duty is charged on, per unit, by incoterm and valuation basis (module doc)."""
    terms = pd.Series(incoterm, dtype="object").fillna("").astype(str).str.upper().to_numpy()
    if basis == "FOB":
        return np.asarray(unit_price, dtype=float).copy()
    unknown = ~np.isin(terms, _KNOWN_TERMS)
    add_freight = np.isin(terms, _BUYER_CARRIAGE) | unknown
    add_insurance = add_freight | np.isin(terms, _BUYER_INSURES)
    value: np.ndarray = (
        unit_price + np.where(add_freight, freight, 0.0) + np.where(add_insurance, insurance, 0.0)
    )
    return value


def _validate(holding_rate: float, service_level: float, basis: str, default_std: float) -> None:
    if not (np.isfinite(holding_rate) and 0 < holding_rate <= 10):
        raise ConfigError(
            f"holding_rate: value {holding_rate!r} is not allowed; give a yearly rate in (0, 10],"
            " e.g. 0.25"
        )
    if not 0.5 <= service_level < 1:
        raise ConfigError(
            f"service_level: value {service_level!r} is not allowed; give a share in [0.5, 1),"
            " e.g. 0.95"
        )
    if basis not in ("CIF", "FOB"):
        raise ConfigError(f"customs_value_basis: value {basis!r} is not allowed; use CIF or FOB")
    if not (np.isfinite(default_std) and default_std >= 0):
        raise ConfigError(f"default_std_days: value {default_std!r} is not allowed; give >= 0")


def _option_lead_times(
    options: pd.DataFrame, learned: pd.DataFrame | None, default_std: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    quoted_mean = _floats(options, "lead_time_days")
    quoted_std = _floats(options, "lead_time_std_days")
    quoted_std = np.where(
        np.isfinite(quoted_mean) & ~np.isfinite(quoted_std), default_std, quoted_std
    )
    mean, std = quoted_mean, quoted_std
    source = np.full(len(options), None, dtype=object)
    source[np.isfinite(quoted_mean)] = "quote"
    if learned is not None and len(learned):
        require_columns(
            "lead_times", learned, ["supplier_id", "product_id", "mean_days", "std_days"]
        )
        own = learned
        if "source" in learned.columns:
            own = learned[learned["source"] == "supplier_product"]
        own = own.drop_duplicates(["supplier_id", "product_id"])
        hist = options[["supplier_id", "product_id"]].merge(
            own[["supplier_id", "product_id", "mean_days", "std_days"]],
            on=["supplier_id", "product_id"],
            how="left",
        )
        h_mean, h_std = _floats(hist, "mean_days"), _floats(hist, "std_days")
        use = np.isfinite(h_mean) & np.isfinite(h_std)
        mean, std = np.where(use, h_mean, mean), np.where(use, h_std, std)
        source = np.where(use, "purchase_history", source)
    return mean, std, source


def landed_cost(
    options: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    holding_rate: float,
    service_level: float = 0.95,
    customs_value_basis: Literal["CIF", "FOB"] = "CIF",
    lead_times: pd.DataFrame | None = None,
    current: pd.DataFrame | None = None,
    default_std_days: float = 0.0,
) -> pd.DataFrame:
    """Total landed cost per unit of each sourcing option (`LANDED_COST_COLUMNS`, module doc).

    ``options``: the sourcing_options table. ``demand``: ``product_id, demand_per_day,
    demand_std_per_day`` and optionally ``service_level`` (the product's cycle service, e.g.
    from its policy; empty: ``service_level``) and ``stocked`` (false: the product holds no
    stock, so no safety stock). ``lead_times``: learned lead times per supplier x product (as from
    `lead_times(..., by_location=False)`). ``current``: ``product_id, supplier_id`` of each
    product's current supplier.
    """
    _validate(holding_rate, service_level, customs_value_basis, default_std_days)
    opts = require_columns(
        "sourcing_options", options, ["product_id", "supplier_id", "unit_price"]
    ).reset_index(drop=True)
    dem = require_columns("demand", demand, ["product_id", "demand_per_day", "demand_std_per_day"])
    dem = dem.drop_duplicates("product_id")
    d_cols = ["product_id", "demand_per_day", "demand_std_per_day"]
    d_cols += [c for c in ("service_level", "stocked") if c in dem.columns]
    per = opts[["product_id"]].merge(dem[d_cols], on="product_id", how="left")
    d, sd = _floats(per, "demand_per_day"), _floats(per, "demand_std_per_day")
    level = _floats(per, "service_level")
    if ((level < 0.5) | (level >= 1)).any():
        bad = float(level[(level < 0.5) | (level >= 1)][0])
        raise ConfigError(
            f"demand.service_level: value {bad!r} is not allowed; give a cycle service level in"
            " [0.5, 1) or leave it empty for the default"
        )
    level = np.where(np.isfinite(level), level, service_level)
    stocked = np.ones(len(per), dtype=bool)
    if "stocked" in per.columns:
        stocked = per["stocked"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    level = np.where(stocked, level, np.nan)
    price = _floats(opts, "unit_price")
    freight = _floats(opts, "freight_per_unit")
    insurance = _floats(opts, "insurance_rate") * (price + freight)
    terms = (
        opts["incoterm"].to_numpy(dtype=object)
        if "incoterm" in opts.columns
        else np.full(len(opts), None)
    )
    value = customs_value(price, freight, insurance, terms, customs_value_basis)
    seller_duty = (
        pd.Series(terms, dtype="object")
        .fillna("")
        .astype(str)
        .str.upper()
        .isin(_SELLER_PAYS_DUTY)
        .to_numpy()
    )
    duty = np.where(seller_duty, 0.0, _floats(opts, "duty_rate") * value)
    lt, slt, lt_source = _option_lead_times(opts, lead_times, default_std_days)
    pipeline = price * holding_rate * lt / 365.0
    z = stats.norm.ppf(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ss = z * np.sqrt(lt * sd**2 + d**2 * slt**2)
        ss_cost = np.where(d > 0, ss * price * holding_rate / (365.0 * d), np.nan)
    ss_cost = np.where(stocked, ss_cost, 0.0)
    out = pd.DataFrame(
        {
            "product_id": opts["product_id"].to_numpy(dtype=object),
            "supplier_id": opts["supplier_id"].to_numpy(dtype=object),
            "incoterm": terms,
            "mode": opts["mode"].to_numpy(dtype=object) if "mode" in opts.columns else None,
            "lead_time_days": lt,
            "lead_time_std_days": slt,
            "lead_time_source": lt_source,
            "annual_demand": np.where(d >= 0, d * 365.0, np.nan),
            "service_level": level,
            "unit_price": price,
            "freight": freight,
            "insurance": insurance,
            "duty": duty,
            "pipeline_carrying": pipeline,
            "safety_stock_carrying": ss_cost,
        }
    )
    # A sum with an unknown part is unknown (pandas would skip NaN).
    out["total_per_unit"] = out[list(COMPONENTS)].to_numpy().sum(axis=1)
    out["customs_value_per_unit"] = value
    return _compare(out, current)


def _compare(out: pd.DataFrame, current: pd.DataFrame | None) -> pd.DataFrame:
    """current / cheapest flags and savings against the current supplier, per product."""
    is_current = np.zeros(len(out), dtype=bool)
    if current is not None and len(current):
        require_columns("current", current, ["product_id", "supplier_id"])
        pairs = set(zip(current["product_id"], current["supplier_id"], strict=True))
        is_current = np.array(
            [(p, s) in pairs for p, s in zip(out["product_id"], out["supplier_id"], strict=True)],
            dtype=bool,
        )
    out["current"] = is_current
    total = out["total_per_unit"].to_numpy(dtype=float)
    rank = out.assign(
        _known=~np.isfinite(total), _total=np.where(np.isfinite(total), total, np.inf)
    ).sort_values(["product_id", "_known", "_total", "current", "supplier_id"],
                  ascending=[True, True, True, False, True])  # fmt: skip
    best = rank.drop_duplicates("product_id").index
    cheapest = np.zeros(len(out), dtype=bool)
    cheapest[best] = np.isfinite(total[best])
    out["cheapest"] = cheapest
    cur_total = pd.Series(total[is_current], index=out["product_id"][is_current].to_numpy())
    cur_total = cur_total[~cur_total.index.duplicated()]
    mine = out["product_id"].map(cur_total).to_numpy(dtype=float)
    out["saving_vs_current_per_unit"] = mine - total
    out["annual_saving_vs_current"] = out["saving_vs_current_per_unit"] * out["annual_demand"]
    return out[list(LANDED_COST_COLUMNS)].sort_values(
        ["product_id", "total_per_unit", "supplier_id"], ignore_index=True
    )
