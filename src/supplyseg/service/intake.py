"""Order intake: idempotent submission, validation against the active policy, and storage.

Idempotency is enforced by the database: every order has a unique ``dedupe_key``, derived from

- the ``Idempotency-Key`` header (scoped to the customer; in a batch, plus the position, in a
  namespace of its own, so item ``n`` of batch ``k`` never meets a single order sent with ``k``),
  or
- without a header, the customer, the PO number and a hash of the order's content,

so a retried request finds the stored order and gets its current view back instead of creating a
second one (``replayed``). A header reused with different content is a 409. A batch sent with a
header is also stored as a whole (``batches``, keyed by the header and the API key that sent it,
with the hash of all its orders): the same header with a different batch, even one that only adds
orders or changes their customers, is a 409 before anything is written. The same PO with
different content and no header is a new order, flagged by the ``duplicate_po`` check. When two
identical requests race, the loser's INSERT violates the unique constraint; it rolls back and
replays the winner's order.

A request is one transaction: nothing is acknowledged before the commit, and a database error
leaves nothing behind (the caller answers 503).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from supplyseg.service.events import OrderRef, record_order_change
from supplyseg.service.models import Base
from supplyseg.service.policy_store import PolicyCache
from supplyseg.service.problems import ConflictError, UnavailableError
from supplyseg.service.promise import (
    LinePromise,
    line_fields,
    promise_locked,
    write_reservations,
)
from supplyseg.service.promise_rules import late_promise_findings
from supplyseg.service.schemas import OrderIn, OrderLineOut, OrderOut, ReasonOut
from supplyseg.service.security import Principal
from supplyseg.service.validation import CompiledPolicy, Finding, Validation, validate_order
from supplyseg.service.views import order_view

__all__ = [
    "OPEN_STATUSES",
    "DbFacts",
    "Submission",
    "active_policy",
    "batch_dedupe_key",
    "dedupe_key",
    "lock_customer",
    "open_exception",
    "request_sha256",
    "store_findings",
    "submit_orders",
    "validation_with_promise",
]

# Orders that count against the credit limit (accepted or approved and not yet shipped).
OPEN_STATUSES = ("accepted", "accepted_with_warnings", "approved")
_ATTEMPTS = 3


@dataclass(frozen=True)
class Submission:
    """Result of one submitted order; ``replayed`` when it had been stored before."""

    order: OrderOut
    replayed: bool


_orders = Base.metadata.tables["orders"]
_lines = Base.metadata.tables["order_lines"]
_reasons = Base.metadata.tables["reasons"]
_exceptions = Base.metadata.tables["exceptions"]
_policy_customers = Base.metadata.tables["policy_customers"]
_batches = Base.metadata.tables["batches"]

# Built once: SQLAlchemy then reuses the compiled SQL, which matters at hundreds of orders/s.
_FIND_BY_DEDUPE = select(_orders.c.id, _orders.c.request_sha256).where(
    _orders.c.dedupe_key == bindparam("dk")
)
_OPEN_VALUE = select(func.coalesce(func.sum(_orders.c.total_value), 0.0)).where(
    _orders.c.customer_id == bindparam("cid"),
    _orders.c.status.in_(OPEN_STATUSES),
    _orders.c.id != bindparam("exclude"),
)
_PO_IN_USE = (
    select(_orders.c.id)
    .where(
        _orders.c.customer_id == bindparam("cid"),
        _orders.c.po_number == bindparam("po"),
        _orders.c.status != "rejected",
        _orders.c.id != bindparam("exclude"),
    )
    .limit(1)
)
_LOCK_CUSTOMER = (
    select(_policy_customers.c.customer_id)
    .where(
        _policy_customers.c.version_id == bindparam("vid"),
        _policy_customers.c.customer_id == bindparam("cid"),
    )
    .with_for_update()
)
# All customers of a batch at once, in id order: two batches locking their customers order by
# order would deadlock on PostgreSQL (measured with bench/service.py --db-url).
_LOCK_CUSTOMERS = (
    select(_policy_customers.c.customer_id)
    .where(
        _policy_customers.c.version_id == bindparam("vid"),
        _policy_customers.c.customer_id.in_(bindparam("cids", expanding=True)),
    )
    .order_by(_policy_customers.c.customer_id)
    .with_for_update()
)
_FIND_BATCH = select(_batches.c.request_sha256).where(_batches.c.dedupe_key == bindparam("dk"))
_INSERT_BATCH = insert(_batches)
_INSERT_ORDER = insert(_orders).returning(_orders.c.id)
_INSERT_LINES = insert(_lines)
_INSERT_REASONS = insert(_reasons)
_INSERT_EXCEPTION = insert(_exceptions).returning(_exceptions.c.id)


class DbFacts:
    """`OrderFacts` read from the orders table (``exclude`` = the order being re-validated)."""

    def __init__(self, session: Session, exclude: int | None = None) -> None:
        self._session = session
        self._exclude = -1 if exclude is None else exclude

    def open_order_value(self, customer_id: str) -> float:
        """Value of the customer's open orders."""
        value = (
            self._session.connection()
            .execute(_OPEN_VALUE, {"cid": customer_id, "exclude": self._exclude})
            .scalar()
        )
        return float(value or 0.0)

    def po_in_use(self, customer_id: str, po_number: str) -> bool:
        """Whether another non-rejected order of the customer has this PO number."""
        found = (
            self._session.connection()
            .execute(_PO_IN_USE, {"cid": customer_id, "po": po_number, "exclude": self._exclude})
            .scalar()
        )
        return found is not None


