"""Request and response bodies of the HTTP API (pydantic; requests reject unknown fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from supplyseg.policy.document import Channel, StatusEvent
from supplyseg.service.security import ADMIN_BOUND, Role

__all__ = [
    "EARLIEST_DATE",
    "LATEST_DATE",
    "LIMIT_CEILING",
    "MAX_ID",
    "MAX_QUANTITY",
    "MAX_UNIT_PRICE",
    "ApiKeyCreated",
    "ApiKeyIn",
    "ApiKeyOut",
    "BatchIn",
    "BatchOut",
    "CancelIn",
    "ExceptionOut",
    "ExceptionPage",
    "NotificationOut",
    "NotificationPage",
    "OrderIn",
    "OrderLineIn",
    "OrderLineOut",
    "OrderOut",
    "OrderPage",
    "OrderStatus",
    "PolicyPublished",
    "PolicySummary",
    "ReasonOut",
    "ResolveIn",
    "ResolveOut",
    "ShipmentIn",
    "Text",
    "no_nul",
    "plausible_date",
]

OrderStatus = Literal[
    "accepted",
    "accepted_with_warnings",
    "exception",
    "approved",
    "rejected",
    "shipped",
    "cancelled",
]
# Row ids are 32-bit integer columns (PostgreSQL INTEGER); a larger id cannot name a row.
MAX_ID = 2**31 - 1
# Limits of plausibility, not business rules: a line beyond them is a typo or an attack, and
# would make order totals (and every later credit check of the customer) overflow to Inf.
# These are the defaults of the settings max_quantity and max_unit_price.
MAX_QUANTITY = 1e9
MAX_UNIT_PRICE = 1e9
# The most those settings may allow: 1,000 lines x 1e15 x 1e15 is still far from overflow.
LIMIT_CEILING = 1e15


def no_nul(value: str) -> str:
    """``value`` unless it holds a NUL character (PostgreSQL text cannot store one)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


Text = Annotated[str, AfterValidator(no_nul)]

# Order dates outside this range are typos (year 0001, 20266) that would mislead every
# lead-time and ageing figure; the range covers all public order data sets back to 1990.
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2199, 12, 31)


