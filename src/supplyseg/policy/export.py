"""Policy files of a run: ERP parameter tables, the version record and the diff to the last one.

`write_policy_outputs` writes into the run folder:

- ``policies.parquet``: `supplyseg.policy.assign.POLICY_COLUMNS`, full precision;
- ``erp_parameters.csv`` and ``erp_parameters.xlsx``: the ERP upload table (`erp_parameters`,
  layout by `supplyseg.config.erp.ErpSettings`: ``generic`` or SAP MARC field names; with
  purchase history also the supplier, its segment and replenishment program). Stock
  quantities are whole units rounded *up* (safety stock, reorder point, order-up-to level;
  the order quantity up to a whole ``order_multiple`` when policies carry one), lead times
  and review periods whole days, other numbers `ERP_DECIMALS` decimals; empty cells for "not
  applicable" (the reorder point of an (R, S) item, every stock quantity of an item that holds
  no stock, whose planning method says so explicitly). An XLSX sheet holds at most
  1,048,575 rows, so bigger tables continue on sheets ``erp_parameters_2``, ...; each sheet
  has a bold frozen header, an autofilter and `ERP_DECIMALS` decimals shown for fractional
  numbers (streamed by XlsxWriter in constant memory; text such as ``=A1`` is never a
  formula);
- ``order_rules.parquet``: order rules per customer segment (`segment_rules` maps them onto
  the order service's ``SegmentRules``);
- ``stock_to_service.parquet``: inventory value per product segment and service target;
- ``policy_version.json``: ``version_id``, ``created``, ``config_hash``, ``source_run_id``,
  the previous version, item and change counts, a content hash of the parameters;
- ``policy_diff.parquet`` when the previous run folder has a ``policies.parquet``: one row per
  changed parameter of an item-location (`policy_diff`).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from supplyseg.config.erp import ErpSettings
from supplyseg.errors import DataContractError
from supplyseg.policy._erp import (
    ERP_DECIMALS,
    PLANNING_METHODS,
    SAP_COLUMNS,
    SAP_MRP,
    SAP_SUPPLIER_COLUMNS,
    SUPPLIER_COLUMNS,
    erp_parameters,
    planning_methods,
)
from supplyseg.policy.assign import ITEM_KEY_SEP, PolicyResult

__all__ = [
    "DIFF_NUMERIC",
    "DIFF_TEXT",
    "ERP_DECIMALS",
    "PLANNING_METHODS",
    "SAP_COLUMNS",
    "SAP_MRP",
    "SAP_SUPPLIER_COLUMNS",
    "SUPPLIER_COLUMNS",
    "XLSX_MAX_ROWS",
    "erp_parameters",
    "planning_methods",
    "policy_diff",
    "policy_version",
    "segment_rules",
    "write_policy_outputs",
]

XLSX_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header
DIFF_NUMERIC = (
    "service_target",
    "demand_mean",
    "demand_std",
    "lead_time",
    "lead_time_std",
    "safety_stock",
    "reorder_point",
    "order_quantity",
    "order_up_to",
    "review_period",
    "expected_fill_rate",
    "inventory_value",
    "unit_cost",
)
"""Numeric parameters compared by `policy_diff` (relative tolerance 1e-9)."""
DIFF_TEXT = (
    "customer_segment",
    "product_segment",
    "service_type",
    "distribution",
    "forecast_method",
    "pattern",
    "inventory_rule",
    "replenishment_program",
    "bucket",
    "override",
    *SUPPLIER_COLUMNS,
)
"""Text parameters compared by `policy_diff` (the rationale is derived, so not compared)."""
_XLSX_OPTIONS = {
    "constant_memory": True,  # rows are flushed as written; they must come in order
    "strings_to_formulas": False,  # an id such as "=A1" stays text
    "strings_to_urls": False,
}
_XLSX_BATCH = 10_000
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def _item_key(frame: pd.DataFrame) -> pd.Series:
    loc = frame["location_id"] if "location_id" in frame.columns else None
    prod = frame["product_id"].astype(str)
    if loc is None:
        return prod + ITEM_KEY_SEP
    return prod + ITEM_KEY_SEP + loc.astype(object).where(loc.notna(), "").astype(str)


def _text(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Values as strings for the diff (floats in their shortest round-trip form), None when
    missing."""
    missing = pd.isna(values)
    shown = values.astype(str) if values.dtype == np.float64 else values.astype(object)
    out = np.asarray(shown, dtype=object)
    out[missing] = None
    return out


