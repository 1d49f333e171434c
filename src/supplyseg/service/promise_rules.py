"""The lateness rule of order promising: a line promised later than its requested date plus the
segment's ``promising.max_lateness_days``, or not promised at all, is a ``late_promise``
finding (strictness ``late_promise``: hard puts the order in the exception queue, where it
reserves nothing; soft accepts it with a warning).

`validate_order` cannot see supply, so intake runs this after promising, in the same
transaction, and adds the findings to the validation (`Validation.with_findings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from supplyseg.policy.document import SegmentRules
from supplyseg.service.promise import LinePromise
from supplyseg.service.schemas import OrderIn
from supplyseg.service.validation import Finding

__all__ = ["late_promise_findings"]


def late_promise_findings(
    order: OrderIn, promises: Sequence[LinePromise], rules: SegmentRules | None, segment: str
) -> list[Finding]:
    """One ``late_promise`` finding per line promised too late (see the module docstring);
    none without rules, without a lateness limit or with the check off."""
    if rules is None or rules.promising.max_lateness_days is None:
        return []
    strictness = rules.strictness.late_promise
    if strictness == "none":
        return []
    days = rules.promising.max_lateness_days
    latest = order.requested_date + timedelta(days=days)
    out = []
    for p in promises:
        if p.promised_date is not None and p.promised_date <= latest:
            continue
        when = (
            f"promised for {p.promised_date}"
            if p.promised_date is not None
            else "cannot be promised from current supply"
        )
        out.append(
            Finding(
                code="late_promise",
                severity="error" if strictness == "hard" else "warning",
                line_no=p.line_no,
                field="requested_date",
                message=f"line {p.line_no} ({p.quantity:g} of {p.product_id}) {when}; the"
                f" latest acceptable date is {latest} (requested {order.requested_date} +"
                f" {days} days)",
                rule=f"segments.{segment}.promising.max_lateness_days",
                suggested_value=None if p.promised_date is None else p.promised_date.isoformat(),
            )
        )
    return out
