"""Forecasts per demand pattern with statsforecast: method choice, rolling-origin backtest and
the per-series demand mean and error std that feed the inventory policy.

Tables follow the statsforecast convention: long DataFrames ``unique_id, ds, y``; ``freq`` is a
pandas offset alias (default ``"W-MON"``: weeks dated by their Monday, as
`supplyseg.analytics.demand.demand_series` dates them).

- **Complete series.** Demand is the net quantity per period from an item's first period to
  the horizon end, 0 where nothing happened (the project's demand definition). Missing periods
  are therefore *filled with 0*, from each series' first ``ds`` to the last ``ds`` of the whole
  table (the horizon end), so the sparse ``demand_series`` output can be passed as is. A ``ds``
  off the ``freq`` grid, a duplicate ``(unique_id, ds)`` or a missing ``y`` raises ConfigError.
- **Methods** (`METHODS`, default per pattern in `DEFAULT_METHODS`). TSB and IMAPA are the
  intermittent/lumpy defaults: on Online Retail (weekly, h = 4, 4 origins) Croston SBA
  over-forecast intermittent items that had gone quiet (bias +1.8, MAE 2.1x seasonal naive;
  TSB: bias -0.2, 1.04x) and IMAPA beat ADIDA on lumpy items (0.87x vs 0.88x). ``AutoETS`` is
  statsforecast's AutoETS restricted to level models (``model="ZNN"``, error type by AICc): a
  trend is not worth extrapolating into a 1–4 period replenishment horizon and the trend models
  cost ≈ 14x more (10k series would miss the 60 s budget); ``AutoETS_full`` is the unrestricted
  model search. Croston-type methods use alpha 0.1 (SBA factor 1 - 0.1/2); TSB uses
  alpha_d = alpha_p = 0.1. Croston, SBA and TSB take demand sizes from periods with y > 0 and
  intervals from periods with y != 0 (statsforecast), so keep net-negative periods rare.
- **Season.** The season length ``m`` is ``season_length`` where the training data cover two
  seasons, else 1 (naive). It drives the seasonal-naive baseline, MASE, AutoTheta and
  SeasonalNaive; AutoETS_full is seasonal only for m <= 24 (forecast::ets refuses higher ones).
- **Short series.** A method needs a minimum training length (AutoETS: 7 periods, ETS needs
  n > parameters + 4; AutoTheta: 4); a series shorter than that at its first training window
  is fitted with HistoricAverage instead, ``fallback`` is True and ``method`` names what ran.
- **Backtest.** Rolling origin with re-estimation at every origin (statsforecast
  ``cross_validation``): ``n_windows`` origins ``step_size`` periods apart, the last one ``h``
  periods before the end, each forecasting ``h`` periods. The first training window has
  ``T0 = n - h - (n_windows - 1) * step_size`` periods; a series with T0 < 1 is not backtested
  (``n_backtest`` 0, metrics NaN). Errors are forecast - actual pooled over origins and steps:
  MAE, RMSE, bias (mean error; > 0 is over-forecasting) and MASE = MAE / scale, the scale being
  the in-sample MAE of the lag-m seasonal-naive forecast on the first training window
  (Hyndman & Koehler 2006; NaN when that is 0 or T0 <= m). The baseline is SeasonalNaive(m),
  fitted in the same call on the same origins.
- **Inventory inputs** (`demand_forecast`). ``demand_mean`` is the mean of the ``h`` forecasts
  from the full history, clipped at 0 (the policy plans non-negative demand). ``demand_std`` is
  the RMSE of the one-step-ahead backtest errors (one per origin) when there are at least 3,
  else the population std (ddof 0, like ``demand_profile``) of the complete history;
  ``std_source`` says which.

Each (method, m) group is fitted by one StatsForecast call over all its series (n_jobs=1).
statsforecast is imported inside the functions (≈ 1.5 s), so ``import supplyseg`` stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "PATTERNS",
    "backtest",
    "demand_forecast",
    "forecast_accuracy",
    "forecast_methods",
]

# Mirrors supplyseg.analytics.demand.PATTERNS (a test keeps them equal); kept local so this
# module imports without Ibis.
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

_FALLBACK = "HistoricAverage"
_MIN_TRAIN = {"AutoETS": 7, "AutoETS_full": 7, "AutoTheta": 4}  # others fit from 1 period
_SEASONAL = frozenset({"AutoETS_full", "AutoTheta", "SeasonalNaive"})  # models that use m
_MIN_STD_POINTS = 3
_ETS_MAX_SEASON = 24
_TSB_ALPHA = 0.1  # alpha_d = alpha_p; statsforecast fixes Croston's alpha at 0.1 itself
_ID, _DS, _Y = "unique_id", "ds", "y"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --- validation ------------------------------------------------------------------------------


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name}={value!r}: not allowed; give an integer >= {minimum}")
    return int(value)


def _check_freq(freq: object) -> str:
    if not isinstance(freq, str):
        raise ConfigError(
            f"freq={freq!r}: not allowed; give a pandas frequency string like 'W-MON'"
        )
    try:
        pd.tseries.frequencies.to_offset(freq)
    except ValueError:
        raise ConfigError(
            f"freq={freq!r}: not a pandas frequency; allowed e.g. 'W-MON', 'D', 'MS'"
        ) from None
    return freq


def _check_method(name: str, method: object) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ConfigError(f"{name}={method!r}: unknown method; allowed: {', '.join(METHODS)}")
    return str(method)


def _check_pattern(name: str, pattern: object) -> str:
    if not isinstance(pattern, str) or pattern not in PATTERNS:
        raise ConfigError(f"{name}={pattern!r}: unknown pattern; allowed: {', '.join(PATTERNS)}")
    return str(pattern)


# --- complete series -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Panel:
    """Complete series as flat arrays sorted by id, then time; series i is start[i]:start[i+1]."""

    ids: pd.Index
    grid: pd.DatetimeIndex
    first: IntArray  # grid position of each series' first period
    start: IntArray
    y: FloatArray

    @property
    def lengths(self) -> IntArray:
        return np.diff(self.start)

    def frame(self, select: npt.NDArray[np.bool_]) -> pd.DataFrame:
        """The long table ``unique_id, ds, y`` of the selected series."""
        n = self.lengths[select]
        first = self.first[select]
        offsets = np.repeat(np.cumsum(n) - n, n)
        pos = np.arange(int(n.sum())) - offsets + np.repeat(first, n)
        rows = np.repeat(select, self.lengths)
        return pd.DataFrame(
            {_ID: np.repeat(self.ids.to_numpy()[select], n), _DS: self.grid[pos], _Y: self.y[rows]}
        )


def _complete_series(series: object, freq: str) -> _Panel:
    df = require_columns("series", series, (_ID, _DS, _Y))
    if len(df) == 0:
        raise ConfigError("series: the table is empty; give at least one (unique_id, ds, y) row")
    try:
        ds = pd.DatetimeIndex(pd.to_datetime(df[_DS]))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"series.ds: not dates ({exc}); give datetimes or ISO dates") from None
    y = pd.to_numeric(df[_Y], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(y)
    if bad.any() or ds.hasnans:
        i = int(np.flatnonzero(bad | np.asarray(ds.isna()))[0])
        raise ConfigError(
            f"series: row {i} (unique_id={df[_ID].iloc[i]!r}) has ds={df[_DS].iloc[i]!r},"
            f" y={df[_Y].iloc[i]!r}; every row needs a date and a finite number"
        )
    grid = pd.date_range(ds.min(), ds.max(), freq=freq)
    pos = np.asarray(grid.searchsorted(ds), dtype=np.int64)
    off = (pos >= len(grid)) | (grid[np.minimum(pos, len(grid) - 1)] != ds)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ConfigError(
            f"series.ds: {ds[i]} (row {i}, unique_id={df[_ID].iloc[i]!r}) is not on the"
            f" freq={freq!r} grid; allowed: dates of pd.date_range(..., freq={freq!r})"
        )
    codes, ids = pd.factorize(df[_ID], sort=True)
    if (codes < 0).any():
        raise ConfigError("series.unique_id: missing ids; every row needs a unique_id")
    k = len(ids)
    first = np.full(k, len(grid), dtype=np.int64)
    np.minimum.at(first, codes, pos)
    lengths = len(grid) - first
    start = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = start[codes] + pos - first[codes]
    if len(np.unique(flat)) != len(flat):
        dup = pd.Series(flat).duplicated().to_numpy()
        i = int(np.flatnonzero(dup)[0])
        raise ConfigError(
            f"series: duplicate (unique_id, ds) = ({df[_ID].iloc[i]!r}, {ds[i]}); give one row"
            " per series and period (sum the quantities first)"
        )
    dense = np.zeros(int(start[-1]), dtype=np.float64)
    dense[flat] = y  # periods without a row stay 0: the project's demand definition
    return _Panel(pd.Index(ids), grid, first, start, dense)


# --- methods -------------------------------------------------------------------------------


def forecast_methods(
    patterns: pd.Series | pd.DataFrame,
    overrides: Mapping[str, str] | None = None,
    *,
    id_col: str = _ID,
) -> pd.DataFrame:
    """Forecast method per series from its demand pattern: ``unique_id, pattern, method``.

    ``patterns`` is a Series (index = ids, values = patterns) or a DataFrame with ``id_col``
    and ``pattern`` (e.g. `supplyseg.analytics.demand.demand_pattern` output with
    ``id_col="product_id"``). ``overrides`` maps patterns to method names, replacing the
    defaults in `DEFAULT_METHODS`.
    """
    mapping = dict(DEFAULT_METHODS)
    if overrides is not None:
        if not isinstance(overrides, Mapping):
            raise ConfigError(
                f"overrides={overrides!r}: not allowed; give a dict {{pattern: method}}"
            )
        for pattern, method in overrides.items():
            _check_pattern("overrides key", pattern)
            mapping[pattern] = _check_method(f"overrides[{pattern!r}]", method)
    if isinstance(patterns, pd.Series):
        ids, pats = patterns.index.to_series(), patterns
    else:
        df = require_columns("patterns", patterns, (id_col, "pattern"))
        ids, pats = df[id_col], df["pattern"]
    values = pats.to_numpy()
    bad = ~pd.Series(values).isin(PATTERNS).to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        _check_pattern(f"patterns[{ids.iloc[i]!r}]", values[i])
    if ids.duplicated().any():
        raise ConfigError(
            f"patterns: unique_id {ids[ids.duplicated()].iloc[0]!r} appears twice;"
            " give one pattern per series"
        )
    return pd.DataFrame(
        {
            _ID: ids.to_numpy(),
            "pattern": values.astype(object),
            "method": pd.Series(values).map(mapping).to_numpy(dtype=object),
        }
    )


def _assigned(methods: object, ids: pd.Index) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Pattern and method per series of the panel, in panel order."""
    df = require_columns("methods", methods, (_ID, "pattern", "method"))
    if df[_ID].duplicated().any():
        raise ConfigError(
            f"methods: unique_id {df[_ID][df[_ID].duplicated()].iloc[0]!r} appears twice;"
            " give one method per series"
        )
    bad = ~df["method"].isin(list(METHODS))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        _check_method(f"methods.method[{df[_ID].iloc[i]!r}]", df["method"].iloc[i])
    idx = pd.Index(df[_ID]).get_indexer(ids)
    if (idx < 0).any():
        missing = ids[idx < 0]
        raise ConfigError(
            f"methods: no method for {len(missing)} series, e.g. {list(missing[:5])};"
            " give one row per unique_id of series (see forecast_methods)"
        )
    return df["pattern"].to_numpy(dtype=object)[idx], df["method"].to_numpy(dtype=object)[idx]


