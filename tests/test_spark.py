"""The pipeline on Spark (Ibis's PySpark backend, ``local[2]``) gives the DuckDB run's results.

One synthetic company is written twice (two workspaces, so neither run sees the other as its
previous run) and run end to end without the report: once on in-memory DuckDB, once with
``backend="spark"``, as ``supplyseg run DIR --backend spark`` does. Every output table must be
equal: ids, classes, counts and dates exactly, money and rates to 1e-9 relative.

Slow by nature (a JVM, then dozens of small Spark jobs); marked ``spark``. Skipped only when no
Java 17+ runtime is found.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from supplyseg.config import load_workspace
from supplyseg.config.workspace import EngineSettings
from supplyseg.data.synth import synth_company, write_workspace
from supplyseg.engine import (
    backend_label,
    check_spark,
    connect,
    drop_temp,
    spark_config,
    temp_table,
)
from supplyseg.errors import ConfigError
from supplyseg.pipeline import RunResult, run

pytestmark = [
    pytest.mark.spark,
    # pyspark leaves the sockets it collects Arrow results through to the garbage collector.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

MASTER = "local[2]"
# supplyseg's own Spark settings (what `supplyseg run --backend spark` uses), sized down for
# 8,000 lines: fewer tasks per shuffle, a small heap beside the other tests.
SMALL_DATA = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "1g",
}
# Rows of these tables come back in the engine's order (millions of rows, left unsorted);
# every other table is sorted by the code that makes it.
UNORDERED = {
    "cost_to_serve_customer_product": ["customer_id", "product_id"],
    "segments_customer_product": ["customer_id", "product_id"],
}
RTOL = ATOL = 1e-9


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    try:
        check_spark(MASTER)
    except ConfigError as exc:
        if "Java" not in str(exc):
            raise
        pytest.skip(f"no usable Java runtime for Spark: {exc}")
    from pyspark.sql import SparkSession

    conf: dict[str, Any] = spark_config(MASTER, SMALL_DATA)
    session = SparkSession.builder.master(MASTER).config(map=conf).getOrCreate()
    yield session
    session.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()  # close pyspark's leftover sockets while their warning is ignored


@pytest.fixture(scope="module")
def runs(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, RunResult]:
    base = tmp_path_factory.mktemp("engines")
    company = synth_company(customers=150, products=60, lines=8000, seed=3)
    for name in ("duckdb", "spark"):
        write_workspace(company, base / name)
    duck = run(load_workspace(base / "duckdb"), report=False)
    on_spark = run(load_workspace(base / "spark"), backend="spark", report=False)
    return duck, on_spark


def _tables(result: RunResult) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(result.path.glob("*.parquet"))}


def _assert_same(name: str, duck: pd.DataFrame, spark: pd.DataFrame) -> None:
    assert list(spark.columns) == list(duck.columns), name
    assert len(spark) == len(duck), name
    if name in UNORDERED:
        duck = duck.sort_values(UNORDERED[name], ignore_index=True)
        spark = spark.sort_values(UNORDERED[name], ignore_index=True)
    for col in duck.columns:
        a, b = duck[col], spark[col]
        assert b.dtype == a.dtype, f"{name}.{col}: {b.dtype} on Spark, {a.dtype} on DuckDB"
        if pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(
                b.to_numpy(float), a.to_numpy(float), rtol=RTOL, atol=ATOL, err_msg=f"{name}.{col}"
            )
        else:
            pd.testing.assert_series_equal(b, a, obj=f"{name}.{col}")


def _assert_close(got: Any, want: Any, where: str) -> None:
    """Equal nested dicts/lists, floats to RTOL (sums in another order differ in the last bit)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        assert sorted(got) == sorted(want), where
        for key in want:
            _assert_close(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list), where
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_close(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=RTOL, abs=ATOL, nan_ok=True), where
    else:
        assert got == want, where


def test_the_spark_run_ran_on_spark(runs: tuple[RunResult, RunResult]) -> None:
    duck, on_spark = runs
    assert duck.dataset.con.name == "duckdb"
    assert on_spark.dataset.con.name == "pyspark"
    assert backend_label(on_spark.dataset.con).startswith(f"pyspark {MASTER} 4.")


def test_every_output_table_is_equal(runs: tuple[RunResult, RunResult]) -> None:
    duck, on_spark = _tables(runs[0]), _tables(runs[1])
    assert sorted(on_spark) == sorted(duck)
    # The steps the issue names must all have produced tables.
    for expected in (
        "rejects",
        "demand_product",
        "demand_customer_product",
        "cost_to_serve_customer",
        "cts_breakdown",
        "cost_to_serve_customer_product",
        "cost_to_serve_order",
        "customer_metrics",
        "customer_features",
        "segments_customer",
        "segments_product",
    ):
        assert len(duck[expected]) > 0, expected
    for name in duck:
        _assert_same(name, duck[name], on_spark[name])


def test_row_accounting_summaries_and_notes_are_equal(runs: tuple[RunResult, RunResult]) -> None:
    duck, on_spark = (r.manifest for r in runs)
    for table, acc in duck["tables"].items():
        got = on_spark["tables"][table]
        for key in ("read", "loaded", "rejected", "reasons"):
            assert got[key] == acc[key], (table, key)
    assert duck["tables"]["order_lines"]["rejected"] > 0  # the synthetic bad rows
    assert on_spark["rows"] == duck["rows"]
    _assert_close(on_spark["summaries"], duck["summaries"], "summaries")
    assert on_spark["notes"] == duck["notes"]
    assert on_spark["warnings"] == duck["warnings"]


def test_connect_reuses_the_running_session(spark: Any) -> None:
    con = connect(EngineSettings(backend="spark"))
    assert con.name == "pyspark"
    assert con._session is spark  # not a second JVM
    assert connect("spark")._session is spark
    with pytest.raises(ConfigError, match=r"already runs a Spark session on local\[2\]"):
        connect("spark://elsewhere:7077")


def test_temp_table_replaces_and_drops_on_spark(spark: Any) -> None:
    con = connect("spark")
    first = temp_table(con, "t_engine", pa.table({"x": [1, 2, 3]}))
    derived = temp_table(con, "u_engine", first.filter(first.x > 1))
    temp_table(con, "t_engine", pa.table({"x": [10]}))  # replaces t; u keeps its own rows
    assert con.table("t_engine").x.sum().to_pyarrow().as_py() == 10
    assert derived.count().to_pyarrow().as_py() == 2
    drop_temp(con, "u_engine")
    drop_temp(con, "u_engine")  # absent: no error
    assert not spark.catalog.tableExists("u_engine")
