"""Seasonality per series: Hyndman's seasonal strength, vectorised over an items x periods matrix.

Measure (Wang, Smith & Hyndman 2006, "Characteristic-based clustering for time series data";
Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., section 4.3)::

    F_S = max(0, 1 - Var(R) / Var(S + R))

where ``S`` and ``R`` are the seasonal and remainder components of an additive decomposition,
so ``S + R`` is the detrended series. The decomposition is the classical one exactly as
statsmodels' ``seasonal_decompose(x, period=m, extrapolate_trend="period")`` makes it: a
centred moving average of m (2 x m for even m) as the trend, extended at both ends by a
least-squares line through the m nearest trend values; ``S`` the mean of the detrended values
per position in the season, centred; ``R`` the rest. The extension matters: with two seasons,
the plain moving average leaves one detrended value per position, ``R`` vanishes and every
series would score 1.

Which periods: the latest ``k = floor(n / m)`` whole seasons of an item's series (its
periods from its first line to the horizon end, zero periods included), so every position
has k values; for a dormant or obsolete item the series ends at its last period with
positive demand instead, because a stop is a level shift that the moving average smears over
a season and the decomposition then partly reads as seasonal (an item that stopped mid-way
through two years scored up to 0.8). Series shorter than ``min_seasons`` seasons are unknown
(null), not "not seasonal". A series that is constant after detrending has strength 0.

What white noise scores: F_S is then the eta² of a one-way layout of m positions x k seasons,
about Beta((m - 1) / 2, m (k - 1) / 2), mean ~ 1/k: 0.50 at two seasons, 0.33 at three. So
a short series is never "near 0", and the default threshold 0.7 is the 99.9 % quantile at two
seasons of 52 weeks (at two seasons of 12 months the 99 % quantile is 0.80: monthly buckets
need three seasons, or a higher ``min_strength``, for the same confidence).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from supplyseg.analytics._demand_engine import Bucket, Prepared, null_safe_join, period_demand
from supplyseg.config.demand import SeasonalitySettings
from supplyseg.errors import ConfigError

__all__ = ["SEASONALITY_COLUMNS", "seasonal_strength", "seasonality_columns"]

SEASONALITY_COLUMNS = ("seasonal", "seasonal_strength", "season_length")
Floats = NDArray[np.float64]


def _trend(y: Floats, m: int) -> Floats:
    """Centred moving-average trend of each row, ends extended as statsmodels does.

    statsmodels fits each end's line on trend values ``front .. front + m - 1`` and
    ``back - m .. back - 1`` (both clipped to the defined range, the last defined value
    ``back`` itself left out of both fits); kept here so the two agree to rounding.
    """
    n = y.shape[1]
    h = m // 2
    c = np.zeros((y.shape[0], n + 1))
    np.cumsum(y, axis=1, out=c[:, 1:])
    t = np.arange(h, n - h)
    if m % 2 == 0:  # 2 x m MA: m + 1 values, the two ends weighted 1/2
        mid = (c[:, t + h + 1] - c[:, t - h] - 0.5 * (y[:, t - h] + y[:, t + h])) / m
    else:
        mid = (c[:, t + h + 1] - c[:, t - h]) / m
    trend = np.empty_like(y)
    trend[:, h : n - h] = mid
    front, back = h, n - 1 - h
    for lo, hi, fill in (
        (front, min(front + m, back), np.arange(0, front)),
        (max(front, back - m), back, np.arange(back + 1, n)),
    ):
        x = np.arange(lo, hi, dtype=np.float64)
        xc = x - x.mean()
        window = trend[:, lo:hi]
        slope = window @ xc / (xc @ xc)
        level = window.mean(axis=1) - slope * x.mean()
        trend[:, fill] = slope[:, None] * fill[None, :] + level[:, None]
    return trend


def _seasonal_strength(y: Floats, m: int) -> Floats:
    """F_S of each row of ``y`` (rows x k*m periods, k >= 2, no NaN)."""
    rows, n = y.shape
    k = n // m
    detrended = y - _trend(y, m)
    season = detrended.reshape(rows, k, m).mean(axis=1)
    season -= season.mean(axis=1, keepdims=True)
    remainder = detrended - np.tile(season, k)
    total = detrended.var(axis=1)
    rest = remainder.var(axis=1)
    # A constant (or straight-line) series leaves only rounding noise: not seasonal.
    scale = np.abs(y).max(axis=1, initial=0.0)
    flat = total <= (1e-9 * scale) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = 1.0 - rest / np.where(flat, 1.0, total)
    return np.where(flat, 0.0, np.clip(strength, 0.0, 1.0))


def seasonal_strength(values: Sequence[Sequence[float]] | Floats, season_length: int) -> Floats:
    """Seasonal strength F_S of each row of an items x periods array of whole seasons.

    ``values`` has rows of ``k * season_length`` periods (k >= 2), oldest first, no missing
    values; the result is one strength in [0, 1] per row (see the module docstring).
    """
    m = season_length
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ConfigError(f"season_length={m!r}: give an integer >= 2 (periods per season)")
    y = np.asarray(values, dtype=np.float64)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] % m or y.shape[1] < 2 * m:
        raise ConfigError(
            f"values: shape {y.shape} has no whole number of >= 2 seasons of {m} periods per"
            f" row; give rows of 2 x {m}, 3 x {m}, ... periods"
        )
    if not np.isfinite(y).all():
        raise ConfigError(
            "values: missing or infinite values; give zeros for periods without demand"
        )
    return _seasonal_strength(y, int(m))


def _series_matrix(
    p: Prepared, bucket: Bucket, horizon: int, items: pd.DataFrame, rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], Floats]:
    """(row, period, net demand) of the given item rows, from one query on the engine.

    The item keys go to the engine with their row number, so only numbers come back.
    """
    ids = {c: pa.Array.from_pandas(items[c].iloc[rows]) for c in p.ids}
    keys = pa.table({**ids, "_row": pa.array(rows, pa.int64())})
    # Keys of an all-null id column come back as the null type: give them the table's type.
    schema = {c: p.table.schema()[c] for c in p.ids} | {"_row": "int64"}
    mt = ibis.memtable(keys, schema=ibis.schema(schema))
    per: ir.Table = period_demand(p, bucket)
    got = null_safe_join(per.filter(per._p <= horizon), mt, p.ids)
    arrow = got.select("_row", "_p", "y").to_pyarrow()
    return (
        arrow.column("_row").to_numpy().astype(np.int64),
        arrow.column("_p").to_numpy().astype(np.int64),
        arrow.column("y").to_numpy(zero_copy_only=False).astype(np.float64),
    )


def seasonality_columns(
    p: Prepared,
    bucket: Bucket,
    horizon: int,
    items: pd.DataFrame,
    settings: SeasonalitySettings,
) -> dict[str, pd.api.extensions.ExtensionArray | Floats]:
    """``seasonal``, ``seasonal_strength``, ``season_length`` for the items of a profile.

    ``items`` holds the id columns, ``n_periods`` (from the first period to the horizon end),
    ``lifecycle`` and ``buckets_since_demand``. Only items with at least ``min_seasons`` whole
    seasons are pulled from the engine.
    """
    n_items = len(items)
    m = settings.length(bucket)
    strength = np.full(n_items, np.nan)
    if not settings.enabled:
        none = pd.array([pd.NA] * n_items, dtype="boolean")
        return {
            "seasonal": none,
            "seasonal_strength": strength,
            "season_length": pd.array([pd.NA] * n_items, dtype="Int64"),
        }
    first = horizon - items["n_periods"].to_numpy(dtype=np.int64) + 1
    # A series that has stopped is measured up to its last demand: the zeros after a stop are
    # a level shift, which the decomposition would partly read as a season.
    since = items["buckets_since_demand"].to_numpy(dtype="float64", na_value=np.nan)
    stopped = items["lifecycle"].isin(("dormant", "obsolete")).to_numpy()
    end = horizon - np.where(stopped, np.nan_to_num(since, nan=0.0), 0.0).astype(np.int64)
    k = (end - first + 1) // m
    k[np.isnan(since)] = 0  # no positive demand at all: nothing to measure
    rows = np.flatnonzero(k >= settings.min_seasons)
    if len(rows):
        row, period, y = _series_matrix(p, bucket, horizon, items, rows)
        for seasons in np.unique(k[rows]):
            group = rows[k[rows] == seasons]
            width = int(seasons) * m
            slot = np.full(n_items, -1, dtype=np.int64)
            slot[group] = np.arange(len(group))
            s_row = slot[row]
            col = period - (end[row] - width + 1)
            sel = (s_row >= 0) & (col >= 0) & (col < width)
            matrix = np.zeros((len(group), width))
            matrix[s_row[sel], col[sel]] = y[sel]
            strength[group] = _seasonal_strength(matrix, m)
    known = ~np.isnan(strength)
    flag = pd.array(strength >= settings.min_strength, dtype="boolean")
    flag[~known] = pd.NA
    return {
        "seasonal": flag,
        "seasonal_strength": strength,
        "season_length": pd.array(np.full(n_items, m), dtype="Int64"),
    }