def _model(method: str, m: int, alias: str) -> Any:
    """A statsforecast model instance; imported here so `import supplyseg` stays fast."""
    from statsforecast import models as sf

    if method == "AutoETS":
        return sf.AutoETS(model="ZNN", alias=alias)
    if method == "AutoETS_full":
        return sf.AutoETS(season_length=m if m <= _ETS_MAX_SEASON else 1, alias=alias)
    if method == "AutoTheta":
        return sf.AutoTheta(season_length=m, alias=alias)
    if method == "TSB":
        return sf.TSB(alpha_d=_TSB_ALPHA, alpha_p=_TSB_ALPHA, alias=alias)
    if method == "SeasonalNaive":
        return sf.SeasonalNaive(season_length=m, alias=alias)
    return getattr(sf, method)(alias=alias)


def _run(
    kind: str, panel: _Panel, select: npt.NDArray[np.bool_], models: list[Any], **kw: Any
) -> pd.DataFrame:
    from statsforecast import StatsForecast

    sf = StatsForecast(models=models, freq=kw.pop("freq"), n_jobs=1)
    df = panel.frame(select)
    # ETS's model search divides by zero on some short candidates it then discards.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if kind == "cv":
            out: pd.DataFrame = sf.cross_validation(df=df, refit=True, **kw)
        else:
            out = sf.forecast(df=df, **kw)
    return out


