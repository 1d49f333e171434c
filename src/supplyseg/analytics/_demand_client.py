"""Client side of demand analytics: the per-item result put in ABC order and finished in batches.

The engine returns one row per item. A table that fits in memory (`finished_batches`) is ordered
here (ABC key descending, then the ids ascending, as ``ORDER BY ... DESC NULLS LAST`` orders them
on DuckDB), and ABC's running totals are one vectorised pass over the whole key column. A table
of millions of items (customer x product: 89.7M pairs at 100M order lines) is ordered on the
engine instead (`engine_batches`): the client holds ABC's key columns and one batch of rows at a
time, and the engine's sort spills to disk when it must. Either way the rows become pandas a
batch at a time and can be written to Parquet without ever being one data frame.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from supplyseg.analytics._demand_engine import (
    ABC_KEY,
    Bucket,
    Prepared,
    abc_keys,
    abc_order,
    item_profile,
    pattern_columns,
    period_starts,
    xyz_columns,
)
from supplyseg.analytics.lifecycle import lifecycle_columns, lifecycle_dates, lifecycle_thresholds
from supplyseg.analytics.seasonality import seasonality_columns
from supplyseg.config.demand import DemandSettings, SeasonalitySettings
from supplyseg.engine import drop_temp, record_batches, temp_table

__all__ = [
    "BATCH_ROWS",
    "PROFILE_COLUMNS",
    "STR",
    "AbcClasses",
    "abc_classes",
    "abc_extra",
    "arrow_to_pandas",
    "engine_batches",
    "engine_columns",
    "finished_batches",
    "merged_summaries",
    "profile_frame",
    "profile_table",
    "row_order",
    "write_batches",
]

# pandas' default string dtype (pandas 3): Arrow-backed, NaN for missing.
STR = pd.StringDtype("pyarrow", na_value=np.nan)
PROFILE_COLUMNS = (
    "revenue",
    "margin",
    "quantity",
    "order_lines",
    "orders",
    "first_period",
    "last_period",
    "n_periods",
    "n_nonzero",
    "mean",
    "std",
    "cv",
    "xyz_class",
    "adi",
    "cv2",
    "pattern",
    "lifecycle",
    "first_demand_date",
    "last_demand_date",
    "buckets_since_demand",
    "seasonal",
    "seasonal_strength",
    "season_length",
    "share",
    "cum_share",
    "rank",
    "abc_class",
)
# Rows per pandas batch: a million rows of a demand table are ~200 MB as a data frame.
BATCH_ROWS = 1_000_000


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table`` as pandas, strings as the Arrow-backed `STR` (much faster than a generic
    conversion for millions of items)."""

    def mapper(typ: pa.DataType) -> Any:
        return STR if pa.types.is_string(typ) or pa.types.is_large_string(typ) else None

    # split_blocks: one block per column, no consolidation copy (4x faster for wide tables).
    df: pd.DataFrame = table.to_pandas(types_mapper=mapper, split_blocks=True, self_destruct=True)
    return df


# --- the row order ----------------------------------------------------------------------------


