"""The dashboard: headline figures of the active policy version, the KPIs of the run behind it
and the monitoring alerts of the latest run (with a workspace set), orders by status and the
open exceptions by segment and age (each part shown to the roles that may read it)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import Session

from supplyseg.errors import SupplysegError
from supplyseg.service.deps import ReadSessionDep
from supplyseg.service.models import (
    OrderException,
    OrderRow,
    PolicyCustomer,
    PolicyProduct,
    PolicySegment,
    PolicyVersionRow,
)
from supplyseg.service.policy_store import active_version_id
from supplyseg.service.security import Principal
from supplyseg.service.ui.auth import UiUser
from supplyseg.service.ui.render import current_user, page
from supplyseg.service.ui.workspace import (
    headline_kpis,
    run_alerts,
    run_folder,
    workspace_or_reason,
)

__all__ = ["AGE_BUCKETS", "age_bucket", "open_exceptions_by_age", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]

# Upper bounds in days of the exception age columns; the last one is open-ended.
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 d", 1.0),
    ("1-3 d", 3.0),
    ("3-7 d", 7.0),
    ("> 7 d", float("inf")),
)


def age_bucket(opened_at: datetime, now: datetime) -> str:
    """The `AGE_BUCKETS` label of an exception opened at ``opened_at``."""
    moment = opened_at.replace(tzinfo=UTC) if opened_at.tzinfo is None else opened_at
    days = (now - moment).total_seconds() / 86_400
    return next(label for label, upper in AGE_BUCKETS if days < upper)


def _bound(principal: Principal, column: Any) -> Any:
    return column.in_(sorted(principal.customers)) if principal.customers is not None else true()


def open_exceptions_by_age(
    session: Session, principal: Principal, now: datetime
) -> dict[str, Counter[str]]:
    """Open exceptions the key may see: segment ("unknown" without one) -> age bucket -> count."""
    q = select(OrderException.segment, OrderException.opened_at).where(
        OrderException.status == "open"
    )
    if principal.customers is not None:
        q = q.where(
            exists().where(
                and_(
                    OrderRow.id == OrderException.order_id,
                    OrderRow.customer_id.in_(sorted(principal.customers)),
                )
            )
        )
    table: dict[str, Counter[str]] = {}
    for segment, opened_at in session.execute(q):
        table.setdefault(segment or "unknown", Counter())[age_bucket(opened_at, now)] += 1
    return dict(sorted(table.items()))


def _policy_figures(session: Session) -> dict[str, Any] | None:
    vid = active_version_id(session)
    head = session.get(PolicyVersionRow, vid) if vid else None
    if head is None:
        return None
    members = dict(
        session.execute(
            select(PolicyCustomer.segment, func.count())
            .where(PolicyCustomer.version_id == vid)
            .group_by(PolicyCustomer.segment)
        ).all()
    )
    segments = [
        {"segment": s.segment, "customers": members.get(s.segment, 0), **s.rules}
        for s in session.scalars(
            select(PolicySegment)
            .where(PolicySegment.version_id == vid)
            .order_by(PolicySegment.segment)
        )
    ]
    products = session.execute(
        select(func.count(), func.count().filter(PolicyProduct.active)).where(
            PolicyProduct.version_id == vid
        )
    ).one()
    return {
        "head": head,
        "segments": segments,
        "customers": sum(members.values()),
        "products": products[0],
        "active_products": products[1],
    }


def _run_figures(
    request: Request, principal: Principal, policy: dict[str, Any] | None
) -> dict[str, Any]:
    """KPIs of the run behind the active version and the alerts of the latest run, each with
    the sentence shown instead when they cannot be read."""
    ws, reason = workspace_or_reason(request)
    out: dict[str, Any] = dict.fromkeys(
        ("kpis", "kpis_reason", "alerts", "alerts_reason", "alerts_run")
    )
    out["reason"] = reason
    if ws is None:
        return out
    from supplyseg.runs import latest_run

    if policy is None:
        out["kpis_reason"] = "No policy version is published yet, so no run is behind one."
    else:
        run_id = policy["head"].source_run_id
        path = run_folder(ws, run_id)
        if path is None:
            out["kpis_reason"] = (
                f"The run {run_id} of the active version is not a complete run in"
                f" {ws.out_path}: it was published from another workspace or its folder was"
                " removed."
            )
        else:
            out["kpis"] = headline_kpis(path)
    latest = latest_run(ws)
    if latest is None or run_folder(ws, latest.name) is None:
        out["alerts_reason"] = f"No complete run in {ws.out_path} yet: `supplyseg run` one."
    else:
        try:
            out["alerts"] = run_alerts(ws, latest, principal)
            out["alerts_run"] = latest.name
        except SupplysegError as exc:
            out["alerts_reason"] = f"Monitoring of run {latest.name} failed: {exc}"
    return out


@router.get("/")
def dashboard(request: Request, user: UserDep, session: ReadSessionDep) -> Response:
    """Headline figures for the signed-in key."""
    principal = user.principal
    now = datetime.now(UTC)
    policy = _policy_figures(session) if principal.can("policies:read") else None
    by_status = dict(
        session.execute(
            select(OrderRow.status, func.count())
            .where(_bound(principal, OrderRow.customer_id))
            .group_by(OrderRow.status)
            .order_by(OrderRow.status)
        ).all()
    )
    figures = _run_figures(request, principal, policy) if principal.can("policies:read") else None
    ageing = (
        open_exceptions_by_age(session, principal, now)
        if principal.can("exceptions:read")
        else None
    )
    return page(
        request,
        "dashboard.html",
        user,
        title="Dashboard",
        policy=policy,
        figures=figures,
        by_status=by_status,
        orders_total=sum(by_status.values()),
        ageing=ageing,
        buckets=[label for label, _ in AGE_BUCKETS],
    )
