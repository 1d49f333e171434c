"""Status changes of orders: one append-only audit row each, and an outbox notification when the
order's segment policy asks for that event — both in the caller's transaction, so a notification
exists exactly when the change it reports was committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from supplyseg.policy.document import SegmentRules, StatusEvent
from supplyseg.service.models import Base

__all__ = ["OrderRef", "record_order_change"]

# Built once so the compiled SQL is reused.
_INSERT_AUDIT = insert(Base.metadata.tables["audit"])
_INSERT_OUTBOX = insert(Base.metadata.tables["outbox"])


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
        conn.execute(
            _INSERT_OUTBOX,
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
                    },
                }
                for event in wanted
            ],
        )
    return len(wanted)
