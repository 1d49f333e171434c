"""Forecast methods, candidate sets per demand pattern and the statsforecast calls behind them.

Shared by `supplyseg.policy.backtest` (one method per series) and
`supplyseg.policy.selection` (several candidates per series). statsforecast is imported inside
the functions (≈ 1.5 s), so ``import supplyseg`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.errors import ConfigError

__all__ = [
    "CANDIDATES",
    "DEFAULT_METHODS",
    "METHODS",
    "PATTERNS",
    "SEASONAL_METHODS",
    "check_method",
    "check_pattern",
    "min_train",
    "model",
    "run_forecast",
]

# Mirrors supplyseg.analytics.demand.PATTERNS (a test keeps them equal); kept local so the
# forecast modules import without Ibis.
PATTERNS = ("smooth", "erratic", "intermittent", "lumpy", "insufficient_history")

METHODS: Mapping[str, str] = MappingProxyType(
    {
        "AutoETS": "ETS level model, error type by AICc (statsforecast AutoETS, model 'ZNN')",
        "AutoETS_full": "ETS with error, trend, damping and season by AICc (model 'ZZZ')",
        "AutoTheta": "Theta with variant and seasonal decomposition chosen automatically",
        "CrostonClassic": "Croston (1972), alpha 0.1",
        "CrostonSBA": "Syntetos-Boylan approximation: Croston x (1 - alpha/2), alpha 0.1",
        "CrostonOptimized": "Croston, both SES alphas optimised in [0.1, 0.3]",
        "TSB": "Teunter-Syntetos-Babai, alpha_d = alpha_p = 0.1",
        "ADIDA": "temporal aggregation at the mean interval, optimised SES, disaggregated",
        "IMAPA": "mean of ADIDA-style forecasts over aggregation levels 1..mean interval",
        "HistoricAverage": "mean of the history",
        "Naive": "last value",
        "SeasonalNaive": "value one season ago (naive when the history is short)",
        "AutoETS_seasonal": "ETS level + season, error and season type by AICc (model 'ZNZ')",
        "SeasonalES": "exponential smoothing of each season position, one optimised alpha",
    }
)

DEFAULT_METHODS: Mapping[str, str] = MappingProxyType(
    {
        "smooth": "AutoETS",
        "erratic": "AutoETS",
        "intermittent": "TSB",
        "lumpy": "IMAPA",
        "insufficient_history": "HistoricAverage",
    }
)

# Non-seasonal candidates per pattern: cheap models only (each is fitted at every origin).
# Naive is always added as the baseline; seasonal series also get SEASONAL_CANDIDATES.
CANDIDATES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "smooth": ("AutoETS", "HistoricAverage"),
        "erratic": ("AutoETS", "HistoricAverage"),
        "intermittent": ("TSB", "CrostonSBA", "IMAPA", "ADIDA", "HistoricAverage"),
        "lumpy": ("TSB", "CrostonSBA", "IMAPA", "ADIDA", "HistoricAverage"),
        "insufficient_history": ("HistoricAverage",),
    }
)

# Methods that use the season length m.
SEASONAL_METHODS = frozenset(
    {"AutoETS_full", "AutoETS_seasonal", "AutoTheta", "SeasonalNaive", "SeasonalES"}
)
_ETS_MAX_SEASON = 24  # forecast::ets refuses seasons above 24
_TSB_ALPHA = 0.1  # alpha_d = alpha_p; statsforecast fixes Croston's alpha at 0.1 itself


def check_method(name: str, method: object) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ConfigError(f"{name}={method!r}: unknown method; allowed: {', '.join(METHODS)}")
    return str(method)


def check_pattern(name: str, pattern: object) -> str:
    if not isinstance(pattern, str) or pattern not in PATTERNS:
        raise ConfigError(f"{name}={pattern!r}: unknown pattern; allowed: {', '.join(PATTERNS)}")
    return str(pattern)


def min_train(method: str, m: int) -> int:
    """Training periods a method needs before it is fitted or compared (ETS needs n >
    parameters + 4; a seasonal model one season, the seasonal ETS two, to set its states)."""
    if method == "AutoETS_seasonal":
        return max(7, 2 * m)
    if method in ("SeasonalNaive", "SeasonalES"):
        return m
    return {"AutoETS": 7, "AutoETS_full": 7, "AutoTheta": 4}.get(method, 1)


def model(method: str, m: int, alias: str) -> Any:
    """A statsforecast model instance; imported here so `import supplyseg` stays fast."""
    from statsforecast import models as sf

    if method == "AutoETS":
        return sf.AutoETS(model="ZNN", alias=alias)
    if method == "AutoETS_full":
        return sf.AutoETS(season_length=m if m <= _ETS_MAX_SEASON else 1, alias=alias)
    if method == "AutoETS_seasonal":
        return sf.AutoETS(
            model="ZNZ" if 1 < m <= _ETS_MAX_SEASON else "ZNN", season_length=m, alias=alias
        )
    if method == "AutoTheta":
        return sf.AutoTheta(season_length=m, alias=alias)
    if method == "TSB":
        return sf.TSB(alpha_d=_TSB_ALPHA, alpha_p=_TSB_ALPHA, alias=alias)
    if method == "SeasonalNaive":
        return sf.SeasonalNaive(season_length=m, alias=alias)
    if method == "SeasonalES":
        return sf.SeasonalExponentialSmoothingOptimized(season_length=m, alias=alias)
    return getattr(sf, method)(alias=alias)


def run_forecast(df: pd.DataFrame, models: list[Any], h: int, freq: str) -> pd.DataFrame:
    """One StatsForecast ``forecast`` call over all series of ``df`` (n_jobs=1)."""
    from statsforecast import StatsForecast

    sf = StatsForecast(models=models, freq=freq, n_jobs=1)
    # ETS's model search divides by zero on some short candidates it then discards.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out: pd.DataFrame = sf.forecast(df=df, h=h)
    return out
