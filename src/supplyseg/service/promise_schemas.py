"""Request and response bodies of order promising (``/promise``, ``/supply``,
``/backorder-processing``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from supplyseg.service.schemas import (
    MAX_QUANTITY,
    OrderLineOut,
    ReasonOut,
    no_nul,
    plausible_date,
)

__all__ = ["BopOut", "PromiseOut", "SupplyIn", "SupplyLineIn", "SupplyOut"]

Id = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(no_nul),
]


class PromiseOut(BaseModel):
    """What each line of an order could be confirmed now (nothing is reserved)."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    segment: str | None = Field(description="The customer's segment; null = unknown customer.")
    policy_version: str
    lines: list[OrderLineOut]
    reasons: list[ReasonOut] = Field(
        default_factory=list,
        description="late_promise findings POST /orders would raise for these promises.",
    )


class SupplyLineIn(BaseModel):
    """One supply row: stock on hand as of ``date``, or a receipt due on ``date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: Id
    location_id: Id
    date: Annotated[date, AfterValidator(plausible_date)]
    kind: Literal["on_hand", "receipt"]
    quantity: float = Field(strict=True, ge=0, le=MAX_QUANTITY, allow_inf_nan=False)


class SupplyIn(BaseModel):
    """Supply changes: ``add`` writes the rows (a row with the same product, location, date and
    kind is overwritten); ``replace`` first deletes the product-locations' rows of the kinds
    given (e.g. all receipts of a product at a DC, when a PO moved)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["add", "replace"] = "add"
    rows: list[SupplyLineIn] = Field(min_length=1, max_length=10_000)


class SupplyOut(BaseModel):
    """Outcome of a supply change."""

    model_config = ConfigDict(frozen=True)

    rows_written: int
    mode: Literal["add", "replace"]


class BopOut(BaseModel):
    """Outcome of a backorder-processing run: open lines re-confirmed and how they changed."""

    model_config = ConfigDict(frozen=True)

    lines: int = Field(description="Open order lines processed.")
    changes: dict[str, int] = Field(
        description="Lines per change: gained, lost, earlier, later, unchanged."
    )
    confirmed_before: float
    confirmed_after: float
    seconds: float
    late_promise_opened: int = Field(
        0, description="Orders given a late_promise exception (a line moved past the limit)."
    )
    late_promise_recovered: int = Field(
        0, description="late_promise exceptions resolved: every late line is in time again."
    )
