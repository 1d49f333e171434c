"""Declarative mapping of 850 and ORDERS to purchase orders, with exact errors."""

from __future__ import annotations

from datetime import date

from edi_samples import EDIFACT_96A, X12_4010, X12_5010, edifact_01b, sample

from supplyseg.edi.edifact import read_edifact
from supplyseg.edi.mapping import EDIFACT_ORDERS, X12_850, purchase_order
from supplyseg.edi.model import EdiError, PoLine
from supplyseg.edi.x12 import read_x12


def _x12_orders(text: str):  # type: ignore[no-untyped-def]
    ic = read_x12(text)
    return [
        purchase_order(X12_850, ts.segments, ts.control_number)
        for g in ic.groups
        for ts in g.transaction_sets
    ]


def test_850_4010_maps_beg_dtm_n1_and_po1_qualifiers() -> None:
    (po, errors), (po2, errors2) = _x12_orders(sample(X12_4010))
    assert errors == []
    assert errors2 == []
    assert po is not None
    assert po2 is not None
    assert (po.po_number, po.order_date, po.requested_date, po.ship_to_id, po.control_number) == (
        "PO-4711",
        date(2026, 3, 2),
        date(2026, 3, 10),
        "K1-A",
        "0001",
    )
    assert po.lines == (
        PoLine("1", 8, 25.0, "EA", 10.0, (("BP", "ABC-100"), ("VP", "P100"))),
        PoLine("2", 10, 2.0, "CA", 25.0, (("BP", "ABC-500"),)),
        PoLine("3", 11, 10.0, "EA", 4.0, (("UP", "012345678905"),)),
    )
    assert [ln.line_id for ln in po2.lines] == ["10", "20"]
    assert po2.ship_to_id == "K1-B"


def test_850_5010_maps_the_same_way() -> None:
    [(po, errors)] = _x12_orders(sample(X12_5010))
    assert errors == []
    assert po is not None
    assert po.po_number == "S1-PO-9"
    assert po.lines[0].part_numbers == (("IN", "S1-WIDGET"),)


def test_line_level_dtm_is_the_line_requested_date() -> None:
    text = (
        sample(X12_5010)
        .replace("CTT*2~", "DTM*002*20260320~\nCTT*2~")
        .replace("SE*8*1001", "SE*9*1001")
    )
    [(po, errors)] = _x12_orders(text)
    assert errors == []
    assert po is not None
    assert [ln.requested_date for ln in po.lines] == [None, date(2026, 3, 20)]


def test_content_errors_name_segment_element_and_value() -> None:
    text = (
        sample(X12_4010)
        .replace("PO1*2*2*CA", "PO1*2*2O*CA")
        .replace("BEG*00*SA*PO-4712**20260302", "BEG*00*SA*PO-4712**20260230")
        .replace("CTT*3~", "CTT*4~")
    )
    (_, errors), (_, errors2) = _x12_orders(text)
    assert errors == [
        EdiError(
            "bad_number", "PO102 (quantity) must be a decimal number", 10, "PO1", "PO102", "2O"
        ),
        EdiError(
            "count_mismatch", "CTT01 must be the number of line items, 3", 12, "CTT", "CTT01", "4"
        ),
    ]
    assert errors2 == [
        EdiError(
            "bad_date",
            "BEG05 (order_date) must be a valid date CCYYMMDD",
            15,
            "BEG",
            "BEG05",
            "20260230",
        )
    ]


def test_missing_beg_and_missing_quantity() -> None:
    text = (
        sample(X12_5010)
        .replace("BEG*00*SA*S1-PO-9**20260302~\n", "")
        .replace("PO1*2*5*EA", "PO1*2**EA")
    )
    [(po, errors)] = _x12_orders(text)
    assert po is None
    assert errors == [
        EdiError(
            "missing_segment", "mandatory segment BEG (po_number) is missing", 3, "ST", "BEG03"
        ),
        EdiError(
            "missing_segment", "mandatory segment BEG (order_date) is missing", 3, "ST", "BEG05"
        ),
        EdiError("missing_element", "PO102 (quantity) is mandatory", 7, "PO1", "PO102", ""),
    ]


def test_orders_d96a_with_una_and_release_characters() -> None:
    ic = read_edifact(sample(EDIFACT_96A))
    [msg] = ic.messages
    po, errors = purchase_order(EDIFACT_ORDERS, msg.segments, msg.reference)
    assert errors == []
    assert po is not None
    assert (po.po_number, po.order_date, po.requested_date, po.ship_to_id) == (
        "PO+77:A",
        date(2026, 3, 2),
        date(2026, 3, 6),
        "K2-DOCK",
    )
    assert po.lines == (
        PoLine("1", 9, 48.0, "PCE", 9.8, (("EN", "4000862141404"),)),
        PoLine("2", 12, 200.0, "", 2.5, (("SA", "P500"),)),
    )


def test_orders_d01b_and_date_format_errors() -> None:
    ic = read_edifact(edifact_01b(3))
    po, errors = purchase_order(EDIFACT_ORDERS, ic.messages[0].segments)
    assert errors == []
    assert po is not None
    assert len(po.lines) == 3
    ic = read_edifact(edifact_01b(1).replace("DTM+2:20260310:102", "DTM+2:20260310:718"))
    _, errors = purchase_order(EDIFACT_ORDERS, ic.messages[0].segments)
    assert errors == [
        EdiError(
            "bad_code",
            "date format code must be one of ['102', '203'] (CCYYMMDD, CCYYMMDDHHMM)",
            5,
            "DTM",
            "DTM01.3",
            "718",
        )
    ]


def test_orders_cnt_must_count_lines() -> None:
    ic = read_edifact(edifact_01b(2).replace("CNT+2:2", "CNT+2:3"))
    _, errors = purchase_order(EDIFACT_ORDERS, ic.messages[0].segments)
    assert errors == [
        EdiError(
            "count_mismatch",
            "CNT01.2 must be the number of line items, 2",
            13,
            "CNT",
            "CNT01.2",
            "3",
        )
    ]
