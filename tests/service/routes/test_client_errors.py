"""Client mistakes are 4xx naming the field, never 500/503 (issue 19).

NaN/Infinity/1e309 in JSON, ids beyond the 32-bit id columns, NUL characters (PostgreSQL text
cannot hold them), and quantities or prices beyond the plausibility limits. Runs on SQLite and,
with ``SUPPLYSEG_TEST_PG_URL``, on PostgreSQL, where ids >= 2**31 and NUL used to be 503.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from supplyseg.service.schemas import MAX_ID, MAX_QUANTITY, MAX_UNIT_PRICE

Order = Callable[..., dict[str, Any]]


def post_raw(service: Any, path: str, text: str, who: str = "submitter") -> Any:
    headers = {**service.h(who), "Content-Type": "application/json"}
    return service.client.post(path, content=text.encode(), headers=headers)


def locs(r: Any) -> list[tuple[Any, ...]]:
    return [tuple(e["loc"]) for e in r.json()["detail"]]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309"])
def test_non_finite_numbers_are_422_naming_the_field(
    service: Any, make_order: Order, literal: str
) -> None:
    order = make_order()
    text = json.dumps(order).replace('"quantity": 25', f'"quantity": {literal}')
    assert literal in text
    r = post_raw(service, "/orders", text)
    assert r.status_code == 422, r.text
    [err] = r.json()["detail"]
    assert tuple(err["loc"]) == ("body", "lines", 0, "quantity")
    assert err["input"] in ("NaN", "Infinity", "-Infinity")
    # the price and a string field too
    text = json.dumps(order).replace('"unit_price": 10.0', f'"unit_price": {literal}')
    assert locs(post_raw(service, "/orders", text)) == [("body", "lines", 0, "unit_price")]
    text = json.dumps(order).replace('"PO-1"', literal)
    assert locs(post_raw(service, "/orders", text)) == [("body", "po_number")]


def test_quantities_and_prices_beyond_the_limits_are_422(service: Any, make_order: Order) -> None:
    for field, value in (
        ("quantity", 1e308),
        ("quantity", MAX_QUANTITY * 2),
        ("unit_price", 1e308),
        ("unit_price", MAX_UNIT_PRICE * 2),
    ):
        line = {"line_no": 1, "product_id": "P100", "quantity": 25, "unit_price": 10.0}
        r = service.post("/orders", make_order(lines=[{**line, field: value}]))
        assert r.status_code == 422, (field, value)
        assert locs(r) == [("body", "lines", 0, field)]
    # at the limits the total is finite, so the customer's later credit checks still work
    huge = {"line_no": 1, "product_id": "P100", "quantity": MAX_QUANTITY}
    big = service.post(
        "/orders", make_order(lines=[{**huge, "unit_price": MAX_UNIT_PRICE}], po_number="BIG")
    )
    assert big.status_code == 201, big.text
    assert big.json()["total_value"] == MAX_QUANTITY * MAX_UNIT_PRICE
    assert math.isfinite(big.json()["total_value"])
    approve = {"action": "approve", "comment": "checked with the buyer"}
    r = service.post(f"/exceptions/{big.json()['exception_id']}/resolve", approve, "operator")
    assert r.json()["order"]["status"] == "approved"  # now open credit exposure of S1
    after = service.post("/orders", make_order(po_number="NEXT")).json()
    [credit] = [x for x in after["reasons"] if x["code"] == "credit_limit_exceeded"]
    assert "inf" not in credit["message"].lower()


@pytest.mark.parametrize("big", [MAX_ID + 1, 2**63, 2**64 + 5, -(2**63) - 1])
def test_ids_out_of_range_are_404_or_422(service: Any, big: int) -> None:
    c, ops = service.client, service.h("operator")
    assert c.get(f"/orders/{big}", headers=ops).status_code == 404
    assert c.get(f"/exceptions/{big}", headers=ops).status_code == 404
    assert c.post(f"/orders/{big}/shipment", headers=ops).status_code == 404
    resolve = {"action": "approve", "comment": "x"}
    assert c.post(f"/exceptions/{big}/resolve", json=resolve, headers=ops).status_code == 404
    for path, param in (
        ("/orders", "after"),
        ("/exceptions", "after"),
        ("/notifications", "since"),
    ):
        r = service.get(path, **{param: big})
        assert (r.status_code, locs(r)) == (422, [("query", param)]), path
    # the largest id is a plain miss
    assert c.get(f"/orders/{MAX_ID}", headers=ops).status_code == 404


def test_nul_characters_are_422_naming_the_field(service: Any, make_order: Order) -> None:
    r = service.post("/orders", make_order(po_number="PO\x001"))
    assert (r.status_code, locs(r)) == (422, [("body", "po_number")])
    assert "NUL" in r.json()["detail"][0]["msg"]
    line = {"line_no": 1, "product_id": "P1\x0000", "quantity": 25}
    r = service.post("/orders", make_order(lines=[line]))
    assert locs(r) == [("body", "lines", 0, "product_id")]
    r = service.get("/orders", segment="a\x00b")
    assert (r.status_code, locs(r)) == (422, [("query", "segment")])
    r = service.get("/exceptions", reason="x\x00")
    assert (r.status_code, locs(r)) == (422, [("query", "reason")])
    r = service.post("/api-keys", {"role": "operator", "label": "a\x00"}, "admin")
    assert (r.status_code, locs(r)) == (422, [("body", "label")])
    r = service.client.delete("/api-keys/ab%00cd", headers=service.h("admin"))
    assert r.status_code == 422
    order = service.post("/orders", make_order(lines=[{**line, "product_id": "NOPE"}])).json()
    r = service.post(
        f"/exceptions/{order['exception_id']}/resolve",
        {"action": "approve", "comment": "ok\x00"},
        "operator",
    )
    assert (r.status_code, locs(r)) == (422, [("body", "comment")])
    # a key holding NUL is simply not a key
    r = service.client.get("/orders", headers={"X-API-Key": "ssk_ab\x00_cd"})
    assert r.status_code in (400, 401)


def test_422_does_not_echo_megabytes(service: Any, make_order: Order) -> None:
    line = {"line_no": 1, "product_id": "P" * 900_000, "quantity": 25}
    r = service.post("/orders", make_order(lines=[line]))
    assert r.status_code == 422
    assert locs(r) == [("body", "lines", 0, "product_id")]
    assert len(r.content) < 2_000
    assert r.json()["detail"][0]["input"].endswith("... (900002 characters)")


def test_maxima_are_settings(service: Any, make_order: Order) -> None:
    """SUPPLYSEG_MAX_QUANTITY / SUPPLYSEG_MAX_UNIT_PRICE bound single orders, batches and
    amendments alike (422 naming the field and the setting)."""
    service.app.state.settings = service.app.state.settings.model_copy(
        update={"max_quantity": 100.0, "max_unit_price": 50.0}
    )
    line = {"line_no": 1, "product_id": "P100", "quantity": 100, "unit_price": 50.0}
    assert service.post("/orders", make_order(lines=[line])).status_code == 201
    r = service.post("/orders", make_order(po_number="Q", lines=[{**line, "quantity": 101}]))
    assert (r.status_code, r.json()["code"]) == (422, "over_limit")
    [err] = r.json()["detail"]
    assert (tuple(err["loc"]), err["input"]) == (("body", "lines", 0, "quantity"), 101)
    assert "SUPPLYSEG_MAX_QUANTITY" in err["msg"]
    pricey = make_order(po_number="P", lines=[{**line, "unit_price": 50.5}])
    r = service.post("/orders/batch", {"orders": [make_order(po_number="B"), pricey]})
    assert r.status_code == 422
    assert locs(r) == [("body", "orders", 1, "lines", 0, "unit_price")]
    below_moq = make_order(
        po_number="X", channel="manual", lines=[{**line, "quantity": 10}]
    )  # an exception (channel), to amend
    queued = service.post("/orders", below_moq).json()
    amend = {"action": "amend", "comment": "more", "lines": [{**line, "quantity": 1000}]}
    r = service.post(f"/exceptions/{queued['exception_id']}/resolve", amend, "operator")
    assert r.status_code == 422
    assert locs(r) == [("body", "lines", 0, "quantity")]
    # above the fixed ceiling no setting helps: the schema refuses it
    r = service.post("/orders", make_order(po_number="C", lines=[{**line, "quantity": 1e16}]))
    assert (r.status_code, locs(r)) == (422, [("body", "lines", 0, "quantity")])
