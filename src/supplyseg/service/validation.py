"""Checks of one order against its customer's segment rules; pure Python, no database.

`validate_order` returns the status (``accepted``, ``accepted_with_warnings`` or ``exception``)
and the findings. The two facts that need the database (open order value of the customer, whether
the PO number is already used) come through `OrderFacts` and are asked for only when the segment
runs those checks.

Reason codes (stable; the check whose strictness applies in brackets):

==================================  ===================  =========================================
code                                check                meaning
==================================  ===================  =========================================
unknown_customer                    (always hard)        customer not in the active policy
customer_inactive                   customer_active      customer marked inactive
channel_not_allowed                 channel_allowed      channel not in segment allowed_channels
unknown_ship_to                     ship_to              ship_to_id not one of the customer's
requested_date_too_early            lead_time            before order date + promise lead time
unknown_product                     product_known        product not in the policy
product_inactive                    product_known        product marked inactive
product_not_allowed_for_segment     product_allowed      segment not in product allowed_segments
product_not_allowed_for_channel     product_allowed      channel not in product allowed_channels
below_moq                           moq                  line quantity < segment moq
not_order_multiple                  order_multiple       quantity not a multiple of order_multiple
price_out_of_tolerance              price_tolerance      unit price too far from list price
below_min_order_value               min_order_value      order value < segment min_order_value
credit_limit_exceeded               credit               open orders + receivables + order > limit
duplicate_po                        duplicate_po         PO number already used by the customer
late_promise                        late_promise         promise later than requested + maximum
                                                         lateness (checked when promising)
==================================  ===================  =========================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, Protocol

from supplyseg.policy.document import (
    CustomerPolicy,
    PolicyVersion,
    ProductPolicy,
    SegmentRules,
    Strictness,
)
from supplyseg.service.schemas import OrderIn, OrderLineIn

__all__ = [
    "CompiledPolicy",
    "Finding",
    "OrderFacts",
    "Validation",
    "ValidationStatus",
    "validate_order",
]

ValidationStatus = Literal["accepted", "accepted_with_warnings", "exception"]

# Relative slack for float comparisons: 3 x 0.1 must count as a multiple of 0.1.
_EPS = 1e-9


@dataclass(frozen=True)
class Finding:
    """One failed check (``severity`` error = hard, warning = soft)."""

    code: str
    severity: Literal["error", "warning"]
    line_no: int | None
    field: str
    message: str
    rule: str
    suggested_value: str | None = None


@dataclass(frozen=True)
class CompiledPolicy:
    """A policy version indexed for validation (dicts by id)."""

    version_id: str
    segments: dict[str, SegmentRules]
    customers: dict[str, CustomerPolicy]
    products: dict[str, ProductPolicy]

    @classmethod
    def from_document(cls, doc: PolicyVersion) -> CompiledPolicy:
        """Index a validated document."""
        return cls(
            version_id=doc.version_id,
            segments=dict(doc.segments),
            customers={c.customer_id: c for c in doc.customers},
            products={p.product_id: p for p in doc.products},
        )


class OrderFacts(Protocol):
    """Database facts some checks need (asked lazily)."""

    def open_order_value(self, customer_id: str) -> float:
        """Value of the customer's open (accepted or approved, not shipped) orders."""

    def po_in_use(self, customer_id: str, po_number: str) -> bool:
        """Whether another non-rejected order of the customer has this PO number."""


@dataclass
class Validation:
    """Outcome of `validate_order`."""

    status: ValidationStatus
    segment: str | None
    total_value: float
    findings: list[Finding] = field(default_factory=list)

    def with_findings(self, more: list[Finding]) -> Validation:
        """This outcome with ``more`` findings (e.g. of order promising) and the status they
        give."""
        findings = [*self.findings, *more]
        return Validation(_status(findings), self.segment, self.total_value, findings)


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(
        self,
        strictness: Strictness,
        code: str,
        line_no: int | None,
        field_name: str,
        message: str,
        rule: str,
        suggested: str | None = None,
    ) -> None:
        if strictness == "none":
            return
        severity: Literal["error", "warning"] = "error" if strictness == "hard" else "warning"
        self.findings.append(Finding(code, severity, line_no, field_name, message, rule, suggested))


