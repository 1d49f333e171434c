"""Orders from a CSV file of order lines (``POST /orders/csv``).

One row per order line; rows with the same ``customer_id`` and ``po_number`` form one order, in
order of first appearance. Columns (header row required, UTF-8, comma-separated):

``customer_id, po_number, channel, order_date, requested_date, product_id, quantity`` (required),
``ship_to_id, line_no, unit_price`` (optional; empty = null; ``line_no`` defaults to 1, 2, ...
within the order). Unknown columns, order-level values that differ between the rows of one order,
and values of the wrong type are refused with 422 naming the CSV row (1 = header) and column.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError

from supplyseg.service.problems import UnprocessableError
from supplyseg.service.schemas import OrderIn

__all__ = ["CSV_COLUMNS", "orders_from_csv"]

ORDER_COLUMNS = ("customer_id", "po_number", "channel", "order_date", "requested_date")
LINE_COLUMNS = ("product_id", "quantity")
OPTIONAL_ORDER_COLUMNS = ("ship_to_id",)
OPTIONAL_LINE_COLUMNS = ("line_no", "unit_price")
CSV_COLUMNS = ORDER_COLUMNS + LINE_COLUMNS + OPTIONAL_ORDER_COLUMNS + OPTIONAL_LINE_COLUMNS


def _error(row: int | None, column: str | None, message: str, kind: str) -> UnprocessableError:
    loc: list[Any] = ["body"]
    if row is not None:
        loc += ["row", row]
    if column is not None:
        loc.append(column)
    return UnprocessableError(
        message, code=kind, errors=[{"loc": loc, "msg": message, "type": kind}]
    )


def orders_from_csv(data: bytes) -> list[OrderIn]:
    """Parse and validate a CSV body into orders."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"CSV is not UTF-8 ({exc.reason} at byte {exc.start})"
        raise _error(None, None, msg, "encoding") from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if unknown:
        raise _error(
            1,
            unknown[0],
            f"unknown column {unknown[0]!r}; allowed: {list(CSV_COLUMNS)}",
            "extra_forbidden",
        )
    missing = [c for c in ORDER_COLUMNS + LINE_COLUMNS if c not in header]
    if missing:
        raise _error(1, missing[0], f"missing column {missing[0]!r}", "missing")
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    first_row: dict[tuple[str, str], int] = {}
    line_rows: dict[tuple[str, str], list[int]] = {}
    for i, rec in enumerate(reader, start=2):
        if None in rec:
            raise _error(i, None, "row has more fields than the header", "bad_row")
        values = {k: (v.strip() if v is not None else "") for k, v in rec.items()}
        key = (values["customer_id"], values["po_number"])
        head = {c: values[c] or None for c in ORDER_COLUMNS + OPTIONAL_ORDER_COLUMNS if c in values}
        if key not in grouped:
            grouped[key] = {**head, "lines": []}
            first_row[key] = i
            line_rows[key] = []
        else:
            for c, v in head.items():
                if grouped[key][c] != v:
                    raise _error(
                        i,
                        c,
                        f"{c} {v!r} differs from {grouped[key][c]!r} in row {first_row[key]} of"
                        f" the same order",
                        "inconsistent_order",
                    )
        lines = grouped[key]["lines"]
        lines.append(
            {
                "line_no": values.get("line_no") or len(lines) + 1,
                "product_id": values["product_id"] or None,
                "quantity": values["quantity"] or None,
                "unit_price": values.get("unit_price") or None,
            }
        )
        line_rows[key].append(i)
    if not grouped:
        raise _error(None, None, "CSV has no order lines", "empty")
    orders = []
    for key, raw in grouped.items():
        try:
            # CSV cells are text: numbers are parsed here, where JSON requests are strict.
            orders.append(OrderIn.model_validate(raw, strict=False))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = err["loc"]
            column: str | None
            if len(loc) >= 3 and loc[0] == "lines" and isinstance(loc[1], int):
                row, column = line_rows[key][loc[1]], str(loc[2])
            else:
                row, column = first_row[key], (str(loc[0]) if loc else None)
            raise _error(row, column, err["msg"], err["type"]) from None
    return orders