def _ascending_codes(column: pa.ChunkedArray) -> np.ndarray:
    """Integer codes that sort as ``column`` ascending with nulls last (the distinct values are
    sorted, not the rows: thousands of customers for millions of pairs)."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    dictionary, indices = encoded.dictionary, encoded.indices
    rank = np.empty(len(dictionary) + 1, dtype=np.int64)
    rank[pc.sort_indices(dictionary).to_numpy()] = np.arange(len(dictionary))
    rank[-1] = len(dictionary)  # null
    codes: np.ndarray = rank[indices.fill_null(len(dictionary)).to_numpy()]
    return codes


def row_order(table: pa.Table, ids: Sequence[str], key: str | None) -> np.ndarray:
    """Positions of ``table``'s rows in ABC order: ``key`` descending, then ``ids`` ascending,
    nulls last; by the ids alone without a key.

    As SQL engines order floats (DuckDB: NaN above every number, -0.0 equal to 0.0), so the
    order is the one ``ORDER BY key DESC NULLS LAST, ids ASC NULLS LAST`` gives.
    """
    keys = _id_keys([_ascending_codes(table[c]) for c in ids])
    if key is not None:
        col = table[key]
        null = col.is_null().to_numpy(zero_copy_only=False)
        values = pc.fill_null(col, 0.0).to_numpy(zero_copy_only=False).astype(np.float64)
        nan = np.isnan(values) & ~null
        group = np.where(null, 2, np.where(nan, 0, 1))
        descending = np.where(group == 1, -values, 0.0) + 0.0  # + 0.0: -0.0 sorts as 0.0
        keys += [descending, group] if (null | nan).any() else [descending]
    if not keys:
        return np.arange(table.num_rows)
    return np.lexsort(keys)


def _id_keys(codes: list[np.ndarray]) -> list[np.ndarray]:
    """Sort keys of the ids for `np.lexsort` (last key first): one key when the codes combine
    into one integer (a sort key fewer is a third less sorting for millions of pairs)."""
    combined, span = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64), 1
    for c in reversed(codes):
        width = int(c.max()) + 1 if len(c) else 1
        if span * width >= 2**62:
            return list(reversed(codes))
        combined += c * span
        span *= width
    return [combined] if codes else []


# --- ABC ----------------------------------------------------------------------------------------


def _abc_kernel(
    values: np.ndarray, cutoffs: Sequence[float], chunk: int = 10_000_000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share, cumulative share and class number (0 = best, the smallest integer type) of
    values sorted largest first.

    Not-positive and missing values count 0 and get the last class. The class is the number
    of cut-offs whose share of the total the running total *before* the item has reached.
    Computed with three item-sized arrays (and per ``chunk`` of items for the classes): 90M
    customer x product pairs would otherwise need six of 720 MB each.
    """
    pos = np.where(values > 0, values, 0.0)  # NaN > 0 is False
    cum = np.cumsum(pos)
    total = float(cum[-1]) if len(cum) else 0.0
    cut = np.asarray(cutoffs, dtype=float) * total
    idx = np.empty(len(pos), dtype=np.min_scalar_type(len(cutoffs)))
    for start in range(0, len(pos), chunk):
        p, c = pos[start : start + chunk], cum[start : start + chunk]
        part = np.searchsorted(cut, c - p, side="right")
        part[p <= 0] = len(cutoffs)
        idx[start : start + chunk] = part
    if total > 0:
        pos /= total  # the share, in place
        cum /= total
        return pos, cum, idx
    return np.zeros_like(pos), np.zeros_like(pos), idx


@dataclass(frozen=True)
class AbcClasses:
    """ABC of every item, in ABC order: share, cum_share, class number (0 = best) and, with
    several measures, each measure's class number."""

    share: np.ndarray
    cum_share: np.ndarray
    idx: np.ndarray
    per_measure: dict[str, np.ndarray]

    def assign(self, df: pd.DataFrame, start: int, s: DemandSettings) -> pd.DataFrame:
        """Add share, cum_share, rank, abc_class (and abc_<measure>) to ``df``, the rows
        ``start``, ``start + 1``, ... of the ABC order."""
        end = start + len(df)
        labels = s.abc_class_labels
        df["share"], df["cum_share"] = self.share[start:end], self.cum_share[start:end]
        df["rank"] = np.arange(start + 1, end + 1, dtype=np.int64)
        df["abc_class"] = _labelled(labels, self.idx[start:end])
        for m, cls in self.per_measure.items():
            df[f"abc_{m}"] = _labelled(labels, cls[start:end])
        return df


def abc_classes(table: pa.Table, order: np.ndarray | None, s: DemandSettings) -> AbcClasses:
    """`AbcClasses` of ``table`` (with `ABC_KEY` and, per further measure, ``_k_<m>`` and its
    rank ``_r_<m>``) whose rows in ABC order are ``order`` (None: the rows are in ABC order)."""

    def taken(name: str) -> pa.ChunkedArray:
        return table[name] if order is None else table[name].take(order)

    def column(name: str) -> np.ndarray:
        values = pc.fill_null(taken(name), np.nan)
        out: np.ndarray = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        return out

    measures = s.abc_measures
    share, cum, idx = _abc_kernel(column(ABC_KEY), s.abc_cutoffs)
    per: dict[str, np.ndarray] = {}
    for m in measures:
        if f"_r_{m}" not in table.column_names:  # the key measure: rows are in its order
            per[m] = idx
            continue
        values = column(f"_k_{m}")
        ranks = taken(f"_r_{m}").to_numpy(zero_copy_only=False)
        by_rank = np.argsort(ranks, kind="stable")
        cls = np.empty(len(by_rank), dtype=idx.dtype)
        cls[by_rank] = _abc_kernel(values[by_rank], s.abc_cutoffs)[2]
        per[m] = cls
    if len(measures) > 1 and s.abc_rule != "weighted":
        combine = np.maximum if s.abc_rule == "worst" else np.minimum
        idx = combine.reduce([per[m] for m in measures])
    return AbcClasses(share, cum, idx, per if len(measures) > 1 else {})


