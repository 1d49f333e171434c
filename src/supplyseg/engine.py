"""The analytics engine: an Ibis backend, in-process DuckDB by default, or Spark, or any Ibis URL.

`connect` takes what ``supplyseg run --backend`` or ``engine:`` in supplyseg.yaml says:

- nothing, ``duckdb`` or ``memory``: a fresh in-memory DuckDB;
- ``spark``: Spark in local mode (``local[2]``) in this process's JVM;
- a Spark master: ``local[N]``/``local[*]``, ``spark://host:7077`` (standalone cluster),
  ``yarn``, ``k8s://https://host``, or ``sc://host:15002`` (Spark Connect, no local JVM);
- any other Ibis URL, e.g. ``duckdb:///work/supply.ddb``;
- an `EngineSettings` (``engine:`` of supplyseg.yaml).

Analytics are generic Ibis expressions, one code path for every backend. What Ibis does not
abstract lives here, the only module that knows backends by name: the Spark session itself,
`temp_table` (Ibis's ``create_table(temp=True)`` is not implemented for PySpark) and `cached`
(Ibis's ``cache()`` fails on Spark Connect).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import uuid
import warnings
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from supplyseg.errors import ConfigError

if TYPE_CHECKING:
    from supplyseg.config.workspace import EngineSettings

__all__ = [
    "DEFAULT_SPARK_MASTER",
    "SPARK_CONFIG",
    "backend_label",
    "cached",
    "check_spark",
    "connect",
    "drop_temp",
    "is_spark_target",
    "record_batches",
    "spark_config",
    "temp_table",
    "write_parquet",
]

DEFAULT_SPARK_MASTER = "local[2]"
# Every Spark session supplyseg starts. Arrow makes Spark -> pandas (every result) and
# Arrow -> Spark (every loaded table) columnar instead of row by row in Python: 10-50x faster.
SPARK_CONFIG: dict[str, str] = {
    "spark.app.name": "supplyseg",
    "spark.ui.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
    # The CLI draws its own progress; Spark's console bars and INFO/WARN lines would garble it.
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
    # Arrow data made into DataFrames on a cluster is a LocalRelation; this rule would compute
    # every query over it on the driver, in the optimizer, row by row.
    "spark.sql.optimizer.excludedRules": (
        "org.apache.spark.sql.catalyst.optimizer.ConvertToLocalRelation"
    ),
}
_SPARK_FIX = (
    "fix: pip install 'supplyseg[spark]' (installs pyspark through ibis-framework[pyspark])"
)
_JAVA_FIX = (
    "fix: install a JDK 17 or later (e.g. apt-get install openjdk-17-jre-headless) and put"
    " `java` on PATH or set JAVA_HOME"
)
_MIN_JAVA = 17  # Spark 4 runs on Java 17 and 21
_MASTER = re.compile(r"^(local(\[(\d+|\*)(,\d+)?\])?|spark://.+|sc://.+|yarn|k8s://.+|mesos://.+)$")
_DUCKDB = ("duckdb", "duckdb://", "memory")
# Every result that needs an order has an ORDER BY, and row numbers come from the files
# (`supplyseg.data.read`), so DuckDB need not keep the rows of a scan in insertion order:
# without that, tables of 100M rows are built in parallel and with less spilling (loading 100M
# order lines on a 4 GB DuckDB file: 290 -> 217 s).
_DUCKDB_CONFIG: dict[str, Any] = {"preserve_insertion_order": False}


def is_spark_target(target: str) -> bool:
    """Whether ``target`` names Spark: ``spark``, ``pyspark`` or a Spark master URL."""
    return target in ("spark", "pyspark") or bool(_MASTER.match(target))


def spark_config(master: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Spark configuration supplyseg uses for ``master``, with ``extra`` on top.

    Local mode gets two shuffle partitions per core (Spark's 200 are for clusters; on a
    laptop they make every group-by schedule 200 tiny tasks), a quarter of the machine's
    memory for the JVM, which is driver and executor at once (Spark's 1 GB default spills
    from about a million order lines), and a throw-away warehouse folder.
    """
    conf = dict(SPARK_CONFIG)
    local = re.match(r"^local(?:\[(\d+|\*)(?:,\d+)?\])?$", master)
    if local:
        cores = local.group(1) or "1"  # plain "local" is one thread
        n = (os.cpu_count() or 2) if cores == "*" else int(cores)
        conf["spark.sql.shuffle.partitions"] = str(2 * max(n, 1))
        conf["spark.driver.memory"] = f"{max(1, min(16, _memory_gb() // 4))}g"
        # supplyseg makes no managed tables; without this Spark leaves spark-warehouse/ in the cwd
        conf["spark.sql.warehouse.dir"] = str(_scratch() / "warehouse")
    conf.update({str(k): str(v) for k, v in (extra or {}).items()})
    return conf


