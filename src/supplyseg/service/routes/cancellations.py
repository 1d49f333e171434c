"""``POST /orders/{order_id}/cancel``: cancel an accepted or approved order (operator, admin)."""

from __future__ import annotations

from fastapi import APIRouter

from supplyseg.service.deps import CacheDep, CanCancel, OrderId, SessionDep
from supplyseg.service.lifecycle import cancel_order
from supplyseg.service.schemas import CancelIn, OrderOut

__all__ = ["router"]

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "/{order_id}/cancel",
    responses={
        409: {"description": "The order shipped, waits in the exception queue or was rejected."}
    },
)
def cancel(
    order_id: OrderId,
    session: SessionDep,
    cache: CacheDep,
    principal: CanCancel,
    req: CancelIn | None = None,
) -> OrderOut:
    """Cancel an open order: its value no longer counts against the customer's credit limit
    (audited; notifies segments that list ``cancelled``). Cancelling again answers the order
    unchanged."""
    order, _changed = cancel_order(session, cache, order_id, req or CancelIn(), principal=principal)
    return order
