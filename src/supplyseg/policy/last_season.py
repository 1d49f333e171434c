"""A seasonal forecast path from one season of history: last season's same periods, scaled.

Seasonality can be *detected* only with two seasons (`supplyseg.analytics.seasonality`), and a
seasonal model can be *validated* out of sample only with a season before its first backtest
window. A real export often holds just over one year (UCI Online Retail: 54 weeks), so neither
is possible, and the chosen level model then plans a Christmas item in December at its November
peak. Planners in that position use "same period last year, adjusted for growth" — the seasonal
naive forecast scaled by the year-over-year ratio (Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice*, 3rd ed., section 5.2, seasonal naive; the ratio of the overlapping
periods is the usual growth adjustment).

For a series with at least one season and the ``overlap`` latest periods also observed one
season earlier, the path is::

    path[h] = y[T + h - m] * r,   r = sum(y[T - k + 1 .. T]) / sum(y[T - k + 1 - m .. T - m])

(T the last period, m the season length, k the overlap; beyond one season ahead the profile
repeats). It replaces the selected model's path only for a series whose last season is
**concentrated**: at least ``min_share`` of its demand falls in one window of ``m / 4``
consecutive periods with demand in at least half of them — a season, not one large order — and
only when seasonality is unknown (a series flagged seasonal or not seasonal from two seasons
keeps its selected model). The ratio's base must be positive; otherwise the model path stays.
The replacement is an assumption, not a validated choice, and it is named as such
(``path_source = "last_season"`` in the forecast table, the policy rationale and the manifest).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from supplyseg.errors import ConfigError

__all__ = ["LastSeason", "last_season_path", "season_concentration"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class LastSeason:
    """Per series: the path (NaN rows where not used), the ratio r and whether it is used."""

    path: FloatArray  # (n_series, horizon)
    ratio: FloatArray  # NaN where the base is 0 or the history is too short
    concentration: FloatArray  # share of the last season in its busiest window, NaN if short
    used: BoolArray


def _window(m: int) -> int:
    return max(1, round(m / 4))


def season_concentration(y: FloatArray, m: int) -> tuple[FloatArray, FloatArray]:
    """Largest share of the last season's demand in ``m / 4`` consecutive periods, and the
    share of those periods with demand, per row of ``y`` (NaN before a series starts).

    Rows without a full last season (a NaN in it) or with no positive demand in it give NaN.
    """
    n, periods = y.shape
    if periods < m:
        return np.full(n, np.nan), np.full(n, np.nan)
    season = np.maximum(y[:, periods - m :], 0.0)  # returns net below 0 do not make a season
    full = ~np.isnan(season).any(axis=1)
    season = np.nan_to_num(season)
    w = _window(m)
    c = np.zeros((n, m + 1))
    np.cumsum(season, axis=1, out=c[:, 1:])
    sums = c[:, w:] - c[:, :-w]  # (n, m - w + 1) window sums
    best = sums.argmax(axis=1)
    total = c[:, -1]
    active = np.zeros((n, m + 1))
    np.cumsum(season > 0, axis=1, out=active[:, 1:])
    rows = np.arange(n)
    busy = (active[rows, best + w] - active[rows, best]) / w
    ok = full & (total > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(ok, sums[rows, best] / np.where(ok, total, 1.0), np.nan)
    return share, np.where(ok, busy, np.nan)


def last_season_path(
    y: FloatArray,
    m: int,
    horizon: int,
    *,
    candidates: BoolArray,
    min_share: float = 0.6,
    overlap: int = 4,
) -> LastSeason:
    """Last season's same periods scaled by the year-over-year ratio, for the concentrated
    ``candidates`` rows of ``y`` (series x periods, NaN before each series' first period).

    ``overlap`` is the most periods the ratio compares (fewer when the history is shorter).
    """
    if not isinstance(m, int) or m < 2:
        raise ConfigError(f"season_length={m!r}: a last-season path needs a season of >= 2")
    if not 0 < min_share <= 1:
        raise ConfigError(f"min_share={min_share!r}: not allowed; give a share in (0, 1]")
    if not isinstance(overlap, int) or overlap < 1:
        raise ConfigError(f"overlap={overlap!r}: not allowed; give an integer >= 1")
    n, periods = y.shape
    path = np.full((n, horizon), np.nan)
    none = np.zeros(n, dtype=bool)
    k = min(overlap, periods - m)
    if k < 1:
        return LastSeason(path, np.full(n, np.nan), np.full(n, np.nan), none)
    share, busy = season_concentration(y, m)
    base = y[:, periods - m - k : periods - m]
    recent = y[:, periods - k :]
    observed = ~np.isnan(base).any(axis=1)
    den = np.nansum(np.maximum(base, 0.0), axis=1)
    num = np.nansum(np.maximum(recent, 0.0), axis=1)
    # Step h looks back m - h periods (wrapping every season): the last season repeats.
    back = periods - m + (np.arange(horizon) % m)
    profile = np.maximum(np.nan_to_num(y[:, back]), 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ratio = np.where(observed & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)
        scaled = profile * ratio[:, None]
    used = (
        candidates
        & np.isfinite(ratio)
        & np.isfinite(scaled).all(axis=1)
        & (np.nan_to_num(share) >= min_share)
        & (np.nan_to_num(busy) >= 0.5)
    )
    path[used] = scaled[used]
    return LastSeason(path, ratio, share, used)