def _is_multiple(quantity: float, multiple: float) -> bool:
    ratio = quantity / multiple
    return abs(ratio - round(ratio)) <= _EPS * max(1.0, abs(ratio))


def _round_up_to_multiple(quantity: float, multiple: float) -> float:
    ratio = quantity / multiple
    steps = (
        round(ratio) if abs(ratio - round(ratio)) <= _EPS * max(1.0, ratio) else math.ceil(ratio)
    )
    return float(steps) * multiple


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _status(findings: list[Finding]) -> ValidationStatus:
    if any(f.severity == "error" for f in findings):
        return "exception"
    return "accepted_with_warnings" if findings else "accepted"


def validate_order(order: OrderIn, policy: CompiledPolicy, facts: OrderFacts) -> Validation:
    """Check ``order`` against the rules of its customer's segment in ``policy``."""
    out = _Collector()
    customer = policy.customers.get(order.customer_id)
    if customer is None:
        value = sum(
            line.quantity
            * (line.unit_price if line.unit_price is not None else _list(policy, line))
            for line in order.lines
        )
        out.findings.append(
            Finding(
                "unknown_customer",
                "error",
                None,
                "customer_id",
                f"customer {order.customer_id!r} is not in policy version {policy.version_id}",
                "customers",
            )
        )
        return Validation("exception", None, value, out.findings)

    seg = customer.segment
    rules = policy.segments[seg]
    st = rules.strictness
    at = f"segments.{seg}"

    if not customer.active:
        out.add(
            st.customer_active,
            "customer_inactive",
            None,
            "customer_id",
            f"customer {customer.customer_id!r} is inactive",
            f"customers.{customer.customer_id}.active",
        )
    if order.channel not in rules.allowed_channels:
        out.add(
            st.channel_allowed,
            "channel_not_allowed",
            None,
            "channel",
            f"channel {order.channel!r} is not allowed for segment {seg!r};"
            f" allowed: {list(rules.allowed_channels)}",
            f"{at}.allowed_channels",
        )
    if (
        order.ship_to_id is not None
        and customer.ship_to_ids
        and order.ship_to_id not in customer.ship_to_ids
    ):
        out.add(
            st.ship_to,
            "unknown_ship_to",
            None,
            "ship_to_id",
            f"ship-to {order.ship_to_id!r} is not one of customer {customer.customer_id!r}'s"
            f" ship-tos {customer.ship_to_ids}",
            f"customers.{customer.customer_id}.ship_to_ids",
        )
    earliest = order.order_date + timedelta(days=rules.promise_lead_time_days)
    if order.requested_date < earliest:
        out.add(
            st.lead_time,
            "requested_date_too_early",
            None,
            "requested_date",
            f"requested date {order.requested_date} is before order date + "
            f"{rules.promise_lead_time_days} days lead time; earliest feasible date is {earliest}",
            f"{at}.promise_lead_time_days",
            earliest.isoformat(),
        )

    total = 0.0
    for line in order.lines:
        total += _check_line(out, line, order, customer, rules, policy)

    if total < rules.min_order_value * (1 - _EPS):
        out.add(
            st.min_order_value,
            "below_min_order_value",
            None,
            "lines",
            f"order value {_fmt(total)} is below the minimum {_fmt(rules.min_order_value)}"
            f" for segment {seg!r}",
            f"{at}.min_order_value",
            _fmt(rules.min_order_value),
        )
    if st.credit != "none" and customer.credit_limit is not None:
        open_value = facts.open_order_value(customer.customer_id)
        exposure = open_value + customer.open_receivables + total
        if exposure > customer.credit_limit * (1 + _EPS) + _EPS:
            out.add(
                st.credit,
                "credit_limit_exceeded",
                None,
                "lines",
                f"open orders {_fmt(open_value)} + open receivables"
                f" {_fmt(customer.open_receivables)} + this order {_fmt(total)} ="
                f" {_fmt(exposure)} exceeds the credit limit {_fmt(customer.credit_limit)}",
                f"customers.{customer.customer_id}.credit_limit",
            )
    if st.duplicate_po != "none" and facts.po_in_use(customer.customer_id, order.po_number):
        out.add(
            st.duplicate_po,
            "duplicate_po",
            None,
            "po_number",
            f"PO number {order.po_number!r} is already used by another order of customer"
            f" {customer.customer_id!r}",
            f"{at}.strictness.duplicate_po",
        )
    return Validation(_status(out.findings), seg, total, out.findings)