def _labelled(labels: Sequence[str], idx: np.ndarray) -> pd.Series:
    # Arrow's take builds the string column in C++; from an object array it is 3x slower.
    return pd.Series(pa.array(labels, pa.string()).take(pa.array(idx)), dtype=STR)


def abc_extra(s: DemandSettings) -> list[str]:
    """The ``abc_<measure>`` columns of several measures."""
    return [f"abc_{m}" for m in s.abc_measures] if len(s.abc_measures) > 1 else []


# --- batches ------------------------------------------------------------------------------------


def _internal(name: str) -> bool:
    return name.startswith(("_k_", "_r_")) or name == ABC_KEY


def finished_batches(
    table: pa.Table,
    ids: Sequence[str],
    bucket: Bucket | None,
    s: DemandSettings | None,
    columns: Sequence[str] | None,
    rows: int | None = BATCH_ROWS,
) -> Iterator[pd.DataFrame]:
    """``table``'s items in ABC order (by id without ``s``), ``rows`` at a time (None: all at
    once), with ABC, the period dates and the lifecycle dates, as ``ids`` + ``columns`` (those
    present) in that order (every column with ``columns=None``)."""
    key = ABC_KEY if s is not None else None
    order = row_order(table, ids, key)
    abc = abc_classes(table, order, s) if s is not None else None
    data = table.select([c for c in table.column_names if not _internal(c)])
    del table
    step = rows if rows else max(len(order), 1)
    for start in range(0, max(len(order), 1), step):
        df = arrow_to_pandas(data.take(order[start : start + step]))
        yield _finished(df, start, abc, s, bucket, ids, columns)


def engine_batches(
    expr: ir.Table,
    ids: Sequence[str],
    bucket: Bucket | None,
    s: DemandSettings | None,
    columns: Sequence[str] | None,
    rows: int = BATCH_ROWS,
) -> Iterator[pd.DataFrame]:
    """`finished_batches` of an engine table (`engine_columns`), ordered on the engine.

    The table is computed once, into a temporary table; ABC's key columns come back in ABC
    order for the running totals (a narrow sort), then every row in that order, streamed
    ``rows`` at a time. Both sorts end on the ids, which are unique, so they agree.
    """
    con = expr.get_backend()
    name = f"_items_{uuid.uuid4().hex}"
    t = temp_table(con, name, expr)
    try:
        if s is not None:
            order = abc_order(t, ids, ABC_KEY)
        else:
            order = [ibis.asc(t[c], nulls_first=False) for c in ids]
        internal = [c for c in t.columns if _internal(c)]
        abc = None
        if s is not None:
            abc = abc_classes(t.order_by(order).select(*internal).to_pyarrow(), None, s)
        data = t.order_by(order).select(*[c for c in t.columns if c not in internal])
        start = 0
        for batch in record_batches(data, rows):
            df = arrow_to_pandas(pa.Table.from_batches([batch]))
            yield _finished(df, start, abc, s, bucket, ids, columns)
            start += batch.num_rows
        if start == 0:  # no items: one typed, empty batch
            empty = arrow_to_pandas(data.schema().to_pyarrow().empty_table())
            yield _finished(empty, 0, abc, s, bucket, ids, columns)
    finally:
        drop_temp(con, name)


def _finished(
    df: pd.DataFrame,
    start: int,
    abc: AbcClasses | None,
    s: DemandSettings | None,
    bucket: Bucket | None,
    ids: Sequence[str],
    columns: Sequence[str] | None,
) -> pd.DataFrame:
    """Rows ``start``, ``start + 1``, ... of the ABC order with ABC, the period and the
    lifecycle dates added, as ``ids`` + ``columns``."""
    if abc is not None and s is not None:
        df = abc.assign(df, start, s)
    if "_first" in df.columns and bucket is not None:
        df["first_period"] = period_starts(df.pop("_first"), bucket)
        df["last_period"] = period_starts(df.pop("_last"), bucket)
    if "_fpos" in df.columns and bucket is not None:
        df = lifecycle_dates(df, bucket)
    if columns is None:
        return df
    cols = [*ids, *[c for c in columns if c in df.columns]]
    # Assemble rather than df[cols]: a column selection copies every column of a big table.
    return pd.DataFrame({c: df[c] for c in cols}, copy=False)


