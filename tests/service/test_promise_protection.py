"""Order promising with fill-target protection (`supplyseg.service.promise`): a segment's
protected quantity per product holds the lower segments back, rolls down over its horizon,
and counts what the segment has booked."""

from __future__ import annotations

from datetime import date

import pytest

from supplyseg.service.promise import publish_allocation

from .conftest import Service
from .test_promise import SHARES, VERSION, _line, _order, _supply

# key accounts protect 70 of P100 for the 28 days from 1 March (their share of 50 % is ignored)
PROTECTION = [
    {"product_id": "P100", "customer_segment": "key_account", "protected_quantity": 70.0,
     "horizon_start": date(2030, 3, 1), "horizon_end": date(2030, 3, 29)},
]  # fmt: skip


@pytest.fixture
def protected(service: Service) -> Service:
    with service.app.state.sessions() as session:
        publish_allocation(
            session,
            VERSION,
            SHARES,
            [{"product_id": "P100", "product_segment": "A"}],
            PROTECTION,
        )
        session.commit()
    r = _supply(service, [("P100", "2030-03-01", "on_hand", 100.0)])
    assert r.status_code == 200, r.text
    return service


def _standard(s: Service, ordered: str, qty: float = 99.0) -> float:
    body = _order("S1", qty, "P-1", order_date=ordered, requested_date="2030-04-01")
    r = s.post("/promise", body, who="gateway")
    assert r.status_code == 200, r.text
    return float(_line(r.json())[0])


def test_the_protected_quantity_holds_the_lower_segments_back(protected: Service) -> None:
    # at the start of the horizon: 100 - 70 (not 100 - 50 as the share would give)
    assert _standard(protected, "2030-03-01") == 30.0
    # halfway through, half the protection is still ahead: 100 - 35
    assert _standard(protected, "2030-03-15") == 65.0
    # after the horizon nothing is protected any more
    assert _standard(protected, "2030-03-29") == 99.0
    # the protected segment itself may take everything
    key = protected.post("/promise", _order("K2", 99, "P-2", order_date="2030-03-01"),
                         who="gateway")  # fmt: skip
    assert _line(key.json())[:2] == (99.0, "2030-03-09")


def test_what_the_segment_booked_counts_on_top_of_the_rest_of_its_protection(
    protected: Service,
) -> None:
    s = protected
    mid = {"order_date": "2030-03-15", "requested_date": "2030-03-20"}
    key = s.post("/orders", _order("K2", 20, "PO-K", **mid), who="gateway")
    assert key.status_code == 201, key.text
    # 100 on hand - (20 booked + 35 still protected)
    assert _standard(s, "2030-03-15") == 45.0
    first = s.post("/orders", _order("S1", 40, "PO-S", **mid), who="gateway")
    assert _line(first.json())[0] == 40.0
    assert _standard(s, "2030-03-15") == 5.0
