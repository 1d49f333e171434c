"""The canonical tables, their columns and types, and the stable enum of reject reason codes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import pandas as pd

from supplyseg.errors import DataContractError

__all__ = [
    "LENIENT",
    "SUPPLY_KINDS",
    "TABLES",
    "Column",
    "DType",
    "Reason",
    "TableSpec",
    "require_columns",
    "table_spec",
]

DType = Literal["string", "float", "int", "date", "bool"]


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, logical type and whether a value is required."""

    name: str
    dtype: DType
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    """One canonical table: its key and columns (required ones first)."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns that must be mapped and non-null on every row."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        """All canonical column names, in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column spec called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _table(name: str, key: tuple[str, ...], *cols: tuple[str, DType, bool]) -> TableSpec:
    return TableSpec(name, key, tuple(Column(n, t, r) for n, t, r in cols))


R, O = True, False  # noqa: E741 (required / optional, keeps the table below readable)
TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        _table(
            "order_lines",
            ("order_id", "line_no"),
            ("order_id", "string", R),
            ("customer_id", "string", R),
            ("product_id", "string", R),
            ("order_date", "date", R),
            ("quantity", "float", R),
            ("unit_price", "float", R),
            ("line_no", "int", O),
            ("location_id", "string", O),
            ("channel", "string", O),
            ("requested_date", "date", O),
            ("promised_date", "date", O),
            ("ship_date", "date", O),
            ("delivered_date", "date", O),
            ("delivered_quantity", "float", O),
            ("unit_cost", "float", O),
            ("rush", "bool", O),
        ),
        _table(
            "customers",
            ("customer_id",),
            ("customer_id", "string", R),
            ("name", "string", O),
            ("country", "string", O),
            ("region", "string", O),
            ("channel", "string", O),
            ("credit_limit", "float", O),
            ("payment_terms_days", "float", O),
        ),
        _table(
            "products",
            ("product_id",),
            ("product_id", "string", R),
            ("description", "string", O),
            ("category", "string", O),
            ("unit_cost", "float", O),
            ("unit_weight", "float", O),
            ("lead_time_days", "float", O),
            ("lead_time_std_days", "float", O),
            ("moq", "float", O),
            ("order_multiple", "float", O),
        ),
        _table(
            "locations",
            ("location_id",),
            ("location_id", "string", R),
            ("kind", "string", O),
            ("region", "string", O),
        ),
        _table(
            "shipments",
            ("shipment_id",),
            ("shipment_id", "string", R),
            ("order_id", "string", R),
            ("ship_date", "date", R),
            ("freight_cost", "float", R),
            ("mode", "string", O),
            ("weight", "float", O),
            ("location_id", "string", O),
        ),
        _table(
            "invoices",
            ("invoice_id",),
            ("invoice_id", "string", R),
            ("customer_id", "string", R),
            ("invoice_date", "date", R),
            ("due_date", "date", R),
            ("amount", "float", R),
            ("paid_date", "date", O),
        ),
        _table(
            "returns",
            ("return_id",),
            ("return_id", "string", R),
            ("order_id", "string", R),
            ("product_id", "string", R),
            ("quantity", "float", R),
            ("return_date", "date", O),
            ("reason", "string", O),
        ),
        _table(
            "inventory",
            ("product_id", "location_id"),
            ("product_id", "string", R),
            ("location_id", "string", R),
            ("on_hand", "float", R),
            ("on_order", "float", O),
            ("as_of", "date", O),
        ),
        _table(
            "supply",
            ("product_id", "location_id", "date", "kind"),
            ("product_id", "string", R),
            ("location_id", "string", R),
            ("date", "date", R),
            ("quantity", "float", R),
            ("kind", "string", R),
        ),
        _table(
            "suppliers",
            ("supplier_id",),
            ("supplier_id", "string", R),
            ("name", "string", O),
            ("country", "string", O),
            ("currency", "string", O),
        ),
        _table(
            "purchase_orders",
            ("po_id", "line_no"),
            ("po_id", "string", R),
            ("line_no", "int", R),
            ("supplier_id", "string", R),
            ("product_id", "string", R),
            ("order_date", "date", R),
            ("quantity", "float", R),
            ("location_id", "string", O),
            ("promised_date", "date", O),
            ("receipt_date", "date", O),
            ("received_quantity", "float", O),
            ("unit_price", "float", O),
            ("freight_cost", "float", O),
            ("insurance_cost", "float", O),
            ("duty_rate", "float", O),
            ("incoterm", "string", O),
            ("mode", "string", O),
        ),
        _table(
            "sourcing_options",
            ("product_id", "supplier_id"),
            ("product_id", "string", R),
            ("supplier_id", "string", R),
            ("unit_price", "float", R),
            ("lead_time_days", "float", O),
            ("lead_time_std_days", "float", O),
            ("moq", "float", O),
            ("freight_per_unit", "float", O),
            ("insurance_rate", "float", O),
            ("duty_rate", "float", O),
            ("incoterm", "string", O),
            ("mode", "string", O),
        ),
    )
}
SUPPLY_KINDS = ("on_hand", "receipt")
"""``supply.kind``: stock on hand as of ``date``, or an open receipt (purchase or production
order) due on ``date``."""

