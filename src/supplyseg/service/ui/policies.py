"""Policy versions (list, and the diff between two) and segment look-up: a customer's or a
product's segment in every published version, with the rules that follow from it."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.service.deps import ReadSessionDep
from supplyseg.service.models import (
    PolicyCustomer,
    PolicyProduct,
    PolicySegment,
    PolicyVersionRow,
)
from supplyseg.service.policy_store import active_version_id, load_version
from supplyseg.service.ui.auth import UiUser
from supplyseg.service.ui.diff import policy_diff
from supplyseg.service.ui.render import current_user, page, require
from supplyseg.service.ui.runs import ACTIONS, workspace_runs
from supplyseg.service.ui.segments import (
    NOT_IN,
    bound_customers_for_product,
    explanation,
    version_migration,
)
from supplyseg.service.views import utc

__all__ = ["customer_segments", "product_segments", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
UserDep = Annotated[UiUser, Depends(current_user)]
Id64 = Annotated[str, Query(max_length=64)]
# Changes shown on the diff page; the counts above the table cover all of them.
DIFF_ROWS = 1000


def _versions(session: Session) -> list[dict[str, Any]]:
    active = active_version_id(session)
    return [
        {
            "version_id": r.version_id,
            "created": utc(r.created),
            "published_at": utc(r.published_at),
            "published_by": r.published_by,
            "source_run_id": r.source_run_id,
            "currency": r.currency,
            "active": r.version_id == active,
        }
        for r in session.scalars(
            select(PolicyVersionRow).order_by(PolicyVersionRow.published_at.desc())
        )
    ]


@router.get("/policies")
def policy_versions(
    request: Request,
    user: UserDep,
    session: ReadSessionDep,
    a: Id64 = "",
    b: Id64 = "",
    done: Annotated[str, Query(max_length=16)] = "",
    run: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """Every published version, newest first; with ``a`` and ``b``, what changed from a to b;
    the workspace's runs with their approval state (decisions for admins)."""
    require(user, "policies:read")
    versions = _versions(session)
    runs, runs_reason = workspace_runs(request)
    decided = next((r for r in runs if r["run_id"] == run), None) if done in ACTIONS else None
    changes = None
    counts: Counter[str] = Counter()
    if a and b:
        changes = policy_diff(load_version(session, a), load_version(session, b))
        bound = user.principal.customers
        if bound is not None:  # a bound key sees its own customers' rows only, as everywhere
            changes = [c for c in changes if c.part != "customer" or c.id in bound]
        counts = Counter(c.part for c in changes)
    elif versions:
        # Preselect the active version against the one published before it.
        b = b or versions[0]["version_id"]
        a = a or (versions[1]["version_id"] if len(versions) > 1 else b)
    return page(
        request,
        "policies.html",
        user,
        title="Policy versions",
        versions=versions,
        a=a,
        b=b,
        changes=changes[:DIFF_ROWS] if changes is not None else None,
        n_changes=len(changes) if changes is not None else 0,
        counts=counts,
        limit=DIFF_ROWS,
        runs=runs,
        runs_reason=runs_reason,
        done=done,
        decided=decided,
        can_decide=user.principal.can("policies:publish"),
    )


def _rules(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    if not pairs:
        return {}
    versions = sorted({v for v, _ in pairs})
    rows = session.execute(
        select(PolicySegment.version_id, PolicySegment.segment, PolicySegment.rules).where(
            PolicySegment.version_id.in_(versions)
        )
    )
    return {(v, s): r for v, s, r in rows if (v, s) in pairs}


def customer_segments(session: Session, customer_id: str) -> list[dict[str, Any]]:
    """The customer's segment, credit and ship-tos in every version (newest first) with the
    order rules of that segment."""
    rows = session.execute(
        select(PolicyCustomer, PolicyVersionRow.published_at)
        .join(PolicyVersionRow, PolicyVersionRow.version_id == PolicyCustomer.version_id)
        .where(PolicyCustomer.customer_id == customer_id)
        .order_by(PolicyVersionRow.published_at.desc())
    ).all()
    rules = _rules(session, {(c.version_id, c.segment) for c, _ in rows})
    return [
        {
            "version_id": c.version_id,
            "published_at": utc(at),
            "segment": c.segment,
            "active": c.active,
            "credit_limit": c.credit_limit,
            "open_receivables": c.open_receivables,
            "ship_to_ids": c.ship_to_ids,
            "rules": rules.get((c.version_id, c.segment)),
        }
        for c, at in rows
    ]


def product_segments(session: Session, product_id: str) -> list[dict[str, Any]]:
    """The product's list price and allowed segments and channels in every version."""
    rows = session.execute(
        select(PolicyProduct, PolicyVersionRow.published_at)
        .join(PolicyVersionRow, PolicyVersionRow.version_id == PolicyProduct.version_id)
        .where(PolicyProduct.product_id == product_id)
        .order_by(PolicyVersionRow.published_at.desc())
    ).all()
    return [
        {
            "version_id": p.version_id,
            "published_at": utc(at),
            "list_price": p.list_price,
            "active": p.active,
            "allowed_segments": p.allowed_segments,
            "allowed_channels": p.allowed_channels,
        }
        for p, at in rows
    ]


@router.get("/segments")
def segments(
    request: Request,
    user: UserDep,
    session: ReadSessionDep,
    customer: Id64 = "",
    product: Id64 = "",
) -> Response:
    """Look a customer or product up in the published versions."""
    require(user, "policies:read")
    customer, product = customer.strip(), product.strip()
    if customer:  # a bound key looks up its own customers only, as everywhere
        user.principal.check_visible(customer, f"no customer {customer!r} for this key")
    active = active_version_id(session)
    head = session.get(PolicyVersionRow, active) if active else None
    source_run = head.source_run_id if head is not None else None
    product_rows = product_segments(session, product) if product else None
    current = next((r for r in product_rows or [] if r["version_id"] == active), None)
    return page(
        request,
        "segments.html",
        user,
        title="Segments",
        customer=customer,
        product=product,
        customer_rows=customer_segments(session, customer) if customer else None,
        product_rows=product_rows,
        active=active,
        customer_why=explanation(request, "customer", customer, source_run) if customer else None,
        product_why=explanation(request, "product", product, source_run) if product else None,
        your_customers=(
            bound_customers_for_product(
                session, user.principal, active, current["allowed_segments"] if current else None
            )
            if product
            else None
        ),
        product_in_active=current is not None,
        migration=version_migration(session, user.principal),
        not_in=NOT_IN,
    )
