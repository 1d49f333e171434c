"""``policies.customer.<segment>.allocation``: how a customer segment shares scarce supply.

Two fields, both optional (`AllocationRule`):

- ``priority`` (1 = served first; default: the segment's ``allocation_priority``, which the
  built-in rules derive from the segment's strategic value, e.g. 1 for cts_margin ``protect``
  and RFM ``Champions``, 4-5 for ``re-price or exit`` and ``Lost``). Segments with equal
  priority share one protection level.
- ``share`` (fraction of each period's supply protected for the segment, nested with the
  segments ranked above it; default: the segment's share of the product segment's historic
  demand quantity, scaled to what explicit shares leave). Protecting a higher segment's usual
  demand is the standard nested-allocation heuristic (Littlewood's rule with the premium
  class's demand as its expectation); a segment with no demand history gets no protection.
- ``fill_target`` (fill rate the segment keeps when supply is short: per product, the supply
  protected for it is the quantity whose expected shortfall is ``1 - fill_target`` of the
  segment's expected demand over the supply horizon, `supplyseg.allocation.protection`; default:
  0.95 for priority-1 segments when they set no ``share``, none for the others). A share of
  capacity cuts a segment in proportion when supply is short; a fill target holds its level
  while the lower segments absorb the shortage. Give either ``share`` or ``fill_target``.
- ``strategy`` (backorder processing when supply changes, SAP aATP's: ``win`` confirm as
  requested first, ``gain`` keep and may improve, ``redistribute`` may gain or lose, ``fill``
  keep if possible and never gain, ``lose`` give up; default: ``gain`` for priority 1, else
  ``redistribute``).

`supplyseg.allocation.plan` turns the rules into the allocation plan per period and product
segment x customer segment; `supplyseg.allocation.nesting` applies them to requests.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DEFAULT_FILL_TARGET",
    "AllocationRule",
    "BopStrategy",
    "default_fill_target",
    "default_strategy",
]

BopStrategy = Literal["win", "gain", "redistribute", "fill", "lose"]


DEFAULT_FILL_TARGET = 0.95
"""Fill target of a priority-1 segment that sets neither ``share`` nor ``fill_target``."""


def default_fill_target(priority: int) -> float | None:
    """Fill target of a segment that sets neither share nor target: the first-served segments
    keep `DEFAULT_FILL_TARGET` of their expected demand; the others share what is left."""
    return DEFAULT_FILL_TARGET if priority <= 1 else None


def default_strategy(priority: int) -> BopStrategy:
    """Backorder-processing strategy of a segment that sets none: the first-served segments
    (priority 1) keep what they were promised and may gain; the others are redistributed."""
    return "gain" if priority <= 1 else "redistribute"


class AllocationRule(BaseModel):
    """Allocation priority and protected share of one customer segment; unset = derived."""

    # Typos in YAML keys must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: Annotated[int, Field(ge=1, le=99)] | None = Field(
        default=None,
        description="Rank when supply is short, 1 = served first (default: allocation_priority).",
    )
    share: Annotated[float, Field(ge=0.0, le=1.0)] | None = Field(
        default=None,
        description="Share of each period's supply protected for the segment (default: its"
        " share of the product segment's demand).",
    )
    fill_target: Annotated[float, Field(gt=0.0, lt=1.0)] | None = Field(
        default=None,
        description="Fill rate protected for the segment when supply is short (default: 0.95 for"
        " priority 1 without a share).",
    )
    strategy: BopStrategy | None = Field(
        default=None,
        description="Backorder processing: win, gain, redistribute, fill or lose (default: gain"
        " for priority 1, else redistribute).",
    )

    @model_validator(mode="after")
    def _share_or_target(self) -> AllocationRule:
        if self.share is not None and self.fill_target is not None:
            raise ValueError(
                f".share ({self.share:g}) and .fill_target ({self.fill_target:g}) are both set;"
                " give one: a share of supply, or a fill rate to protect"
            )
        return self

    def over(self, base: AllocationRule | None) -> AllocationRule:
        """This rule's set fields on top of ``base`` (a share replaces a fill target, and the
        other way round)."""
        if base is None:
            return self
        update = self.model_dump(exclude_none=True)
        if "share" in update:
            update.setdefault("fill_target", None)
        if "fill_target" in update:
            update.setdefault("share", None)
        return base.model_copy(update=update)
