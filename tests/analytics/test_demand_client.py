"""The client side of demand analytics: ABC row order and tables written in batches."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supplyseg.analytics._demand_client import (
    _abc_kernel,
    engine_batches,
    merged_summaries,
    row_order,
    write_batches,
)
from supplyseg.analytics._demand_engine import (
    ABC_KEY,
    abc_order,
    as_table,
    horizon_index,
    in_horizon,
    prepared,
)
from supplyseg.analytics.demand import (
    demand_outputs,
    demand_profile,
    demand_summary,
)
from supplyseg.config.demand import DemandSettings
from supplyseg.data.synth import synth_company
from supplyseg.errors import ConfigError

keys = st.one_of(
    st.none(),
    st.sampled_from([math.nan, -0.0, 0.0, math.inf, -math.inf, 1.5, -2.0]),
    st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 1)),
)
ids = st.one_of(st.none(), st.sampled_from(["a", "b", "B", "ab", "é", ""]))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(keys, ids, ids), max_size=12))
def test_row_order_is_the_sql_engine_order(rows: list[tuple[Any, ...]]) -> None:
    # DuckDB's ORDER BY key DESC NULLS LAST, ids ASC NULLS LAST (the engine's order before the
    # client sorted): NaN above every number, -0.0 equal to 0.0, ties by the ids.
    table = pa.table(
        {
            "k": pa.array([r[0] for r in rows], pa.float64()),
            "a": pa.array([r[1] for r in rows], pa.string()),
            "b": pa.array([r[2] for r in rows], pa.string()),
            "pos": pa.array(range(len(rows)), pa.int64()),
        }
    )
    got = row_order(table, ["a", "b"], "k")
    t = ibis.memtable(table)
    want = t.order_by(abc_order(t, ["a", "b"], "k")).to_pyarrow()
    ordered = table.take(pa.array(got))
    # Equal keys and ids may come in any order: compare the sort keys, not the positions.
    for col in ("a", "b"):
        assert ordered[col].to_pylist() == want[col].to_pylist()
    both = zip(ordered["k"].to_pylist(), want["k"].to_pylist(), strict=True)
    assert all(x == y or (x is None and y is None) or (x != x and y != y) for x, y in both)


def _company_lines() -> pd.DataFrame:
    company = synth_company(customers=60, products=30, lines=3000, seed=3)
    lines = company.order_lines.dropna(subset=["customer_id", "product_id", "order_date"])
    lines = lines[lines["quantity"].notna() & lines["unit_price"].notna()]
    return lines.assign(order_date=pd.to_datetime(lines["order_date"], errors="coerce")).dropna(
        subset=["order_date"]
    )


@pytest.mark.parametrize(
    "demand",
    [
        DemandSettings(),
        DemandSettings(abc_measures=("quantity", "revenue", "order_lines"), abc_rule="worst"),
        DemandSettings(abc_measures=("revenue", "margin"), abc_rule="weighted"),
    ],
)
@pytest.mark.parametrize("grain", ["customer_product", "customer"])
def test_streamed_table_is_the_in_memory_table(
    tmp_path: Path, demand: DemandSettings, grain: str
) -> None:
    # Written in batches of 7 rows, the table equals demand_profile's frame row for row and
    # value for value, and is in the order the engine's ORDER BY gives (the old code path).
    lines = _company_lines()
    s = demand.model_copy(update={"grains": (grain,)})
    out = demand_outputs(lines, s, end="2025-12-31", streamed=(grain,))
    assert not out.tables
    table = out.streamed[f"demand_{grain}"]
    path = tmp_path / "t.parquet"
    summary = table.write_parquet(path, batch_rows=7)
    want = demand_profile(
        lines, grain, settings=s, end="2025-12-31", lifecycle=False, seasonality=False
    )
    want.to_parquet(tmp_path / "want.parquet", index=False)
    got, written = pq.read_table(path), pq.read_table(tmp_path / "want.parquet")
    assert got.num_rows > 7 * 3
    assert got.schema.equals(written.schema)
    pd.testing.assert_frame_equal(got.to_pandas(), written.to_pandas())
    assert summary == demand_summary(want)
    p, e = in_horizon(prepared(as_table(lines), grain), None, "2025-12-31")
    horizon_index(p, e, "week")
    engine = table.expr.order_by(abc_order(table.expr, p.ids, ABC_KEY)).to_pandas()
    for col in p.ids:
        assert got[col].to_pylist() == engine[col].tolist()


def test_streamed_grains_must_not_need_the_whole_table() -> None:
    with pytest.raises(ConfigError, match=r"streamed=\['product'\].*'product'.*seasonality"):
        demand_outputs(_company_lines(), streamed=("product",))


def test_merged_summaries_add_counts_in_label_order() -> None:
    frame = pd.DataFrame(
        {
            "abc_class": ["C", "A", "B", "A", "C"],
            "xyz_class": ["X", "Z", "Z", "Y", "X"],
            "pattern": ["lumpy", "smooth", "lumpy", "erratic", "smooth"],
            "seasonal": pd.array([True, None, False, True, None], dtype="boolean"),
            "mean": [1.0, -1.0, 0.0, 2.0, np.nan],
            "share": [0.5, 0.0, 0.5, 0.0, 0.0],
        }
    )
    parts = [demand_summary(frame.iloc[i : i + 2]) for i in range(0, 5, 2)]
    assert merged_summaries(parts) == demand_summary(frame)


def _items_tables(con: Any) -> list[str]:
    with warnings.catch_warnings():
        # Ibis 12 lists DuckDB's tables with fetch_arrow_table, which DuckDB 1.5 deprecates.
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        return [name for name in con.list_tables() if name.startswith("_items_")]


def test_engine_batches_drop_their_temporary_table(tmp_path: Path) -> None:
    # The engine holds the items in a temporary table while they are read: dropped after the
    # last batch, and when the reader stops early.
    con = ibis.duckdb.connect()
    lines = con.create_table("lines", _company_lines())
    s = DemandSettings(grains=("customer_product",))
    table = demand_outputs(lines, s, streamed=("customer_product",)).streamed[
        "demand_customer_product"
    ]
    table.write_parquet(tmp_path / "t.parquet", batch_rows=50)
    assert not _items_tables(con)
    batches = engine_batches(table.expr, table.ids, table.bucket, s, None, rows=50)
    first = next(batches)
    assert len(first) == 50
    assert first["rank"].tolist() == list(range(1, 51))
    batches.close()
    assert not _items_tables(con)


def test_streamed_table_without_items_is_written_typed(tmp_path: Path) -> None:
    lines = _company_lines()
    s = DemandSettings(grains=("customer_product",))
    late = str(lines["order_date"].max().date() + pd.Timedelta(days=1))
    out = demand_outputs(lines, s, start=late, streamed=("customer_product",))
    path = tmp_path / "t.parquet"
    summary = out.streamed["demand_customer_product"].write_parquet(path)
    written = pq.read_table(path)
    assert written.num_rows == 0
    assert summary["items"] == 0
    assert {"customer_id", "product_id", "abc_class", "cum_share"} <= set(written.column_names)


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.one_of(st.just(math.nan), st.integers(-3, 50).map(float)), max_size=30),
    chunk=st.integers(1, 7),
)
def test_abc_classes_do_not_depend_on_the_chunk_size(values: list[float], chunk: int) -> None:
    # 90M pairs are classed chunk by chunk; every chunking gives the one-pass result, which is
    # the definition: the class counts the cut-offs the running total before the item reached
    # (whole numbers: exact sums, so an item landing on a cut-off is tested too).
    ordered = np.array(sorted(values, key=lambda v: -v if v == v else -math.inf))
    share, cum, idx = _abc_kernel(ordered.copy(), (0.8, 0.95), chunk=chunk)
    whole = _abc_kernel(ordered.copy(), (0.8, 0.95), chunk=10**6)
    for got, want in zip((share, cum, idx), whole, strict=True):
        np.testing.assert_array_equal(got, want)
    pos = np.where(ordered > 0, ordered, 0.0)
    total, before = pos.sum(), 0.0
    for i, v in enumerate(pos):
        want_class = 2 if v <= 0 else int(before >= 0.8 * total) + int(before >= 0.95 * total)
        assert idx[i] == want_class
        before += v


def test_write_batches_writes_in_order_on_its_thread_and_reports_errors(tmp_path: Path) -> None:
    # Batches are written on a thread while the next is made: every batch lands, in order,
    # also when the reader stops early; a batch the file cannot take raises here.
    frames = [
        pd.DataFrame({"a": np.arange(i * 3, i * 3 + 3), "b": [f"x{i}"] * 3}) for i in range(5)
    ]
    path = tmp_path / "w.parquet"
    seen = list(write_batches(iter(frames), path))
    assert len(seen) == 5
    assert pq.read_table(path)["a"].to_pylist() == list(range(15))

    stopped = write_batches(iter(frames), path)
    next(stopped), next(stopped)
    stopped.close()
    assert pq.read_table(path)["a"].to_pylist() == list(range(6))

    bad = [frames[0], pd.DataFrame({"a": ["not a number"], "b": ["y"]})]
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        list(write_batches(iter(bad), tmp_path / "bad.parquet"))
