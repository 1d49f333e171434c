"""Which template applies: inventory templates per product segment, order rules per customer
segment, and the customer x product matrix cells that override a product's template.

Templates resolve as `supplyseg.config.policy` says (own entry, built-in of the scheme, then
the ``*_default``); a product segment nothing covers is a `ConfigError` naming it and the fix;
a customer segment nothing covers gets `BASE_ORDER_RULES` (source `BASE_RULES_SOURCE`). A matrix
cell ``policies.matrix.<customer segment>.<product segment>`` overrides fields of the product
segment's template; a product bought by several customer segments takes the strictest
candidate (highest service target; make-to-order is least strict; ties: product template).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel

from supplyseg.config.policy import (
    BASE_ORDER_RULES,
    UNSEGMENTED,
    InventoryTemplate,
    PolicySettings,
    check_template,
    resolve_order_rules,
    resolve_template,
)
from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError, DataContractError
from supplyseg.policy._codes import STR, IntArray, arrow_strings, positions

__all__ = [
    "BASE_RULES_SOURCE",
    "ORDER_RULE_COLUMNS",
    "matrix_templates",
    "order_rules",
    "override_templates",
    "primary_segments",
    "product_templates",
    "scheme_of",
]

ORDER_RULE_COLUMNS = (
    "segment",
    "moq",
    "order_multiple",
    "min_order_value",
    "promise_lead_time_days",
    "allowed_channels",
    "credit_check",
    "price_tolerance_pct",
    "allocation_priority",
    "notify",
    "partial_shipment",
    "min_fill",
    "max_lateness_days",
    "substitute_locations",
    "source",
)
BASE_RULES_SOURCE = "BASE_ORDER_RULES (no rules for this segment)"
"""``source`` of the order rules of a customer segment nothing covers."""
_TEMPLATE_FIELDS = tuple(InventoryTemplate.model_fields)
_Resolver = Callable[[PolicySettings, str | None, str], tuple[BaseModel, str] | None]


def _resolved(
    settings: PolicySettings,
    segments: Sequence[str],
    scheme: str | None,
    section: Literal["product", "customer"],
) -> list[dict[str, Any]]:
    """``segment, <fields>, source`` per distinct segment of ``policies.<section>``;
    `ConfigError` naming the first segment nothing covers."""
    resolve: _Resolver
    if section == "product":
        resolve, what, given = resolve_template, "template", "templates"
    else:
        resolve, what, given = resolve_order_rules, "order rules", "rules"
    rows = []
    for seg in dict.fromkeys(segments):
        found = resolve(settings, scheme, seg)
        if found is None and section == "customer":
            # Order rules only gate orders; the base rules are safe (hard credit check, all
            # channels), so an unknown customer segment must not stop the run.
            found = BASE_ORDER_RULES, BASE_RULES_SOURCE
        if found is None:
            raise ConfigError(
                f"policies.{section}: segment {seg!r} of scheme {scheme!r} has no {what} and"
                f" no policies.{section}_default is given; fix: add policies.{section}.{seg}"
                f" or policies.{section}_default ({given} given:"
                f" {sorted(getattr(settings, section))})"
            )
        rows.append({"segment": seg, **found[0].model_dump(), "source": found[1]})
    return rows


def product_templates(
    settings: PolicySettings, segments: Sequence[str], scheme: str | None = None
) -> pd.DataFrame:
    """The resolved template of every product segment, ``segment, <fields>, source``
    (review_period in days); `ConfigError` naming the first segment nothing covers."""
    rows = _resolved(settings, segments, scheme, "product")
    return pd.DataFrame(rows, columns=["segment", *_TEMPLATE_FIELDS, "source"])


def order_rules(
    settings: PolicySettings, segments: Sequence[str], scheme: str | None = None
) -> pd.DataFrame:
    """Order rules per customer segment in `ORDER_RULE_COLUMNS`; a segment nothing covers gets
    `BASE_ORDER_RULES` (``source`` `BASE_RULES_SOURCE`). They map onto the service's
    ``SegmentRules``: credit_check is ``strictness.credit``; allocation_priority has no field
    there."""
    rows = _resolved(settings, segments, scheme, "customer")
    for row in rows:
        row["allowed_channels"] = list(row["allowed_channels"])
        row["notify"] = list(row["notify"])
    out = pd.DataFrame(rows, columns=list(ORDER_RULE_COLUMNS))
    return out.astype(
        {
            "moq": "float64",
            "order_multiple": "float64",
            "min_order_value": "float64",
            "price_tolerance_pct": "float64",
            "promise_lead_time_days": "int64",
            "allocation_priority": "int64",
            "partial_shipment": "bool",
            "min_fill": "float64",
            "max_lateness_days": "Int64",  # <NA>: no limit
            "substitute_locations": "bool",
        }
    )


def primary_segments(segments: pd.DataFrame | None, ids: list[str], name: str) -> pd.DataFrame:
    """Primary-scheme rows ``ids..., scheme, segment`` of a segment table (empty when None)."""
    cols = [*ids, "scheme", "segment"]
    if segments is None or len(segments) == 0:
        return pd.DataFrame({c: pd.Series(dtype=STR) for c in cols})
    require_columns(name, segments, cols)
    rows = segments[segments["primary"]] if "primary" in segments.columns else segments
    if rows[ids].duplicated().any():
        dup = rows[rows[ids].duplicated()].iloc[0]
        raise DataContractError(
            f"{name}: {dict(dup[ids])} has two primary segments; give one primary row each"
        )
    return rows[cols].reset_index(drop=True)


def scheme_of(rows: pd.DataFrame) -> str | None:
    """The scheme of `primary_segments` rows (None when there are none)."""
    names = rows["scheme"].dropna().unique()
    return str(names[0]) if len(names) else None


def _template_of(row: pd.Series) -> InventoryTemplate:
    """The template of a row of the templates table (NaN back to unset, numpy to Python)."""
    values = {}
    for f in _TEMPLATE_FIELDS:
        v = row[f]
        if isinstance(v, float) and v != v:  # NaN: a field left unset
            v = None
        values[f] = v.item() if isinstance(v, np.generic) else v
    return InventoryTemplate(**values)


def matrix_templates(
    settings: PolicySettings,
    templates: pd.DataFrame,
    seg_rows: pd.DataFrame,
    cseg_rows: pd.DataFrame,
    pairs: pd.DataFrame,
    product: pa.Array,
    tcode: IntArray,
) -> tuple[pd.DataFrame, IntArray, pd.Series]:
    """``templates`` with the matrix cells appended, each item's template code and the cell's
    customer segment (missing where the product template applies).

    ``seg_rows``/``cseg_rows``: primary product/customer segments; ``pairs``: customer x
    product rows (``customer_id, product_id``; without customer segments, the micro-segment
    column ``segment`` "<customer> × <product>"); ``product``/``tcode``: per item, its product
    id and product-template code.
    """
    require_columns("customer_product_seg", pairs, ["customer_id", "product_id"])
    if len(cseg_rows):
        seg_of = dict(zip(cseg_rows["customer_id"], cseg_rows["segment"], strict=True))
        cseg = pairs["customer_id"].map(seg_of)
    elif "segment" in pairs.columns:  # the micro-segment "<customer> × <product>"
        cseg = pairs["segment"].astype(str).str.split(" × ").str[0]
    else:
        raise DataContractError(
            "customer_product_seg: no customer segments for the matrix cells; give"
            " customers_seg or the micro-segment column `segment`"
        )
    pseg = pairs["product_id"].map(
        dict(zip(seg_rows["product_id"], seg_rows["segment"], strict=True))
    )
    found = pd.DataFrame(
        {"product_id": pairs["product_id"], "cseg": cseg, "pseg": pseg.fillna(UNSEGMENTED)}
    ).dropna()
    found = found.drop_duplicates()
    seg_code = {s: i for i, s in enumerate(templates["segment"])}
    cells: list[dict[str, Any]] = []
    cell_code: dict[tuple[str, str], int] = {}
    for cname, row in settings.matrix.items():
        for pname, cell in row.items():
            if pname not in seg_code:
                continue  # a product segment not in this run
            base = _template_of(templates.iloc[seg_code[pname]])
            merged, path = cell.over(base), f"policies.matrix.{cname}.{pname}"
            check_template(merged, path)
            cell_code[(cname, pname)] = len(templates) + len(cells)
            cells.append({"segment": pname, **merged.model_dump(), "source": path})
    everything = pd.concat(
        [templates, pd.DataFrame(cells, columns=templates.columns)], ignore_index=True
    )
    codes = np.asarray(
        [
            cell_code.get((c, s), seg_code.get(s, -1))
            for c, s in zip(found["cseg"], found["pseg"], strict=True)
        ],
        dtype=np.int64,
    )
    mto = (everything["inventory_rule"] == "make_to_order").to_numpy()
    target = everything["service_target"].to_numpy(dtype=np.float64)
    strictness = np.where(mto, -1.0, target)[codes]
    found = found.assign(tcode=codes, _s=-strictness)[codes >= 0]
    chosen = found.sort_values(["product_id", "_s", "tcode"]).drop_duplicates("product_id")
    chosen["customer_segment"] = chosen["cseg"].where(chosen["tcode"] >= len(templates))

    at = positions(product, arrow_strings(chosen["product_id"]))
    picked = chosen["tcode"].to_numpy(dtype=np.int64)
    item_code = np.where(at >= 0, picked[np.maximum(at, 0)] if len(picked) else 0, tcode)
    cs = pd.Series(chosen["customer_segment"], dtype=STR).reset_index(drop=True)
    return everything, item_code, cs.reindex(at).reset_index(drop=True)  # -1 -> NaN


OVERRIDE_SOURCE = "override: "
"""Prefix of the ``source`` of a template a planner's service-target override made."""


