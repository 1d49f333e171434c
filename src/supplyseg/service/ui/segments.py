"""What the segments screen adds to the published versions: why an entity is in its segments
(the run's explanation, as ``supplyseg explain`` gives it), how customers moved between the last
two published versions, and, for a bound key, what a product means for each of its customers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from supplyseg.errors import SupplysegError
from supplyseg.service.models import PolicyCustomer, PolicyVersionRow
from supplyseg.service.security import Principal
from supplyseg.service.ui.workspace import records, run_folder, workspace_or_reason

__all__ = ["NOT_IN", "bound_customers_for_product", "explanation", "version_migration"]

NOT_IN = "(not in version)"
"""The segment of a customer in a version that does not name it."""


def explanation(
    request: Request, entity: str, entity_id: str, source_run_id: str | None
) -> dict[str, Any]:
    """``rows`` (scheme, segment, explanation, primary; primary first) of the run behind the
    active version (``source_run_id``), else of the latest run, and ``run``; or ``reason``."""
    ws, reason = workspace_or_reason(request)
    out: dict[str, Any] = {"rows": None, "run": None, "reason": reason}
    if ws is None:
        return out
    from supplyseg.runs import explain, latest_run

    path = run_folder(ws, source_run_id)
    if path is None:
        path = latest_run(ws)
    if path is None:
        out["reason"] = f"No run in {ws.out_path} yet: `supplyseg run` one."
        return out
    out["run"] = path.name
    try:
        frame = explain(ws, entity, entity_id, path.name)
    except SupplysegError as exc:
        out["reason"] = str(exc)
        return out
    out["rows"] = records(frame[["scheme", "segment", "explanation", "primary"]])
    return out


def version_migration(session: Session, principal: Principal) -> dict[str, Any] | None:
    """Customers by segment in the second-newest published version (``from``) against the
    newest (``to``), for the customers ``principal`` may see: ``a``, ``b``, ``rows`` and
    ``columns`` of the matrix (`NOT_IN` for a customer a version does not name), ``cells``
    {(from, to): customers}, ``moved``, ``total``. None with fewer than two versions."""
    last = session.scalars(
        select(PolicyVersionRow.version_id).order_by(PolicyVersionRow.published_at.desc()).limit(2)
    ).all()
    if len(last) < 2:
        return None
    b, a = last
    q = select(PolicyCustomer.version_id, PolicyCustomer.customer_id, PolicyCustomer.segment)
    q = q.where(PolicyCustomer.version_id.in_([a, b]))
    if principal.customers is not None:
        q = q.where(PolicyCustomer.customer_id.in_(sorted(principal.customers)))
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for version, customer, segment in session.execute(q):
        (before if version == a else after)[customer] = segment
    cells: Counter[tuple[str, str]] = Counter(
        (before.get(c, NOT_IN), after.get(c, NOT_IN)) for c in before.keys() | after.keys()
    )
    rows = sorted({f for f, _ in cells})
    columns = sorted({t for _, t in cells})
    moved = sum(n for (f, t), n in cells.items() if f != t)
    return {
        "a": a,
        "b": b,
        "rows": rows,
        "columns": columns,
        "cells": dict(cells),
        "moved": moved,
        "total": sum(cells.values()),
    }


def bound_customers_for_product(
    session: Session, principal: Principal, version_id: str | None, allowed: list[str] | None
) -> list[dict[str, Any]] | None:
    """For a bound key: each of its customers, its segment in the active version and whether
    that segment may order a product whose allowed segments are ``allowed`` (None = every
    segment). None for an unbound key."""
    if principal.customers is None:
        return None
    segments: dict[str, str] = {}
    if version_id is not None:
        segments = dict(
            session.execute(
                select(PolicyCustomer.customer_id, PolicyCustomer.segment).where(
                    PolicyCustomer.version_id == version_id,
                    PolicyCustomer.customer_id.in_(sorted(principal.customers)),
                )
            ).all()
        )
    out = []
    for customer in sorted(principal.customers):
        segment = segments.get(customer)
        may = None if segment is None else (allowed is None or segment in allowed)
        out.append({"customer_id": customer, "segment": segment, "may_order": may})
    return out