def _list(policy: CompiledPolicy, line: OrderLineIn) -> float:
    product = policy.products.get(line.product_id)
    return product.list_price if product is not None else 0.0


def _check_line(
    out: _Collector,
    line: OrderLineIn,
    order: OrderIn,
    customer: CustomerPolicy,
    rules: SegmentRules,
    policy: CompiledPolicy,
) -> float:
    """Run the line checks; returns the line value (quantity x agreed or list price)."""
    st = rules.strictness
    seg = customer.segment
    at = f"segments.{seg}"
    n = line.line_no
    product = policy.products.get(line.product_id)
    if product is None:
        out.add(
            st.product_known,
            "unknown_product",
            n,
            "product_id",
            f"product {line.product_id!r} is not in policy version {policy.version_id}",
            "products",
        )
    else:
        p_at = f"products.{product.product_id}"
        if not product.active:
            out.add(
                st.product_known,
                "product_inactive",
                n,
                "product_id",
                f"product {product.product_id!r} is inactive",
                f"{p_at}.active",
            )
        if product.allowed_segments is not None and seg not in product.allowed_segments:
            out.add(
                st.product_allowed,
                "product_not_allowed_for_segment",
                n,
                "product_id",
                f"product {product.product_id!r} is not sold to segment {seg!r};"
                f" allowed: {product.allowed_segments}",
                f"{p_at}.allowed_segments",
            )
        if product.allowed_channels is not None and order.channel not in product.allowed_channels:
            out.add(
                st.product_allowed,
                "product_not_allowed_for_channel",
                n,
                "product_id",
                f"product {product.product_id!r} is not sold through channel {order.channel!r};"
                f" allowed: {product.allowed_channels}",
                f"{p_at}.allowed_channels",
            )
    mult = rules.order_multiple
    if line.quantity < rules.moq * (1 - _EPS):
        out.add(
            st.moq,
            "below_moq",
            n,
            "quantity",
            f"quantity {_fmt(line.quantity)} is below the minimum order quantity"
            f" {_fmt(rules.moq)} for segment {seg!r}",
            f"{at}.moq",
            _fmt(_round_up_to_multiple(rules.moq, mult)),
        )
    if not _is_multiple(line.quantity, mult):
        out.add(
            st.order_multiple,
            "not_order_multiple",
            n,
            "quantity",
            f"quantity {_fmt(line.quantity)} is not a multiple of {_fmt(mult)}",
            f"{at}.order_multiple",
            _fmt(_round_up_to_multiple(max(line.quantity, rules.moq), mult)),
        )
    price = line.unit_price
    if product is not None and price is not None:
        lp = product.list_price
        tol = rules.price_tolerance_pct
        off = abs(price - lp) > _EPS if lp == 0 else abs(price - lp) / lp * 100 > tol + _EPS
        if off:
            out.add(
                st.price_tolerance,
                "price_out_of_tolerance",
                n,
                "unit_price",
                f"unit price {_fmt(price)} is more than {_fmt(tol)}% from the list price"
                f" {_fmt(lp)}",
                f"{at}.price_tolerance_pct",
                _fmt(lp),
            )
    if price is None:
        price = product.list_price if product is not None else 0.0
    return line.quantity * price
