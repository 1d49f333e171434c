"""Backorder processing on the service database: re-confirm every open order line against the
current supply (`supplyseg.allocation.backorder`), by the strategy and priority of its customer
segment in the active version's allocation plan (lines outside the plan: priority 5,
``redistribute``). The segment's promising rules hold: where partial shipment is off, or the
new quantity is below ``min_fill`` of the line, a partial re-confirmation becomes 0 (the line
waits whole; what the LP gave it stays unpromised until the next run). Every changed line is
updated in one transaction, and each order with changed lines gets one audit row (``action =
backorder_processing``, the lines before and after) and a ``confirmation_changed``
notification when its segment's ``notify`` rule lists that event.

A re-confirmation that moves a line past its segment's ``promising.max_lateness_days`` raises a
``late_promise`` exception for the order, and a later run that brings every such line back
within the limit resolves it (``recovered``); the changed lines carry ``late_promise: late`` or
``within_limit`` in the audit row and the notification (`supplyseg.service.promise_exceptions`).

Periods are days from ``today``; supply and requests dated before it count as today.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from supplyseg.allocation.backorder import backorder_processing
from supplyseg.policy.document import SegmentRules, StatusEvent
from supplyseg.service.events import OrderRef, record_order_change
from supplyseg.service.models import Base
from supplyseg.service.promise import supply_by_date
from supplyseg.service.promise_exceptions import LatePromises, late_promise_flips, late_promises
from supplyseg.service.promise_models import PromiseRow
from supplyseg.service.promise_schemas import BopOut

__all__ = ["DEFAULT_PRIORITY", "DEFAULT_STRATEGY", "process_backorders"]

DEFAULT_PRIORITY = 5
DEFAULT_STRATEGY = "redistribute"
_promises = Base.metadata.tables[PromiseRow.__tablename__]
_supply = Base.metadata.tables["supply"]
_shares = Base.metadata.tables["allocation_shares"]
_products = Base.metadata.tables["allocation_products"]
_orders = Base.metadata.tables["orders"]
_segments = Base.metadata.tables["policy_segments"]
_UPDATE = (
    update(_promises)
    .where(
        _promises.c.order_id == bindparam("oid"),
        _promises.c.line_no == bindparam("lno"),
    )
    .values(
        confirmed_quantity=bindparam("cq"),
        promised_date=bindparam("pd"),
        backorder_quantity=bindparam("bq"),
        updated_at=bindparam("at"),
    )
)


def _open_lines(session: Session, version_id: str | None) -> pd.DataFrame:
    conn = session.connection()
    cols = [
        _promises.c.order_id,
        _promises.c.line_no,
        _promises.c.product_id,
        _promises.c.customer_segment,
        _promises.c.requested_date,
        _promises.c.quantity,
        _promises.c.confirmed_quantity,
        _promises.c.promised_date,
    ]
    lines = pd.DataFrame(
        conn.execute(select(*cols).where(_promises.c.status == "open")).all(),
        columns=[c.name for c in cols],
    )
    plan = pd.DataFrame(columns=["product_id", "customer_segment", "priority", "strategy"])
    if version_id is not None:
        q = (
            select(
                _products.c.product_id,
                _shares.c.customer_segment,
                _shares.c.priority,
                _shares.c.strategy,
            )
            .join(
                _shares,
                (_shares.c.version_id == _products.c.version_id)
                & (_shares.c.product_segment == _products.c.product_segment),
            )
            .where(_products.c.version_id == version_id)
        )
        plan = pd.DataFrame(conn.execute(q).all(), columns=list(plan.columns))
    lines = lines.merge(plan, on=["product_id", "customer_segment"], how="left")
    lines["priority"] = lines["priority"].fillna(DEFAULT_PRIORITY).astype("int64")
    lines["strategy"] = lines["strategy"].fillna(DEFAULT_STRATEGY)
    return lines


def _segment_rules(session: Session, version_id: str | None) -> dict[str, SegmentRules]:
    if version_id is None:
        return {}
    q = select(_segments.c.segment, _segments.c.rules).where(_segments.c.version_id == version_id)
    return {s: SegmentRules.model_validate(r) for s, r in session.connection().execute(q)}


def _whole_lines_only(
    lines: pd.DataFrame, confirmed: np.ndarray[Any, Any], rules: dict[str, SegmentRules]
) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Lines whose new partial confirmation the segment's promising rules refuse."""
    seg = lines["customer_segment"].tolist()
    partial = np.array([rules[s].promising.partial_shipment if s in rules else True for s in seg])
    min_fill = np.array([rules[s].promising.min_fill if s in rules else 0.0 for s in seg])
    qty = lines["quantity"].to_numpy(dtype=np.float64)
    short = (confirmed > 1e-9) & (confirmed < qty - 1e-9)
    out: np.ndarray[Any, np.dtype[np.bool_]] = short & (
        ~partial | (confirmed < min_fill * qty - 1e-9)
    )
    return out


