"""Acknowledgements: line status from the service's verdict; 997/TA1/855 and CONTRL/ORDRSP
written as interchanges our own readers accept, with the codes of the standards."""

from __future__ import annotations

from datetime import date, datetime

from edi_samples import EDIFACT_96A, X12_4010, edifact_01b, sample
from hypothesis import given
from hypothesis import strategies as st
from test_partners import PARTNER

from supplyseg.edi.acks import Promise, ReasonFinding, order_ack, rejected_ack
from supplyseg.edi.edifact import read_edifact
from supplyseg.edi.edifact_out import edifact_contrl, edifact_ordrsp
from supplyseg.edi.mapping import EDIFACT_ORDERS, X12_850, purchase_order
from supplyseg.edi.model import EdiError, LineAck, PurchaseOrderAck
from supplyseg.edi.partners import mapped_order
from supplyseg.edi.x12 import read_x12
from supplyseg.edi.x12_out import x12_855, x12_997, x12_ta1

NOW = datetime(2026, 3, 2, 12, 30)


def _po_and_mapped():  # type: ignore[no-untyped-def]
    ic = read_x12(sample(X12_4010))
    ts = ic.groups[0].transaction_sets[0]
    po, _ = purchase_order(X12_850, ts.segments, ts.control_number)
    assert po is not None
    mapped, _ = mapped_order(po, PARTNER)
    assert mapped is not None
    return ic, po, mapped


def test_line_status_follows_the_order_status() -> None:
    _, po, mapped = _po_and_mapped()
    ok = order_ack(po, mapped, "accepted", [])
    assert ok.status == "accepted"
    assert {ln.status for ln in ok.lines} == {"accepted"}
    held = order_ack(
        po,
        mapped,
        "exception",
        [
            ReasonFinding("below_moq", "error", 2),
            ReasonFinding("credit_limit_exceeded", "error", None),
        ],
    )
    assert held.status == "held"
    assert [(ln.status, ln.reasons) for ln in held.lines] == [
        ("held", ()),
        ("rejected", ("below_moq",)),
        ("held", ()),
    ]
    assert held.reasons == ("credit_limit_exceeded",)
    # Quantities go back in the buyer's unit: 20 pieces = 2 cases.
    assert (held.lines[1].quantity, held.lines[1].unit, held.lines[1].unit_price) == (
        2.0,
        "CA",
        25.0,
    )


def test_a_promise_changes_quantity_or_date() -> None:
    _, po, mapped = _po_and_mapped()
    ack = order_ack(
        po,
        mapped,
        "accepted",
        [],
        promises={
            1: Promise(20.0, None),
            2: Promise(None, date(2026, 3, 12)),
            3: Promise(5, date(2026, 3, 11)),
        },
    )
    assert ack.status == "changed"
    assert [(ln.status, ln.changes, ln.quantity, ln.date) for ln in ack.lines] == [
        ("changed", ("quantity",), 20.0, date(2026, 3, 10)),
        ("changed", ("date",), 2.0, date(2026, 3, 12)),
        ("changed", ("quantity", "date"), 5.0, date(2026, 3, 11)),
    ]
    text = x12_855(read_x12(sample(X12_4010)), read_x12(sample(X12_4010)).groups[0], [ack], 7, NOW)
    acks = [ln for ln in text.splitlines() if ln.startswith("ACK")]
    assert acks == [
        "ACK*IQ*20*EA*079*20260310~",
        "ACK*DR*2*CA*079*20260312~",
        "ACK*IC*5*EA*079*20260311~",
    ]
    assert "PO1*1*25*EA*10**BP*ABC-100*VP*P100~" in text


def test_997_rejects_the_set_with_a_wrong_se_count() -> None:
    ic = read_x12(sample(X12_4010).replace("SE*11*0001~", "SE*12*0001~"))
    text = x12_997(ic, {}, 42, NOW)
    lines = text.splitlines()
    assert lines[0] == (
        "ISA*00*          *00*          *ZZ*SUPPLYSEG      *ZZ*BUYERK1        *260302*1230*U*00401"
        "*000000042*0*P*>~"
    )
    assert lines[2:10] == [
        "ST*997*0001~",
        "AK1*PO*101~",
        "AK2*850*0001~",
        "AK5*R*4~",
        "AK2*850*0002~",
        "AK5*A~",
        "AK9*P*2*2*1~",
        "SE*8*0001~",
    ]
    back = read_x12(text)
    assert back.errors == []
    assert back.groups[0].transaction_sets[0].errors == []