def policy_diff(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every changed parameter of every item-location between two policies tables.

    Columns ``product_id, location_id, parameter, old, new, change_pct``. ``old``/``new`` are
    text (numbers in their shortest exact form; empty = missing); ``change_pct`` is
    ``100 * (new - old) / |old|`` for numeric parameters with a non-zero old value, else NaN.
    Numbers count as changed beyond a relative 1e-9 (both missing = unchanged). An item in one
    table only gives one row with parameter ``row`` (``absent`` -> ``present`` or back).
    """
    for name, frame in (("old", old), ("new", new)):
        missing = [c for c in ("product_id",) if c not in frame.columns]
        if missing:
            raise DataContractError(f"{name}: column(s) {missing} missing; give a policies table")
    ko, kn = _item_key(old).to_numpy(dtype=object), _item_key(new).to_numpy(dtype=object)
    for name, keys in (("old", ko), ("new", kn)):
        if len(set(keys)) != len(keys):
            raise DataContractError(f"{name}: an item-location appears twice; give one row each")
    index_old = pd.Index(ko)
    at = index_old.get_indexer(pd.Index(kn))  # row of each new item in old, -1 = added
    both = at >= 0
    parts: list[pd.DataFrame] = []

    def rows(where: np.ndarray[Any, Any], frame: pd.DataFrame, **cols: Any) -> None:
        base = frame.iloc[where]
        loc = (
            base["location_id"]
            if "location_id" in base.columns
            else pd.Series(np.nan, index=base.index)
        )
        parts.append(
            pd.DataFrame(
                {
                    "product_id": base["product_id"].to_numpy(dtype=object),
                    "location_id": loc.to_numpy(dtype=object),
                    **cols,
                }
            )
        )

    newi, oldi = np.flatnonzero(both), at[both]
    for p in (*DIFF_NUMERIC, *DIFF_TEXT):
        if p not in old.columns and p not in new.columns:
            continue
        a = old[p].to_numpy(dtype=object)[oldi] if p in old.columns else np.full(len(oldi), None)
        b = new[p].to_numpy(dtype=object)[newi] if p in new.columns else np.full(len(newi), None)
        if p in DIFF_NUMERIC:
            a = pd.to_numeric(pd.Series(a), errors="coerce").to_numpy(dtype=np.float64)
            b = pd.to_numeric(pd.Series(b), errors="coerce").to_numpy(dtype=np.float64)
            same = (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-12)
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = np.where(
                    np.isfinite(a) & np.isfinite(b) & (a != 0), 100 * (b - a) / np.abs(a), np.nan
                )
        else:
            ma, mb = pd.isna(a), pd.isna(b)
            present = ~ma & ~mb
            same = ma & mb
            same[present] = a[present] == b[present]
            pct = np.full(len(a), np.nan)
        changed = np.flatnonzero(~same)
        rows(
            newi[changed],
            new,
            parameter=p,
            old=_text(a[changed]),
            new=_text(b[changed]),
            change_pct=pct[changed],
        )
    added = np.flatnonzero(~both)
    rows(added, new, parameter="row", old="absent", new="present", change_pct=np.nan)
    removed = np.flatnonzero(pd.Index(kn).get_indexer(index_old) < 0)
    rows(removed, old, parameter="row", old="present", new="absent", change_pct=np.nan)
    out = pd.concat(parts, ignore_index=True)
    # Item by item (parameters in DIFF_NUMERIC, DIFF_TEXT order within an item).
    out = out.sort_values(["product_id", "location_id"], kind="stable", ignore_index=True)
    return out.astype(
        {
            "product_id": _STR,
            "location_id": _STR,
            "parameter": _STR,
            "old": _STR,
            "new": _STR,
            "change_pct": "float64",
        }
    )


def _content_hash(policies: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(policies, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def policy_version(
    result: PolicyResult,
    *,
    source_run_id: str,
    config_hash: str,
    previous: dict[str, Any] | None = None,
    diff: pd.DataFrame | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """The version record of a run's policies (``policy_version.json``).

    ``version_id`` is ``pv-<source_run_id>`` in the characters the service accepts
    (``A-Za-z0-9._:-``, at most 64); ``previous`` is the previous run's record, if any.
    """
    created = created or datetime.now(UTC)
    version = re.sub(r"[^A-Za-z0-9._:-]", "-", f"pv-{source_run_id}")[:64]
    changed = (
        None
        if diff is None
        else int(diff[["product_id", "location_id"]].drop_duplicates().shape[0])
    )
    return {
        "version_id": version,
        "created": created.isoformat(timespec="seconds"),
        "config_hash": config_hash,
        "source_run_id": source_run_id,
        "previous_version_id": None if previous is None else previous.get("version_id"),
        "previous_run_id": None if previous is None else previous.get("source_run_id"),
        "bucket": result.bucket,
        "items": len(result.policies),
        "changed_items": changed,
        "diff_rows": None if diff is None else len(diff),
        "content_hash": _content_hash(result.policies),
        "notes": list(result.notes),
    }


def segment_rules(order_rules: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Order rules per segment as mappings of the service's ``SegmentRules`` fields.

    ``credit_check`` becomes ``strictness.credit``; ``allocation_priority`` and ``source`` have
    no field there and are left out. Without a ``notify`` column (runs made before it existed)
    the service's default notifications apply.
    """
    out: dict[str, dict[str, Any]] = {}
    for row in order_rules.to_dict("records"):
        rules = out[str(row["segment"])] = {
            "moq": float(row["moq"]),
            "order_multiple": float(row["order_multiple"]),
            "min_order_value": float(row["min_order_value"]),
            "promise_lead_time_days": int(row["promise_lead_time_days"]),
            "allowed_channels": [str(c) for c in row["allowed_channels"]],
            "price_tolerance_pct": float(row["price_tolerance_pct"]),
            "strictness": {"credit": str(row["credit_check"])},
        }
        if "notify" in row:
            rules["notify"] = [str(e) for e in row["notify"]]
        if "partial_shipment" in row:  # runs made before the promising rules lack them
            late = row["max_lateness_days"]
            rules["promising"] = {
                "partial_shipment": bool(row["partial_shipment"]),
                "min_fill": float(row["min_fill"]),
                "max_lateness_days": None if pd.isna(late) else int(late),
                "substitute_locations": bool(row["substitute_locations"]),
            }
    return out


def _cells(column: pd.Series) -> list[Any]:
    """A column as the Python values XlsxWriter writes: numbers, text, booleans; missing and
    non-finite numbers as None (an empty cell)."""
    if pd.api.types.is_float_dtype(column.dtype):
        numbers = column.to_numpy(dtype=np.float64, na_value=np.nan)
        values = numbers.astype(object)
        values[~np.isfinite(numbers)] = None
    else:
        values = column.to_numpy(dtype=object)
        values[pd.isna(values)] = None
    out: list[Any] = values.tolist()
    return out


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    """Stream ``frame`` into an XLSX (XlsxWriter, constant memory): sheets of at most
    `XLSX_MAX_ROWS` rows, each with a bold frozen header, an autofilter over its rows and
    `ERP_DECIMALS` decimals shown for float columns."""
    book = xlsxwriter.Workbook(str(path), _XLSX_OPTIONS)
    bold = book.add_format({"bold": True})
    decimals = book.add_format({"num_format": "0." + "0" * ERP_DECIMALS})
    names = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, j] for j in range(len(names))]
    formats = [decimals if pd.api.types.is_float_dtype(c.dtype) else None for c in columns]
    for part, start in enumerate(range(0, max(len(frame), 1), XLSX_MAX_ROWS)):
        stop = min(start + XLSX_MAX_ROWS, len(frame))
        ws = book.add_worksheet(sheet if part == 0 else f"{sheet}_{part + 1}")
        for j, (name, fmt) in enumerate(zip(names, formats, strict=True)):
            ws.set_column(j, j, max(10, len(name) + 3), fmt)  # + 3: room for the filter button
        ws.freeze_panes(1, 0)
        if names:
            ws.autofilter(0, 0, stop - start, len(names) - 1)
        ws.write_row(0, 0, names, bold)
        row = 1
        # Python values for one batch of rows at a time: memory stays flat at a million rows.
        for lo in range(start, stop, _XLSX_BATCH):
            hi = min(lo + _XLSX_BATCH, stop)
            for values in zip(*(_cells(c.iloc[lo:hi]) for c in columns), strict=True):
                ws.write_row(row, 0, values)
                row += 1
    book.close()