def write_batches(batches: Iterator[pd.DataFrame], path: Path) -> Iterator[pd.DataFrame]:
    """Write ``batches`` to one Parquet file at ``path`` (the first batch's schema), passing
    each batch on once it is handed to the writer.

    Each batch is written on a thread of its own while the next is fetched and finished:
    Parquet encoding and the engine's fetch both release the GIL, so on 2 cores the writing
    (3 s of 17 for the 6.1M customer x product rows of 10M order lines) no longer adds up.
    At most two batches wait to be written.
    """
    writer: pq.ParquetWriter | None = None
    pending: deque[Future[None]] = deque()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet") as pool:
        try:
            for df in batches:
                schema = writer.schema if writer is not None else None
                table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                if len(pending) == 2:
                    pending.popleft().result()
                pending.append(pool.submit(writer.write_table, table))
                yield df
            while pending:
                pending.popleft().result()
        finally:
            wait(pending)  # a stopped reader or an error: finish what was handed over
            if writer is not None:
                writer.close()


def merged_summaries(parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The `supplyseg.analytics.demand.demand_summary` of a table from those of its batches:
    counts add up, class counts in label order."""
    out: dict[str, Any] = {}
    for part in parts:
        for name, value in part.items():
            if isinstance(value, dict):
                counts = out.setdefault(name, {})
                for label, n in value.items():
                    counts[label] = counts.get(label, 0) + n
            else:
                out[name] = out.get(name, 0) + value
    for name, value in out.items():
        if isinstance(value, dict) and name != "seasonal":
            out[name] = dict(sorted(value.items()))
    return out


# --- per-item tables ------------------------------------------------------------------------


def engine_columns(t: ir.Table, p: Prepared) -> ir.Table:
    """The columns the client needs of a per-item table: ids, results, ABC's internals."""
    internal = [c for c in t.columns if c.startswith(("_k_", "_r_")) or c == ABC_KEY]
    life = ("_fpos", "_lpos") if "lifecycle" in t.columns else ()
    keep = [c for c in ("_first", "_last", *life, *PROFILE_COLUMNS) if c in t.columns]
    return t.select(*p.ids, *keep, *internal)


def profile_frame(
    t: ir.Table,
    p: Prepared,
    bucket: Bucket | None,
    s: DemandSettings | None,
    horizon: int = 0,
    seasonality: SeasonalitySettings | None = None,
) -> pd.DataFrame:
    """Execute, finish ABC (when ``s`` is given) and name and order the columns (ids first).

    With ``seasonality``, the seasonality columns are added from one more query (the series
    of the items with enough history). Rows come back in ABC rank order, else by id
    (`supplyseg.analytics._demand_client`).
    """
    table = engine_columns(t, p).to_pyarrow()
    df = next(finished_batches(table, p.ids, bucket, s, None, rows=None))
    if seasonality is not None and bucket is not None:
        df = df.assign(**seasonality_columns(p, bucket, horizon, df, seasonality))
    extra = abc_extra(s) if s is not None else []
    cols = [*p.ids, *[c for c in (*PROFILE_COLUMNS, *extra) if c in df.columns]]
    # Assemble rather than df[cols]: a column selection copies every column of a big table.
    return pd.DataFrame({c: df[c] for c in cols}, copy=False)


def profile_table(
    p: Prepared,
    s: DemandSettings,
    bucket: Bucket,
    horizon: int,
    repeated: ir.Table | None = None,
    lifecycle: bool = True,
) -> ir.Table:
    """Per item: the sums of `item_profile`, XYZ, the SBC pattern, the lifecycle (unless
    ``lifecycle=False``) and ABC's keys, on the engine."""
    t = item_profile(p, bucket, horizon, repeated)
    life = lifecycle_columns(t, lifecycle_thresholds(s.lifecycle, bucket), horizon)
    t = t.mutate(**xyz_columns(t, s), **pattern_columns(t, s), **(life if lifecycle else {}))
    return abc_keys(t, p.ids, s)
