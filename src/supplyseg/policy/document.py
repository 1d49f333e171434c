"""The policy version document: what `publish` writes and orders are checked against.

This is the contract between the policy step (which will produce it from an approved run) and the
order-validation service. It depends on pydantic only, so it can move to a lower layer (e.g.
``supplyseg.policy``) unchanged once the policy step exists.

A document holds one immutable version:

- header: ``version_id``, ``created``, ``source_run_id``, ``config_hash``;
- ``segments``: order rules per segment (`SegmentRules`), including per-check strictness
  (`CheckStrictness`: ``hard`` = exception, ``soft`` = warning, ``none`` = not checked) and the
  status events the segment is notified of;
- ``customers``: segment membership and the customer attributes the checks need;
- ``products``: list price, active flag and the segments/channels a product may be sold to/through.

Validation rejects dangling references (a customer in an unknown segment, a product allowed for an
unknown segment) and duplicate ids, so a published version is always self-consistent.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

# The vocabularies the workspace configuration and the service share are defined once, in the
# configuration (the lower layer): channels orders arrive by, status events segments hear of.
from supplyseg.config.policy import CHANNELS, STATUS_EVENTS, Channel, StatusEvent

__all__ = [
    "CHANNELS",
    "CHECKS",
    "STATUS_EVENTS",
    "Channel",
    "CheckName",
    "CheckStrictness",
    "CustomerPolicy",
    "PolicyVersion",
    "ProductPolicy",
    "PromisingRules",
    "SegmentRules",
    "StatusEvent",
    "Strictness",
]

Strictness = Literal["hard", "soft", "none"]
"""``hard``: a failed check puts the order in the exception queue; ``soft``: accepted with a
warning; ``none``: the check is not run."""

CheckName = Literal[
    "customer_active",
    "product_known",
    "product_allowed",
    "channel_allowed",
    "moq",
    "order_multiple",
    "min_order_value",
    "price_tolerance",
    "lead_time",
    "credit",
    "duplicate_po",
    "ship_to",
    "late_promise",
]
CHECKS: tuple[CheckName, ...] = (
    "customer_active",
    "product_known",
    "product_allowed",
    "channel_allowed",
    "moq",
    "order_multiple",
    "min_order_value",
    "price_tolerance",
    "lead_time",
    "credit",
    "duplicate_po",
    "ship_to",
    "late_promise",
)


_DEFAULT_NOTIFY: list[StatusEvent] = ["exception", "shipped"]


class _Doc(BaseModel):
    # A typo in a published document must fail loudly, never be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckStrictness(_Doc):
    """How strictly each check is applied for a segment (hard = exception, soft = warning, none).

    An unknown customer is always an exception: without a customer there is no segment to take
    rules from.
    """

    customer_active: Strictness = Field("hard", description="The customer is active.")
    product_known: Strictness = Field("hard", description="Every product exists and is active.")
    product_allowed: Strictness = Field(
        "hard", description="Every product may be sold to this segment and through this channel."
    )
    channel_allowed: Strictness = Field(
        "hard", description="The order channel is one of the segment's allowed_channels."
    )
    moq: Strictness = Field("hard", description="Line quantity >= the segment's moq.")
    order_multiple: Strictness = Field(
        "soft", description="Line quantity is a whole multiple of order_multiple."
    )
    min_order_value: Strictness = Field(
        "soft", description="Order value (quantity x unit price) >= min_order_value."
    )
    price_tolerance: Strictness = Field(
        "hard", description="Unit price within price_tolerance_pct of the list price."
    )
    lead_time: Strictness = Field(
        "soft", description="Requested date >= order date + promise_lead_time_days."
    )
    credit: Strictness = Field(
        "hard",
        description="Open orders + open receivables + this order <= credit limit (the credit"
        " check: hard/soft/none).",
    )
    duplicate_po: Strictness = Field(
        "hard", description="No other (non-rejected) order of the customer has this PO number."
    )
    ship_to: Strictness = Field("hard", description="The ship-to is one of the customer's.")
    late_promise: Strictness = Field(
        "hard",
        description="Every line can be promised within promising.max_lateness_days of the"
        " requested date (checked when the order is promised, not by validate_order).",
    )


class PromisingRules(_Doc):
    """How order lines of a segment may be confirmed (`supplyseg.service.promise`)."""

    partial_shipment: bool = Field(
        True, description="A line may be confirmed in part; false: the whole quantity or nothing."
    )
    min_fill: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Smallest share of a line confirmed in part; below it nothing is confirmed.",
    )
    max_lateness_days: int | None = Field(
        None,
        ge=0,
        description="Days a promise may be later than requested; later, or no date at all, is a"
        " late_promise finding. null = no limit.",
    )
    substitute_locations: bool = Field(
        False,
        description="A line whose location cannot cover it is promised from another location"
        " (the line records which).",
    )


class SegmentRules(_Doc):
    """Order rules of one segment."""

    moq: float = Field(0.0, ge=0, description="Minimum quantity per order line.")
    order_multiple: float = Field(
        1.0, gt=0, description="Line quantities must be a whole multiple of this."
    )
    min_order_value: float = Field(0.0, ge=0, description="Minimum order value (currency).")
    promise_lead_time_days: int = Field(
        0, ge=0, description="Calendar days from order date to the earliest date promised."
    )
    allowed_channels: list[Channel] = Field(
        default_factory=lambda: list(CHANNELS), min_length=1, description="Channels accepted."
    )
    price_tolerance_pct: float = Field(
        0.0, ge=0, description="Allowed |unit price - list price| / list price, in percent."
    )
    strictness: CheckStrictness = Field(default_factory=CheckStrictness)
    notify: list[StatusEvent] = Field(
        default_factory=lambda: _DEFAULT_NOTIFY.copy(),
        description="Status events written to the notification outbox for this segment.",
    )
    promising: PromisingRules = Field(default_factory=lambda: PromisingRules())


class CustomerPolicy(_Doc):
    """A customer's segment and the attributes the checks need."""

    customer_id: str = Field(min_length=1)
    segment: str = Field(min_length=1)
    active: bool = True
    credit_limit: float | None = Field(
        None, ge=0, description="Currency; null = no credit limit (credit check skipped)."
    )
    open_receivables: float = Field(0.0, ge=0, description="Unpaid invoices at publish time.")
    ship_to_ids: list[str] = Field(
        default_factory=list, description="Known ship-to ids; empty = any ship-to is accepted."
    )