def _memory_gb() -> int:
    """Physical memory in whole GB (4 when the platform cannot tell)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**30
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows) or no such name
        return 4


def _java_version(java: str) -> int | None:
    """The major version ``java -version`` reports (None if it cannot be run or read)."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def check_spark(master: str = DEFAULT_SPARK_MASTER) -> None:
    """ConfigError, naming the fix, unless pyspark is installed and (but for Spark Connect) a
    Java 17+ runtime is found through JAVA_HOME or PATH, as Spark's launcher finds it."""
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError(
            f"engine spark (master {master!r}): pyspark is not installed; {_SPARK_FIX}"
        )
    if master.startswith("sc://"):
        return  # Spark Connect: the JVM runs on the server
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    where = f"JAVA_HOME={home}" if home else "PATH"
    if java is None or not os.path.exists(java):
        raise ConfigError(
            f"engine spark (master {master!r}): no Java runtime on {where}; {_JAVA_FIX}"
        )
    version = _java_version(java)
    if version is None or version < _MIN_JAVA:
        found = "an unreadable version" if version is None else f"Java {version}"
        raise ConfigError(
            f"engine spark (master {master!r}): {java} is {found}; Spark 4 needs Java"
            f" {_MIN_JAVA} or later; {_JAVA_FIX}"
        )


def _session_master(session: Any) -> str:
    try:
        return str(session.sparkContext.master)
    except Exception:  # Spark Connect sessions have no SparkContext
        return "spark connect"


def _spark(master: str | None, config: Mapping[str, str] | None) -> BaseBackend:
    """An Ibis PySpark backend on a Spark session for ``master`` (None: ``local[2]``).

    A session already active in this process (a notebook's, a test's) is reused when it runs
    on ``master`` or no master was asked for; only its ``spark.sql.*`` settings can change
    then (static ones such as driver memory are fixed once its JVM runs).
    """
    wanted = master or DEFAULT_SPARK_MASTER
    check_spark(wanted)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master not in (None, _session_master(active)):
        raise ConfigError(
            f"engine spark (master {master!r}): this process already runs a Spark session on"
            f" {_session_master(active)}; fix: stop it (spark.stop()) or use that master"
        )
    try:
        if active is not None:
            session, runtime = active, {**SPARK_CONFIG, **(config or {})}
        else:
            conf: dict[str, Any] = spark_config(wanted, config)
            if wanted.startswith("sc://"):  # the server owns its static settings
                conf = {k: v for k, v in conf.items() if k.startswith("spark.sql.")}
            builder = SparkSession.builder
            builder = (
                builder.remote(wanted) if wanted.startswith("sc://") else builder.master(wanted)
            )
            session, runtime = builder.config(map=conf).getOrCreate(), {}  # conf set when built
        sql_conf = {k: v for k, v in runtime.items() if k.startswith("spark.sql.")}
        return ibis.pyspark.connect(session, **sql_conf)
    except Exception as exc:  # py4j, gRPC and Spark errors have no common base
        raise ConfigError(
            f"engine spark (master {wanted!r}): cannot start a session ({type(exc).__name__}:"
            f" {exc}); fix: check the master URL and that the cluster is reachable"
        ) from None


