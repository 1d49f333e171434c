"""The ``simulation:`` section: replaying actual demand against an out-of-sample policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_SIMULATION_BUCKETS", "SimulationSettings"]

DEFAULT_SIMULATION_BUCKETS = {"day": 182, "week": 26, "month": 6}
"""The default window per analysis bucket: half a year."""


class SimulationSettings(BaseModel):
    """Did the policy deliver? The last ``buckets`` of actual demand replayed against the policy.

    The policy is computed again from the data *before* the window (demand profile, forecast
    and the segments' templates: out of sample), then every stocked item's actual **daily**
    demand in the window is replayed against it, checked every day as an ERP's daily planning
    run would (continuous review) or every review period. At least ``min_history_buckets`` of
    data must come before the window, else the step is skipped with a warning.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    buckets: int | None = Field(
        default=None,
        ge=1,
        description="Window length in analysis buckets; default half a year (26 weeks, 6 months,"
        " 182 days).",
    )
    min_history_buckets: int | None = Field(
        default=None,
        ge=1,
        description="Buckets needed before the window; default the window's length.",
    )

    def window(self, bucket: str) -> int:
        """The window length in buckets of ``bucket``."""
        return self.buckets or DEFAULT_SIMULATION_BUCKETS[bucket]