class ProductPolicy(_Doc):
    """A product's list price and where it may be sold."""

    product_id: str = Field(min_length=1)
    list_price: float = Field(ge=0)
    active: bool = True
    allowed_segments: list[str] | None = Field(None, description="null = every segment.")
    allowed_channels: list[Channel] | None = Field(None, description="null = every channel.")


class PolicyVersion(_Doc):
    """One approved, immutable policy version (see the module docstring for the contract)."""

    version_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    created: AwareDatetime = Field(description="When the version was made (with a time zone).")
    source_run_id: str = Field(min_length=1, description="The pipeline run this was derived from.")
    config_hash: str = Field(min_length=1, description="Hash of the workspace configuration.")
    currency: str = Field("EUR", min_length=3, max_length=3)
    segments: dict[str, SegmentRules] = Field(min_length=1)
    customers: list[CustomerPolicy]
    products: list[ProductPolicy]

    @model_validator(mode="after")
    def _consistent(self) -> PolicyVersion:
        seen: set[str] = set()
        for i, c in enumerate(self.customers):
            if c.customer_id in seen:
                raise ValueError(f"customers[{i}].customer_id {c.customer_id!r} is duplicated")
            seen.add(c.customer_id)
            if c.segment not in self.segments:
                raise ValueError(
                    f"customers[{i}].segment {c.segment!r} is not a segment;"
                    f" allowed: {sorted(self.segments)}"
                )
        seen.clear()
        for i, p in enumerate(self.products):
            if p.product_id in seen:
                raise ValueError(f"products[{i}].product_id {p.product_id!r} is duplicated")
            seen.add(p.product_id)
            bad = sorted(set(p.allowed_segments or ()) - set(self.segments))
            if bad:
                raise ValueError(
                    f"products[{i}].allowed_segments names unknown segment(s) {bad};"
                    f" allowed: {sorted(self.segments)}"
                )
        return self
