"""Per-segment promising rules: partial shipment, minimum fill, maximum lateness (late_promise
into the exception queue) and location substitution, on the service and as a pure function."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from supplyseg.policy.document import PromisingRules, SegmentRules
from supplyseg.service.promise import LinePromise
from supplyseg.service.promise_rules import late_promise_findings
from supplyseg.service.schemas import OrderIn

from .conftest import Service

# key_account: a promise at most 3 days late, and any location; standard: whole lines only;
# tail: a partial confirmation must fill at least half the line
RULES = {
    "key_account": {"max_lateness_days": 3, "substitute_locations": True},
    "standard": {"partial_shipment": False},
    "tail": {"min_fill": 0.5},
}
# on hand 2030-03-01: DC1 40, DC2 30; a receipt of 50 at DC1 on 2030-03-20 (120 in all)
SUPPLY = [
    ("DC1", "2030-03-01", "on_hand", 40.0),
    ("DC2", "2030-03-01", "on_hand", 30.0),
    ("DC1", "2030-03-20", "receipt", 50.0),
]


@pytest.fixture
def policy_doc(policy_doc: dict[str, Any]) -> dict[str, Any]:
    for segment, promising in RULES.items():
        policy_doc["segments"][segment]["promising"] = promising
    return policy_doc


@pytest.fixture
def stocked(service: Service) -> Service:
    rows = [
        {"product_id": "P100", "location_id": loc, "date": d, "kind": k, "quantity": q}
        for loc, d, k, q in SUPPLY
    ]
    r = service.post("/supply", {"mode": "add", "rows": rows}, who="admin")
    assert r.status_code == 200, r.text
    return service


def _order(customer: str, qty: float, location: str | None = None, po: str = "P-1") -> Any:
    line: dict[str, Any] = {"line_no": 1, "product_id": "P100", "quantity": qty}
    if location is not None:
        line["location_id"] = location
    return {
        "customer_id": customer,
        "po_number": po,
        "channel": "edi",
        "order_date": "2030-03-02",
        "requested_date": "2030-03-09",
        "ship_to_id": {"S1": "S1-MAIN", "K1": "K1-A", "T1": "T1-X"}.get(customer),
        "lines": [{**line, "unit_price": 10.0}],
    }


def _promise(s: Service, body: Any) -> tuple[Any, ...]:
    r = s.post("/promise", body, who="gateway")
    assert r.status_code == 200, r.text
    ln = r.json()["lines"][0]
    keys = ("confirmed_quantity", "promised_date", "backorder_quantity", "location_id")
    return (*(ln[k] for k in keys), [x["code"] for x in r.json()["reasons"]])


def test_the_defaults_confirm_what_the_horizon_holds() -> None:
    rules = PromisingRules()
    assert (rules.partial_shipment, rules.min_fill) == (True, 0.0)
    assert (rules.max_lateness_days, rules.substitute_locations) == (None, False)
    assert SegmentRules().promising == rules


def test_without_partial_shipment_a_line_is_confirmed_whole_or_not_at_all(
    stocked: Service,
) -> None:
    s = stocked
    assert _promise(s, _order("S1", 100)) == (100.0, "2030-03-20", 0.0, None, [])
    assert _promise(s, _order("S1", 150)) == (0.0, None, 150.0, None, [])
    # K2 (key accounts may ship in part) gets what the horizon holds, late: a late_promise
    assert _promise(s, _order("K2", 150)) == (120.0, "2030-03-20", 30.0, None, ["late_promise"])


def test_a_partial_confirmation_below_min_fill_is_dropped(stocked: Service) -> None:
    s = stocked
    assert _promise(s, _order("T1", 200))[:3] == (120.0, "2030-03-20", 80.0)  # 60 % >= 50 %
    assert _promise(s, _order("T1", 250))[:3] == (0.0, None, 250.0)  # 48 % < 50 %


def test_a_late_promise_is_an_exception_that_reserves_nothing(stocked: Service) -> None:
    s = stocked
    first = s.post("/orders", _order("K2", 60, po="PO-1"), who="gateway")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "accepted"
    assert first.json()["lines"][0]["confirmed_quantity"] == 60.0
    # 10 left on hand; 50 more only with the receipt of 2030-03-20, 11 days after the request
    late = s.post("/orders", _order("K2", 50, po="PO-2"), who="gateway")
    assert late.status_code == 201, late.text
    body = late.json()
    assert body["status"] == "exception"
    reason = next(r for r in body["reasons"] if r["code"] == "late_promise")
    assert (reason["severity"], reason["line_no"]) == ("error", 1)
    assert reason["suggested_value"] == "2030-03-20"
    assert reason["rule"] == "segments.key_account.promising.max_lateness_days"
    assert "2030-03-12" in reason["message"]  # requested + 3 days
    assert body["lines"][0]["confirmed_quantity"] is None  # nothing reserved
    exceptions = s.get("/exceptions", status="open").json()
    assert [e["order_id"] for e in exceptions["items"]] == [body["order_id"]]
    # the exception holds nothing: the same quantity is still promisable on the same date
    assert _promise(s, _order("K2", 50))[:2] == (50.0, "2030-03-20")
    assert _promise(s, _order("K2", 10))[:2] == (10.0, "2030-03-09")


def test_a_line_is_promised_from_another_location_when_its_own_cannot_cover_it(
    stocked: Service,
) -> None:
    s = stocked
    # tail: no substitution, DC2's 30 of 35 (86 % >= min_fill)
    assert _promise(s, _order("T1", 35, "DC2")) == (30.0, "2030-03-09", 5.0, "DC2", [])
    # key accounts: DC1 has 40 on hand and takes the line
    assert _promise(s, _order("K2", 35, "DC2")) == (35.0, "2030-03-09", 0.0, "DC1", [])
    assert _promise(s, _order("K2", 25, "DC2")) == (25.0, "2030-03-09", 0.0, "DC2", [])
    order = s.post("/orders", _order("K2", 35, "DC2", po="PO-9"), who="gateway").json()
    assert order["lines"][0]["location_id"] == "DC1"
    stored = s.get(f"/orders/{order['order_id']}").json()
    assert stored["lines"][0]["location_id"] == "DC1"
    # DC1 has 5 left; DC2 30: a DC1 line of 20 moves to DC2
    assert _promise(s, _order("K2", 20, "DC1")) == (20.0, "2030-03-09", 0.0, "DC2", [])


def test_a_location_promise_stays_within_what_all_locations_have_left(stocked: Service) -> None:
    s = stocked
    pooled = s.post("/orders", _order("K2", 60, po="PO-1"), who="gateway").json()
    assert pooled["lines"][0]["location_id"] is None
    # DC1 alone has 40 on hand, but a pooled reservation of 60 leaves 10 in all until the
    # receipt: 35 from DC1 is promised for 2030-03-20, 11 days late
    got = _promise(s, _order("K2", 35, "DC1"))
    assert got == (35.0, "2030-03-20", 0.0, "DC1", ["late_promise"])


def _line(promised: date | None, qty: float = 5.0) -> LinePromise:
    return LinePromise(1, "P100", 5.0, qty, promised, 5.0 - qty, None)


ORDER = OrderIn.model_validate(
    {
        "customer_id": "K2",
        "po_number": "X",
        "channel": "edi",
        "order_date": "2030-03-02",
        "requested_date": "2030-03-09",
        "lines": [{"line_no": 1, "product_id": "P100", "quantity": 5.0}],
    }
)


@pytest.mark.parametrize(
    ("promised", "strictness", "severity"),
    [
        (date(2030, 3, 12), "hard", None),  # requested + 3 days: in time
        (date(2030, 3, 13), "hard", "error"),
        (date(2030, 3, 13), "soft", "warning"),
        (date(2030, 3, 13), "none", None),
        (None, "hard", "error"),  # nothing can be promised at all
    ],
)
def test_late_promise_findings_follow_the_limit_and_the_strictness(
    promised: date | None, strictness: str, severity: str | None
) -> None:
    rules = SegmentRules.model_validate(
        {"promising": {"max_lateness_days": 3}, "strictness": {"late_promise": strictness}}
    )
    found = late_promise_findings(ORDER, [_line(promised, 5.0 if promised else 0.0)], rules, "k")
    assert [f.severity for f in found] == ([] if severity is None else [severity])
    assert late_promise_findings(ORDER, [_line(None, 0.0)], SegmentRules(), "k") == []
