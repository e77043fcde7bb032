"""A release: the complete serving snapshot built once from the metrics' results, read by every sink.

:func:`build_release` writes the results, with what they carry over from the current
snapshot, into a temporary DuckDB file beside the serving file (``.serving.duckdb.<pid>.tmp``,
the schema of ``metrics/snapshot_schema.sql``). Every sink reads that same file; the
serving sink links it into place, the lake and PostgreSQL copy its tables. The file is
removed when publishing ends, whatever happens (a full disk included), and a dead
writer's by the next one (:func:`resolve311.metrics.snapshot_temps.remove_stale_temps`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd

from resolve311.metrics.snapshot import METRIC_TABLES, Results, schema_sql
from resolve311.metrics.snapshot_temps import remove_stale_temps, temp_files, temp_path
from resolve311.publish.base import Release
from resolve311.settings import Settings
from resolve311.warehouse.transaction import registered, transaction

log = logging.getLogger(__name__)


def build_release(settings: Settings, results: Results, run_id: str | None = None) -> Release:
    """Write ``results`` (plus what they carry over from the current snapshot) to a new temporary file."""
    target = settings.snapshot_path
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    tmp = temp_path(target)
    discard(tmp)
    previous = target if target.exists() else None
    log.info("building the release of the serving snapshot in %s", tmp)
    try:
        with duckdb.connect(str(tmp)) as out:
            with transaction(out):
                out.execute(schema_sql())
                if previous is not None:
                    _carry_over(out, previous, results)
                for name, frame in results.tables.items():
                    _insert(out, name, frame)
                out.executemany(
                    "INSERT OR REPLACE INTO meta VALUES (?, ?)", [[k, v] for k, v in results.meta.items()]
                )
            out.execute("CHECKPOINT")
    except BaseException:
        discard(tmp)
        raise
    return Release.of_file(settings, tmp, run_id, staged=True)


def discard(tmp: Path) -> None:
    """Remove a temporary snapshot and the files DuckDB keeps beside it."""
    for path in temp_files(tmp):
        path.unlink(missing_ok=True)


def _insert(out: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    with registered(out, frame_in=frame):
        out.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM frame_in')


def _carry_over(out: duckdb.DuckDBPyConnection, previous: Path, results: Results) -> None:
    """Copy from the current snapshot what ``results`` do not replace.

    Always: tables outside the schema (written by other stages, e.g. the digest's
    ``digest_deliveries``); for a status-only publish also the metric tables and meta.
    """
    out.execute("ATTACH ? AS prev (READ_ONLY)", [str(previous)])
    try:
        schema = _tables(out, None)
        for name in sorted(_tables(out, "prev") - set(results.tables)):
            if name not in schema:
                out.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM prev."{name}"')
            elif results.carry_metrics and name in METRIC_TABLES:
                out.execute(f'INSERT INTO main."{name}" BY NAME SELECT * FROM prev."{name}"')
        if results.carry_metrics and "meta" in _tables(out, "prev"):
            out.execute("INSERT OR REPLACE INTO main.meta SELECT * FROM prev.meta")
    finally:
        out.execute("DETACH prev")


def _tables(con: duckdb.DuckDBPyConnection, database: str | None) -> set[str]:
    """The tables of ``database`` (None: the file being written)."""
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'"
        " AND database_name = coalesce(?, current_database())",
        [database],
    ).fetchall()
    return {r[0] for r in rows}
