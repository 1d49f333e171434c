"""Forecasts per item for the inventory policy: cleansing, a method chosen per series by
out-of-sample accuracy, the forecast path and the per-series demand mean and error std.

Tables follow the statsforecast convention: long DataFrames ``unique_id, ds, y``; ``freq`` is a
pandas offset alias (default ``"W-MON"``: weeks dated by their Monday, as
`supplyseg.analytics.demand.demand_series` dates them). Missing periods are 0 from each
series' first ``ds`` to the last ``ds`` of the whole table (`supplyseg.policy._panel`).

`forecast_outputs` runs, in order:

1. **Cleansing** (`supplyseg.policy.cleansing`): values above ``median + k x MAD`` of a
   series' non-zero sizes are capped; every change is a row of ``cleansing``.
2. **Selection** (`supplyseg.policy.selection`): every candidate of the series' pattern is
   refitted at ``n_windows`` rolling origins; the one with the lowest MAE on the earlier
   windows is chosen and scored, with the baseline, on the last ``holdout_windows``.
3. **Forecast**: the chosen method refitted on the whole cleansed history forecasts
   ``max(h, path_horizon)`` periods: the ``path`` (clipped at 0, the policy plans
   non-negative demand). ``demand_mean`` is the mean of its first ``h`` steps.
   ``demand_std`` is the RMSE of the chosen method's one-step-ahead errors at every window
   (selection and held-out) against the *cleansed* history when there are at least 3, else the
   population std (ddof 0, like ``demand_profile``) of the cleansed history; ``std_source``
   says which ("backtest" or "history").

Methods (`METHODS`, defaults per pattern `DEFAULT_METHODS`, candidates `CANDIDATES`): TSB and
IMAPA are the intermittent/lumpy defaults; ``AutoETS`` is statsforecast's AutoETS restricted
to level models (``model="ZNN"``): a trend is not worth extrapolating into a 1–4 period
replenishment horizon and trend models cost ≈ 14x more. Croston-type methods use alpha 0.1
(SBA factor 1 - 0.1/2); TSB alpha_d = alpha_p = 0.1. Each (method, season) group is fitted by
one StatsForecast call per origin over all its series (n_jobs=1).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from supplyseg.config.forecast import LastSeasonSettings
from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError
from supplyseg.policy._models import (
    CANDIDATES,
    DEFAULT_METHODS,
    METHODS,
    PATTERNS,
    check_method,
    check_pattern,
    model,
    run_forecast,
)
from supplyseg.policy._panel import DS, ID, FloatArray, check_freq, check_int, complete_series
from supplyseg.policy.accuracy import forecast_accuracy
from supplyseg.policy.backtest import assigned, backtest
from supplyseg.policy.cleansing import (
    DEFAULT_K,
    caps,
    check_k,
    cleansed,
    cleansing_table,
    demand_cleansing,
)
from supplyseg.policy.last_season import LastSeason, last_season_path
from supplyseg.policy.selection import DEFAULT_MARGIN, SeriesInfo, Windows, select_methods

__all__ = [
    "CANDIDATES",
    "DEFAULT_K",
    "DEFAULT_METHODS",
    "METHODS",
    "PATH_COLUMNS",
    "PATTERNS",
    "ForecastResult",
    "backtest",
    "demand_cleansing",
    "demand_forecast",
    "forecast_accuracy",
    "forecast_methods",
    "forecast_outputs",
]

PATH_COLUMNS = (ID, "step", DS, "forecast")
_PASSED = ("seasonal", "season_length", "segment")  # optional columns forecast_methods keeps
_MIN_STD_POINTS = 3


def forecast_methods(
    patterns: pd.Series | pd.DataFrame,
    overrides: Mapping[str, str] | None = None,
    *,
    id_col: str = ID,
) -> pd.DataFrame:
    """Default forecast method per series from its demand pattern: ``unique_id, pattern,
    method`` (+ ``seasonal``, ``season_length``, ``segment`` when ``patterns`` has them).

    ``patterns`` is a Series (index = ids, values = patterns) or a DataFrame with ``id_col``
    and ``pattern`` (e.g. `supplyseg.analytics.demand.demand_pattern` output with
    ``id_col="product_id"``). ``overrides`` maps patterns to method names, replacing the
    defaults in `DEFAULT_METHODS`. The default is always a candidate, wins ties and is used
    where the history is too short to choose.
    """
    mapping = dict(DEFAULT_METHODS)
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"overrides={overrides!r}: not allowed; give a dict {{pattern: method}}"
            )
        for pattern, method in overrides.items():
            check_pattern("overrides key", pattern)
            mapping[pattern] = check_method(f"overrides[{pattern!r}]", method)
    extra: dict[str, pd.Series] = {}
    if isinstance(patterns, pd.Series):
        ids, pats = patterns.index.to_series(), patterns
    else:
        df = require_columns("patterns", patterns, (id_col, "pattern"))
        ids, pats = df[id_col], df["pattern"]
        extra = {c: df[c] for c in _PASSED if c in df.columns}
    values = pats.to_numpy()
    bad = ~pd.Series(values).isin(PATTERNS).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        check_pattern(f"patterns[{ids.iloc[i]!r}]", values[i])
    if ids.duplicated().any():
        raise ConfigError(
            f"patterns: unique_id {ids[ids.duplicated()].iloc[0]!r} appears twice;"
            " give one pattern per series"
        )
    out = pd.DataFrame(
        {
            ID: ids.to_numpy(),
            "pattern": values.astype(object),
            "method": pd.Series(values).map(mapping).to_numpy(dtype=object),
        }
    )
    for c, v in extra.items():
        out[c] = v.to_numpy()
    return out


@dataclass(frozen=True)
class ForecastResult:
    """`forecast_outputs`: ``forecast`` one row per series (written as forecast.parquet),
    ``path`` ``unique_id, step, ds, forecast``, ``cleansing`` (demand_cleansing.parquet),
    ``accuracy`` (`forecast_accuracy` of ``forecast``) and seconds per step."""

    forecast: pd.DataFrame
    path: pd.DataFrame
    cleansing: pd.DataFrame
    accuracy: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)


def _check_candidates(candidates: object) -> dict[str, tuple[str, ...]]:
    if candidates is None:
        return {}
    if not isinstance(candidates, Mapping):
        raise ConfigError(
            f"candidates={candidates!r}: not allowed; give a dict {{pattern: [method, ...]}}"
        )
    out = {}
    for pattern, names in candidates.items():
        check_pattern("candidates key", pattern)
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise ConfigError(
                f"candidates[{pattern!r}]={names!r}: not allowed; give a list of method names"
            )
        out[str(pattern)] = tuple(check_method(f"candidates[{pattern!r}]", n) for n in names)
    return out


def _series_info(methods: pd.DataFrame, ids: pd.Index, season: int) -> SeriesInfo:
    pattern, default = assigned(methods, ids)
    idx = pd.Index(methods[ID]).get_indexer(ids)
    flag = np.full(len(ids), None, dtype=object)
    if "seasonal" in methods.columns:
        raw = methods["seasonal"].to_numpy(dtype=object)[idx]
        known = ~np.asarray(pd.isna(raw), dtype=bool)
        flag[known] = [bool(v) for v in raw[known]]
    m = np.full(len(ids), season, dtype=np.int64)
    if "season_length" in methods.columns:
        given = pd.to_numeric(methods["season_length"], errors="coerce").to_numpy()[idx]
        ok = np.isfinite(given) & (given >= 1)
        m[ok] = given[ok].astype(np.int64)
    return SeriesInfo(pattern, default, flag, m)


def forecast_outputs(
    series: pd.DataFrame,
    methods: pd.DataFrame,
    h: int = 4,
    freq: str = "W-MON",
    *,
    n_windows: int = 4,
    holdout_windows: int = 1,
    step_size: int | None = None,
    season_length: int = 52,
    path_horizon: int = 13,
    cleansing_k: float | None = DEFAULT_K,
    candidates: Mapping[str, Sequence[str]] | None = None,
    select: bool = True,
    selection_margin: float = DEFAULT_MARGIN,
    select_baselines: bool = False,
    last_season: LastSeasonSettings | None = None,
) -> ForecastResult:
    """Cleansed history, chosen method, held-out scores and forecast path per series.

    ``methods``: `forecast_methods` output, one row per series of ``series``; optional columns
    ``seasonal`` (True/False/null = unknown), ``season_length`` (null: ``season_length``)
    and ``segment`` (carried into ``forecast`` and broken out in ``accuracy``).
    ``step_size`` defaults to ``h`` (windows do not overlap); ``cleansing_k`` None switches
    cleansing off; ``candidates`` replaces the candidate list of a pattern (the default,
    Naive and the seasonal candidates are always added); ``select=False`` keeps the pattern
    default everywhere (still scored on the held-out windows). ``last_season`` (None: off)
    replaces the path of concentrated series of unknown seasonality by last season's same
    periods, scaled (`supplyseg.policy.last_season`); their ``demand_std`` scales with the level.
    """
    h = check_int("h", h, 1)
    n_windows = check_int("n_windows", n_windows, 1)
    holdout = check_int("holdout_windows", holdout_windows, 1)
    if holdout > n_windows:
        raise ConfigError(
            f"holdout_windows={holdout}: not allowed; give at most n_windows={n_windows}"
        )
    step = h if step_size is None else check_int("step_size", step_size, 1)
    season = check_int("season_length", season_length, 1)
    horizon = max(h, check_int("path_horizon", path_horizon, 1))
    freq = check_freq(freq)
    k = None if cleansing_k is None else check_k(cleansing_k)
    overrides = _check_candidates(candidates)
    margin = selection_margin
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 1:
        raise ConfigError(
            f"selection_margin={margin!r}: not allowed; give a share in [0, 1), e.g. 0.1"
        )

    panel = complete_series(series, freq)
    methods_df = require_columns("methods", methods, (ID, "pattern", "method"))
    info = _series_info(methods_df, panel.ids, season)
    t = time.perf_counter()
    cap = caps(panel, k) if k is not None else np.full(len(panel.ids), np.nan)
    y_clean = cleansed(panel, cap)
    changes = cleansing_table(panel, cap, y_clean, k if k is not None else 0.0)
    seconds = {"cleansing": time.perf_counter() - t}

    win = Windows(h, n_windows, holdout, step)
    sel = select_methods(
        panel,
        info,
        win,
        freq,
        k=k,
        overrides=overrides,
        select=select,
        margin=float(margin),
        select_baselines=bool(select_baselines),
    )
    seconds.update(sel.seconds)

    n_series, periods = len(panel.ids), len(panel.grid)
    ds = pd.DatetimeIndex(pd.date_range(panel.grid[-1], periods=horizon + 1, freq=freq)[1:])
    path = np.full((n_series, horizon), np.nan)
    for j in np.unique(sel.chosen):
        method, m = sel.keys[j]
        t = time.perf_counter()
        df = panel.training(sel.chosen == j, periods, y_clean)
        out = run_forecast(df, [model(method, m, "f")], horizon, freq)
        at = panel.ids.get_indexer(pd.Index(out[ID]))
        path[at, ds.get_indexer(pd.DatetimeIndex(out[DS]))] = out["f"].to_numpy(dtype=np.float64)
        seconds[f"forecast {method} m={m}"] = time.perf_counter() - t
    path = np.maximum(path, 0.0)

    dense = np.full((n_series, periods), np.nan)
    dense[panel.code, panel.pos] = y_clean
    model_mean = path[:, :h].mean(axis=1)
    profile = _last_season(dense, info, horizon, last_season)
    path[profile.used] = profile.path[profile.used]
    origins = win.origins(periods)
    e1 = sel.one_step - np.where(origins >= 0, dense[:, np.maximum(origins, 0)], np.nan)
    n1 = np.isfinite(e1).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse1 = np.sqrt(np.nansum(e1 * e1, axis=1) / n1)
    hist_std = np.nanstd(dense, axis=1)
    use_bt = n1 >= _MIN_STD_POINTS
    front = pd.DataFrame(
        {
            ID: panel.ids.to_numpy(),
            "pattern": info.pattern,
            "method": sel.table["method"],
            "demand_mean": path[:, :h].mean(axis=1),
            "demand_std": np.where(use_bt, rmse1, hist_std) * _level_change(path, model_mean, h),
        }
    )
    tab = sel.table
    front = pd.concat([front, tab[["mae", "rmse", "bias", "mase", "n_backtest"]]], axis=1)
    front["std_source"] = np.where(use_bt, "backtest", "history")
    rest = [c for c in tab.columns if c not in front.columns]
    table = pd.concat([front, tab[rest]], axis=1)
    table["path_source"] = np.where(profile.used, "last_season", "model")
    table["season_ratio"] = np.where(profile.used, profile.ratio, np.nan)
    table["rmse_1step"] = np.where(n1 > 0, rmse1, np.nan)
    table["n_1step"] = n1.astype(np.int64)
    if "segment" in methods_df.columns:
        idx = pd.Index(methods_df[ID]).get_indexer(panel.ids)
        table["segment"] = methods_df["segment"].to_numpy(dtype=object)[idx]
    long_path = pd.DataFrame(
        {
            ID: np.repeat(panel.ids.to_numpy(), horizon),
            "step": np.tile(np.arange(1, horizon + 1, dtype=np.int64), n_series),
            DS: np.tile(ds.to_numpy(), n_series),
            "forecast": path.ravel(),
        }
    )
    table.attrs["seconds"] = seconds  # as before the split, for bench/forecast.py
    return ForecastResult(table, long_path, changes, forecast_accuracy(table), seconds)


def _last_season(
    dense: FloatArray, info: SeriesInfo, horizon: int, settings: LastSeasonSettings | None
) -> LastSeason:
    """The last-season paths of the series whose seasonality is unknown, per season length."""
    n = dense.shape[0]
    out = LastSeason(
        np.full((n, horizon), np.nan), np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, bool)
    )
    if settings is None or not settings.enabled:
        return out
    # Unknown with two seasons already gets the seasonal candidates (`selection`): not here.
    length = dense.shape[1] - np.argmax(~np.isnan(dense), axis=1)
    unknown = np.asarray(pd.isna(info.seasonal), dtype=bool) & (length < 2 * info.m)
    for m in np.unique(info.m[unknown & (info.m > 1)]):
        got = last_season_path(
            dense,
            int(m),
            horizon,
            candidates=unknown & (info.m == m),
            min_share=settings.min_share,
            overlap=settings.overlap,
        )
        out.path[got.used] = got.path[got.used]
        out.ratio[got.used] = got.ratio[got.used]
        out.concentration[got.used] = got.concentration[got.used]
        out.used[got.used] = True
    return out


def _level_change(path: FloatArray, model_mean: FloatArray, h: int) -> FloatArray:
    """Factor by which the path's mean over ``h`` moved from the model's (1 where unchanged or
    the model's mean is 0): errors of a multiplicative seasonal model scale with the level."""
    mean = path[:, :h].mean(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(model_mean > 0, mean / np.where(model_mean > 0, model_mean, 1.0), 1.0)
    return np.where(np.isfinite(factor), factor, 1.0)


def demand_forecast(
    series: pd.DataFrame,
    methods: pd.DataFrame,
    h: int = 4,
    freq: str = "W-MON",
    **kwargs: Any,
) -> pd.DataFrame:
    """The ``forecast`` table of `forecast_outputs` (same parameters): per series ``unique_id,
    pattern, method, demand_mean, demand_std, mae, rmse, bias, mase, n_backtest, std_source,
    baseline_method, baseline_mae, baseline_rmse, baseline_bias, baseline_mase, season_length,
    fallback, seasonal, candidates, selected_on, path_source, season_ratio, rmse_1step,
    n_1step`` (+ ``segment``)."""
    return forecast_outputs(series, methods, h, freq, **kwargs).forecast
