"""The ``forecast:`` section: statsforecast method per demand pattern feeding the policies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FREQ_OF_BUCKET", "ForecastSettings"]

# statsforecast/pandas frequency of each analysis bucket (weeks start on Monday).
FREQ_OF_BUCKET = {"day": "D", "week": "W-MON", "month": "MS"}


class ForecastSettings(BaseModel):
    """Forecasting per item-location; when enabled its mean and error std replace history.

    ``methods`` overrides the default method of a pattern (smooth/erratic: AutoETS,
    intermittent: TSB, lumpy: IMAPA, insufficient_history: HistoricAverage).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    horizon: int = Field(default=4, ge=1, le=104, description="Periods ahead (h).")
    backtest_windows: int = Field(default=4, ge=1, le=52, description="Rolling origins.")
    season_length: int = Field(default=52, ge=1, description="Periods per season (weekly: 52).")
    methods: dict[str, str] = Field(default_factory=dict)
    max_series: int = Field(
        default=100_000, ge=1, description="Above this many series, skip with a note."
    )
