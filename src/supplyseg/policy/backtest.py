"""Rolling-origin backtest of one given method per series against the seasonal-naive baseline
(statsforecast ``cross_validation``), kept for comparing fixed methods; the pipeline's
forecasts choose among candidates instead (`supplyseg.policy.selection`).

``n_windows`` origins ``step_size`` periods apart, the last one ``h`` periods before the end,
each forecasting ``h`` periods. The first training window has
``T0 = n - h - (n_windows - 1) * step_size`` periods; a series with T0 < 1 is not backtested
(``n_backtest`` 0, metrics NaN). Errors are forecast - actual pooled over origins and steps:
MAE, RMSE, bias (mean error; > 0 is over-forecasting) and MASE = MAE / scale, the scale being
the in-sample MAE of the lag-m seasonal-naive forecast on the first training window
(Hyndman & Koehler 2006; NaN when that is 0 or T0 <= m). The season ``m`` is
``season_length`` where the first training window covers two seasons, else 1 (naive). A method
that cannot fit the first training window (`supplyseg.policy._models.min_train`) is replaced
by HistoricAverage (``fallback`` True). No cleansing is applied.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError
from supplyseg.policy._models import METHODS, check_method, min_train, model
from supplyseg.policy._panel import (
    DS as _DS,
)
from supplyseg.policy._panel import (
    ID as _ID,
)
from supplyseg.policy._panel import (
    FloatArray,
    IntArray,
    Panel,
    check_freq,
    check_int,
    complete_series,
)
from supplyseg.policy._panel import (
    Y as _Y,
)

__all__ = ["assigned", "backtest"]

_FALLBACK = "HistoricAverage"


# --- methods ---


def assigned(methods: object, ids: pd.Index) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
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
        check_method(f"methods.method[{df[_ID].iloc[i]!r}]", df["method"].iloc[i])
    idx = pd.Index(df[_ID]).get_indexer(ids)
    if (idx < 0).any():
        missing = ids[idx < 0]
        raise ConfigError(
            f"methods: no method for {len(missing)} series, e.g. {list(missing[:5])};"
            " give one row per unique_id of series (see forecast_methods)"
        )
    return df["pattern"].to_numpy(dtype=object)[idx], df["method"].to_numpy(dtype=object)[idx]


def _run(
    kind: str, panel: Panel, select: npt.NDArray[np.bool_], models: list[Any], **kw: Any
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


def _plan(panel: Panel, methods: object, h: int, n_windows: int, step: int, season: int) -> _Plan:
    pattern, given = assigned(methods, panel.ids)
    n = panel.lengths
    t0 = n - h - (n_windows - 1) * step
    fit_len = np.where(t0 >= 1, t0, n)
    m = np.where(t0 >= 2 * season, season, 1).astype(np.int64)
    need = np.array([min_train(str(a), int(s)) for a, s in zip(given, m, strict=True)])
    method = np.where(fit_len >= need, given, _FALLBACK).astype(object)
    return _Plan(pattern, given, method, t0, m)


def _groups(
    method: npt.NDArray[Any], m: IntArray, select: npt.NDArray[np.bool_]
) -> list[tuple[str, int, npt.NDArray[np.bool_]]]:
    keys = sorted({(str(a), int(b)) for a, b in zip(method[select], m[select], strict=True)})
    return [(a, b, select & (method == a) & (m == b)) for a, b in keys]


def _sums(code: IntArray, values: FloatArray, k: int) -> FloatArray:
    return np.bincount(code, weights=values, minlength=k).astype(np.float64)


def _scale(panel: Panel, t0: IntArray, m: IntArray) -> FloatArray:
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
    panel: Panel, plan: _Plan, h: int, n_windows: int, step: int, freq: str
) -> tuple[pd.DataFrame, dict[str, float]]:
    k = len(panel.ids)
    seconds: dict[str, float] = {}
    parts = []
    for method, m, sel in _groups(plan.method, plan.m, plan.t0 >= 1):
        t = time.perf_counter()
        models = [model(method, m, "fcst"), model("SeasonalNaive", m, "baseline")]
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
        check_int("h", h, 1),
        check_int("n_windows", n_windows, 1),
        check_int("step_size", step_size, 1),
        check_int("season_length", season, 1),
        check_freq(freq),
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
    panel = complete_series(series, freq)
    plan = _plan(panel, methods, h, n_windows, step, season)
    out, seconds = _backtest(panel, plan, h, n_windows, step, freq)
    out.attrs["seconds"] = seconds
    return out
