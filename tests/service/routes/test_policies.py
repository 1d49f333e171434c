"""/policies: publish by admin only, atomically; list, active, full document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Order = Callable[..., dict[str, Any]]


def test_publish_switches_the_rules_orders_are_checked_against(
    service: Any, policy_doc: dict[str, Any], make_order: Order
) -> None:
    assert service.post("/orders", make_order()).json()["segment"] == "standard"
    v2 = {**policy_doc, "version_id": "fixture-2026-02"}
    v2["customers"] = [
        {**c, "segment": "key_account"} if c["customer_id"] == "S1" else c
        for c in policy_doc["customers"]
    ]
    assert service.post("/policies", v2, "operator").status_code == 403
    r = service.post("/policies", v2, "admin")
    assert (r.status_code, r.json()) == (
        201,
        {"version_id": "fixture-2026-02", "new_version": True},
    )
    after = service.post("/orders", make_order(po_number="PO-2")).json()
    assert (after["segment"], after["policy_version"]) == ("key_account", "fixture-2026-02")
    listed = service.get("/policies", "admin").json()
    assert [(p["version_id"], p["active"]) for p in listed] == [
        ("fixture-2026-02", True),
        ("fixture-2026-01", False),
    ]
    assert service.get("/policies/active").json()["version_id"] == "fixture-2026-02"
    doc = service.get("/policies/fixture-2026-01").json()
    assert doc["customers"][2] == {**policy_doc["customers"][2], "active": True}
    again = service.post("/policies", policy_doc, "admin")  # roll back
    assert (again.status_code, again.json()["new_version"]) == (200, False)
    assert service.get("/policies/active").json()["version_id"] == "fixture-2026-01"
    assert service.get("/policies/nope").status_code == 404


def test_bad_or_conflicting_documents_are_refused(service: Any, policy_doc: dict[str, Any]) -> None:
    bad = {**policy_doc, "version_id": "v3", "segments": {"standard": {"moqq": 1}}}
    r = service.post("/policies", bad, "admin")
    assert r.status_code == 422
    conflict = {**policy_doc, "currency": "USD"}
    r = service.post("/policies", conflict, "admin")
    assert (r.status_code, r.json()["code"]) == (409, "version_conflict")