# Optional columns of purchasing exports where text stands for "not known" ("Date Not
# Captured", "See ID#123", "Freight Included in Commodity Cost"): such a value is loaded as null
# and counted with its text (`TableAccount.nulled`), not a reason to lose the row's lead time.
LENIENT: dict[str, tuple[str, ...]] = {
    "purchase_orders": (
        "promised_date",
        "receipt_date",
        "received_quantity",
        "unit_price",
        "freight_cost",
        "insurance_cost",
        "duty_rate",
    ),
    "sourcing_options": (
        "lead_time_days",
        "lead_time_std_days",
        "moq",
        "freight_per_unit",
        "insurance_rate",
        "duty_rate",
    ),
}


def table_spec(name: str) -> TableSpec:
    """The spec of canonical table ``name``; unknown names are a programming error."""
    return TABLES[name]


class Reason(StrEnum):
    """Why a row was rejected. Stable: values are written to ``rejects.parquet`` and documented.

    Each rejected row carries exactly one reason: the first that applies in this order.
    """

    BAD_ROW = "bad_row"  # a CSV row that does not split into the header's columns
    EXCLUDED = "excluded"  # a row rule in supplyseg.yaml excludes it (e.g. non-product code)
    CREDIT_NOTE = "credit_note"  # a credit-note row while analysis.credit_notes is "reject"
    MISSING_REQUIRED = "missing_required"  # a required field is empty
    BAD_TYPE = "bad_type"  # a number or flag does not parse
    BAD_DATE = "bad_date"  # a date does not parse
    ZERO_QUANTITY = "zero_quantity"  # quantity is 0
    NEGATIVE_QUANTITY = "negative_quantity"  # quantity < 0 on a row that is not a credit note
    BAD_PRICE = "bad_price"  # unit price < 0 (or = 0 unless allow_zero_price)
    BAD_VALUE = "bad_value"  # another numeric field out of its range (e.g. negative freight)
    DATE_OUT_OF_RANGE = "date_out_of_range"  # outside the analysis horizon or 1900..2100
    # (or a purchase order received before it was ordered)
    DUPLICATE_KEY = "duplicate_key"  # a later row repeating an earlier row's key
    UNKNOWN_CUSTOMER = "unknown_customer"  # customer_id not in the customers table
    UNKNOWN_PRODUCT = "unknown_product"  # product_id not in the products table
    UNKNOWN_ORDER = "unknown_order"  # order_id not among the loaded order lines
    UNKNOWN_LOCATION = "unknown_location"  # location_id not in the locations table
    UNKNOWN_SUPPLIER = "unknown_supplier"  # supplier_id not in the suppliers table
    INCONSISTENT_ORDER = "inconsistent_order"  # a line of an order naming two or more customers


def require_columns(name: str, df: object, columns: Sequence[str]) -> pd.DataFrame:
    """``df`` when it is a DataFrame with ``columns``; else `DataContractError` naming them."""
    if not isinstance(df, pd.DataFrame):
        raise DataContractError(
            f"{name}: got {type(df).__name__}; give a pandas DataFrame with columns"
            f" {', '.join(columns)} (an Ibis table: call .to_pandas())"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataContractError(
            f"{name}: column(s) {missing} missing; required: {', '.join(columns)};"
            f" present: {list(map(str, df.columns))}"
        )
    return df