def request_sha256(order: OrderIn) -> str:
    """Hash of the order's validated content (independent of JSON key order and spacing)."""
    # Lines without a location hash as before line locations existed (stored keys stay valid).
    located = any(ln.location_id is not None for ln in order.lines)
    exclude = None if located else {"lines": {"__all__": {"location_id"}}}
    return hashlib.sha256(order.model_dump_json(exclude=exclude).encode()).hexdigest()


def dedupe_key(
    order: OrderIn,
    content_sha256: str,
    idempotency_key: str | None,
    position: int | None = None,
) -> str:
    """The unique key that makes a retry of ``order`` find the stored one.

    ``position`` is the order's index in a batch (None for a single order): batch items live in
    a namespace of their own, so no single order's key can name them.
    """
    if idempotency_key is not None and position is not None:
        raw = f"batch\x1f{order.customer_id}\x1f{idempotency_key}\x1f{position}"
    elif idempotency_key is not None:
        raw = f"idem\x1f{order.customer_id}\x1f{idempotency_key}"
    else:
        raw = f"po\x1f{order.customer_id}\x1f{order.po_number}\x1f{content_sha256}"
    return hashlib.sha256(raw.encode()).hexdigest()


def batch_dedupe_key(principal: Principal, idempotency_key: str) -> str:
    """The key of a whole batch: the header, scoped to the API key that sent it (a batch can
    hold several customers' orders, so no customer scopes it)."""
    return hashlib.sha256(f"batch\x1f{principal.key_id}\x1f{idempotency_key}".encode()).hexdigest()


def active_policy(session: Session, cache: PolicyCache) -> CompiledPolicy:
    """The active policy; `UnavailableError` (503) before the first publish."""
    policy = cache.active(session)
    if policy is None:
        raise UnavailableError(
            "no policy version is published; fix: run `supplyseg publish` with an approved"
            " policy version",
            code="no_policy",
        )
    return policy


def store_findings(
    session: Session, order_id: int, validation_round: int, findings: list[Finding], version: str
) -> list[ReasonOut]:
    """Write the findings of one validation round; returns their API form."""
    if not findings:
        return []
    rows = [
        {
            "order_id": order_id,
            "validation_round": validation_round,
            "code": f.code,
            "severity": f.severity,
            "line_no": f.line_no,
            "field": f.field,
            "message": f.message,
            "rule": f.rule,
            "policy_version": version,
            "suggested_value": f.suggested_value,
        }
        for f in findings
    ]
    session.connection().execute(_INSERT_REASONS, rows)
    return [
        ReasonOut(**{k: v for k, v in r.items() if k not in ("order_id", "validation_round")})
        for r in rows
    ]