def connect(
    target: str | EngineSettings | None = None,
    *,
    spark: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> BaseBackend:
    """Connect to an Ibis backend; ``None`` is a fresh in-memory DuckDB.

    ``target`` is ``duckdb``, ``spark``, a Spark master URL, an Ibis URL or an
    `EngineSettings` (see the module docstring). ``spark`` adds Spark settings (e.g.
    ``{"spark.driver.memory": "4g"}``); ``kwargs`` go to the Ibis backend's connect.
    """
    if target is not None and not isinstance(target, str):
        if target.backend == "spark":
            conf = {**target.spark_config, **(spark or {})}
            return _spark(target.master, conf)
        target = target.url
    if target is None or target in _DUCKDB:
        return ibis.duckdb.connect(**(_DUCKDB_CONFIG | kwargs))
    if is_spark_target(target):
        return _spark(None if target in ("spark", "pyspark") else target, spark)
    if target.startswith("duckdb:") and "preserve_insertion_order" not in target:
        kwargs = _DUCKDB_CONFIG | kwargs
    try:
        return ibis.connect(target, **kwargs)
    except ImportError as exc:
        raise ConfigError(
            f"engine url {target!r}: the backend's driver is not installed ({exc});"
            " fix: install the matching extra, e.g. pip install 'ibis-framework[duckdb]'"
        ) from None
    except Exception as exc:  # backends raise many different types for a bad URL
        raise ConfigError(
            f"engine url {target!r}: cannot connect ({type(exc).__name__}: {exc});"
            " fix: use an Ibis URL such as duckdb:///path/file.ddb, `spark` or a Spark master"
            " URL, or omit it for in-memory DuckDB"
        ) from None


def backend_label(con: BaseBackend) -> str:
    """A short description of the backend for the manifest, e.g. ``pyspark local[2] 4.0.5``."""
    if con.name == "pyspark":
        session = con._session  # Ibis keeps the session private; nothing public names the master
        return f"pyspark {_session_master(session)} {session.version}"
    return f"{con.name} {con.version}"


# The in-memory DuckDB database that holds compressed tables (`temp_table`'s ``compress``).
_STORE = "supplyseg_compressed"


def temp_table(
    con: BaseBackend, name: str, obj: pa.Table | ir.Table, *, compress: bool = False
) -> ir.Table:
    """``obj`` (Arrow data or an Ibis expression) held by the engine as table ``name`` for this
    connection, replacing any table of that name (so ``obj`` must not read that table); an
    expression is computed once, here or on first use.

    ``compress``: in-memory DuckDB keeps temporary tables uncompressed (10M order lines: 1.9
    GB, the largest part of a run's memory); with it the table goes to an in-memory database
    attached with compression and is checkpointed once written: 10M lines then take 0.2 GB and
    are queried as fast, for 4-8 s of (single-threaded) compression. Ibis has no call for
    attach options or checkpoints, so these two are DuckDB statements; other engines and
    DuckDB files ignore ``compress``.

    One backend branch, because Ibis has no portable temporary table: DuckDB (and other SQL
    backends) get ``create_table(temp=True)``; PySpark raises NotImplementedError there, and
    without ``temp`` writes a managed table to disk, so Spark gets a cached DataFrame under a
    temporary view. Arrow data goes to Spark as a Parquet file when Spark runs in local mode
    (see `_spark_frame`).
    """
    if compress and con.name == "duckdb" and con.current_catalog == "memory":
        con.raw_sql(f"ATTACH IF NOT EXISTS ':memory:' AS {_STORE} (COMPRESS)")
        where = f"{_STORE}.main"
        con.drop_table(name, database=where, force=True)
        out: ir.Table = con.create_table(name, obj, database=where)
        con.raw_sql(f"CHECKPOINT {_STORE}")  # compression happens at the checkpoint
        return out
    if con.name != "pyspark":
        # Not ``overwrite=True``: Ibis then writes the rows to a scratch table and copies them
        # over (twice the time and the memory: 9 s more for 10M order lines).
        drop_temp(con, name)
        return con.create_table(name, obj, temp=True)
    if isinstance(obj, pa.Table):
        frame = _spark_frame(con._session, obj)  # Ibis keeps the session private
    else:
        con._run_pre_execute_hooks(obj)  # registers the memtables it uses, as execute does
        # A DataFrame's view keeps its plan (a SQL view would re-read the tables it names).
        frame = con._session.sql(con.compile(obj)).cache()
    frame.createOrReplaceTempView(name)
    return con.table(name)


def cached(expr: ir.Table) -> ir.Table:
    """``expr`` computed once and kept by its engine until the result is garbage-collected.

    Ibis's ``cache()``, except on Spark: Ibis asserts there that the DataFrame reports itself
    cached, which Spark Connect sessions do not reliably do (AssertionError), so Spark gets a
    `temp_table` dropped with the returned table.
    """
    con = expr.get_backend()
    if con.name != "pyspark":
        out: ir.Table = expr.cache()
        return out
    name = f"_cached_{uuid.uuid4().hex}"
    table = temp_table(con, name, expr)
    weakref.finalize(table.op(), _release, con, name).atexit = False
    return table


def record_batches(expr: ir.Table, rows: int) -> Iterator[pa.RecordBatch]:
    """``expr``'s result streamed from the engine in Arrow batches of at most ``rows`` rows."""
    with warnings.catch_warnings():
        # Ibis 12 reads DuckDB results through fetch_record_batch, which DuckDB 1.5 deprecates
        # (for to_arrow_reader); the call works, and the warning is not the user's to act on.
        warnings.filterwarnings("ignore", "fetch_record_batch", DeprecationWarning)
        yield from expr.to_pyarrow_batches(chunk_size=rows)


def write_parquet(expr: ir.Table, path: Path, rows: int = 1_000_000) -> None:
    """Write ``expr``'s result to the Parquet file ``path``, in row groups of ``rows`` rows.

    DuckDB writes it with its own writer, in parallel, and nothing passes through this process
    (6.1M customer x product rows: 13 s through pandas, 8 s so); other engines stream it here
    a batch at a time. A result without rows gives a file with the columns and no rows.
    """
    con = expr.get_backend()
    if con.name == "duckdb":
        con.to_parquet(expr, path, row_group_size=rows)
        return
    writer: pq.ParquetWriter | None = None
    try:
        for batch in record_batches(expr, rows):
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema)
            writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(expr.schema().to_pyarrow().empty_table(), path)


