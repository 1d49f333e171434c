"""Item lifecycle: new, active, dormant or obsolete, from the periods with positive net demand.

Definitions, relative to the as-of period ``h`` (the period of the horizon end: ``end``, or
the last order date) and in buckets of the analysis (see
`supplyseg.config.demand.LifecycleSettings` for the thresholds and their defaults):

- ``buckets_since_demand = h - last``, where ``last`` is the last period with positive net
  demand (0: demand in the as-of period; null: no positive demand in the horizon at all);
- ``obsolete``: no positive demand in the last ``obsolete_buckets`` periods
  (``buckets_since_demand >= obsolete_buckets``, or never);
- ``dormant``: likewise for ``dormant_buckets``, but not obsolete;
- ``new``: the first period with positive demand is one of the last ``new_buckets`` periods
  (``h - first < new_buckets``), and the item is neither obsolete nor dormant;
- ``active``: everything else.

The checks run in that order, so an item that has stopped is dormant or obsolete however
recently it started. Net demand is per period (sales minus credit notes), as everywhere in
demand analytics: a period whose credit notes cancel its sales has no positive demand.

The columns are Ibis expressions over the per-item sums (``_fpos``, ``_lpos``: first and
last period with positive net demand), so they cost two aggregates in the query that already
computes the other per-item statistics.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from supplyseg.analytics._demand_engine import Bucket, period_starts
from supplyseg.config.demand import LifecycleSettings
from supplyseg.errors import ConfigError

__all__ = [
    "LIFECYCLES",
    "LIFECYCLE_COLUMNS",
    "lifecycle_columns",
    "lifecycle_dates",
    "lifecycle_thresholds",
]

LIFECYCLES = ("new", "active", "dormant", "obsolete")
LIFECYCLE_COLUMNS = ("lifecycle", "first_demand_date", "last_demand_date", "buckets_since_demand")


def lifecycle_thresholds(settings: LifecycleSettings, bucket: Bucket) -> tuple[int, int, int]:
    """(new, dormant, obsolete) buckets for ``bucket``: the settings, defaults filled in."""
    try:
        return settings.resolved(bucket)
    except ValueError as exc:
        msg = str(exc).removeprefix(".")
        raise ConfigError(f"demand.{msg}") from None


def lifecycle_columns(
    t: ir.Table, thresholds: tuple[int, int, int], horizon: int
) -> dict[str, ir.Value]:
    """``lifecycle`` and ``buckets_since_demand`` from ``_fpos``/``_lpos`` of item stats."""
    new, dormant, obsolete = thresholds
    since = (horizon - t._lpos).cast("int64")
    return {
        "lifecycle": ibis.cases(
            (t._lpos.isnull() | (since >= obsolete), "obsolete"),
            (since >= dormant, "dormant"),
            (horizon - t._fpos < new, "new"),
            else_="active",
        ),
        "buckets_since_demand": since,
    }


def lifecycle_dates(df: pd.DataFrame, bucket: Bucket) -> pd.DataFrame:
    """Replace ``_fpos``/``_lpos`` (period numbers, null when never positive) by the dates of
    those periods (``first_demand_date``, ``last_demand_date``, NaT when never), and make
    ``buckets_since_demand`` a nullable integer."""
    for src, dst in (("_fpos", "first_demand_date"), ("_lpos", "last_demand_date")):
        raw = df.pop(src).to_numpy(dtype="float64", na_value=np.nan)
        known = ~np.isnan(raw)
        idx = pd.Series(np.where(known, raw, 0).astype("int64"), index=df.index)
        dates = period_starts(idx, bucket).to_numpy()
        dates[~known] = np.datetime64("NaT")
        df[dst] = dates
    since = df["buckets_since_demand"].to_numpy(dtype="float64", na_value=np.nan)
    df["buckets_since_demand"] = pd.array(since, dtype="Int64")
    return df