def open_exception(
    session: Session, order_id: int, validation_round: int, segment: str | None, at: datetime
) -> int:
    """Put an order in the exception queue; returns the exception id."""
    exception_id: int = (
        session.connection()
        .execute(
            _INSERT_EXCEPTION,
            {
                "order_id": order_id,
                "validation_round": validation_round,
                "segment": segment,
                "status": "open",
                "opened_at": at,
                "resolved_at": None,
                "resolution": None,
                "resolved_by": None,
                "comment": None,
            },
        )
        .scalar_one()
    )
    return exception_id


def lock_customer(session: Session, policy: CompiledPolicy, customer_id: str) -> None:
    """Serialise changes to a customer's orders until the transaction ends: the credit and
    duplicate-PO checks read then write. PostgreSQL locks the customer's policy row; SQLite
    already serialises every write transaction (BEGIN IMMEDIATE)."""
    if customer_id in policy.customers and session.get_bind().dialect.name != "sqlite":
        session.execute(_LOCK_CUSTOMER, {"vid": policy.version_id, "cid": customer_id})


def validation_with_promise(
    session: Session, policy: CompiledPolicy, order: OrderIn, v: Validation
) -> tuple[Validation, list[LinePromise]]:
    """``v`` with the ``late_promise`` findings of ``order``'s promise, and the promises to
    reserve (none when the order ends in the exception queue: it holds nothing until resolved).

    An order ``v`` leaves open is promised under its segment's rules with its products locked
    (`promise_locked`); the promise comes first because a promise too late makes the order an
    exception. The caller reserves the promises with `write_reservations` in the same
    transaction (``POST /orders``, an approved or amended exception).
    """
    if v.status not in OPEN_STATUSES:
        return v, []
    rules = policy.segments.get(v.segment) if v.segment else None
    lines = promise_locked(
        session, policy.version_id, order, v.segment, rules.promising if rules else None
    )
    if v.segment is not None:
        v = v.with_findings(late_promise_findings(order, lines, rules, v.segment))
    return v, (lines if v.status in OPEN_STATUSES else [])


def submit_orders(
    session: Session,
    cache: PolicyCache,
    orders: Sequence[OrderIn],
    *,
    principal: Principal,
    idempotency_key: str | None = None,
    batch: bool = False,
) -> list[Submission]:
    """Validate and store ``orders`` in one transaction and commit; replays stored ones.

    ``batch``: the orders came as one batch request (``/orders/batch``, CSV), even if only one.
    """
    for order in orders:
        principal.check_customer(order.customer_id)
    for attempt in range(_ATTEMPTS):
        try:
            results = _submit_all(session, cache, orders, principal, idempotency_key, batch)
            session.commit()
            return results
        except IntegrityError as exc:
            session.rollback()
            # A concurrent identical request won the race; the next attempt replays its order.
            if "dedupe_key" not in str(exc.orig) or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _stored_order(session: Session, dk: str) -> tuple[int, str] | None:
    """``(id, request_sha256)`` of the order stored under ``dk``, if any."""
    row = session.connection().execute(_FIND_BY_DEDUPE, {"dk": dk}).one_or_none()
    return None if row is None else (row.id, row.request_sha256)


def _submit_all(
    session: Session,
    cache: PolicyCache,
    orders: Sequence[OrderIn],
    principal: Principal,
    idempotency_key: str | None,
    batch: bool,
) -> list[Submission]:
    now = datetime.now(UTC)
    policy: CompiledPolicy | None = None
    results: list[Submission] = []
    contents = [request_sha256(order) for order in orders]
    if batch and idempotency_key is not None:
        _check_batch(session, principal, idempotency_key, contents, now)
    if batch and len(orders) > 1 and session.get_bind().dialect.name != "sqlite":
        policy = active_policy(session, cache)
        cids = sorted({o.customer_id for o in orders} & policy.customers.keys())
        session.execute(_LOCK_CUSTOMERS, {"vid": policy.version_id, "cids": cids})
    for i, order in enumerate(orders):
        content = contents[i]
        dk = dedupe_key(order, content, idempotency_key, i if batch else None)
        found = _stored_order(session, dk)
        if found is not None:
            found_id, found_sha256 = found
            if found_sha256 != content:
                raise ConflictError(
                    f"Idempotency-Key {idempotency_key!r} was used for order {found_id} with"
                    f" different content (orders[{i}]); fix: use a new key for a new order",
                    code="idempotency_key_reused",
                )
            results.append(Submission(order_view(session, found_id), True))
            continue
        if policy is None:
            policy = active_policy(session, cache)
        results.append(
            Submission(_create(session, policy, order, dk, content, principal, now), False)
        )
    return results