def override_templates(
    templates: pd.DataFrame, tcode: IntArray, product: pa.Array, targets: pd.DataFrame
) -> tuple[pd.DataFrame, IntArray]:
    """Templates and per-item codes with planner service-target overrides applied.

    ``targets``: ``product_id, service_target, note`` (one row per product). Every item of an
    overridden product gets a copy of its template with that target and ``source``
    ``override: <note>``; the segment stays its product's.
    """
    require_columns("item_targets", targets, ["product_id", "service_target", "note"])
    at = positions(product, arrow_strings(targets["product_id"]))
    hit = np.flatnonzero(at >= 0)
    if not len(hit):
        return templates, tcode
    pairs = pd.DataFrame({"t": tcode[hit], "o": at[hit]})
    distinct = pairs.drop_duplicates(ignore_index=True)
    rows = templates.iloc[distinct["t"].to_numpy()].reset_index(drop=True)
    target = pd.to_numeric(targets["service_target"]).to_numpy(dtype=np.float64)
    rows["service_target"] = target[distinct["o"].to_numpy()]
    notes = targets["note"].astype(str).to_numpy()[distinct["o"].to_numpy()]
    rows["source"] = [OVERRIDE_SOURCE + n for n in notes]
    new_code = len(templates) + np.arange(len(distinct), dtype=np.int64)
    code_of = pairs.merge(distinct.assign(code=new_code), on=["t", "o"], how="left")["code"]
    out = tcode.copy()
    out[hit] = code_of.to_numpy(dtype=np.int64)
    return pd.concat([templates, rows], ignore_index=True), out
