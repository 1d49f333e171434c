"""The ``forecast:`` section: cleansing, method selection per series and the forecast path that
feed the policies."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["FREQ_OF_BUCKET", "CleansingSettings", "ForecastSettings"]

# statsforecast/pandas frequency of each analysis bucket (weeks start on Monday).
FREQ_OF_BUCKET = {"day": "D", "week": "W-MON", "month": "MS"}


class CleansingSettings(BaseModel):
    """Outlier cap before forecasting: median + k x MAD of each series' non-zero sizes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    method: Literal["mad"] = Field(default="mad", description="The only rule: median + k x MAD.")
    k: float = Field(default=10.0, gt=0, description="MADs above the median where the cap sits.")


class LastSeasonSettings(BaseModel):
    """Seasonal path from one season of history for concentrated series of unknown
    seasonality: last season's same periods x the year-over-year ratio (an assumption)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    min_share: float = Field(
        default=0.6,
        gt=0,
        le=1,
        description="Least share of the last season's demand in its busiest quarter-season.",
    )
    overlap: int = Field(
        default=4, ge=1, le=52, description="Most latest periods the year-over-year ratio uses."
    )


class ForecastSettings(BaseModel):
    """Forecasting per item-location; when enabled its mean and error std replace history.

    ``methods`` overrides the default method of a pattern (smooth/erratic: AutoETS,
    intermittent: TSB, lumpy: IMAPA, insufficient_history: HistoricAverage); the default is
    always a candidate and is kept where the history is too short to choose.
    ``candidates`` replaces a pattern's other candidates (see README).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    horizon: int = Field(default=4, ge=1, le=104, description="Periods ahead (h).")
    backtest_windows: int = Field(
        default=4, ge=1, le=52, description="Rolling origins, h periods apart."
    )
    holdout_windows: int = Field(
        default=1, ge=1, le=52, description="Last origins held out to score the choice."
    )
    season_length: int = Field(default=52, ge=1, description="Periods per season (weekly: 52).")
    path_horizon: int = Field(
        default=13, ge=1, le=520, description="Periods of the forecast path (at least horizon)."
    )
    methods: dict[str, str] = Field(default_factory=dict)
    candidates: dict[str, list[str]] = Field(default_factory=dict)
    selection: bool = Field(default=True, description="false: every series keeps its default.")
    selection_margin: float = Field(
        default=0.1, ge=0, lt=1, description="MAE share a challenger must beat the default by."
    )
    select_baselines: bool = Field(
        default=False, description="Let Naive/SeasonalNaive be chosen, not only scored."
    )
    cleansing: CleansingSettings = CleansingSettings()
    last_season: LastSeasonSettings = LastSeasonSettings()
    max_series: int = Field(
        default=100_000, ge=1, description="Above this many series, skip with a note."
    )

    @model_validator(mode="after")
    def _holdout_within_windows(self) -> Self:
        if self.holdout_windows > self.backtest_windows:
            raise ValueError(
                f"holdout_windows={self.holdout_windows} > backtest_windows="
                f"{self.backtest_windows}; give at most backtest_windows"
            )
        return self
