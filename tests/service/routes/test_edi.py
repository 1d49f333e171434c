"""/edi: X12 and EDIFACT interchanges through the order intake, acknowledgements written back,
trading partners, documents feed. Samples: tests/edi/samples (see tests/edi/edi_samples.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from supplyseg.edi import read_edifact, read_x12

SAMPLES = Path(__file__).resolve().parents[2] / "edi" / "samples"
X12_4010 = (SAMPLES / "po_4010_two_sets.x12").read_text()
X12_5010 = (SAMPLES / "po_5010.x12").read_text()
EDIFACT_96A = (SAMPLES / "orders_d96a_una.edi").read_text()

PARTNERS = [
    {
        "partner_id": "k1-x12",
        "standard": "x12",
        "sender_qualifier": "ZZ",
        "sender_id": "BUYERK1",
        "customer_id": "K1",
        "part_numbers": {"ABC-500": "P500", "012345678905": "P300", "ABC-200": "P200"},
        "units": {"EA": 1, "CA": 10},
    },
    {
        "partner_id": "s1-x12",
        "standard": "x12",
        "sender_qualifier": "01",
        "sender_id": "123456789",
        "customer_id": "S1",
        "part_numbers": {"S1-WIDGET": "P100"},
    },
    {
        "partner_id": "k2-edifact",
        "standard": "edifact",
        "sender_qualifier": "14",
        "sender_id": "5412345000013",
        "customer_id": "K2",
        "part_numbers": {"4000862141404": "P100"},
    },
]


@pytest.fixture
def edi(service: Any) -> Any:
    """The service with the three trading partners."""
    for p in PARTNERS:
        r = service.client.put(
            f"/edi/partners/{p['partner_id']}", json=p, headers=service.h("admin")
        )
        assert r.status_code == 201, r.text
    return service


def post(svc: Any, standard: str, text: str, who: str = "gateway") -> Any:
    return svc.client.post(
        f"/edi/{standard}",
        content=text.encode(),
        headers={**svc.h(who), "Content-Type": "text/plain"},
    )


def body(svc: Any, message_id: int) -> str:
    r = svc.client.get(f"/edi/messages/{message_id}/body", headers=svc.h("operator"))
    assert r.status_code == 200, r.text
    return str(r.text)


def kinds(svc: Any, receipt: dict[str, Any]) -> dict[str, str]:
    out = {}
    for mid in receipt["documents"]:
        m = svc.get(f"/edi/messages/{mid}").json()
        out[m["kind"]] = m["body"]
    return out


def test_850_4010_round_trip_855_lines_reconcile_with_the_orders(edi: Any) -> None:
    r = post(edi, "x12", X12_4010)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["status"] == "accepted"
    assert (receipt["partner_id"], receipt["customer_id"]) == ("k1-x12", "K1")
    assert [(s["control_number"], s["po_number"], s["order_status"]) for s in receipt["sets"]] == [
        ("0001", "PO-4711", "accepted"),
        ("0002", "PO-4712", "accepted"),
    ]
    docs = kinds(edi, receipt)
    assert set(docs) == {"997", "855"}
    assert "AK9*A*2*2*2~" in docs["997"]
    ack = read_x12(docs["855"])
    assert ack.errors == []
    [group] = ack.groups
    assert group.functional_id == "PR"
    for s, ts in zip(receipt["sets"], group.transaction_sets, strict=True):
        assert ts.errors == []
        order = edi.get(f"/orders/{s['order_id']}").json()
        assert order["channel"] == "edi"
        bak = next(seg for seg in ts.segments if seg.tag == "BAK")
        assert (bak.value(2), bak.value(3)) == ("AD", order["po_number"])
        po1s = [seg for seg in ts.segments if seg.tag == "PO1"]
        acks = [seg for seg in ts.segments if seg.tag == "ACK"]
        assert len(po1s) == len(acks) == len(order["lines"])
        factor = {"EA": 1, "CA": 10}
        for po1, ackseg, line in zip(po1s, acks, order["lines"], strict=True):
            assert po1.value(1) == str(line["line_no"])
            vp = po1.elements.index(("VP",))
            assert po1.elements[vp + 1] == (line["product_id"],)
            assert ackseg.value(1) == "IA"
            assert float(ackseg.value(2)) * factor[ackseg.value(3)] == line["quantity"]
            assert ackseg.value(5) == order["requested_date"].replace("-", "")
    # The same interchange again replays the stored orders instead of creating new ones.
    again = post(edi, "x12", X12_4010).json()
    assert [s["order_id"] for s in again["sets"]] == [s["order_id"] for s in receipt["sets"]]


def test_850_5010_exception_gets_an_855_with_held_and_rejected_lines(edi: Any) -> None:
    receipt = post(edi, "x12", X12_5010).json()
    [s] = receipt["sets"]
    assert (s["status"], s["order_status"]) == ("accepted", "exception")
    order = edi.get(f"/orders/{s['order_id']}").json()
    assert [r["code"] for r in order["reasons"]] == ["below_moq"]
    text = kinds(edi, receipt)["855"]  # segment "standard" is notified of exceptions
    assert "BAK*00*AH*S1-PO-9*20260302~" in text
    assert "ACK*IH*20*EA*079*20260312~" in text
    assert "REF*ZZ*MQ*below_moq~\nACK*IR*5*EA*079*20260312~" in text
    assert text.startswith("ISA*00*          *00*          *ZZ*SUPPLYSEG      *01*123456789      *")
    assert "*^*00501*" in text.splitlines()[0]


def test_edifact_orders_with_una_and_escapes(edi: Any) -> None:
    receipt = post(edi, "edifact", EDIFACT_96A).json()
    assert receipt["status"] == "accepted", receipt
    [s] = receipt["sets"]
    order = edi.get(f"/orders/{s['order_id']}").json()
    assert order["po_number"] == "PO+77:A"
    assert [(ln["product_id"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]] == [
        ("P100", 48.0, 9.8),
        ("P500", 200.0, 2.5),
    ]
    docs = kinds(edi, receipt)
    assert "UCI+IC0001+5412345000013:14+5499999000009:14+7'" in docs["CONTRL"]
    assert "BGM+231+PO?+77?:A+29'" in docs["ORDRSP"]
    ordrsp = read_edifact(docs["ORDRSP"])
    assert ordrsp.errors == []
    assert [seg.value(2) for seg in ordrsp.messages[0].segments if seg.tag == "LIN"] == ["5", "5"]


def test_wrong_se_count_rejects_that_set_only(edi: Any) -> None:
    receipt = post(edi, "x12", X12_4010.replace("SE*11*0001~", "SE*12*0001~")).json()
    assert receipt["status"] == "partially_accepted"
    bad, good = receipt["sets"]
    assert bad["order_id"] is None
    assert bad["errors"] == [
        {
            "code": "count_mismatch",
            "message": "SE01 must be the number of segments from ST to SE inclusive, 11",
            "position": 13,
            "segment": "SE",
            "element": "SE01",
            "value": "12",
        }
    ]
    assert good["status"] == "accepted"
    orders = edi.get("/orders", customer_id="K1").json()["items"]
    assert [o["po_number"] for o in orders] == ["PO-4712"]
    assert "AK2*850*0001~\nAK5*R*4~" in kinds(edi, receipt)["997"]


def test_wrong_unt_count_is_rejected_in_contrl(edi: Any) -> None:
    receipt = post(edi, "edifact", EDIFACT_96A.replace("UNT+16+M1", "UNT+15+M1")).json()
    assert receipt["status"] == "rejected"
    assert receipt["sets"][0]["errors"][0]["message"] == (
        "UNT01 must be the number of segments from UNH to UNT inclusive, 16"
    )
    assert "UCM+M1+ORDERS:D:96A:UN+4+29'" in kinds(edi, receipt)["CONTRL"]


def test_bad_interchange_control_number_refuses_everything_with_a_ta1(edi: Any) -> None:
    receipt = post(edi, "x12", X12_4010.replace("IEA*1*000000101", "IEA*1*000000100")).json()
    assert receipt["status"] == "rejected"
    assert [e["code"] for e in receipt["errors"]] == ["control_number_mismatch"]
    assert all(s["order_id"] is None for s in receipt["sets"])
    docs = kinds(edi, receipt)
    assert set(docs) == {"TA1"}
    assert "TA1*000000101*260302*1200*R*001~" in docs["TA1"]
    assert edi.get("/orders", customer_id="K1").json()["items"] == []


def test_unknown_partner(edi: Any) -> None:
    text = X12_4010.replace("*ZZ*BUYERK1        *", "*ZZ*STRANGER       *")
    receipt = post(edi, "x12", text).json()
    assert receipt["errors"][0] == {
        "code": "unknown_partner",
        "message": "no trading partner sends as ZZ/STRANGER in x12; fix: create one with POST"
        " /edi/partners",
        "position": 1,
        "segment": "ISA",
        "element": "ISA06",
        "value": "STRANGER",
    }
    assert "*R*006~" in kinds(edi, receipt)["TA1"]


def test_unknown_part_number_rejects_the_set_with_an_855(edi: Any) -> None:
    receipt = post(edi, "x12", X12_4010.replace("BP*ABC-200", "BP*ABC-999")).json()
    first, second = receipt["sets"]
    assert first["status"] == "accepted"
    assert second["errors"] == [
        {
            "code": "unknown_part_number",
            "message": "line 10: no part number maps to a product (given: BP:ABC-999); fix: send"
            " our part number as VP/SA or add the buyer's to partner k1-x12's part_numbers",
            "position": 18,
            "segment": "PO1",
            "element": None,
            "value": "ABC-999",
        }
    ]
    docs = kinds(edi, receipt)
    assert "AK9*A*2*2*2~" in docs["997"]  # syntactically fine: the 855 says why
    assert "BAK*00*RD*PO-4712*20260302~" in docs["855"]
    assert "REF*ZZ*PN*unknown_part_number~\nACK*IR*5*EA*079*20260305~" in docs["855"]


def test_unreadable_body_is_a_422_and_stores_nothing(edi: Any) -> None:
    r = post(edi, "x12", "hello")
    assert r.status_code == 422
    assert r.json()["code"] == "not_an_interchange"
    assert edi.get("/edi/messages").json()["items"] == []


def test_a_key_bound_to_another_customer_is_refused(edi: Any) -> None:
    r = post(edi, "x12", X12_4010, who="s1_only")
    assert r.status_code == 403
    assert r.json()["code"] == "customer_forbidden"


def test_documents_feed_and_binding(edi: Any) -> None:
    post(edi, "x12", X12_4010)
    post(edi, "x12", X12_5010)
    page = edi.get("/edi/messages").json()
    assert [(m["direction"], m["kind"]) for m in page["items"]] == [
        ("in", "interchange"),
        ("out", "997"),
        ("out", "855"),
        ("in", "interchange"),
        ("out", "997"),
        ("out", "855"),
    ]
    mine = edi.client.get("/edi/messages", headers=edi.h("s1_only")).json()["items"]
    assert {m["customer_id"] for m in mine} == {"S1"}
    other = page["items"][0]["id"]
    assert edi.client.get(f"/edi/messages/{other}", headers=edi.h("s1_only")).status_code == 404
    tail = edi.get("/edi/messages", since=page["items"][3]["id"]).json()["items"]
    assert len(tail) == 2


def test_partner_admin(edi: Any) -> None:
    p = dict(PARTNERS[0], units={"EA": 1, "CA": 12})
    r = edi.client.put("/edi/partners/k1-x12", json=p, headers=edi.h("admin"))
    assert r.status_code == 200
    assert edi.client.get("/edi/partners/k1-x12", headers=edi.h("admin")).json()["units"] == {
        "EA": 1.0,
        "CA": 12.0,
    }
    clash = dict(PARTNERS[0], partner_id="other")
    r = edi.client.put("/edi/partners/other", json=clash, headers=edi.h("admin"))
    assert (r.status_code, r.json()["code"]) == (409, "sender_taken")
    r = edi.client.put("/edi/partners/k1-x12", json=p, headers=edi.h("operator"))
    assert r.status_code == 403
    bad = dict(PARTNERS[0], units={"EA": 0})
    assert (
        edi.client.put("/edi/partners/k1-x12", json=bad, headers=edi.h("admin")).status_code == 422
    )
    assert edi.client.delete("/edi/partners/k1-x12", headers=edi.h("admin")).status_code == 204
    ids = [x["partner_id"] for x in edi.client.get("/edi/partners", headers=edi.h("admin")).json()]
    assert ids == ["k2-edifact", "s1-x12"]


def test_855_carries_the_promised_quantity_and_date_per_line(edi: Any) -> None:
    # P100: 10 of 25 on hand; P500: 50 on hand and 100 on 2026-03-20; P200, P300: no supply
    # data (not promised: acknowledged as requested)
    rows = [
        ("P100", "2026-03-01", "on_hand", 10.0),
        ("P500", "2026-03-01", "on_hand", 50.0),
        ("P500", "2026-03-20", "receipt", 100.0),
    ]
    supply = [
        {"product_id": p, "location_id": "DC1", "date": d, "kind": k, "quantity": q}
        for p, d, k, q in rows
    ]
    r = edi.post("/supply", {"rows": supply}, who="admin")
    assert r.status_code == 200, r.text
    receipt = post(edi, "x12", X12_4010).json()
    [group] = read_x12(kinds(edi, receipt)["855"]).groups
    got = {}
    for s, ts in zip(receipt["sets"], group.transaction_sets, strict=True):
        order = edi.get(f"/orders/{s['order_id']}").json()
        bak = next(seg for seg in ts.segments if seg.tag == "BAK")
        got[order["po_number"]] = bak.value(2)
        acks = [seg for seg in ts.segments if seg.tag == "ACK"]
        for ackseg, line in zip(acks, order["lines"], strict=True):
            factor = {"EA": 1, "CA": 10}[ackseg.value(3)]
            got[line["line_no"], line["product_id"]] = (
                ackseg.value(1),
                float(ackseg.value(2)) * factor,
                ackseg.value(5),
                line["confirmed_quantity"],
                line["promised_date"],
            )
    assert got == {
        "PO-4711": "AC",  # changed
        (1, "P100"): ("IQ", 10.0, "20260310", 10.0, "2026-03-10"),
        (2, "P500"): ("IA", 20.0, "20260310", 20.0, "2026-03-10"),
        (3, "P300"): ("IA", 10.0, "20260310", 0.0, None),
        "PO-4712": "AC",
        (10, "P200"): ("IA", 5.0, "20260305", 0.0, None),
        (20, "P500"): ("DR", 100.0, "20260320", 100.0, "2026-03-20"),
    }


def test_ordrsp_carries_the_promised_quantity_and_date_per_line(edi: Any) -> None:
    rows = [{"product_id": "P100", "location_id": "DC1", "date": "2026-03-01",
             "kind": "on_hand", "quantity": 10.0}]  # fmt: skip
    assert edi.post("/supply", {"rows": rows}, who="admin").status_code == 200
    receipt = post(edi, "edifact", EDIFACT_96A).json()
    ack = read_edifact(kinds(edi, receipt)["ORDRSP"])
    segs = [(seg.tag, seg.elements) for seg in ack.messages[0].segments]
    lines = [i for i, (tag, _) in enumerate(segs) if tag == "LIN"]
    first, second = (segs[i : i + 5] for i in lines)
    # line 1: 10 of 48 on hand, confirmed on the requested date (LIN 1229 3 = changed)
    assert first[0][1][:2] == (("1",), ("3",))
    assert ("QTY", (("21", "10", "PCE"),)) in first
    assert ("DTM", (("2", "20260306", "102"),)) in first
    # line 2: P500 has no supply data, acknowledged as requested (5 = accepted)
    assert second[0][1][:2] == (("2",), ("5",))
    assert ("QTY", (("21", "200"),)) in second
    bgm = next(e for tag, e in segs if tag == "BGM")
    assert bgm[-1] == ("4",)  # the order is changed
