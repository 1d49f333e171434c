"""orders_from_csv: grouping into orders, defaults, and errors naming row and column."""

from __future__ import annotations

import pytest

from supplyseg.service.csv_orders import orders_from_csv
from supplyseg.service.problems import UnprocessableError

HEAD = "customer_id,po_number,channel,order_date,requested_date,product_id,quantity"


def test_rows_group_into_orders_in_first_seen_order() -> None:
    text = (
        "\ufeff" + HEAD + ",unit_price\n"
        "S1,A,edi,2026-03-02,2026-03-09,P100,10,\n"
        "K1,B,portal,2026-03-02,2026-03-09,P200,1,24.5\n"
        "S1,A,edi,2026-03-02,2026-03-09,P200,5,\n"
    )
    orders = orders_from_csv(text.encode())
    assert [(o.customer_id, o.po_number, len(o.lines)) for o in orders] == [
        ("S1", "A", 2),
        ("K1", "B", 1),
    ]
    assert [ln.line_no for ln in orders[0].lines] == [1, 2]  # numbered in file order
    assert orders[0].lines[0].unit_price is None
    assert orders[1].lines[0].unit_price == 24.5
    assert orders[0].ship_to_id is None


@pytest.mark.parametrize(
    ("text", "loc"),
    [
        (b"\xff\xfe", ["body"]),
        (HEAD.encode(), ["body"]),
        ((HEAD + ",colour\n").encode(), ["body", "row", 1, "colour"]),
        (HEAD.replace(",quantity", "").encode(), ["body", "row", 1, "quantity"]),
        ((HEAD + "\nS1,A,edi,2026-03-02,2026-03-09,P100,10,extra\n").encode(), ["body", "row", 2]),
        (
            (HEAD + "\nS1,A,edi,2026-03-02,2026-03-09,,10\n").encode(),
            ["body", "row", 2, "product_id"],
        ),
        (
            (
                HEAD
                + "\nS1,A,edi,2026-03-02,2026-03-09,P1,1\nS1,A,edi,2026-03-02,2026-03-10,P2,1\n"
            ).encode(),
            ["body", "row", 3, "requested_date"],
        ),
        (
            (HEAD + "\nS1,A,edi,2026-13-02,2026-03-09,P1,1\n").encode(),
            ["body", "row", 2, "order_date"],
        ),
        (
            (
                HEAD
                + "\nS1,A,edi,2026-03-02,2026-03-09,P1,1\nS1,A,edi,2026-03-02,2026-03-09,P2,-4\n"
            ).encode(),
            ["body", "row", 3, "quantity"],
        ),
    ],
)
def test_errors_name_the_row_and_column(text: bytes, loc: list[object]) -> None:
    with pytest.raises(UnprocessableError) as info:
        orders_from_csv(text)
    assert info.value.errors is not None
    assert info.value.errors[0]["loc"] == loc
