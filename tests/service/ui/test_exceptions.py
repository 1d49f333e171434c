"""Workbench exception queue: filters, the detail page, and resolutions that leave exactly the
audit rows and notifications the API's resolutions leave."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from supplyseg.service.models import Audit, Outbox
from supplyseg.service.security import issue_api_key

Order = Callable[..., dict[str, Any]]
Browser = Callable[[str], Any]


def failing(make_order: Order, po: str, **kw: Any) -> dict[str, Any]:
    """An S1 order (segment standard) whose line 1 is below the MOQ."""
    return make_order(
        po_number=po,
        lines=[
            {"line_no": 1, "product_id": "P100", "quantity": 5, "unit_price": 10.0},
            {"line_no": 2, "product_id": "P200", "quantity": 10},
        ],
        **kw,
    )


def trail(db_url: str, order_id: int, exception_id: int) -> tuple[list[Any], list[Any]]:
    """(audit rows of the order and its exception, notifications of the order), comparable:
    ids, times and the order's own id left out."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        audit = conn.execute(
            select(
                Audit.entity, Audit.actor, Audit.action, Audit.before, Audit.after, Audit.comment
            )
            .where(
                ((Audit.entity == "order") & (Audit.entity_id == str(order_id)))
                | ((Audit.entity == "exception") & (Audit.entity_id == str(exception_id)))
            )
            .order_by(Audit.id)
        ).all()
        sent = conn.execute(
            select(Outbox.event, Outbox.segment, Outbox.payload)
            .where(Outbox.order_id == order_id)
            .order_by(Outbox.id)
        ).all()
    engine.dispose()
    drop = ("order_id", "po_number", "exception_id")

    def keep(values: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if values is None else {k: v for k, v in values.items() if k not in drop}

    return (
        [(e, who, act, keep(b), keep(a), c) for e, who, act, b, a, c in audit],
        [(e, s, {k: v for k, v in p.items() if k not in drop}) for e, s, p in sent],
    )


@pytest.mark.parametrize(
    ("form", "api"),
    [
        ({"action": "approve"}, {"action": "approve"}),
        ({"action": "reject"}, {"action": "reject"}),
        (
            {"action": "amend", "qty_1": "10", "price_1": "10"},
            {
                "action": "amend",
                "lines": [{"line_no": 1, "product_id": "P100", "quantity": 10, "unit_price": 10.0}],
            },
        ),
        ({"action": "amend", "remove_2": "1"}, {"action": "amend", "remove_line_nos": [2]}),
    ],
)
def test_a_resolution_through_the_ui_is_the_apis(
    service: Any, make_order: Order, browser: Browser, form: dict[str, str], api: dict[str, Any]
) -> None:
    by_ui = service.post("/orders", failing(make_order, "UI-1")).json()
    by_api = service.post("/orders", failing(make_order, "API-1")).json()
    op = browser("operator")
    page = op.get(f"/ui/exceptions/{by_ui['exception_id']}").text
    assert 'value="5"' in page  # the amend form starts from the order's lines
    done = op.post(
        f"/ui/exceptions/{by_ui['exception_id']}/resolve", {**form, "comment": "called buyer"}
    )
    assert done.status_code == 303, done.text
    assert (
        done.headers["location"] == f"/ui/exceptions/{by_ui['exception_id']}?done={form['action']}"
    )
    answer = service.post(
        f"/exceptions/{by_api['exception_id']}/resolve",
        {**api, "comment": "called buyer"},
        "operator",
    )
    assert answer.status_code == 200, answer.text
    ui_trail = trail(service.db_url, by_ui["order_id"], by_ui["exception_id"])
    api_trail = trail(service.db_url, by_api["order_id"], by_api["exception_id"])
    for u, a in zip(ui_trail[0], api_trail[0], strict=True):
        assert u == a
    assert ui_trail == api_trail
    assert [a[2] for a in ui_trail[0]][-2:] == ["resolve", form["action"]]
    ui_order = service.get(f"/orders/{by_ui['order_id']}").json()
    api_order = service.get(f"/orders/{by_api['order_id']}").json()
    assert ui_order["status"] == api_order["status"]
    assert ui_order["lines"] == api_order["lines"]
    shown = op.get(done.headers["location"]).text
    assert f"The order is now <strong>{ui_order['status']}</strong>" in shown


def test_the_comment_is_mandatory_and_errors_keep_the_form(
    service: Any, make_order: Order, browser: Browser
) -> None:
    order = service.post("/orders", failing(make_order, "C-1")).json()
    op = browser("operator")
    url = f"/ui/exceptions/{order['exception_id']}/resolve"
    blank = op.post(url, {"action": "approve", "comment": "   "})
    assert blank.status_code == 422
    assert "Not resolved: comment" in blank.text
    assert 'id="action-approve" name="action" value="approve" required checked' in blank.text
    nothing = op.post(url, {"action": "amend", "comment": "no change"})
    assert nothing.status_code == 422
    assert "amend needs at least one of" in nothing.text
    not_a_number = op.post(url, {"action": "amend", "comment": "x", "qty_1": "ten"})
    assert not_a_number.status_code == 422
    all_gone = op.post(url, {"action": "amend", "comment": "x", "remove_1": "1", "remove_2": "1"})
    assert all_gone.status_code == 409
    assert "without lines" in all_gone.text
    assert service.get(f"/exceptions/{order['exception_id']}").json()["status"] == "open"
    assert op.post(url, {"action": "approve", "comment": "ok"}).status_code == 303
    again = op.post(url, {"action": "reject", "comment": "too late"})
    assert again.status_code == 409
    assert "already resolved" in again.text


def test_the_queue_filters(service: Any, make_order: Order, browser: Browser) -> None:
    a = service.post("/orders", failing(make_order, "F-1")).json()
    b = service.post(
        "/orders", make_order(customer_id="T1", po_number="F-2", ship_to_id=None, channel="email")
    ).json()
    op = browser("operator")

    def shown(**params: Any) -> list[int]:
        text = op.get("/ui/exceptions", **params).text
        return [
            e["exception_id"]
            for e in (a, b)
            if f'href="/ui/exceptions/{e["exception_id"]}"' in text
        ]

    assert shown() == [a["exception_id"], b["exception_id"]]
    assert shown(segment="tail") == [b["exception_id"]]
    assert shown(reason="below_moq") == [a["exception_id"]]
    assert shown(customer="T1") == [b["exception_id"]]
    assert shown(min_age_days="1") == []
    assert shown(min_age_days="0") == [a["exception_id"], b["exception_id"]]
    assert shown(min_age_days="") == [a["exception_id"], b["exception_id"]]
    for bad in ("-1", "nan", "soon"):
        answer = op.get("/ui/exceptions", min_age_days=bad)
        assert answer.status_code == 422
        assert "not a number of days" in answer.text


def test_admins_read_but_do_not_resolve(service: Any, make_order: Order, browser: Browser) -> None:
    order = service.post("/orders", failing(make_order, "A-1")).json()
    admin = browser("admin")
    page = admin.get(f"/ui/exceptions/{order['exception_id']}").text
    assert "may read exceptions but not resolve" in page
    url = f"/ui/exceptions/{order['exception_id']}/resolve"
    assert admin.post(url, {"action": "approve", "comment": "x"}).status_code == 403


def test_a_bound_operator_sees_only_its_customers(
    service: Any, make_order: Order, browser: Browser
) -> None:
    mine = service.post("/orders", failing(make_order, "B-1")).json()
    other = service.post(
        "/orders", make_order(customer_id="T1", po_number="B-2", ship_to_id=None, channel="email")
    ).json()
    with service.app.state.sessions() as session:
        key = issue_api_key(session, "operator", ["S1"], label="s1 desk")[1]
        session.commit()
    client = TestClient(service.app)
    client.post("/ui/login", data={"api_key": key})
    queue = client.get("/ui/exceptions").text
    assert f'href="/ui/exceptions/{mine["exception_id"]}"' in queue
    assert f'href="/ui/exceptions/{other["exception_id"]}"' not in queue
    assert (
        f'href="/ui/exceptions/{other["exception_id"]}"'
        not in client.get("/ui/exceptions", params={"customer": "T1"}).text
    )
    hidden = client.get(f"/ui/exceptions/{other['exception_id']}")
    assert hidden.status_code == 404
    assert hidden.text.count("T1") == 0 or "no exception" in hidden.text
    assert client.get("/ui/exceptions/424242").status_code == 404
