"""Status changes of orders: one append-only audit row each, and an outbox notification when the
order's segment policy asks for that event — both in the caller's transaction, so a notification
exists exactly when the change it reports was committed.

The outbox ``id`` is the feed's cursor (``GET /notifications?since=``), so ids must become
visible in id order: a consumer that has read up to id ``n`` must never later find a new id
below ``n``. A database sequence does not promise that on PostgreSQL (transaction A takes id 7,
B takes 8, B commits first: a reader sees 8, moves its cursor past 7, and 7 is lost when A
commits). So notifications are queued in the session and written at commit
(`write_queued_notifications`, run by a ``before_commit`` hook on every `Session`): on
PostgreSQL under a transaction-scoped advisory lock, with ids ``max(id) + 1 ...``; the lock is
held until the commit is visible, so the next writer numbers after it. Only the last moment of
a notifying transaction (insert and commit) is serialised. SQLite serialises every write
transaction anyway (``BEGIN IMMEDIATE``), and takes the same path without a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session, SessionTransaction

from supplyseg.policy.document import SegmentRules, StatusEvent
from supplyseg.service.models import Base

__all__ = ["FEED_LOCK", "OrderRef", "record_order_change", "write_queued_notifications"]

_outbox = Base.metadata.tables["outbox"]
# Built once so the compiled SQL is reused.
_INSERT_AUDIT = insert(Base.metadata.tables["audit"])
_INSERT_OUTBOX = insert(_outbox)
_LAST_ID = select(func.coalesce(func.max(_outbox.c.id), 0))
# Any constant (another than the migration lock's): serialises the numbering of the feed.
FEED_LOCK = 7_240_912
_QUEUE = "supplyseg_outbox_queue"


@dataclass(frozen=True)
class OrderRef:
    """What a notification names about an order."""

    order_id: int
    customer_id: str
    po_number: str
    segment: str | None
    policy_version: str


def record_order_change(
    session: Session,
    order: OrderRef,
    *,
    action: str,
    actor: str,
    at: datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    events: tuple[StatusEvent, ...],
    rules: SegmentRules | None,
    comment: str | None = None,
) -> int:
    """Audit one change of ``order`` and queue the ``events`` its segment is notified of.

    ``rules`` is the order's segment rules (None for an unknown customer: no segment, so no
    notifications). Returns the number of notifications written.
    """
    conn = session.connection()
    conn.execute(
        _INSERT_AUDIT,
        {
            "at": at,
            "actor": actor,
            "entity": "order",
            "entity_id": str(order.order_id),
            "action": action,
            "before": before,
            "after": after,
            "comment": comment,
        },
    )
    wanted = [e for e in events if rules is not None and e in rules.notify]
    if wanted:
        session.info.setdefault(_QUEUE, []).extend(
            [
                {
                    "created_at": at,
                    "order_id": order.order_id,
                    "customer_id": order.customer_id,
                    "segment": order.segment,
                    "event": event,
                    "payload": {
                        "order_id": order.order_id,
                        "customer_id": order.customer_id,
                        "po_number": order.po_number,
                        "status": after.get("status"),
                        "reason_codes": after.get("reason_codes", []),
                        "policy_version": order.policy_version,
                        "comment": comment,
                        # what changed per line (backorder processing), when given
                        **({"lines": after["lines"]} if "lines" in after else {}),
                    },
                }
                for event in wanted
            ]
        )
    return len(wanted)


def write_queued_notifications(session: Session) -> int:
    """Write the notifications queued in ``session`` with feed-ordered ids; returns how many.

    Runs just before ``session`` commits (see the module docstring); the caller's transaction
    must commit soon after, since on PostgreSQL it holds every other notifying commit.
    """
    rows: list[dict[str, Any]] | None = session.info.pop(_QUEUE, None)
    if not rows:
        return 0
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(FEED_LOCK)))
    first = int(conn.execute(_LAST_ID).scalar_one()) + 1
    conn.execute(_INSERT_OUTBOX, [{**row, "id": first + i} for i, row in enumerate(rows)])
    return len(rows)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    write_queued_notifications(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back (a commit has emptied the queue already)
        session.info.pop(_QUEUE, None)
