"""The ``policies.optimise:`` section: stock-mix optimisation of the items' service targets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["OptimiseSettings"]


class OptimiseSettings(BaseModel):
    """Stock-mix optimisation: per-item fill-rate targets that reach each segment's (or the
    company's) target as a demand-weighted fill rate at the least safety-stock value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=False, description="Optimise the items' targets.")
    scope: Literal["segment", "overall"] = Field(
        default="segment",
        description="segment: each product segment meets its own service_target; overall: the"
        " stocked items together meet their demand-weighted mean target.",
    )
    target: Literal["fill_rate"] = Field(
        default="fill_rate", description="The aggregate measure met (fill rate, beta)."
    )