def _release(con: BaseBackend, name: str) -> None:
    with contextlib.suppress(Exception):  # at garbage collection the session may be gone
        drop_temp(con, name)


@functools.cache
def _scratch() -> Path:
    """A folder for this process's Spark input files, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="supplyseg-spark-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _spark_frame(session: Any, data: pa.Table) -> Any:
    """A Spark DataFrame of Arrow data.

    ``createDataFrame`` makes a LocalRelation: rows held by the driver, and Spark's optimizer
    then evaluates every projection over it on the driver, row by row (minutes for a million
    lines; ``spark.sql.optimizer.excludedRules`` in `SPARK_CONFIG` stops that). In local mode
    the driver's disk is the executors' disk, so the data goes through a Parquet file instead:
    read in parallel splits, and not kept in the driver's heap.
    """
    if not _session_master(session).startswith("local"):
        return session.createDataFrame(data)
    path = _scratch() / f"{uuid.uuid4().hex}.parquet"
    # Row groups of 128k rows: Spark splits a file by row groups, so a table of 200k rows
    # gets two tasks, not one.
    pq.write_table(data, path, row_group_size=128 * 1024)
    return session.read.parquet(str(path))


def drop_temp(con: BaseBackend, name: str) -> None:
    """Drop table ``name`` made by `temp_table` (a no-op when absent); frees Spark's cache."""
    if con.name == "pyspark":
        con._session.catalog.dropTempView(name)  # also uncaches it
        return
    con.drop_table(name, force=True)
