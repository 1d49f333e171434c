"""Late promises found by backorder processing: the ``late_promise`` exception of an accepted
order whose re-confirmation moved a line past its segment's ``max_lateness_days``, and its
automatic resolution when a later run brings every such line back within the limit.

A line is *late* when its promised date is after its requested date plus the segment's
``promising.max_lateness_days``, or it has no date at all (nothing confirmed), as at intake
(`supplyseg.service.promise_rules.late_line_finding`). Backorder processing marks each changed
line whose lateness flips: ``late`` (it was in time before the run) or ``within_limit`` (it was
late before). Only the flip counts: a line a person approved late (or a ``soft`` segment
accepted with a warning) is not raised again until it has been in time once.

With strictness ``late_promise: hard``, an open order (accepted or approved) with a line marked
``late`` gets a new validation round holding the ``late_promise`` findings of those lines and an
exception in the queue (``GET /exceptions``, ``/ui/exceptions``); when it already has one, the
new findings join it. Unlike a late promise at intake, the order keeps its status and its
reservations, so it keeps its place in the queue for supply while a person decides: approving
accepts the later date, amending promises the amended lines anew, rejecting releases the order.

When a later run finds every line of such an exception in time again, the exception is resolved
automatically with resolution ``recovered`` by the actor of the run (audited like a person's
resolution, with a comment naming the lines and their dates): nothing is left for a person to
decide, and an open exception would invite rejecting an order that will now ship in time. The
run's audit row of the order says so (``exception_recovered``) and its notification goes out per
the segment's ``notify`` rule (``confirmation_changed``), with the lines marked ``within_limit``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from supplyseg.policy.document import SegmentRules
from supplyseg.service.intake import OPEN_STATUSES, open_exception, store_findings
from supplyseg.service.lifecycle import close_open_exceptions
from supplyseg.service.models import Base
from supplyseg.service.promise_rules import late_line_finding, latest_promise_date
from supplyseg.service.validation import Finding

__all__ = ["LatePromises", "late_promise_flips", "late_promises"]

_orders = Base.metadata.tables["orders"]
_exceptions = Base.metadata.tables["exceptions"]
_reasons = Base.metadata.tables["reasons"]


@dataclass
class LatePromises:
    """What backorder processing did about late promises, by order id."""

    opened: dict[int, int] = field(default_factory=dict)  # exception opened
    extended: dict[int, int] = field(default_factory=dict)  # open exception given more lines
    recovered: dict[int, int] = field(default_factory=dict)  # exception resolved: recovered
    comments: dict[int, str] = field(default_factory=dict)


def _late(promised: date | None, latest: date) -> bool:
    return promised is None or promised > latest


def late_promise_flips(
    lines: pd.DataFrame,
    old_dates: Sequence[date | None],
    new_dates: Sequence[date | None],
    rules: dict[str, SegmentRules],
) -> dict[int, str]:
    """Per row of ``lines`` (``customer_segment, requested_date``) whose lateness flips between
    ``old_dates`` and ``new_dates``: ``late`` or ``within_limit`` (see the module docstring)."""
    out = {}
    segments = lines["customer_segment"].tolist()
    requested = lines["requested_date"].tolist()
    for i, (seg, req) in enumerate(zip(segments, requested, strict=True)):
        latest = latest_promise_date(req, rules.get(seg)) if seg is not None else None
        if latest is None:
            continue
        before, after = _late(old_dates[i], latest), _late(new_dates[i], latest)
        if after and not before:
            out[i] = "late"
        elif before and not after:
            out[i] = "within_limit"
    return out


def _open_exceptions(
    session: Session, order_ids: set[int]
) -> dict[int, list[tuple[int, int, list[int | None]]]]:
    """Open exceptions of ``order_ids`` that hold only late_promise findings:
    order id -> [(exception id, validation round, line numbers)]."""
    conn = session.connection()
    rows = [
        r
        for r in conn.execute(
            select(_exceptions.c.id, _exceptions.c.order_id, _exceptions.c.validation_round).where(
                _exceptions.c.status == "open"
            )
        )
        if r.order_id in order_ids
    ]
    if not rows:
        return {}
    codes: dict[tuple[int, int], list[tuple[str, int | None]]] = defaultdict(list)
    ids = sorted({r.order_id for r in rows})
    for lo in range(0, len(ids), 5000):
        q = select(
            _reasons.c.order_id, _reasons.c.validation_round, _reasons.c.code, _reasons.c.line_no
        ).where(_reasons.c.order_id.in_(ids[lo : lo + 5000]))
        for reason in conn.execute(q):
            codes[(reason.order_id, reason.validation_round)].append((reason.code, reason.line_no))
    out: dict[int, list[tuple[int, int, list[int | None]]]] = defaultdict(list)
    for r in rows:
        found = codes[(r.order_id, r.validation_round)]
        if found and all(code == "late_promise" for code, _ in found):
            out[r.order_id].append((r.id, r.validation_round, [n for _, n in found]))
    return out


def late_promises(
    session: Session,
    version_id: str | None,
    lines: pd.DataFrame,
    new_dates: Sequence[date | None],
    flips: dict[int, str],
    rules: dict[str, SegmentRules],
    *,
    actor: str,
    now: datetime,
) -> LatePromises:
    """Open, extend and resolve the ``late_promise`` exceptions of the open orders of
    ``lines`` (``order_id, line_no, product_id, customer_segment, requested_date, quantity``)
    after a backorder-processing run (see the module docstring). The caller audits and
    notifies the orders (with the returned outcome) and commits."""
    out = LatePromises()
    if version_id is None:
        return out
    oid = [int(v) for v in lines["order_id"].tolist()]
    lno = [int(v) for v in lines["line_no"].tolist()]
    segments = lines["customer_segment"].tolist()
    requested = lines["requested_date"].tolist()
    products = lines["product_id"].tolist()
    quantities = [float(q) for q in lines["quantity"].tolist()]
    by_order: dict[int, list[int]] = defaultdict(list)
    for i, o in enumerate(oid):
        by_order[o].append(i)
    pending = _open_exceptions(session, set(by_order))
    # Raise: lines that became late, in segments where lateness is a hard finding.
    findings: dict[int, list[Finding]] = defaultdict(list)
    for i, flip in sorted(flips.items()):
        seg = segments[i]
        seg_rules = rules.get(seg) if seg is not None else None
        if flip != "late" or seg_rules is None or seg_rules.strictness.late_promise != "hard":
            continue
        finding = late_line_finding(
            line_no=lno[i],
            product_id=str(products[i]),
            quantity=float(quantities[i]),
            promised=new_dates[i],
            requested=requested[i],
            rules=seg_rules,
            segment=str(seg),
        )
        if finding is not None:
            findings[oid[i]].append(finding)
    if findings:
        q = select(_orders.c.id, _orders.c.status, _orders.c.validation_round, _orders.c.segment)
        state = {
            r.id: r
            for r in session.connection().execute(q.where(_orders.c.id.in_(sorted(findings))))
        }
        for order_id, found in findings.items():
            row = state[order_id]
            if row.status not in OPEN_STATUSES:
                continue  # shipped: nothing left to decide
            text = "; ".join(f.message for f in found)
            if pending.get(order_id):
                exception_id, round_, _ = pending[order_id][0]
                store_findings(session, order_id, round_, found, version_id)
                out.extended[order_id] = exception_id
                out.comments[order_id] = f"late_promise added to exception {exception_id}: {text}"
                continue
            round_ = row.validation_round + 1
            session.connection().execute(
                update(_orders)
                .where(_orders.c.id == order_id)
                .values(validation_round=round_, updated_at=now)
            )
            store_findings(session, order_id, round_, found, version_id)
            exception_id = open_exception(session, order_id, round_, row.segment, now)
            out.opened[order_id] = exception_id
            out.comments[order_id] = f"late_promise exception {exception_id} opened: {text}"
    # Recover: open late_promise exceptions whose lines are all in time now.
    for order_id, held in pending.items():
        if order_id in findings:
            continue
        notes = _in_time(held, by_order[order_id], lno, segments, requested, new_dates, rules)
        if notes is None:
            continue
        comment = f"backorder processing: every late line is in time again ({notes})"
        closed = close_open_exceptions(
            session, order_id, resolution="recovered", actor=actor, at=now, comment=comment
        )
        if closed:
            out.recovered[order_id] = closed[0]
            out.comments[order_id] = f"late_promise exception {closed[0]} recovered: {notes}"
    return out


def _in_time(
    held: list[tuple[int, int, list[int | None]]],
    rows: list[int],
    lno: list[int],
    segments: list[str | None],
    requested: list[date],
    new_dates: Sequence[date | None],
    rules: dict[str, SegmentRules],
) -> str | None:
    """How the lines of an order's late_promise exceptions stand now ("line 1 promised for
    ..."), or None while one of them is still late."""
    where = {lno[i]: i for i in rows}
    notes = []
    for n in sorted({n for _, _, line_nos in held for n in line_nos if n is not None}):
        i = where.get(n)
        if i is None:
            continue  # the line holds no reservation any more
        seg = segments[i]
        latest = latest_promise_date(requested[i], rules.get(seg) if seg is not None else None)
        if latest is not None and _late(new_dates[i], latest):
            return None
        limit = f"latest {latest}" if latest is not None else "no limit now"
        notes.append(f"line {n} promised for {new_dates[i]}, {limit}")
    return "; ".join(notes)
