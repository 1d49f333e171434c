"""/orders: submit one, batch, CSV; idempotency; read and list with customer binding; shipment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, func, select

from supplyseg.service.models import OrderRow

Order = Callable[..., dict[str, Any]]


def count_orders(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(OrderRow)).scalar_one()
    engine.dispose()
    return int(n)


def test_clean_order_is_accepted_and_readable(service: Any, make_order: Order) -> None:
    r = service.post("/orders", make_order())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "accepted"
    assert (body["segment"], body["policy_version"], body["total_value"]) == (
        "standard",
        "fixture-2026-01",
        250.0,
    )
    assert body["reasons"] == []
    assert body["exception_id"] is None
    assert service.get(f"/orders/{body['order_id']}", "submitter").json() == body


def test_failed_order_goes_to_the_exception_queue_with_reasons(
    service: Any, make_order: Order
) -> None:
    order = make_order(
        lines=[{"line_no": 3, "product_id": "NOPE", "quantity": 25, "unit_price": 10.0}]
    )
    body = service.post("/orders", order).json()
    assert body["status"] == "exception"
    [reason] = body["reasons"]
    assert reason == {
        "code": "unknown_product",
        "severity": "error",
        "line_no": 3,
        "field": "product_id",
        "message": "product 'NOPE' is not in policy version fixture-2026-01",
        "rule": "products",
        "policy_version": "fixture-2026-01",
        "suggested_value": None,
    }
    queue = service.get("/exceptions").json()["items"]
    assert [(e["exception_id"], e["order_id"]) for e in queue] == [
        (body["exception_id"], body["order_id"])
    ]


def test_soft_findings_accept_with_warnings(service: Any, make_order: Order) -> None:
    body = service.post("/orders", make_order(requested_date="2026-03-03")).json()
    assert body["status"] == "accepted_with_warnings"
    assert [(x["code"], x["severity"], x["suggested_value"]) for x in body["reasons"]] == [
        ("requested_date_too_early", "warning", "2026-03-07")
    ]
    assert service.get("/exceptions").json()["items"] == []


def test_authentication_and_roles(service: Any, make_order: Order) -> None:
    c = service.client
    assert c.post("/orders", json=make_order()).status_code == 401
    assert c.post("/orders", json=make_order(), headers={"X-API-Key": "ssk_x_y"}).status_code == 401
    assert c.post("/orders", json=make_order(), headers={"X-API-Key": "junk"}).status_code == 401
    r = service.post("/orders", make_order(), "operator")
    assert (r.status_code, r.json()["code"]) == (403, "role_forbidden")
    r = service.post("/orders", make_order(customer_id="K1", ship_to_id=None), "s1_only")
    assert (r.status_code, r.json()["code"]) == (403, "customer_forbidden")
    bearer = {"Authorization": f"Bearer {service.keys['s1_only']}"}
    assert c.post("/orders", json=make_order(), headers=bearer).status_code == 201


def test_bound_keys_read_only_their_customers(service: Any, make_order: Order) -> None:
    k1 = service.post("/orders", make_order(customer_id="K1", ship_to_id=None), "gateway").json()
    s1 = service.post("/orders", make_order(po_number="PO-2"), "gateway").json()
    # another customer's order is answered like a missing one: its id is not revealed
    hidden = service.get(f"/orders/{k1['order_id']}", "s1_only")
    missing = service.get("/orders/999999", "s1_only")
    assert (hidden.status_code, hidden.json()) == (
        404,
        {"detail": f"no order {k1['order_id']}", "code": "not_found"},
    )
    assert missing.status_code == 404
    assert service.get(f"/orders/{s1['order_id']}", "s1_only").status_code == 200
    listed = service.get("/orders", "s1_only").json()["items"]
    assert [o["order_id"] for o in listed] == [s1["order_id"]]
    assert service.get("/orders", "s1_only", customer_id="K1").status_code == 403
    everyone = service.get("/orders", "operator").json()["items"]
    assert {o["order_id"] for o in everyone} == {k1["order_id"], s1["order_id"]}
    assert service.get("/orders/999999", "operator").status_code == 404


def test_list_filters_and_pages(service: Any, make_order: Order) -> None:
    ids = {}
    for i, (cust, qty) in enumerate([("S1", 25), ("S1", 3), ("K1", 1), ("T1", 30), ("S1", 30)]):
        o = make_order(
            customer_id=cust,
            po_number=f"PO-{i}",
            ship_to_id=None,
            requested_date="2026-04-30",
            lines=[{"line_no": 1, "product_id": "P100", "quantity": qty}],
        )
        ids[i] = service.post("/orders", o, "gateway").json()
    exc = service.get("/orders", status="exception").json()["items"]
    assert {o["order_id"] for o in exc} == {ids[1]["order_id"], ids[3]["order_id"]}
    std = service.get("/orders", segment="standard").json()["items"]
    assert {o["order_id"] for o in std} == {ids[i]["order_id"] for i in (0, 1, 4)}
    page1 = service.get("/orders", limit=2).json()
    assert len(page1["items"]) == 2
    assert page1["next_after"] == page1["items"][-1]["order_id"]
    page3 = service.get("/orders", limit=2, after=page1["next_after"] + 2).json()
    assert len(page3["items"]) == 1
    assert page3["next_after"] is None
    assert service.get("/orders", status="lost").status_code == 422


def test_batch_returns_one_result_per_order_in_order(service: Any, make_order: Order) -> None:
    orders = [
        make_order(po_number="B1"),
        make_order(po_number="B2", lines=[{"line_no": 1, "product_id": "P100", "quantity": 3}]),
        make_order(customer_id="X9", po_number="B3"),  # bound to the key, unknown to the policy
    ]
    r = service.post("/orders/batch", {"orders": orders})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["accepted", "exception", "exception"]
    assert [x["po_number"] for x in r.json()["results"]] == ["B1", "B2", "B3"]
    # one order for a customer the key is not bound to: the whole batch is refused
    r2 = service.post(
        "/orders/batch",
        {"orders": [make_order(po_number="B4"), make_order(customer_id="K1", po_number="B5")]},
        "s1_only",
    )
    assert r2.status_code == 403
    assert count_orders(service.db_url) == 3


def test_batch_size_is_limited(service: Any, make_order: Order) -> None:
    service.app.state.settings = service.app.state.settings.model_copy(
        update={"max_batch_orders": 2}
    )
    orders = [make_order(po_number=f"L{i}") for i in range(3)]
    r = service.post("/orders/batch", {"orders": orders})
    assert (r.status_code, r.json()["code"]) == (422, "too_many_orders")


def test_csv_upload(service: Any) -> None:
    csv = (
        "customer_id,po_number,channel,order_date,requested_date,ship_to_id,line_no,product_id,"
        "quantity,unit_price\n"
        "S1,C-1,edi,2026-03-02,2026-03-09,S1-MAIN,1,P100,20,10\n"
        "S1,C-1,edi,2026-03-02,2026-03-09,S1-MAIN,2,P200,10,\n"
        "T1,C-2,portal,2026-03-02,2026-03-09,,1,P100,25,\n"
    )
    r = service.client.post(
        "/orders/csv",
        content=csv.encode(),
        headers={**service.h("submitter"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["po_number"], x["status"], len(x["lines"])) for x in results] == [
        ("C-1", "accepted", 2),
        ("C-2", "exception", 1),
    ]
    assert results[0]["total_value"] == 20 * 10 + 10 * 25.0
    assert results[1]["lines"][0]["unit_price"] is None


def test_csv_errors_name_row_and_column(service: Any) -> None:
    head = "customer_id,po_number,channel,order_date,requested_date,product_id,quantity\n"
    cases = {
        head + "S1,C-1,edi,2026-03-02,2026-03-09,P100,ten\n": ["body", "row", 2, "quantity"],
        head
        + "S1,C-1,edi,2026-03-02,2026-03-09,P100,10\nS1,C-1,fax,2026-03-02,2026-03-09,P1,1\n": [
            "body",
            "row",
            3,
            "channel",
        ],
        head.replace("quantity", "qty"): ["body", "row", 1, "qty"],
        head: ["body"],
    }
    for text, loc in cases.items():
        r = service.client.post(
            "/orders/csv",
            content=text.encode(),
            headers={**service.h("submitter"), "Content-Type": "text/csv"},
        )
        assert r.status_code == 422, text
        assert r.json()["detail"][0]["loc"] == loc, r.json()


def test_shipment_is_recorded_once(service: Any, make_order: Order) -> None:
    ok = service.post("/orders", make_order()).json()
    bad = service.post("/orders", make_order(po_number="X", channel="manual")).json()
    assert bad["status"] == "exception"
    r = service.client.post(f"/orders/{ok['order_id']}/shipment", headers=service.h("operator"))
    assert (r.status_code, r.json()["status"]) == (200, "shipped")
    again = service.client.post(
        f"/orders/{ok['order_id']}/shipment",
        json={"comment": "twice"},
        headers=service.h("operator"),
    )
    assert (again.status_code, again.json()["code"]) == (409, "not_shippable")
    r = service.client.post(f"/orders/{bad['order_id']}/shipment", headers=service.h("operator"))
    assert r.status_code == 409
    r = service.client.post(f"/orders/{ok['order_id']}/shipment", headers=service.h("submitter"))
    assert r.status_code == 403


def test_credit_exposure_counts_open_orders_only(service: Any, make_order: Order) -> None:
    # S1: limit 10000, open receivables 2000; each order 250 x 10 = 2500.
    big = [{"line_no": 1, "product_id": "P100", "quantity": 250}]
    statuses = [
        service.post("/orders", make_order(po_number=f"CR{i}", lines=big)).json() for i in range(4)
    ]
    assert [s["status"] for s in statuses] == ["accepted", "accepted", "accepted", "exception"]
    assert statuses[3]["reasons"][0]["code"] == "credit_limit_exceeded"
    # shipping one frees its value (it becomes a receivable in the ERP, outside this service)
    service.client.post(
        f"/orders/{statuses[0]['order_id']}/shipment", headers=service.h("operator")
    )
    again = service.post("/orders", make_order(po_number="CR9", lines=big)).json()
    assert again["status"] == "accepted"


def test_idempotency_key_header_replays_the_first_result(service: Any, make_order: Order) -> None:
    first = service.post("/orders", make_order(), **{"Idempotency-Key": "abc"})
    again = service.post("/orders", make_order(), **{"Idempotency-Key": "abc"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    reuse = service.post("/orders", make_order(po_number="OTHER"), **{"Idempotency-Key": "abc"})
    assert (reuse.status_code, reuse.json()["code"]) == (409, "idempotency_key_reused")
    assert count_orders(service.db_url) == 1


def test_customer_and_po_make_retries_idempotent_without_a_header(
    service: Any, make_order: Order
) -> None:
    first = service.post("/orders", make_order())
    again = service.post("/orders", make_order())
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    # the same PO with different content is a different order, flagged as a duplicate PO
    changed = make_order(lines=[{"line_no": 1, "product_id": "P100", "quantity": 30}])
    dup = service.post("/orders", changed).json()
    assert dup["order_id"] != first.json()["order_id"]
    assert [r["code"] for r in dup["reasons"]] == ["duplicate_po"]
    assert dup["status"] == "exception"  # duplicate_po is hard for segment standard
    assert count_orders(service.db_url) == 2


def test_batch_retry_with_idempotency_key_replays(service: Any, make_order: Order) -> None:
    batch = {"orders": [make_order(po_number="R1"), make_order(po_number="R2")]}
    a = service.post("/orders/batch", batch, **{"Idempotency-Key": "batch-7"})
    b = service.post("/orders/batch", batch, **{"Idempotency-Key": "batch-7"})
    assert a.json() == b.json()
    assert count_orders(service.db_url) == 2