# --- backtest --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Per-series fitting plan shared by the backtest and the forecast."""

    pattern: npt.NDArray[Any]
    assigned: npt.NDArray[Any]
    method: npt.NDArray[Any]
    t0: IntArray  # training periods at the first origin (< 1: no backtest)
    m: IntArray  # season used in the backtest


def _plan(panel: _Panel, methods: object, h: int, n_windows: int, step: int, season: int) -> _Plan:
    pattern, assigned = _assigned(methods, panel.ids)
    n = panel.lengths
    t0 = n - h - (n_windows - 1) * step
    fit_len = np.where(t0 >= 1, t0, n)
    need = np.array([_MIN_TRAIN.get(str(a), 1) for a in assigned], dtype=np.int64)
    method = np.where(fit_len >= need, assigned, _FALLBACK).astype(object)
    m = np.where(t0 >= 2 * season, season, 1).astype(np.int64)
    return _Plan(pattern, assigned, method, t0, m)


def _groups(
    method: npt.NDArray[Any], m: IntArray, select: npt.NDArray[np.bool_]
) -> list[tuple[str, int, npt.NDArray[np.bool_]]]:
    keys = sorted({(str(a), int(b)) for a, b in zip(method[select], m[select], strict=True)})
    return [(a, b, select & (method == a) & (m == b)) for a, b in keys]


