"""API keys: creation (plain key shown once), hashed storage, authentication and role permissions.

A key looks like ``ssk_<key_id>_<secret>``. Only ``key_id`` (public, the primary key) and the
sha256 of the whole key are stored; authentication looks the row up by ``key_id`` and compares
hashes in constant time. Roles:

- ``submitter``: submit orders and read orders/notifications of the customers it is bound to
  (``customers = None`` binds it to every customer, e.g. an EDI gateway);
- ``operator``: read orders, exceptions and notifications, resolve exceptions, record shipments,
  cancel orders;
- ``admin``: publish policy versions, manage keys, cancel orders, read everything.

A customer binding applies to every resource: lists show the bound customers only, and a single
order or exception of another customer is answered 404, exactly like one that does not exist, so
a key learns nothing about other customers' ids. An admin key cannot be bound: it manages keys
and could issue itself an unbound one, so a binding would only pretend to limit it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from supplyseg.errors import ServiceError
from supplyseg.service.models import ApiKey, Audit
from supplyseg.service.problems import ForbiddenError, NotFoundError

__all__ = [
    "ADMIN_BOUND",
    "PERMISSIONS",
    "ROLES",
    "Permission",
    "Principal",
    "PrincipalCache",
    "Role",
    "authenticated_principal",
    "issue_api_key",
    "key_hash",
    "revoke_api_key",
]

Role = Literal["submitter", "operator", "admin"]
ROLES: tuple[Role, ...] = ("submitter", "operator", "admin")

Permission = Literal[
    "orders:submit",
    "orders:read",
    "orders:ship",
    "orders:cancel",
    "exceptions:read",
    "exceptions:resolve",
    "notifications:read",
    "policies:read",
    "policies:publish",
    "keys:manage",
]

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "submitter": frozenset({"orders:submit", "orders:read", "notifications:read"}),
    "operator": frozenset(
        {
            "orders:read",
            "orders:ship",
            "orders:cancel",
            "exceptions:read",
            "exceptions:resolve",
            "notifications:read",
            "policies:read",
        }
    ),
    "admin": frozenset(
        {
            "orders:read",
            "orders:cancel",
            "exceptions:read",
            "notifications:read",
            "policies:read",
            "policies:publish",
            "keys:manage",
        }
    ),
}

_PREFIX = "ssk"

ADMIN_BOUND = (
    "an admin key cannot be bound to customers (it manages keys, so a binding would not limit"
    " it); fix: drop the customers, or create an operator or submitter key for them"
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id, its role and the customers it is bound to (None = all)."""

    key_id: str
    role: Role
    customers: frozenset[str] | None

    def can(self, permission: Permission) -> bool:
        """Whether the role grants ``permission``."""
        return permission in PERMISSIONS[self.role]

    def may_access(self, customer_id: str) -> bool:
        """Whether the key is bound to ``customer_id`` (always true for an unbound key)."""
        return self.customers is None or customer_id in self.customers

    def check_customer(self, customer_id: str) -> None:
        """Raise `ForbiddenError` unless the key is bound to ``customer_id``.

        For a customer id the caller named itself (submitting, filtering); a stored resource
        of another customer is hidden with `check_visible` instead.
        """
        if not self.may_access(customer_id):
            raise ForbiddenError(
                f"API key {self.key_id} is not bound to customer {customer_id!r}",
                code="customer_forbidden",
            )

    def check_visible(self, customer_id: str, not_found: str) -> None:
        """Raise `NotFoundError` (``not_found`` as message) unless bound to ``customer_id``.

        The answer is the one for a missing resource, so ids of other customers stay hidden.
        """
        if not self.may_access(customer_id):
            raise NotFoundError(not_found)


class PrincipalCache:
    """Authenticated keys remembered for ``ttl_s`` seconds (0 disables the cache).

    Saves a database read per request. Revoking a key through the API clears the cache of that
    process at once; a key revoked by another process (the CLI, another server process) stops
    working there within ``ttl_s`` seconds. Only valid keys are cached, at most ``max_entries``.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        """The cached principal of ``token`` if fresh, else None."""
        if self.ttl_s <= 0:
            return None
        hit = self._entries.get(key_hash(token))
        if hit is None or time.monotonic() - hit[1] > self.ttl_s:
            return None
        return hit[0]

    def put(self, token: str, principal: Principal) -> None:
        """Remember a principal just authenticated from the database."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key_hash(token)] = (principal, time.monotonic())

    def clear(self) -> None:
        """Forget every key (after a revocation)."""
        with self._lock:
            self._entries.clear()


def key_hash(token: str) -> str:
    """The stored form of a key: sha256 hex of the whole token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _key_id(token: str) -> str | None:
    if "\x00" in token:  # PostgreSQL text cannot hold NUL: unknown key, not a database error
        return None
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != _PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def issue_api_key(
    session: Session,
    role: str,
    customers: list[str] | None,
    *,
    label: str = "",
    actor: str = "cli",
) -> tuple[str, str]:
    """Create a key; returns ``(key_id, plain key)``. The plain key is not stored anywhere.

    The caller commits. Raises `ServiceError` for an unknown role, an empty customer list or
    an admin key bound to customers (see the module docstring).
    """
    if role not in ROLES:
        raise ServiceError(f"role {role!r} is not a role; allowed: {list(ROLES)}")
    if role == "admin" and customers is not None:
        raise ServiceError(ADMIN_BOUND)
    if customers is not None and (not customers or any(not c for c in customers)):
        raise ServiceError(
            f"customers {customers!r}: give at least one non-empty customer id, or none to bind"
            " the key to every customer"
        )
    if len(label) > 200 or "\x00" in label:
        raise ServiceError(
            f"label {label[:40]!r}...: at most 200 characters, no NUL; fix: shorten the label"
        )
    key_id = secrets.token_hex(6)
    token = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    bound = sorted(set(customers)) if customers is not None else None
    session.execute(
        insert(ApiKey).values(
            key_id=key_id,
            key_hash=key_hash(token),
            role=role,
            customers=bound,
            label=label,
            created_at=now,
            revoked_at=None,
        )
    )
    session.execute(
        insert(Audit).values(
            at=now,
            actor=actor,
            entity="api_key",
            entity_id=key_id,
            action="create",
            before=None,
            after={"role": role, "customers": bound, "label": label},
            comment=None,
        )
    )
    return key_id, token


def revoke_api_key(session: Session, key_id: str, *, actor: str) -> None:
    """Mark a key revoked (kept for audit). The caller commits."""
    now = datetime.now(UTC)
    done = session.execute(
        update(ApiKey)
        .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFoundError(f"no active API key {key_id!r}")
    session.execute(
        insert(Audit).values(
            at=now,
            actor=actor,
            entity="api_key",
            entity_id=key_id,
            action="revoke",
            before=None,
            after={"revoked_at": now.isoformat()},
            comment=None,
        )
    )


def authenticated_principal(session: Session, token: str) -> Principal | None:
    """The principal of a presented key, or None if it is malformed, unknown or revoked."""
    key_id = _key_id(token)
    if key_id is None:
        return None
    row = session.execute(
        select(ApiKey.key_hash, ApiKey.role, ApiKey.customers, ApiKey.revoked_at).where(
            ApiKey.key_id == key_id
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, key_hash(token)):
        return None
    customers = frozenset(row.customers) if row.customers is not None else None
    role: Role = row.role
    return Principal(key_id=key_id, role=role, customers=customers)
