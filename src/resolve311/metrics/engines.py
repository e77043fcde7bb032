"""Where the metric expressions run: DuckDB on the warehouse connection, or Spark.

Both engines receive the same staged relations (``staging.py``); Spark reads
them as Parquet files exported from the warehouse into a temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import duckdb
import ibis

from resolve311.errors import ConfigError
from resolve311.metrics.compute import Inputs
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


def duckdb_inputs(con: duckdb.DuckDBPyConnection) -> Inputs:
    """Ibis tables over the staged views on the warehouse connection."""
    backend = ibis.duckdb.from_connection(con)
    sla = backend.table("metric_sla") if sla_loaded(con) else None
    return Inputs(
        backend.table("metric_window_input"),
        backend.table("metric_versions"),
        sla,
        backend.table("metric_day_input"),
    )


def spark_session(master: str, driver_memory: str = "4g") -> Any:
    """The process's Spark session (created on first use; UTC session time zone).

    ``master`` is a master URL (``local[2]``, ``spark://…``, ``yarn``) or a Spark
    Connect URL (``sc://…``). Local masters get few shuffle partitions (the inputs
    are small) and ``driver_memory`` (in local mode the driver does all the work:
    Spark's 1 GB default ran out of heap on one year of NYC, see BENCHMARKS.md);
    clusters keep Spark's defaults.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError("the spark engine needs pyspark: pip install 'resolve311[spark]'") from exc
    builder: Any = SparkSession.builder
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    builder = builder.appName("resolve311-metrics").config("spark.sql.session.timeZone", "UTC")
    if master.startswith("local"):
        builder = (
            builder.config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.memory", driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
        )
    return builder.getOrCreate()


@contextmanager
def spark_inputs(
    con: duckdb.DuckDBPyConnection, master: str, workdir: Path, driver_memory: str = "4g"
) -> Iterator[Inputs]:
    """Export the staged views to Parquet under ``workdir`` and open them on Spark."""
    backend = ibis.pyspark.connect(spark_session(master, driver_memory))
    names = ["metric_window_input", "metric_versions", "metric_day_input"]
    names += ["metric_sla"] if sla_loaded(con) else []
    tables = {}
    for name in names:
        path = workdir / f"{name}.parquet"
        con.execute(f"COPY (SELECT * FROM {name}) TO '{path}' (FORMAT parquet)")
        tables[name] = backend.read_parquet(str(path))
    yield Inputs(
        tables["metric_window_input"],
        tables["metric_versions"],
        tables.get("metric_sla"),
        tables["metric_day_input"],
    )