def _days(dates: pd.Series, today: date) -> np.ndarray[Any, np.dtype[np.int64]]:
    delta = (pd.to_datetime(dates) - pd.Timestamp(today)).dt.days
    out: np.ndarray[Any, np.dtype[np.int64]] = np.maximum(delta.to_numpy(), 0).astype(np.int64)
    return out


def process_backorders(
    session: Session, version_id: str | None, *, actor: str, today: date | None = None
) -> BopOut:
    """Re-confirm all open order lines (see the module docstring); the caller commits."""
    started = time.perf_counter()
    today = today or datetime.now(UTC).date()
    lines = _open_lines(session, version_id)
    if lines.empty:
        return BopOut(lines=0, changes={}, confirmed_before=0.0, confirmed_after=0.0, seconds=0.0)
    pids = sorted(lines["product_id"].unique())
    conn = session.connection()
    rows: list[Any] = []
    for i in range(0, len(pids), 5000):
        chunk = pids[i : i + 5000]
        rows += conn.execute(select(_supply).where(_supply.c.product_id.in_(chunk))).all()
    supply = supply_by_date(rows)
    available = pd.DataFrame(
        [(p, d, q) for p, by_date in supply.items() for d, q in by_date.items()],
        columns=["product_id", "date", "quantity"],
    )
    available["period"] = _days(available["date"], today) if len(available) else []
    had = lines["confirmed_quantity"] > 0
    confirmed_period = np.where(had, _days(lines["promised_date"].fillna(today), today), np.nan)
    result = backorder_processing(
        pd.DataFrame(
            {
                "line_id": np.arange(len(lines)),
                "product_id": lines["product_id"],
                "priority": lines["priority"],
                "strategy": lines["strategy"],
                "requested_period": _days(lines["requested_date"], today),
                "quantity": lines["quantity"],
                "confirmed_quantity": lines["confirmed_quantity"],
                "confirmed_period": confirmed_period,
            }
        ),
        available[["product_id", "period", "quantity"]],
    )
    rules = _segment_rules(session, version_id)
    new_q = result["confirmed_quantity"].to_numpy(dtype=np.float64).copy()
    refused = _whole_lines_only(lines, new_q, rules)
    new_q[refused] = 0.0
    new_date = [
        None if pd.isna(p) or refused[i] else today + timedelta(days=int(p))
        for i, p in enumerate(result["promised_period"])
    ]
    old_date = [None if pd.isna(d) else d for d in lines["promised_date"].tolist()]
    old_q = lines["confirmed_quantity"].to_numpy()
    changed = np.flatnonzero(
        (np.abs(new_q - old_q) > 1e-9)
        | np.array([a != b for a, b in zip(new_date, old_date, strict=True)])
    )
    now = datetime.now(UTC)
    oid = [int(v) for v in lines["order_id"].tolist()]
    lno = [int(v) for v in lines["line_no"].tolist()]
    qty = [float(v) for v in lines["quantity"].tolist()]
    strategy = [str(v) for v in lines["strategy"].tolist()]
    change = [str(v) for v in result["change"].tolist()]
    for i in np.flatnonzero(refused).tolist():
        change[i] = "lost" if old_q[i] > 1e-9 else "unchanged"
    # Exceptions and orders before the promise rows, as resolving and cancelling take them
    # (`lock_open_exceptions`): a run and an operator never wait on each other in a cycle.
    flips = late_promise_flips(lines, old_date, new_date, rules)
    late = late_promises(session, version_id, lines, new_date, flips, rules, actor=actor, now=now)
    if changed.size:
        conn.execute(
            _UPDATE,
            [
                {
                    "oid": oid[i],
                    "lno": lno[i],
                    "cq": float(new_q[i]),
                    "pd": new_date[i],
                    "bq": float(max(qty[i] - new_q[i], 0.0)),
                    "at": now,
                }
                for i in changed.tolist()
            ],
        )
    changes = {
        i: (
            {"line_no": lno[i], "confirmed_quantity": float(old_q[i]),
             "promised_date": None if old_date[i] is None else str(old_date[i])},
            {"line_no": lno[i], "confirmed_quantity": float(new_q[i]),
             "promised_date": None if new_date[i] is None else str(new_date[i]),
             "strategy": strategy[i], "change": change[i],
             **({"late_promise": flips[i]} if i in flips else {})},
        )
        for i in changed.tolist()
    }  # fmt: skip
    if changes or late.opened or late.extended or late.recovered:
        _record(session, version_id, rules, now, actor, changes, oid, late)
    counts = pd.Series(change, dtype=object).value_counts()
    return BopOut(
        lines=len(lines),
        changes={str(k): int(v) for k, v in counts.items()},
        confirmed_before=float(old_q.sum()),
        confirmed_after=float(new_q.sum()),
        seconds=round(time.perf_counter() - started, 3),
        late_promise_opened=len(late.opened),
        late_promise_recovered=len(late.recovered),
    )


