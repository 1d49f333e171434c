"""Small weekly demand tables shared by the forecast tests (importable: see conftest.py)."""

from __future__ import annotations

import pandas as pd

WEEKS = pd.date_range("2024-01-01", periods=200, freq="W-MON")


def long(**series: list[float]) -> pd.DataFrame:
    """Dense long table, every series starting on the first Monday of 2024."""
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": WEEKS[: len(v)], "y": v}) for k, v in series.items()],
        ignore_index=True,
    )


def assign(method: str, *ids: str, pattern: str = "smooth") -> pd.DataFrame:
    """One forecast method and pattern for each of ``ids``."""
    return pd.DataFrame({"unique_id": list(ids), "pattern": pattern, "method": method})