def plausible_date(value: date) -> date:
    """``value`` unless it lies outside ``EARLIEST_DATE``..``LATEST_DATE``."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueError(
            f"{value} is not a plausible order date; allowed {EARLIEST_DATE}..{LATEST_DATE}"
        )
    return value


OrderDate = Annotated[date, AfterValidator(plausible_date)]
# Numbers in JSON must be numbers: "10" or true are refused, not coerced (strict); an int is
# a valid float.
LineNo = Annotated[int, Field(strict=True, ge=1, le=100_000)]
# Constraints before the NUL check: after a validator pydantic would not apply them.
Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(no_nul),
]
Comment = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
    AfterValidator(no_nul),
]
Label = Annotated[str, StringConstraints(max_length=200), AfterValidator(no_nul)]


class _In(BaseModel):
    # Unknown fields are an error (422 naming the field), never silently dropped.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderLineIn(_In):
    """One order line as submitted."""

    line_no: LineNo
    product_id: Id
    # The configured maxima (settings) are checked after parsing; this bound holds for any.
    quantity: float = Field(strict=True, gt=0, le=LIMIT_CEILING, allow_inf_nan=False)
    unit_price: float | None = Field(
        None,
        strict=True,
        ge=0,
        le=LIMIT_CEILING,
        allow_inf_nan=False,
        description="Agreed price; null = list price.",
    )
    location_id: Id | None = Field(
        None, description="Location to ship from; null = any (order promising pools them)."
    )


class OrderIn(_In):
    """One order as submitted by any channel."""

    customer_id: Id
    po_number: Id = Field(description="The customer's purchase order number.")
    channel: Channel
    order_date: OrderDate
    requested_date: OrderDate
    ship_to_id: Id | None = Field(None, description="null = the customer's default ship-to.")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _requested_after_ordered(self) -> OrderIn:
        if self.requested_date < self.order_date:
            raise ValueError(
                f"requested_date {self.requested_date} is before order_date {self.order_date};"
                " fix: request a date on or after the order date"
            )
        return self

    @model_validator(mode="after")
    def _unique_line_numbers(self) -> OrderIn:
        seen: set[int] = set()
        for i, line in enumerate(self.lines):
            if line.line_no in seen:
                raise ValueError(f"lines[{i}].line_no {line.line_no} is duplicated")
            seen.add(line.line_no)
        return self


class BatchIn(_In):
    """Several orders in one request (validated and committed together)."""

    orders: list[OrderIn] = Field(min_length=1)


class ReasonOut(_Out):
    """Why an order is not simply accepted: one failed check."""

    code: str
    severity: Literal["error", "warning"]
    line_no: int | None
    field: str
    message: str
    rule: str = Field(description="Path of the rule in the policy document.")
    policy_version: str
    suggested_value: str | None = None


class OrderLineOut(_Out):
    """One order line as held by the service."""

    line_no: int
    product_id: str
    quantity: float
    unit_price: float | None
    # Order promising (supplyseg.service.promise); null = not promised (e.g. an exception).
    confirmed_quantity: float | None = Field(None, description="Quantity confirmed (reserved).")
    promised_date: date | None = Field(None, description="When the confirmed quantity is there.")
    backorder_quantity: float | None = Field(None, description="Quantity not confirmed.")
    allocation_segment: str | None = Field(
        None, description="Customer segment whose allocation the line used; null = none."
    )
    location_id: str | None = Field(
        None,
        description="Location the confirmed quantity comes from (the line's own, or a"
        " substitute); null = any location.",
    )


class OrderOut(_Out):
    """An order, its status and the findings of its latest validation."""

    order_id: int
    customer_id: str
    po_number: str
    channel: str
    order_date: date
    requested_date: date
    ship_to_id: str | None
    status: OrderStatus
    segment: str | None
    policy_version: str
    total_value: float
    exception_id: int | None = Field(description="The open exception, if any.")
    reasons: list[ReasonOut]
    lines: list[OrderLineOut]


class BatchOut(_Out):
    """One result per submitted order, in submission order."""

    results: list[OrderOut]


class OrderPage(_Out):
    """A page of orders; pass ``next_after`` as ``after`` for the next page."""

    items: list[OrderOut]
    next_after: int | None


class ExceptionOut(_Out):
    """An entry of the exception queue."""

    exception_id: int
    order_id: int
    customer_id: str
    po_number: str
    segment: str | None
    status: Literal["open", "resolved"]
    opened_at: datetime
    resolved_at: datetime | None
    resolution: (
        Literal["approve", "reject", "amend", "recovered", "cancelled", "shipped"] | None
    ) = Field(
        description="A person's approve, reject or amend; or closed without one: recovered"
        " (backorder processing found the late lines in time again), cancelled, shipped."
    )
    resolved_by: str | None
    comment: str | None
    reasons: list[ReasonOut]


class ExceptionPage(_Out):
    """A page of exceptions; pass ``next_after`` as ``after`` for the next page."""

    items: list[ExceptionOut]
    next_after: int | None


class ResolveIn(_In):
    """How a person resolves an exception; ``comment`` is mandatory.

    ``approve`` overrides the findings, ``reject`` refuses the order, ``amend`` changes it
    (``lines`` replace or add lines by ``line_no``, ``remove_line_nos`` drop lines, dates and
    ship-to may change) and re-validates the whole amended order.
    """

    action: Literal["approve", "reject", "amend"]
    comment: Comment
    lines: list[OrderLineIn] | None = None
    remove_line_nos: list[LineNo] | None = None
    requested_date: OrderDate | None = None
    ship_to_id: Id | None = None

    @model_validator(mode="after")
    def _changes_only_for_amend(self) -> ResolveIn:
        changes = [
            name
            for name in ("lines", "remove_line_nos", "requested_date", "ship_to_id")
            if getattr(self, name) is not None
        ]
        if self.action == "amend" and not changes:
            raise ValueError(
                "amend needs at least one of lines, remove_line_nos, requested_date, ship_to_id"
            )
        if self.action != "amend" and changes:
            raise ValueError(f"{changes[0]} is only allowed with action amend")
        return self


class ResolveOut(_Out):
    """The resolved exception and the order after resolution."""

    exception: ExceptionOut
    order: OrderOut


class ShipmentIn(_In):
    """A shipment reported by the ERP/WMS for an accepted or approved order."""

    comment: Comment | None = None


class CancelIn(_In):
    """Why an accepted or approved order is cancelled (kept in the audit trail)."""

    comment: Comment | None = None


class NotificationOut(_Out):
    """One status notification from the outbox."""

    id: int
    created_at: datetime
    order_id: int
    customer_id: str
    segment: str | None
    event: StatusEvent
    payload: dict[str, Any]


class NotificationPage(_Out):
    """Notifications after ``since``; pass ``next_since`` as ``since`` to continue."""

    items: list[NotificationOut]
    next_since: int


class ApiKeyIn(_In):
    """A key to create."""

    role: Role
    customers: list[Id] | None = Field(
        None,
        min_length=1,
        description="Customers a submitter or operator is bound to; null = all (admin: null).",
    )
    label: Label = ""

    @model_validator(mode="after")
    def _admin_unbound(self) -> ApiKeyIn:
        if self.role == "admin" and self.customers is not None:
            raise ValueError(ADMIN_BOUND)
        return self


class ApiKeyCreated(_Out):
    """A new key; ``key`` is shown only here, once."""

    key_id: str
    key: str
    role: Role
    customers: list[str] | None


class ApiKeyOut(_Out):
    """A stored key (never the secret)."""

    key_id: str
    role: str
    customers: list[str] | None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class PolicySummary(_Out):
    """Header of a published policy version."""

    version_id: str
    created: datetime
    source_run_id: str
    config_hash: str
    currency: str
    published_at: datetime
    published_by: str
    active: bool


class PolicyPublished(_Out):
    """Outcome of a publish: the version and whether it was new or re-activated."""

    version_id: str
    new_version: bool