def _check_batch(
    session: Session,
    principal: Principal,
    idempotency_key: str,
    contents: list[str],
    now: datetime,
) -> None:
    """Record a new keyed batch, or `ConflictError` if its key was used for another batch."""
    dk = batch_dedupe_key(principal, idempotency_key)
    content = hashlib.sha256("\n".join(contents).encode()).hexdigest()
    conn = session.connection()
    stored = conn.execute(_FIND_BATCH, {"dk": dk}).scalar()
    if stored is None:
        conn.execute(
            _INSERT_BATCH,
            {
                "dedupe_key": dk,
                "request_sha256": content,
                "n_orders": len(contents),
                "submitted_by": principal.key_id,
                "created_at": now,
            },
        )
    elif stored != content:
        raise ConflictError(
            f"Idempotency-Key {idempotency_key!r} was used for a different batch; fix: use a"
            " new key for a new batch, or resend the first batch unchanged",
            code="idempotency_key_reused",
        )


def _create(
    session: Session,
    policy: CompiledPolicy,
    order: OrderIn,
    dk: str,
    content: str,
    principal: Principal,
    now: datetime,
) -> OrderOut:
    lock_customer(session, policy, order.customer_id)
    v: Validation = validate_order(order, policy, DbFacts(session))
    v, lines = validation_with_promise(session, policy, order, v)
    promised = {p.line_no: p for p in lines}
    rules = policy.segments.get(v.segment) if v.segment else None
    # Core statements on the session's connection: the ORM adds nothing for plain inserts.
    conn = session.connection()
    order_id: int = conn.execute(
        _INSERT_ORDER,
        {
            "dedupe_key": dk,
            "request_sha256": content,
            "customer_id": order.customer_id,
            "po_number": order.po_number,
            "channel": order.channel,
            "order_date": order.order_date,
            "requested_date": order.requested_date,
            "ship_to_id": order.ship_to_id,
            "segment": v.segment,
            "status": v.status,
            "policy_version": policy.version_id,
            "total_value": v.total_value,
            "validation_round": 1,
            "submitted_by": principal.key_id,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    conn.execute(
        _INSERT_LINES,
        [
            {
                "order_id": order_id,
                "line_no": ln.line_no,
                "product_id": ln.product_id,
                "quantity": ln.quantity,
                "unit_price": ln.unit_price,
                "location_id": ln.location_id,
            }
            for ln in order.lines
        ],
    )
    if promised:
        write_reservations(session, order_id, order, v.segment, list(promised.values()), now)
    reasons = store_findings(session, order_id, 1, v.findings, policy.version_id)
    exception_id = None
    if v.status == "exception":
        exception_id = open_exception(session, order_id, 1, v.segment, now)
    ref = OrderRef(order_id, order.customer_id, order.po_number, v.segment, policy.version_id)
    record_order_change(
        session,
        ref,
        action="submit",
        actor=principal.key_id,
        at=now,
        before=None,
        after={
            "status": v.status,
            "reason_codes": [f.code for f in v.findings],
            "total_value": v.total_value,
            "exception_id": exception_id,
        },
        events=(v.status,),
        rules=rules,
    )
    return OrderOut(
        order_id=order_id,
        customer_id=order.customer_id,
        po_number=order.po_number,
        channel=order.channel,
        order_date=order.order_date,
        requested_date=order.requested_date,
        ship_to_id=order.ship_to_id,
        status=v.status,
        segment=v.segment,
        policy_version=policy.version_id,
        total_value=v.total_value,
        exception_id=exception_id,
        reasons=reasons,
        lines=[
            OrderLineOut(
                line_no=ln.line_no,
                product_id=ln.product_id,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                **line_fields(promised.get(ln.line_no)),
            )
            for ln in sorted(order.lines, key=lambda ln: ln.line_no)
        ],
    )
