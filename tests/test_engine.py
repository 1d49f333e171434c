"""Engine selection: DuckDB by default, Spark by name, master URL or settings; clear errors.

These run without starting Spark (tests/test_spark.py runs the pipeline on it).
"""

from __future__ import annotations

import importlib.util
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ibis.common.exceptions import TableNotFound

from supplyseg import engine
from supplyseg.config.workspace import EngineSettings, workspace_from_dict
from supplyseg.engine import (
    check_spark,
    connect,
    drop_temp,
    is_spark_target,
    spark_config,
    temp_table,
    write_parquet,
)
from supplyseg.errors import ConfigError


def _fake_java(tmp_path: Path, version_line: str) -> Path:
    """A JAVA_HOME whose bin/java prints ``version_line`` as `java -version` does (stderr)."""
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    java.chmod(java.stat().st_mode | stat.S_IEXEC)
    return tmp_path / "jdk"


def test_default_is_in_memory_duckdb() -> None:
    for target in (None, "duckdb", "memory", EngineSettings()):
        assert connect(target).name == "duckdb"


def test_duckdb_url_from_settings(tmp_path: Path) -> None:
    con = connect(EngineSettings(url=f"duckdb://{tmp_path / 'x.ddb'}"))
    assert con.name == "duckdb"
    assert (tmp_path / "x.ddb").exists()


@pytest.mark.parametrize(
    ("target", "spark"),
    [
        ("spark", True),
        ("pyspark", True),
        ("local", True),
        ("local[2]", True),
        ("local[*]", True),
        ("local[4,2]", True),
        ("spark://host:7077", True),
        ("sc://host:15002", True),
        ("yarn", True),
        ("k8s://https://host:6443", True),
        ("duckdb", False),
        ("duckdb:///x.ddb", False),
        ("localhost", False),
        ("sparkle", False),
    ],
)
def test_spark_targets(target: str, spark: bool) -> None:
    assert is_spark_target(target) is spark


def test_local_spark_config_has_two_shuffle_partitions_per_core() -> None:
    assert spark_config("local")["spark.sql.shuffle.partitions"] == "2"
    assert spark_config("local[2]")["spark.sql.shuffle.partitions"] == "4"
    assert spark_config("local[3,2]")["spark.sql.shuffle.partitions"] == "6"
    # A cluster keeps Spark's own default; settings given win over supplyseg's.
    assert "spark.sql.shuffle.partitions" not in spark_config("spark://h:7077")
    conf = spark_config("local[2]", {"spark.sql.shuffle.partitions": "1", "spark.x": "y"})
    assert conf["spark.sql.shuffle.partitions"] == "1"
    assert conf["spark.x"] == "y"
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"


def test_local_spark_gets_a_quarter_of_the_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    for total, heap in ((64, "16g"), (23, "5g"), (2, "1g"), (256, "16g")):
        monkeypatch.setattr(engine, "_memory_gb", lambda total=total: total)
        assert spark_config("local[2]")["spark.driver.memory"] == heap
    assert "spark.driver.memory" not in spark_config("yarn")  # the cluster's settings decide
    assert spark_config("local", {"spark.driver.memory": "2g"})["spark.driver.memory"] == "2g"


def test_missing_pyspark_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "pyspark" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(
        ConfigError, match=r"pyspark is not installed.*pip install 'supplyseg\[spark\]'"
    ):
        connect("spark")


def test_missing_java_names_the_jdk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    with pytest.raises(ConfigError, match=r"no Java runtime on JAVA_HOME=.*install a JDK 17"):
        connect("local[2]")
    monkeypatch.delenv("JAVA_HOME")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=r"no Java runtime on PATH.*install a JDK 17"):
        check_spark()


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ('openjdk version "17.0.15" 2025-04-15', True),
        ('openjdk version "21" 2023-09-19', True),
        ('openjdk version "11.0.2" 2019-01-15', False),
        ('java version "1.8.0_392"', False),
        ("no version here", False),
    ],
)
def test_java_version_is_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, line: str, ok: bool
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, line)))
    if ok:
        check_spark("local[2]")
        return
    with pytest.raises(ConfigError, match=r"Spark 4 needs Java 17 or later.*install a JDK 17"):
        check_spark("local[2]")