def _previous(previous_run_dir: Path | None) -> tuple[pd.DataFrame | None, dict[str, Any] | None]:
    if previous_run_dir is None:
        return None, None
    table = previous_run_dir / "policies.parquet"
    record = previous_run_dir / "policy_version.json"
    old = pd.read_parquet(table) if table.exists() else None
    meta = json.loads(record.read_text(encoding="utf-8")) if record.exists() else None
    return old, meta


def write_policy_outputs(
    result: PolicyResult,
    run_dir: Path,
    previous_run_dir: Path | None,
    source_run_id: str,
    config_hash: str,
    *,
    erp: ErpSettings | None = None,
) -> list[Path]:
    """Write the policy files of a run (see the module docstring); returns their paths.
    ``erp``: the layout of the ERP upload table (default generic)."""
    run_dir = Path(run_dir)
    written: list[Path] = []

    def parquet(frame: pd.DataFrame, name: str) -> None:
        path = run_dir / name
        frame.to_parquet(path, index=False)
        written.append(path)

    parquet(result.policies, "policies.parquet")
    table = erp_parameters(result.policies, erp)
    csv = run_dir / "erp_parameters.csv"
    table.to_csv(csv, index=False)
    xlsx = run_dir / "erp_parameters.xlsx"
    _write_xlsx(table, xlsx, "erp_parameters")
    written += [csv, xlsx]
    parquet(result.order_rules, "order_rules.parquet")
    parquet(result.stock_to_service, "stock_to_service.parquet")
    old, meta = _previous(previous_run_dir)
    diff = None if old is None else policy_diff(old, result.policies)
    if diff is not None:
        parquet(diff, "policy_diff.parquet")
    record = policy_version(
        result, source_run_id=source_run_id, config_hash=config_hash, previous=meta, diff=diff
    )
    version = run_dir / "policy_version.json"
    version.write_text(json.dumps(record, indent=2), encoding="utf-8")
    written.append(version)
    return written
