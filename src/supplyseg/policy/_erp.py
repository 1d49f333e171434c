"""The ERP upload table (``erp_parameters.csv/.xlsx``): whole units, days, a planning method.

`erp_parameters` lays the policies out for an ERP/APS upload in the format of
`supplyseg.config.erp.ErpSettings`: ``generic`` (supplyseg's column names) or ``sap`` (SAP
material master plant data, table MARC). With purchase history the policies carry the current
supplier, its Kraljic segment and replenishment program (`supplyseg.segment.supply`), which
both layouts carry too (`SUPPLIER_COLUMNS`; in SAP the vendor ``LIFNR`` and two custom
``ZZ_`` columns, `SAP_SUPPLIER_COLUMNS`). Every item gets an explicit planning method
(`PLANNING_METHODS`; in SAP an MRP type and lot-sizing procedure, `SAP_MRP`), so an item that
holds no stock reads "make to order" / "on demand" / "no planning", never a policy of zeros.
Quantities an ERP orders with are whole units rounded *up* (never below the policy): safety
stock, reorder point and order-up-to level to the next unit, the order quantity to the next
whole ``order_multiple`` when the policies carry that column (else the next unit; the policy
step has already applied moq and multiple to it). Durations the policies hold in buckets
become days (``bucket``: day 1, week 7, month 365.25 / 12): lead time and review period to
the nearest whole day, halves up.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config.erp import ERP_FORMATS, ErpSettings
from supplyseg.errors import ConfigError, DataContractError
from supplyseg.policy._codes import DAYS_PER_BUCKET, STR
from supplyseg.policy.assign import POLICY_COLUMNS

__all__ = [
    "ERP_DECIMALS",
    "PLANNING_METHODS",
    "SAP_COLUMNS",
    "SAP_MRP",
    "SAP_SUPPLIER_COLUMNS",
    "SUPPLIER_COLUMNS",
    "erp_parameters",
    "planning_methods",
]

ERP_DECIMALS = 4
"""Decimals kept for fractional numbers in the ERP table (rates, demand per bucket, costs)."""
_STR = STR
Floats = np.ndarray[Any, np.dtype[np.float64]]

PLANNING_METHODS = (
    "reorder_point",
    "min_max",
    "periodic_order_up_to",
    "make_to_order",
    "on_demand",
    "no_planning",
)
"""How the ERP plans an item (``planning_method``): ``rop_eoq`` -> reorder_point (order Q at
or below the reorder point), ``base_stock`` -> min_max (at or below the reorder point, order
up to S), ``order_up_to`` -> periodic_order_up_to (every review period, up to S),
``make_to_order`` -> make_to_order, a stocking rule whose item holds no stock (no net
demand) -> on_demand (buy against actual orders only), ``no_stock`` -> no_planning."""
SAP_MRP = {
    "reorder_point": ("VB", "FX"),
    "min_max": ("VB", "HB"),
    "periodic_order_up_to": ("R1", "EX"),
    "make_to_order": ("PD", "EX"),
    "on_demand": ("PD", "EX"),
    "no_planning": ("ND", None),
}
"""SAP MRP type (DISMM) and lot-sizing procedure (DISLS) per planning method: VB manual
reorder point planning, R1 time-phased planning, PD MRP, ND no planning; FX fixed lot size,
HB replenish up to maximum stock level, EX lot-for-lot."""
SAP_COLUMNS = (
    "MATNR",
    "WERKS",
    "DISMM",
    "DISLS",
    "MINBE",
    "EISBE",
    "BSTFE",
    "MABST",
    "BSTMI",
    "BSTRF",
    "PLIFZ",
    "STRGR",
    "review_period_days",
)
"""Columns of the ``sap`` export: MARC fields, then ``review_period_days`` (not a MARC field:
the planner picks the planning calendar, MARC-LFRHY, that reviews this often)."""
SUPPLIER_COLUMNS = ("supplier_id", "supplier_segment", "supplier_program", "lead_time_source")
"""Supplier columns of the policies (with purchase orders) that the ``generic`` export carries
after ``replenishment_program``."""
SAP_SUPPLIER_COLUMNS = ("LIFNR", "ZZ_SUPPLIER_SEGMENT", "ZZ_SUPPLIER_PROGRAM")
"""Supplier columns of the ``sap`` export, after `SAP_COLUMNS` when the policies name a
supplier: ``LIFNR`` the vendor (supplier_id) as in the purchasing info record (EINA-LIFNR) and
the source list's fixed vendor (EORD-LIFNR with EORD-FLIFN); the supplier's Kraljic segment and
replenishment program have no standard field, so they are custom columns in the customer
namespace (``ZZ_``, e.g. an append to MARC or EORD) for the upload program to route."""
_STOCK_QUANTITIES = ("safety_stock", "reorder_point", "order_quantity", "order_up_to")
_DAYS = {"lead_time": "lead_time_days", "review_period": "review_period_days"}
_RULE_METHOD = {
    "rop_eoq": "reorder_point",
    "base_stock": "min_max",
    "order_up_to": "periodic_order_up_to",
    "make_to_order": "make_to_order",
    "no_stock": "no_planning",
}


def _num(policies: pd.DataFrame, col: str) -> Floats:
    if col not in policies.columns:
        return np.full(len(policies), np.nan)
    values = pd.to_numeric(policies[col], errors="coerce")
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def planning_methods(policies: pd.DataFrame) -> pd.Series:
    """`PLANNING_METHODS` label per row from ``inventory_rule`` and whether stock is held."""
    rule = policies["inventory_rule"].astype(object)
    unknown = sorted({str(r) for r in rule.dropna()} - set(_RULE_METHOD))
    if unknown or rule.isna().any():
        shown = unknown[0] if unknown else None
        raise DataContractError(
            f"policies.inventory_rule: value {shown!r} is unknown; allowed: {sorted(_RULE_METHOD)}"
        )
    method = rule.map(_RULE_METHOD).to_numpy(dtype=object)
    rop, q, s = (_num(policies, c) for c in ("reorder_point", "order_quantity", "order_up_to"))
    holds = np.select(
        [method == "reorder_point", method == "min_max", method == "periodic_order_up_to"],
        [np.isfinite(rop) & np.isfinite(q), np.isfinite(rop) & np.isfinite(s), np.isfinite(s)],
        True,
    )
    method[~holds] = "on_demand"
    return pd.Series(method, index=policies.index, dtype=_STR)


def _up(x: Floats) -> Floats:
    """Rounded up to whole units; 1e-9 relative slack so 24.000000001 is 24, not 25."""
    up: Floats = np.ceil(x - 1e-9 * np.maximum(1.0, np.abs(x)))
    return up


def _whole(x: Floats) -> pd.Series:
    """Integers (nullable) when every known value is whole, else floats at `ERP_DECIMALS`."""
    known = x[np.isfinite(x)]
    if np.all(known == np.round(known)) and np.all(np.abs(known) < 2**53):
        return pd.Series(pd.array(np.where(np.isfinite(x), x, np.nan), dtype="Int64"))
    return pd.Series(np.round(x, ERP_DECIMALS))


def _quantities(policies: pd.DataFrame, method: pd.Series) -> dict[str, pd.Series]:
    """Whole-unit stock quantities; empty where the item holds no stock or the rule has none."""
    none = method.isin(["make_to_order", "on_demand", "no_planning"]).to_numpy()
    out: dict[str, pd.Series] = {}
    multiple = _num(policies, "order_multiple")
    multiple = np.where(np.isfinite(multiple) & (multiple > 0), multiple, 1.0)
    for col in _STOCK_QUANTITIES:
        x = _num(policies, col)
        if col == "order_quantity":
            x = np.round(_up(x / multiple) * multiple, ERP_DECIMALS)
        else:
            x = _up(x)
        out[col] = _whole(np.where(none, np.nan, x))
    return out


def _days(policies: pd.DataFrame, col: str) -> Floats:
    """A duration held in buckets, in days (by each row's ``bucket``)."""
    if "bucket" not in policies.columns:
        raise DataContractError(
            f"policies: no bucket column; {col} is in buckets and needs it to convert to days"
        )
    bucket = policies["bucket"].astype(object).to_numpy()
    unknown = sorted({str(b) for b in bucket if b not in DAYS_PER_BUCKET})
    if unknown:
        raise DataContractError(
            f"policies.bucket: value {unknown[0]!r} is unknown; allowed: {list(DAYS_PER_BUCKET)}"
        )
    per = np.array([DAYS_PER_BUCKET[b] for b in bucket], dtype=np.float64).reshape(-1)
    days: Floats = _num(policies, col) * per
    return days


def _generic(policies: pd.DataFrame, method: pd.Series) -> pd.DataFrame:
    cols = [c for c in POLICY_COLUMNS if c in policies.columns]
    supplier = [c for c in SUPPLIER_COLUMNS if c in policies.columns]
    if supplier:
        at = (
            cols.index("replenishment_program") + 1
            if "replenishment_program" in cols
            else len(cols)
        )
        cols[at:at] = supplier
    out = policies[cols].reset_index(drop=True)
    for c in cols:
        if pd.api.types.is_float_dtype(out[c].dtype):
            out[c] = out[c].round(ERP_DECIMALS)
    for col, values in _quantities(policies, method).items():
        if col in out.columns:
            out[col] = values
    for col in (*_DAYS, "lead_time_std"):
        if col in out.columns:
            days = _days(policies, col)
            out[col] = (
                _whole(np.floor(days + 0.5)) if col in _DAYS else np.round(days, ERP_DECIMALS)
            )
    out = out.rename(columns={**_DAYS, "lead_time_std": "lead_time_std_days"})
    out.insert(list(out.columns).index("inventory_rule") + 1, "planning_method", method)
    for extra in ("moq", "order_multiple"):
        if extra in policies.columns:
            out[extra] = np.round(_num(policies, extra), ERP_DECIMALS)
    return out


def _sap(policies: pd.DataFrame, method: pd.Series, plant: str | None) -> pd.DataFrame:
    n = len(policies)
    m = method.to_numpy(dtype=object)
    q = _quantities(policies, method)
    location = (
        policies["location_id"].astype(object).to_numpy()
        if "location_id" in policies.columns
        else np.full(n, None, dtype=object)
    )
    werks = pd.Series(location, dtype=_STR)
    if plant is not None:
        werks = werks.fillna(plant)

    def only(mask: np.ndarray[Any, np.dtype[np.bool_]], values: pd.Series) -> pd.Series:
        return values.mask(pd.Series(~mask))  # missing (NA / NaN) where not applicable

    planned = m != "no_planning"
    moq, multiple = _num(policies, "moq"), _num(policies, "order_multiple")
    out = pd.DataFrame(
        {
            "MATNR": policies["product_id"].astype(_STR),
            "WERKS": werks,
            "DISMM": pd.Series([SAP_MRP[x][0] for x in m], dtype=_STR),
            "DISLS": pd.Series([SAP_MRP[x][1] for x in m], dtype=_STR),
            "MINBE": only(np.isin(m, ["reorder_point", "min_max"]), q["reorder_point"]),
            "EISBE": q["safety_stock"],
            "BSTFE": only(m == "reorder_point", q["order_quantity"]),
            "MABST": only(m == "min_max", q["order_up_to"]),
            "BSTMI": _whole(np.where(planned & (moq > 0), moq, np.nan)),
            "BSTRF": _whole(np.where(planned & (multiple > 0), multiple, np.nan)),
            "PLIFZ": _whole(np.floor(_days(policies, "lead_time") + 0.5)),
            "STRGR": pd.Series(["20" if x == "make_to_order" else None for x in m], dtype=_STR),
            "review_period_days": _whole(
                np.where(
                    m == "periodic_order_up_to",
                    np.floor(_days(policies, "review_period") + 0.5),
                    np.nan,
                )
            ),
        }
    )
    if "supplier_id" not in policies.columns:
        return out[list(SAP_COLUMNS)]
    for col, name in zip(
        SAP_SUPPLIER_COLUMNS, ("supplier_id", "supplier_segment", "supplier_program"), strict=True
    ):
        values = policies[name] if name in policies.columns else pd.Series(None, index=out.index)
        out[col] = values.astype(_STR).to_numpy()
    return out[[*SAP_COLUMNS, *SAP_SUPPLIER_COLUMNS]]


def erp_parameters(policies: pd.DataFrame, settings: ErpSettings | None = None) -> pd.DataFrame:
    """The ERP upload table in ``settings.format`` (default generic): one row per item.

    ``generic``: the policy columns present with ``planning_method`` after ``inventory_rule``,
    stock quantities in whole units (rounded up; the order quantity to a whole
    ``order_multiple`` when policies carry one) and empty where no stock is held,
    ``lead_time_days`` and ``review_period_days`` whole days, ``lead_time_std_days``; ``moq``
    and ``order_multiple`` when present; `SUPPLIER_COLUMNS` present after
    ``replenishment_program``. ``sap``: `SAP_COLUMNS` by `SAP_MRP`, then
    `SAP_SUPPLIER_COLUMNS` when the policies carry ``supplier_id``.
    """
    settings = settings or ErpSettings()
    if settings.format not in ERP_FORMATS:
        raise ConfigError(
            f"erp.format: value {settings.format!r} is unknown; allowed: generic, sap"
        )
    if "product_id" not in policies.columns or "inventory_rule" not in policies.columns:
        raise DataContractError(
            "policies: columns product_id and inventory_rule are required; give a policies table"
        )
    method = planning_methods(policies).reset_index(drop=True)
    policies = policies.reset_index(drop=True)
    if settings.format == "sap":
        return _sap(policies, method, settings.plant)
    return _generic(policies, method)
