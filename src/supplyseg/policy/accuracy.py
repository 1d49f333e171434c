"""Forecast value added per demand pattern (and product segment): how much the chosen methods
beat the naive baseline on windows they were not chosen on.

`forecast_accuracy` takes a table with one row per series and ``pattern, mae, baseline_mae``
(`supplyseg.policy.forecast.demand_forecast` or `supplyseg.policy.backtest.backtest`
output). A series is **scored** when both MAEs are finite and ``baseline_mae > 0``; the
others are counted apart (``series_too_short``: no held-out window; ``series_zero_baseline``:
the baseline was exact, e.g. an item that stopped selling, where any ratio would be 0/0 or
x/0), so one tiny denominator cannot dwarf the rest. Ratios are ratios of *totals* over the
scored series, never means of per-series ratios.

Columns, one row per pattern plus ``pattern == "all"`` (per ``segment`` too when the input has
a ``segment`` column; ``segment == "all"`` rows cover every segment):

- ``segment, pattern``; ``series`` scored, ``series_too_short``, ``series_zero_baseline``;
- ``methods``: the chosen methods with their counts, most frequent first;
- ``mae, rmse, bias, mase, baseline_mae, baseline_mase``: means over the scored series;
- ``relative_mae`` = total MAE / total baseline MAE; ``fva`` = 1 - relative_mae (forecast
  value added: > 0 beats the baseline, in units-weighted terms);
- ``fva_geomean`` = 1 - geometric mean of the per-series MAE ratios over scored series with
  MAE > 0 (AvgRelMAE, Davydenko & Fildes 2013: scale-free, so small items weigh as much as big
  ones);
- ``series_beating``, ``share_beating``: scored series with MAE < baseline MAE, and their share.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from supplyseg.data.contract import require_columns
from supplyseg.policy._models import PATTERNS

__all__ = ["ACCURACY_COLUMNS", "forecast_accuracy"]

ACCURACY_COLUMNS = (
    "segment",
    "pattern",
    "series",
    "series_too_short",
    "series_zero_baseline",
    "methods",
    "mae",
    "rmse",
    "bias",
    "mase",
    "baseline_mae",
    "baseline_mase",
    "relative_mae",
    "fva",
    "fva_geomean",
    "series_beating",
    "share_beating",
)


def _mean(g: pd.DataFrame, col: str) -> float:
    return float(g[col].mean()) if col in g.columns and len(g) else float("nan")


def _row(segment: str, pattern: str, g: pd.DataFrame) -> dict[str, Any]:
    mae = g["mae"].to_numpy(dtype=np.float64)
    base = g["baseline_mae"].to_numpy(dtype=np.float64)
    scored = np.isfinite(mae) & np.isfinite(base) & (base > 0)
    s = g[scored]
    total = float(base[scored].sum())
    relative = float(mae[scored].sum()) / total if total > 0 else float("nan")
    pos = scored & (mae > 0)
    geo = float(np.exp(np.mean(np.log(mae[pos] / base[pos])))) if pos.any() else float("nan")
    beating = int((mae[scored] < base[scored]).sum())
    methods = s["method"].value_counts() if "method" in s.columns else pd.Series(dtype=int)
    return {
        "segment": segment,
        "pattern": pattern,
        "series": int(scored.sum()),
        "series_too_short": int((~np.isfinite(mae) | ~np.isfinite(base)).sum()),
        "series_zero_baseline": int((np.isfinite(mae) & (base == 0)).sum()),
        "methods": ", ".join(f"{k} {v}" for k, v in methods.items()),
        "mae": _mean(s, "mae"),
        "rmse": _mean(s, "rmse"),
        "bias": _mean(s, "bias"),
        "mase": _mean(s, "mase"),
        "baseline_mae": _mean(s, "baseline_mae"),
        "baseline_mase": _mean(s, "baseline_mase"),
        "relative_mae": relative,
        "fva": 1.0 - relative,
        "fva_geomean": 1.0 - geo,
        "series_beating": beating,
        "share_beating": beating / int(scored.sum()) if scored.any() else float("nan"),
    }


def forecast_accuracy(forecast: pd.DataFrame) -> pd.DataFrame:
    """Forecast value added per pattern (and segment) on held-out windows; see the module doc."""
    df = require_columns("forecast", forecast, ("pattern", "mae", "baseline_mae"))
    seen = list(pd.unique(df["pattern"]))
    order = [p for p in PATTERNS if p in seen] + sorted(str(p) for p in seen if p not in PATTERNS)
    parts: list[tuple[str, pd.DataFrame]] = [("all", df)]
    if "segment" in df.columns:
        seg = df["segment"].astype(object).where(df["segment"].notna(), "unknown")
        parts += [(str(s), df[seg == s]) for s in sorted(pd.unique(seg.astype(str)))]
    records = []
    for segment, d in parts:
        for pattern in order:
            g = d[d["pattern"] == pattern]
            if len(g):
                records.append(_row(segment, pattern, g))
        records.append(_row(segment, "all", d))
    return pd.DataFrame.from_records(records, columns=list(ACCURACY_COLUMNS))