def _record(
    session: Session,
    version_id: str | None,
    rules: dict[str, SegmentRules],
    now: datetime,
    actor: str,
    changes: dict[int, tuple[dict[str, Any], dict[str, Any]]],
    order_of: list[int],
    late: LatePromises,
) -> None:
    """One audit row per order with changed lines or a late_promise exception opened, extended
    or recovered, and its notifications (`record_order_change`: only the events the segment's
    ``notify`` lists): ``confirmation_changed``, and ``exception`` when one was opened."""
    by_order: dict[int, list[int]] = {}
    for i in changes:
        by_order.setdefault(order_of[i], []).append(i)
    for order_id in (*late.opened, *late.extended, *late.recovered):
        by_order.setdefault(order_id, [])
    conn = session.connection()
    ids = sorted(by_order)
    for lo in range(0, len(ids), 5000):
        chunk = ids[lo : lo + 5000]
        q = select(
            _orders.c.id,
            _orders.c.customer_id,
            _orders.c.po_number,
            _orders.c.segment,
            _orders.c.policy_version,
            _orders.c.status,
        ).where(_orders.c.id.in_(chunk))
        for o in conn.execute(q).all():
            idx = by_order[o.id]
            after: dict[str, Any] = {
                "status": o.status,
                "lines": [changes[i][1] for i in idx],
                "policy_version": version_id,
            }
            events: tuple[StatusEvent, ...] = ("confirmation_changed",)
            if o.id in late.opened:
                after |= {"reason_codes": ["late_promise"], "exception_id": late.opened[o.id]}
                events = ("confirmation_changed", "exception")
            elif o.id in late.extended:
                after |= {"reason_codes": ["late_promise"], "exception_id": late.extended[o.id]}
            elif o.id in late.recovered:
                after["exception_recovered"] = late.recovered[o.id]
            record_order_change(
                session,
                OrderRef(o.id, o.customer_id, o.po_number, o.segment, o.policy_version),
                action="backorder_processing",
                actor=actor,
                at=now,
                before={"status": o.status, "lines": [changes[i][0] for i in idx]},
                after=after,
                events=events,
                rules=rules.get(o.segment) if o.segment is not None else None,
                comment=late.comments.get(o.id),
            )
