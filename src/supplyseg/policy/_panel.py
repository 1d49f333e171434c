"""Complete demand series as flat numpy arrays, and the parameter checks the forecast modules
share.

Demand is the net quantity per period from an item's first period to the horizon end, 0 where
nothing happened (the project's demand definition), so missing periods are *filled with 0* from
each series' first ``ds`` to the last ``ds`` of the whole table. A ``ds`` off the ``freq``
grid, a duplicate ``(unique_id, ds)`` or a missing ``y`` raises ConfigError.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.errors import ConfigError

__all__ = [
    "DS",
    "ID",
    "FloatArray",
    "IntArray",
    "Panel",
    "Y",
    "check_freq",
    "check_int",
    "complete_series",
]

ID, DS, Y = "unique_id", "ds", "y"
_ID, _DS, _Y = ID, DS, Y

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name}={value!r}: not allowed; give an integer >= {minimum}")
    return int(value)


def check_freq(freq: object) -> str:
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


# --- complete series -------------------------------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """Complete series as flat arrays sorted by id, then time; series i is start[i]:start[i+1]."""

    ids: pd.Index
    grid: pd.DatetimeIndex
    first: IntArray  # grid position of each series' first period
    start: IntArray
    y: FloatArray

    @property
    def lengths(self) -> IntArray:
        return np.diff(self.start)

    @cached_property
    def code(self) -> IntArray:
        """Series number of each row."""
        return np.repeat(np.arange(len(self.ids), dtype=np.int64), self.lengths)

    @cached_property
    def pos(self) -> IntArray:
        """Grid position of each row (every series ends at the last grid position)."""
        local = np.arange(len(self.y), dtype=np.int64) - self.start[:-1][self.code]
        return local + self.first[self.code]

    def training(
        self, select: npt.NDArray[np.bool_], end: int, y: FloatArray | None = None
    ) -> pd.DataFrame:
        """``unique_id, ds, y`` of the selected series before grid position ``end`` (an origin),
        with ``y`` replaced by the given per-row values (e.g. cleansed ones)."""
        rows = select[self.code] & (self.pos < end)
        return pd.DataFrame(
            {
                _ID: self.ids.to_numpy()[self.code[rows]],
                _DS: self.grid[self.pos[rows]],
                _Y: (self.y if y is None else y)[rows],
            }
        )

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


def complete_series(series: object, freq: str) -> Panel:
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
    return Panel(pd.Index(ids), grid, first, start, dense)