def test_spark_connect_needs_no_local_java(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    check_spark("sc://host:15002")


def test_bad_url_names_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"engine url 'nosuch://x'.*`spark` or a Spark master"):
        connect("nosuch://x")


def test_engine_settings_validation() -> None:
    spark = EngineSettings(backend="spark", master="spark://h:7077")
    assert spark.spark_config == {}
    with pytest.raises(ConfigError, match=r"engine\.url: .*with backend spark give"):
        workspace_from_dict(
            {
                "data": {"order_lines": {"path": "a.csv"}},
                "engine": {"backend": "spark", "url": "x"},
            },
            root=Path("/ws"),
            origin="supplyseg.yaml",
        )
    with pytest.raises(ConfigError, match=r"engine\.master: only applies to backend spark"):
        workspace_from_dict(
            {"data": {"order_lines": {"path": "a.csv"}}, "engine": {"master": "local[2]"}},
            root=Path("/ws"),
            origin="supplyseg.yaml",
        )
    with pytest.raises(ConfigError, match=r"engine\.backend"):
        workspace_from_dict(
            {"data": {"order_lines": {"path": "a.csv"}}, "engine": {"backend": "polars"}},
            root=Path("/ws"),
            origin="supplyseg.yaml",
        )


def test_a_compressed_table_holds_the_same_rows_in_the_attached_store(tmp_path: Path) -> None:
    con = connect(EngineSettings())
    rows = pa.table({"x": list(range(1000)), "y": ["a", "b"] * 500})
    temp_table(con, "lines", rows, compress=True)
    again = temp_table(con, "lines", rows.slice(0, 10), compress=True)  # replaces it
    assert again.to_pyarrow().sort_by("x").equals(rows.slice(0, 10))
    assert again.get_name() == "supplyseg_compressed.main.lines"
    # a DuckDB file keeps its own storage: a plain temporary table there
    file_con = connect(EngineSettings(url=f"duckdb:///{tmp_path / 'x.ddb'}"))
    plain = temp_table(file_con, "lines", rows, compress=True)
    assert plain.count().execute() == 1000
    assert plain.get_name() == "temp.main.lines"


def test_temp_table_replaces_and_drops_on_duckdb() -> None:
    con = connect()
    first = temp_table(con, "t", pa.table({"x": [1, 2, 3]}))
    assert first.x.sum().to_pyarrow().as_py() == 6
    derived = temp_table(con, "u", first.filter(first.x > 1))
    temp_table(con, "t", pa.table({"x": [10]}))  # replaces t; u keeps its own rows
    assert con.table("t").x.sum().to_pyarrow().as_py() == 10
    assert derived.count().to_pyarrow().as_py() == 2
    drop_temp(con, "u")
    drop_temp(con, "u")  # absent: no error
    with pytest.raises(TableNotFound):
        con.table("u")


def test_importing_supplyseg_does_not_import_pyspark() -> None:
    # pyspark is an optional extra and slow to import: only connect("spark") may load it.
    code = "import sys, supplyseg.pipeline; print('pyspark' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_write_parquet_keeps_the_sorted_order_across_row_groups(tmp_path: Path) -> None:
    # DuckDB writes the file itself (insertion order not preserved): a sorted result must
    # still come out sorted, and an empty one as a typed file without rows.
    con = connect()
    n = 20_000
    rows = pa.table(
        {"k": [(i * 7919) % n for i in range(n)], "s": [f"x{i % 13}" for i in range(n)]}
    )
    t = temp_table(con, "rows", rows)
    write_parquet(t.order_by(t.k.desc()), tmp_path / "sorted.parquet", rows=2048)
    file = pq.ParquetFile(tmp_path / "sorted.parquet")
    assert file.metadata.num_row_groups > 1
    assert file.read().column("k").to_pylist() == list(range(n - 1, -1, -1))
    write_parquet(t.filter(t.k < 0), tmp_path / "empty.parquet")
    empty = pq.read_table(tmp_path / "empty.parquet")
    assert empty.num_rows == 0
    assert empty.schema.names == ["k", "s"]
