"""Workbench dashboard: policy figures and the ageing of open exceptions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from supplyseg.service.security import Principal
from supplyseg.service.ui.dashboard import AGE_BUCKETS, age_bucket, open_exceptions_by_age

Order = Callable[..., dict[str, Any]]
Browser = Callable[[str], Any]
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "bucket"),
    [(0, "< 1 d"), (23.9, "< 1 d"), (24, "1-3 d"), (71.9, "1-3 d"), (72, "3-7 d"), (168, "> 7 d")],
)
def test_age_buckets(hours: float, bucket: str) -> None:
    assert age_bucket(NOW - timedelta(hours=hours), NOW) == bucket
    naive = (NOW - timedelta(hours=hours)).replace(tzinfo=None)  # as SQLite hands it back
    assert age_bucket(naive, NOW) == bucket
    assert bucket in [label for label, _ in AGE_BUCKETS]


def test_ageing_counts_what_the_key_may_see(service: Any, make_order: Order) -> None:
    service.post("/orders", make_order(customer_id="X9", po_number="D-1"))  # unknown customer
    service.post("/orders", make_order(po_number="D-2", lines=[
        {"line_no": 1, "product_id": "P100", "quantity": 5, "unit_price": 10.0}]))  # fmt: skip
    later = datetime.now(UTC) + timedelta(days=2)
    with service.app.state.sessions() as session:
        everyone = open_exceptions_by_age(session, Principal("k", "operator", None), later)
        s1 = open_exceptions_by_age(session, Principal("k", "operator", frozenset({"S1"})), later)
    assert {k: dict(v) for k, v in everyone.items()} == {
        "standard": {"1-3 d": 1},
        "unknown": {"1-3 d": 1},
    }
    assert {k: dict(v) for k, v in s1.items()} == {"standard": {"1-3 d": 1}}


def test_the_dashboard_per_role(service: Any, make_order: Order, browser: Browser) -> None:
    service.post("/orders", make_order(po_number="D-3"))
    op = browser("operator").get("/ui/").text
    assert "fixture-2026-01" in op
    assert "Service targets per segment" in op
    assert "Open exceptions by segment and age" in op
    sub = browser("s1_only").get("/ui/").text
    assert "fixture-2026-01" not in sub  # submitters may not read policies
    assert "Open exceptions" not in sub
    assert "Orders of your customers" in sub
