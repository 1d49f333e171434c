"""/api-keys: admin creates (plain key once), lists without secrets, revokes (401 at once)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Order = Callable[..., dict[str, Any]]


def test_create_use_list_revoke(service: Any, make_order: Order) -> None:
    r = service.post(
        "/api-keys", {"role": "submitter", "customers": ["S1"], "label": "EDI"}, "admin"
    )
    assert r.status_code == 201
    new = r.json()
    assert new["key"].startswith(f"ssk_{new['key_id']}_")
    assert new["customers"] == ["S1"]
    headers = {"X-API-Key": new["key"]}
    assert service.client.post("/orders", json=make_order(), headers=headers).status_code == 201
    listed = service.get("/api-keys", "admin").json()
    assert new["key_id"] in {k["key_id"] for k in listed}
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert (
        service.client.delete(f"/api-keys/{new['key_id']}", headers=service.h("admin")).status_code
        == 204
    )
    assert service.client.get("/orders", headers=headers).status_code == 401
    assert (
        service.client.delete(f"/api-keys/{new['key_id']}", headers=service.h("admin")).status_code
        == 404
    )
    revoked = next(
        k for k in service.get("/api-keys", "admin").json() if k["key_id"] == new["key_id"]
    )
    assert revoked["revoked_at"] is not None


def test_only_admins_manage_keys(service: Any) -> None:
    for who in ("operator", "submitter"):
        assert service.post("/api-keys", {"role": "admin"}, who).status_code == 403
        assert service.get("/api-keys", who).status_code == 403
    assert service.post("/api-keys", {"role": "root"}, "admin").status_code == 422
    assert (
        service.post("/api-keys", {"role": "submitter", "customers": []}, "admin").status_code
        == 422
    )


def test_an_admin_key_cannot_be_bound(service: Any) -> None:
    r = service.post("/api-keys", {"role": "admin", "customers": ["S1"]}, "admin")
    assert r.status_code == 422
    assert "admin key cannot be bound" in r.json()["detail"][0]["msg"]
    r = service.post("/api-keys", {"role": "operator", "customers": ["S1"]}, "admin")
    assert (r.status_code, r.json()["customers"]) == (201, ["S1"])
