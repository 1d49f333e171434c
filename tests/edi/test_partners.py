"""Trading-partner mapping: cross-referenced part numbers, units of measure, exact errors."""

from __future__ import annotations

from datetime import date

from edi_samples import X12_4010, sample

from supplyseg.edi.mapping import X12_850, purchase_order
from supplyseg.edi.model import EdiError, PurchaseOrder
from supplyseg.edi.partners import TradingPartner, mapped_order
from supplyseg.edi.x12 import read_x12

PARTNER = TradingPartner(
    partner_id="k1-x12",
    standard="x12",
    sender_qualifier="ZZ",
    sender_id="BUYERK1",
    customer_id="K1",
    part_numbers={"ABC-500": "P500", "012345678905": "P300", "ABC-200": "P200"},
    units={"EA": 1, "CA": 10},
)


def _first_po(text: str) -> PurchaseOrder:
    ts = read_x12(text).groups[0].transaction_sets[0]
    po, errors = purchase_order(X12_850, ts.segments, ts.control_number)
    assert errors == []
    assert po is not None
    return po


def test_part_numbers_and_units_map_to_products_and_base_units() -> None:
    mapped, errors = mapped_order(_first_po(sample(X12_4010)), PARTNER)
    assert errors == []
    assert mapped is not None
    assert mapped.order == {
        "customer_id": "K1",
        "po_number": "PO-4711",
        "channel": "edi",
        "order_date": date(2026, 3, 2),
        "requested_date": date(2026, 3, 10),
        "ship_to_id": "K1-A",
        "lines": [
            # VP is our own part number: it wins over the buyer's BP.
            {"line_no": 1, "product_id": "P100", "quantity": 25.0, "unit_price": 10.0},
            # 2 cases of 10 at 25.00 a case = 20 pieces at 2.50.
            {"line_no": 2, "product_id": "P500", "quantity": 20.0, "unit_price": 2.5},
            {"line_no": 3, "product_id": "P300", "quantity": 10.0, "unit_price": 4.0},
        ],
    }
    assert mapped.units[2] == ("CA", 10)
    assert mapped.buyer_parts == {1: "ABC-100", 2: "ABC-500", 3: "012345678905"}


def test_unknown_part_number_and_unit_are_exact_errors() -> None:
    text = sample(X12_4010).replace("UP*012345678905", "UP*099999999999").replace("2*CA", "2*PL")
    _, errors = mapped_order(_first_po(text), PARTNER)
    assert errors == [
        EdiError(
            "unknown_unit",
            "line 2: unit 'PL' is not one of partner k1-x12's units ['CA', 'EA']; fix: add it"
            " with its number of base units",
            10,
            "PO1",
            "PO103",
            "PL",
        ),
        EdiError(
            "unknown_part_number",
            "line 3: no part number maps to a product (given: UP:099999999999); fix: send our"
            " part number as VP/SA or add the buyer's to partner k1-x12's part_numbers",
            11,
            "PO1",
            None,
            "099999999999",
        ),
    ]


def test_line_numbers_fall_back_to_positions_when_not_numeric() -> None:
    text = sample(X12_4010).replace("PO1*1*", "PO1*A1*").replace("PO1*2*", "PO1*A2*")
    mapped, _ = mapped_order(_first_po(text.replace("PO1*3*", "PO1*A3*")), PARTNER)
    assert mapped is not None
    assert mapped.line_ids == {1: "A1", 2: "A2", 3: "A3"}


def test_no_requested_date_anywhere_is_an_error() -> None:
    text = sample(X12_4010).replace("DTM*002*20260310~\n", "").replace("SE*11*0001", "SE*10*0001")
    _, errors = mapped_order(_first_po(text), PARTNER)
    assert [e.code for e in errors] == ["missing_segment"]
