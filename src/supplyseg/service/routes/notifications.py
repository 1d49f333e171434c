"""``/notifications``: the outbox feed of segment-specific status updates, for integration.

Read with ``since`` = the last ``id`` seen (``next_since`` of the previous page). Ids become
visible in id order on SQLite and PostgreSQL alike (`supplyseg.service.events` numbers them at
commit), so a consumer following ``next_since`` never skips a notification and needs no overlap.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from supplyseg.service.deps import CanReadNotifications, ReadSessionDep
from supplyseg.service.models import Outbox
from supplyseg.service.schemas import MAX_ID, NotificationOut, NotificationPage
from supplyseg.service.views import utc

__all__ = ["router"]

router = APIRouter(prefix="/notifications", tags=["notifications"])


@router.get("")
def list_notifications(
    session: ReadSessionDep,
    principal: CanReadNotifications,
    since: Annotated[
        int, Query(ge=0, le=MAX_ID, description="Return notifications with id > since.")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> NotificationPage:
    """Notifications after ``since``, oldest first (keys see their customers only)."""
    q = select(Outbox).where(Outbox.id > since).order_by(Outbox.id).limit(limit)
    if principal.customers is not None:
        q = q.where(Outbox.customer_id.in_(sorted(principal.customers)))
    rows = list(session.scalars(q))
    items = [
        NotificationOut(
            id=r.id,
            created_at=utc(r.created_at),
            order_id=r.order_id,
            customer_id=r.customer_id,
            segment=r.segment,
            event=r.event,
            payload=r.payload,
        )
        for r in rows
    ]
    return NotificationPage(items=items, next_since=rows[-1].id if rows else since)
