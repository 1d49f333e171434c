"""Shared parts of the cost-to-serve modules: the run state, join helpers, typed breakdown rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from supplyseg.engine import write_parquet

__all__ = ["BREAKDOWN_COLUMNS"]

BREAKDOWN_COLUMNS = ["customer_id", "pool", "driver", "driver_quantity", "rate", "cost"]

_STR = pd.StringDtype("pyarrow")  # Arrow-backed: converts from Arrow without a copy
_TYPES: dict[str, Any] = dict(zip(BREAKDOWN_COLUMNS, [_STR] * 3 + ["float64"] * 3, strict=True))
Expr = Any  # Ibis expressions are untyped for mypy
Fn = Callable[[Expr], Expr]


@dataclass
class _Run:
    """What one call knows about its inputs (tables, priced channels), and the notes it collects."""

    tables: Mapping[str, Expr]
    as_of: date  # the last order date unless given
    cancelled: Expr = None  # order_id of the orders credit notes cancel in full
    channels: list[str] = field(default_factory=list)  # lower-case; code = index + 1
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def has(self, table: str, *columns: str) -> bool:
        return table in self.tables and all(c in self.tables[table].columns for c in columns)

    def note(self, text: str) -> None:
        self.notes.append(text)  # the pipeline adds the step name


def _left(a: Expr, b: Expr, keys: list[str]) -> Expr:
    """Left join keeping one copy of the key columns."""
    return a.left_join(b, keys).drop(*[f"{k}_right" for k in keys])


def _flag(cond: Expr) -> Expr:
    return ibis.cases((cond, 1), else_=0)


def _col(t: Expr, name: str) -> Expr:
    return t[name] if name in t.columns else ibis.null("float64")


def _pandas(expr: Expr) -> pd.DataFrame:
    # Arrow's conversion with Arrow-backed strings, freeing the Arrow table as it goes: several
    # times faster and smaller than Ibis's for millions of rows.
    kind = {pa.string(): _STR, pa.large_string(): _STR}.get
    df: pd.DataFrame = expr.to_pyarrow().to_pandas(
        date_as_object=False, types_mapper=kind, split_blocks=True, self_destruct=True
    )
    return df


@dataclass(frozen=True)
class _Detail:
    """A table of millions of rows (per order, per customer x product) left on the engine: made
    a data frame only when asked (`frame`), or written to Parquet by the engine
    (`write_parquet`), never held by this process."""

    expr: Expr

    def frame(self) -> pd.DataFrame:
        return _pandas(self.expr)

    def write_parquet(self, path: Path, rows: int = 1_000_000) -> None:
        write_parquet(self.expr, path, rows)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Breakdown rows without all-zero rows; typed even when there are none."""
    out = [f[(f["driver_quantity"] != 0) | (f["cost"] != 0)] for f in frames]
    if out := [f[BREAKDOWN_COLUMNS].astype(_TYPES) for f in out if len(f)]:
        return pd.concat(out, ignore_index=True)
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in _TYPES.items()})
