"""The lateness rule of order promising: a line promised later than its requested date plus the
segment's ``promising.max_lateness_days``, or not promised at all, is a ``late_promise``
finding (strictness ``late_promise``: hard puts the order in the exception queue, where it
reserves nothing; soft accepts it with a warning).

`validate_order` cannot see supply, so intake (and an amendment) runs this after promising, in
the same transaction, and adds the findings to the validation (`Validation.with_findings`).
Backorder processing applies the same rule line by line (`late_line_finding`) when it moves a
confirmed date (`supplyseg.service.promise_exceptions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from supplyseg.policy.document import SegmentRules
from supplyseg.service.promise import LinePromise
from supplyseg.service.schemas import OrderIn
from supplyseg.service.validation import Finding

__all__ = ["late_line_finding", "late_promise_findings", "latest_promise_date"]


def latest_promise_date(requested: date, rules: SegmentRules | None) -> date | None:
    """The latest acceptable promised date of a line requested for ``requested``; None when the
    segment has no lateness limit or does not check it (strictness ``none``)."""
    if rules is None or rules.promising.max_lateness_days is None:
        return None
    if rules.strictness.late_promise == "none":
        return None
    return requested + timedelta(days=rules.promising.max_lateness_days)


def late_line_finding(
    *,
    line_no: int,
    product_id: str,
    quantity: float,
    promised: date | None,
    requested: date,
    rules: SegmentRules | None,
    segment: str,
) -> Finding | None:
    """The ``late_promise`` finding of one line promised for ``promised`` (None: not at all),
    or None when it is in time or the segment does not check lateness."""
    latest = latest_promise_date(requested, rules)
    if latest is None or rules is None:
        return None
    if promised is not None and promised <= latest:
        return None
    days = rules.promising.max_lateness_days
    when = f"promised for {promised}" if promised is not None else "cannot be promised"
    if promised is None:
        when += " from current supply"
    return Finding(
        code="late_promise",
        severity="error" if rules.strictness.late_promise == "hard" else "warning",
        line_no=line_no,
        field="requested_date",
        message=f"line {line_no} ({quantity:g} of {product_id}) {when}; the latest acceptable"
        f" date is {latest} (requested {requested} + {days} days)",
        rule=f"segments.{segment}.promising.max_lateness_days",
        suggested_value=None if promised is None else promised.isoformat(),
    )


def late_promise_findings(
    order: OrderIn, promises: Sequence[LinePromise], rules: SegmentRules | None, segment: str
) -> list[Finding]:
    """One ``late_promise`` finding per line promised too late (see the module docstring);
    none without rules, without a lateness limit or with the check off."""
    out = []
    for p in promises:
        found = late_line_finding(
            line_no=p.line_no,
            product_id=p.product_id,
            quantity=p.quantity,
            promised=p.promised_date,
            requested=order.requested_date,
            rules=rules,
            segment=segment,
        )
        if found is not None:
            out.append(found)
    return out