def test_997_reports_element_errors_relative_to_st() -> None:
    ic = read_x12(sample(X12_4010))
    error = EdiError("bad_number", "x", 10, "PO1", "PO102", "2O")
    text = x12_997(ic, {3: [error]}, 1, NOW)
    assert "AK3*PO1*8**8~\nAK4*2**6*2O~\nAK5*R*5~" in text


def test_ta1_refuses_an_interchange() -> None:
    ic = read_x12(sample(X12_4010).replace("IEA*1*000000101", "IEA*1*000000102"))
    text = x12_ta1(ic, ic.errors, 9, NOW)
    assert "TA1*000000101*260302*1200*R*001~" in text
    assert read_x12(text).errors == []


def test_855_rejected_purchase_order_names_the_bad_line() -> None:
    ic, po, _ = _po_and_mapped()
    err = EdiError("unknown_part_number", "m", po.lines[2].position, "PO1")
    text = x12_855(ic, ic.groups[0], [rejected_ack(po, [err], PARTNER)], 3, NOW)
    assert "BAK*00*RD*PO-4711*20260302~" in text
    assert "PO1*3*10*EA*4**UP*012345678905~" not in text  # buyer parts echo as BP
    assert "REF*ZZ*PN*unknown_part_number~\nACK*IR*10*EA*079*20260310~" in text
    ack = read_x12(text)
    assert ack.groups[0].functional_id == "PR"
    assert ack.groups[0].transaction_sets[0].errors == []


def test_contrl_for_a_wrong_unt_count_and_for_a_good_interchange() -> None:
    ic = read_edifact(edifact_01b(2, unt=99))
    text = edifact_contrl(ic, {}, 77, NOW)
    assert "UCM+1+ORDERS:D:01B:UN+4+29'" in text
    assert "UCS+13+29'\nUCD+29+1'" in text
    good = edifact_contrl(read_edifact(sample(EDIFACT_96A)), {}, 78, NOW)
    assert "UCI+IC0001+5412345000013:14+5499999000009:14+7'" in good
    assert "UCM+M1+ORDERS:D:96A:UN+7'" in good
    assert read_edifact(good).messages[0].errors == []


def test_ordrsp_escapes_and_reads_back() -> None:
    ic = read_edifact(sample(EDIFACT_96A))
    po, _ = purchase_order(EDIFACT_ORDERS, ic.messages[0].segments, "M1")
    assert po is not None
    ack = rejected_ack(po, [EdiError("unknown_part_number", "m", 9, "LIN")], None)
    text = edifact_ordrsp(ic, "D:96A", [ack], 5, NOW)
    assert "BGM+231+PO?+77?:A+27'" in text
    assert "LIN+1+7+:SA'\nPIA+1+4000862141404:IN'" in text
    back = read_edifact(text)
    assert back.errors == []
    assert back.messages[0].errors == []
    assert back.messages[0].segments[1].value(2) == "PO+77:A"


_text = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "Zs")), min_size=1, max_size=12
)


@given(
    po_number=_text,
    lines=st.lists(
        st.tuples(_text, st.floats(0.5, 1e6), st.sampled_from(["accepted", "held", "rejected"])),
        min_size=1,
        max_size=8,
    ),
)
def test_written_acks_always_read_back_with_consistent_envelopes(
    po_number: str, lines: list[tuple[str, float, str]]
) -> None:
    ack = PurchaseOrderAck(
        po_number=po_number,
        order_date=date(2026, 3, 2),
        status="held",
        lines=tuple(
            LineAck(lid, s, q, "EA", 1.5, date(2026, 3, 9), lid, "P1")  # type: ignore[arg-type]
            for lid, q, s in lines
        ),
    )
    x12 = read_x12(sample(X12_4010))
    back = read_x12(x12_855(x12, x12.groups[0], [ack], 1, NOW))
    ts = back.groups[0].transaction_sets[0]
    assert back.errors == []
    assert ts.errors == []
    assert sum(s.tag == "PO1" for s in ts.segments) == len(lines)
    ed = read_edifact(sample(EDIFACT_96A))
    back_e = read_edifact(edifact_ordrsp(ed, "D:96A", [ack], 1, NOW))
    msg = back_e.messages[0]
    assert back_e.errors == []
    assert msg.errors == []
    assert msg.segments[1].value(2) == po_number.strip() or msg.segments[1].value(2) == po_number
    assert [s.value(1) for s in msg.segments if s.tag == "LIN"] == [lid for lid, _q, _s in lines]