def _sums(code: IntArray, values: FloatArray, k: int) -> FloatArray:
    return np.bincount(code, weights=values, minlength=k).astype(np.float64)


def _scale(panel: _Panel, t0: IntArray, m: IntArray) -> FloatArray:
    """In-sample MAE of the lag-m seasonal-naive forecast on each series' first training window."""
    n = panel.lengths
    k = len(n)
    code = np.repeat(np.arange(k), n)
    local = np.arange(int(n.sum())) - np.repeat(panel.start[:-1], n)
    lag = m[code]
    ok = (local >= lag) & (local < t0[code])
    rows = np.flatnonzero(ok)
    d = np.abs(panel.y[rows] - panel.y[rows - lag[rows]])
    cnt = np.bincount(code[rows], minlength=k)
    total = _sums(code[rows], d, k)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = total / cnt
    return np.where((cnt > 0) & (scale > 0), scale, np.nan)


def _metrics(
    prefix: str, code: IntArray, e: FloatArray, k: int, scale: FloatArray
) -> dict[str, Any]:
    cnt = np.bincount(code, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        mae = _sums(code, np.abs(e), k) / cnt
        rmse = np.sqrt(_sums(code, e * e, k) / cnt)
        bias = _sums(code, e, k) / cnt
        mase = mae / scale
    return {
        f"{prefix}mae": mae,
        f"{prefix}rmse": rmse,
        f"{prefix}bias": bias,
        f"{prefix}mase": mase,
    }


def _backtest(
    panel: _Panel, plan: _Plan, h: int, n_windows: int, step: int, freq: str
) -> tuple[pd.DataFrame, dict[str, float]]:
    k = len(panel.ids)
    seconds: dict[str, float] = {}
    parts = []
    for method, m, sel in _groups(plan.method, plan.m, plan.t0 >= 1):
        t = time.perf_counter()
        models = [_model(method, m, "fcst"), _model("SeasonalNaive", m, "baseline")]
        cv = _run("cv", panel, sel, models, h=h, n_windows=n_windows, step_size=step, freq=freq)
        seconds[f"backtest {method} m={m}"] = time.perf_counter() - t
        parts.append(cv)
    code, stepno = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    e, eb = np.empty(0), np.empty(0)
    if parts:
        cv = pd.concat(parts, ignore_index=True)
        pos = panel.grid.get_indexer(pd.DatetimeIndex(cv[_DS]))
        stepno = pos - panel.grid.get_indexer(pd.DatetimeIndex(cv["cutoff"]))
        code = panel.ids.get_indexer(pd.Index(cv[_ID])).astype(np.int64)
        y = cv[_Y].to_numpy(dtype=np.float64)
        e = cv["fcst"].to_numpy(dtype=np.float64) - y
        eb = cv["baseline"].to_numpy(dtype=np.float64) - y
    scale = _scale(panel, plan.t0, plan.m)
    one = stepno == 1
    n1 = np.bincount(code[one], minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        rmse1 = np.sqrt(_sums(code[one], e[one] ** 2, k) / n1)
    out = pd.DataFrame(
        {
            _ID: panel.ids.to_numpy(),
            "pattern": plan.pattern,
            "method": plan.method,
            "fallback": plan.method != plan.assigned,
            "season_length": plan.m,
            "n_backtest": np.bincount(code, minlength=k).astype(np.int64),
            **_metrics("", code, e, k, scale),
            **_metrics("baseline_", code, eb, k, scale),
            "rmse_1step": rmse1,
            "n_1step": n1.astype(np.int64),
        }
    )
    return out, seconds


def _params(
    h: object, n_windows: object, step_size: object, season: object, freq: object
) -> tuple[int, int, int, int, str]:
    return (
        _check_int("h", h, 1),
        _check_int("n_windows", n_windows, 1),
        _check_int("step_size", step_size, 1),
        _check_int("season_length", season, 1),
        _check_freq(freq),
    )


def backtest(
    series: pd.DataFrame,
    methods: pd.DataFrame,
    h: int = 4,
    n_windows: int = 4,
    freq: str = "W-MON",
    season_length: int = 52,
    *,
    step_size: int = 1,
) -> pd.DataFrame:
    """Rolling-origin backtest per series of its method and of the seasonal-naive baseline.

    ``methods`` is `forecast_methods` output (one row per series of ``series``). Returns one
    row per series: ``unique_id, pattern, method, fallback, season_length, n_backtest, mae,
    rmse, bias, mase``, the same four as ``baseline_*``, and ``rmse_1step, n_1step`` (the
    one-step-ahead errors). ``attrs["seconds"]`` holds the time per (method, season) group.
    """
    h, n_windows, step, season, freq = _params(h, n_windows, step_size, season_length, freq)
    panel = _complete_series(series, freq)
    plan = _plan(panel, methods, h, n_windows, step, season)
    out, seconds = _backtest(panel, plan, h, n_windows, step, freq)
    out.attrs["seconds"] = seconds
    return out


def forecast_accuracy(backtest_df: pd.DataFrame) -> pd.DataFrame:
    """Backtest accuracy per pattern and overall (``pattern == "all"``).

    Columns ``pattern, methods, series, mae, rmse, bias, mase, baseline_mae, baseline_mase,
    relative_mae``: means over the backtested series (MASE over those where it is defined);
    ``relative_mae`` = total MAE / total baseline MAE (< 1: the methods beat seasonal naive).
    """
    need = ("pattern", "method", "n_backtest", "mae", "rmse", "bias", "mase")
    df = require_columns("backtest_df", backtest_df, (*need, "baseline_mae", "baseline_mase"))
    df = df[df["n_backtest"] > 0]
    seen = list(pd.unique(df["pattern"]))
    order = [p for p in PATTERNS if p in seen] + sorted(str(p) for p in seen if p not in PATTERNS)
    rows = [(p, df[df["pattern"] == p]) for p in order] + [("all", df)]
    records = []
    for pattern, g in rows:
        base = float(g["baseline_mae"].sum())
        records.append(
            {
                "pattern": pattern,
                "methods": ", ".join(sorted(map(str, pd.unique(g["method"])))),
                "series": len(g),
                "mae": g["mae"].mean(),
                "rmse": g["rmse"].mean(),
                "bias": g["bias"].mean(),
                "mase": g["mase"].mean(),
                "baseline_mae": g["baseline_mae"].mean(),
                "baseline_mase": g["baseline_mase"].mean(),
                "relative_mae": float(g["mae"].sum()) / base if base > 0 else np.nan,
            }
        )
    return pd.DataFrame.from_records(records)


# --- inventory inputs --------------------------------------------------------------------------


def demand_forecast(
    series: pd.DataFrame,
    methods: pd.DataFrame,
    h: int = 4,
    freq: str = "W-MON",
    *,
    n_windows: int = 4,
    season_length: int = 52,
    step_size: int = 1,
) -> pd.DataFrame:
    """Demand mean and forecast-error std per period and series, for the inventory policy.

    Columns ``unique_id, pattern, method, demand_mean, demand_std, mae, rmse, bias, mase,
    n_backtest``, then ``std_source`` ("backtest" or "history") and the other `backtest`
    columns, so `forecast_accuracy` also works on this table. ``attrs["seconds"]`` holds
    the time per backtest and forecast group.
    """
    h, n_windows, step, season, freq = _params(h, n_windows, step_size, season_length, freq)
    panel = _complete_series(series, freq)
    plan = _plan(panel, methods, h, n_windows, step, season)
    bt, seconds = _backtest(panel, plan, h, n_windows, step, freq)
    n = panel.lengths
    seasonal = np.isin(plan.method, list(_SEASONAL))
    m_full = np.where(seasonal & (n >= 2 * season), season, 1).astype(np.int64)
    mean = np.full(len(n), np.nan)
    for method, m, sel in _groups(plan.method, m_full, np.ones(len(n), dtype=bool)):
        t = time.perf_counter()
        fc = _run("forecast", panel, sel, [_model(method, m, "fcst")], h=h, freq=freq)
        per = fc.groupby(_ID, sort=False)["fcst"].mean()
        mean[panel.ids.get_indexer(per.index)] = per.to_numpy(dtype=np.float64)
        seconds[f"forecast {method} m={m}"] = time.perf_counter() - t
    code = np.repeat(np.arange(len(n)), n)
    hist_mean = _sums(code, panel.y, len(n)) / n
    hist_std = np.sqrt(_sums(code, (panel.y - hist_mean[code]) ** 2, len(n)) / n)
    use_bt = bt["n_1step"].to_numpy() >= _MIN_STD_POINTS
    front = pd.DataFrame(
        {
            _ID: bt[_ID],
            "pattern": bt["pattern"],
            "method": bt["method"],
            "demand_mean": np.maximum(mean, 0.0),
            "demand_std": np.where(use_bt, bt["rmse_1step"].to_numpy(), hist_std),
        }
    )
    rest = ["mae", "rmse", "bias", "mase", "n_backtest"]
    out = pd.concat([front, bt[rest]], axis=1)
    out["std_source"] = np.where(use_bt, "backtest", "history")
    extra = [c for c in bt.columns if c not in out.columns]
    out = pd.concat([out, bt[extra]], axis=1)
    out.attrs["seconds"] = seconds
    return out
