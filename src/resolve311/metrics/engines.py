"""Where the metric expressions run: DuckDB on the warehouse connection, or Spark.

Both engines receive the same staged relations (``staging.py``); Spark reads
them as Parquet files exported from the warehouse: into a temporary directory for
a local master, into the lake (``lake_url``) for a cluster (``spark://``, ``yarn``,
``k8s://``), whose executors cannot see the driver's disk.
"""

from __future__ import annotations

import itertools
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import duckdb
import ibis

from resolve311.errors import ConfigError
from resolve311.metrics.compute import Inputs
from resolve311.metrics.open_requests import INPUT_VIEW as OPEN_INPUT
from resolve311.metrics.staging import fetch_first

ENGINES: Final[tuple[str, ...]] = ("duckdb", "spark")


def check_engine(name: str) -> str:
    """Validate an engine name (one-line ConfigError otherwise)."""
    if name not in ENGINES:
        raise ConfigError(f"unknown metrics engine {name!r}; use one of: {', '.join(ENGINES)}")
    return name


def sla_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    row = fetch_first(con, "SELECT count(*) FROM metric_sla")
    return bool(row and row[0])


def duckdb_inputs(con: duckdb.DuckDBPyConnection, day_con: duckdb.DuckDBPyConnection | None = None) -> Inputs:
    """Ibis tables over the staged views on the warehouse connection; the affected days' input
    on ``day_con`` when given (a cursor whose own thread recomputes the day tables)."""
    backend = ibis.duckdb.from_connection(con)
    sla = backend.table("metric_sla") if sla_loaded(con) else None
    days = backend if day_con is None or day_con is con else ibis.duckdb.from_connection(day_con)
    return Inputs(
        backend.table("metric_window_input"),
        backend.table(OPEN_INPUT),
        sla,
        days.table("metric_day_input"),
    )


def spark_session(master: str, driver_memory: str = "4g") -> Any:
    """The process's Spark session (created on first use; UTC session time zone).

    ``master`` is a master URL (``local[2]``, ``spark://…``, ``yarn``) or a Spark
    Connect URL (``sc://…``); its settings are :func:`session_settings`.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the spark engine needs pyspark: pip install 'resolve311[spark]'") from exc
    builder: Any = SparkSession.builder
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    builder = builder.appName("resolve311-metrics")
    submit_args = os.environ.get("PYSPARK_SUBMIT_ARGS", "")
    for key, value in session_settings(master, driver_memory, submit_args).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def session_settings(master: str, driver_memory: str, submit_args: str) -> dict[str, str]:
    """The Spark settings resolve311 gives its session: the UTC session time zone, then defaults.

    The metrics need the UTC time zone, so it is always set. The defaults give way to a setting the
    user passes in ``PYSPARK_SUBMIT_ARGS`` (``--conf key=value``, ``--driver-memory``); a session
    builder's setting would otherwise override it. Results come back to the driver through Arrow
    instead of row by row over py4j (a full refresh of a small warehouse on local[2] took 19.6 s
    instead of 27-35 s, 52 Spark jobs instead of 59). Local masters get few shuffle partitions
    (the inputs are small) and ``driver_memory`` (in local mode the driver does all the work:
    Spark's 1 GB default ran out of heap on one year of NYC, see BENCHMARKS.md); clusters keep
    Spark's defaults.
    """
    defaults = {"spark.sql.execution.arrow.pyspark.enabled": "true"}
    if master.startswith("local"):
        defaults |= {
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.memory": driver_memory,
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
        }
    given = submitted_settings(submit_args)
    return {"spark.sql.session.timeZone": "UTC"} | {k: v for k, v in defaults.items() if k not in given}


def submitted_settings(submit_args: str) -> dict[str, str]:
    """The Spark settings in ``PYSPARK_SUBMIT_ARGS``: ``--conf``/``-c key=value`` and ``--driver-memory``.

    Arguments that do not split (an unclosed quote) give none: spark-submit reports them itself.
    """
    try:
        words = shlex.split(submit_args)
    except ValueError:
        return {}
    given: dict[str, str] = {}
    for word, following in itertools.pairwise([*words, ""]):
        if word in ("--conf", "-c"):
            setting = following
        elif word.startswith("--conf="):
            setting = word.removeprefix("--conf=")
        elif word == "--driver-memory":
            setting = f"spark.driver.memory={following}"
        else:
            continue
        key, equals, value = setting.partition("=")
        if equals:
            given[key.strip()] = value
    return given


@contextmanager
def spark_inputs(
    con: duckdb.DuckDBPyConnection,
    master: str,
    workdir: Path,
    driver_memory: str = "4g",
    lake_url: str | None = None,
) -> Iterator[Inputs]:
    """Export the staged views to Parquet and open them on Spark.

    Local masters read them from ``workdir``. A cluster's executors run on other
    machines: the inputs go to ``<lake_url>/_spark_inputs/<id>/`` (any fsspec URL the
    cluster can read too; ``s3://`` is read as ``s3a://``) and are removed afterwards.
    """
    if lake_url is None and _is_cluster(master):
        raise ConfigError(
            f"the spark master {master} runs executors on other machines: set lake_url "
            "(RESOLVE311_LAKE_URL) to a location they can read, e.g. s3://bucket/lake"
        )
    names = ["metric_window_input", OPEN_INPUT, "metric_day_input"]
    names += ["metric_sla"] if sla_loaded(con) else []
    backend = ibis.pyspark.connect(spark_session(master, driver_memory))
    with _input_folder(workdir, lake_url if _is_cluster(master) else None) as (fs, folder, spark_folder):
        tables = {}
        for name in names:
            _export(con, name, fs, f"{folder}/{name}.parquet")
            tables[name] = backend.read_parquet(f"{spark_folder}/{name}.parquet")
        yield Inputs(
            tables["metric_window_input"],
            tables[OPEN_INPUT],
            tables.get("metric_sla"),
            tables["metric_day_input"],
        )


def _is_cluster(master: str) -> bool:
    return not master.startswith(("local", "sc://"))


@contextmanager
def _input_folder(workdir: Path, lake_url: str | None) -> Iterator[tuple[Any, str, str]]:
    """(filesystem, folder for writing, the same folder as Spark reads it); removed at the end."""
    import uuid

    import fsspec

    if lake_url is None:
        yield fsspec.filesystem("file"), str(workdir), str(workdir)
        return
    fs, root = fsspec.core.url_to_fs(lake_url.rstrip("/"))
    folder = f"{root}/_spark_inputs/{uuid.uuid4().hex[:12]}"
    fs.makedirs(folder, exist_ok=True)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    spark_folder = {"file": f"file://{folder}", "local": f"file://{folder}", "s3": f"s3a://{folder}"}.get(
        protocol, f"{protocol}://{folder}"
    )
    try:
        yield fs, folder, spark_folder
    finally:
        fs.rm(folder, recursive=True)


def _export(con: duckdb.DuckDBPyConnection, name: str, fs: Any, path: str) -> None:
    """Stream one staged view into a Parquet file on ``fs`` (bounded memory)."""
    import pyarrow.parquet as pq

    reader = con.sql(f"SELECT * FROM {name}").to_arrow_reader()
    with fs.open(path, "wb") as out, pq.ParquetWriter(out, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
