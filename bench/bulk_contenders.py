"""Contenders of the bulk-import benchmark, each run in its own process (see bench.isolate).

Every contender reads the same 41-column portal export (display names, US dates)
and stores it; rows/s = rows in the file / wall seconds of the call.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

US_FORMAT = "%m/%d/%Y %I:%M:%S %p"
DATE_COLUMNS = ("Created Date", "Closed Date")


def resolve311_import(home: str, file: str, bulk: bool = True) -> dict[str, Any]:
    """``resolve311 import FILE`` (landing copy + read_csv + SQL normalisation + upsert), metrics off.

    ``bulk=False``: the batch path (50,000-row parts, pyarrow, per-part normalisation), the reference.
    """
    from resolve311.pipeline import run_import
    from resolve311.settings import load_settings

    shutil.rmtree(home, ignore_errors=True)  # always into an empty home
    started, cpu = time.perf_counter(), time.process_time()
    report = run_import(load_settings(home=home), [Path(file)], refresh=False, bulk=bulk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    [entry] = report.files
    return {
        "status": report.status,
        "error": report.error,
        "rows_in": entry["rows"],
        "rows_stored": entry["loaded"],
        "quarantined": entry["quarantined"],
        "load_s": seconds,
        "cpu_s": cpu,
    }


def duckdb_bare(database: str, file: str) -> dict[str, Any]:
    """DuckDB's own ``CREATE TABLE AS SELECT * FROM read_csv(…)`` into a database file: the ceiling."""
    import duckdb

    for leftover in (Path(database), Path(database + ".wal")):
        leftover.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    con = duckdb.connect(database)
    con.execute("SET enable_progress_bar = false")
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [file])
    row = con.execute("SELECT count(*) FROM t").fetchone()
    con.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    rows = int(row[0]) if row else 0
    return {"status": "success", "rows_in": rows, "rows_stored": rows, "load_s": seconds, "cpu_s": cpu}


def pandas_chunked(store: str, file: str, chunk_rows: int = 250_000) -> dict[str, Any]:
    """``pd.read_csv(chunksize=…)``, dates parsed, each chunk appended to one Parquet file."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()
    writer: pq.ParquetWriter | None = None
    rows = 0
    for chunk in pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""], chunksize=chunk_rows):
        for name in DATE_COLUMNS:
            chunk[name] = pd.to_datetime(chunk[name], format=US_FORMAT, errors="coerce")
        table = pa.Table.from_pandas(chunk, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(store, table.schema)
        writer.write_table(table.cast(writer.schema))
        rows += len(chunk)
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - started
    return {"status": "success", "rows_in": rows, "rows_stored": rows, "load_s": seconds}


def spark_local(store: str, file: str) -> dict[str, Any]:
    """Spark ``local[2]``: ``spark.read.csv`` (multi-line cells), dates parsed, written as Parquet."""
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[2]").appName("bulk-import-bench")
        .config("spark.ui.enabled", "false").config("spark.sql.legacy.timeParserPolicy", "LEGACY")
        .getOrCreate()
    )  # fmt: skip
    try:
        started = time.perf_counter()
        frame = spark.read.csv(file, header=True, multiLine=True, escape='"')
        frame = frame.toDF(*[re.sub(r"[^0-9A-Za-z]+", "_", c) for c in frame.columns])  # Parquet-safe
        for name in DATE_COLUMNS:
            safe = re.sub(r"[^0-9A-Za-z]+", "_", name)
            frame = frame.withColumn(safe, F.to_timestamp(F.col(safe), "MM/dd/yyyy hh:mm:ss a"))
        frame.write.mode("overwrite").parquet(store)
        rows = spark.read.parquet(store).count()
        seconds = time.perf_counter() - started
    finally:
        spark.stop()
    return {"status": "success", "rows_in": rows, "rows_stored": rows, "load_s": seconds}
