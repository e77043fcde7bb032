"""The read-only commands: ``status`` and ``export`` (the ``pipeline`` package re-exports them).

DuckDB admits no reader while another process writes the warehouse, so during an
update ``status`` reports the last *published* state from the serving snapshot (it is
replaced atomically and always holds a committed view: the ``status``, ``runs`` and
``quarantine_summary`` tables the last run published), and ``export`` waits for the
writer to finish, then reads the committed state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from resolve311.errors import ConfigError, LockBusy, first_line
from resolve311.settings import Settings
from resolve311.warehouse.connection import connect
from resolve311.warehouse.lock import is_held, read_holder

log = logging.getLogger(__name__)

EXPORT_POLL_S = 0.5
ExportTable = Literal["requests", "request_versions", "quarantine"]
ExportFormat = Literal["csv", "parquet"]


def status(settings: Settings, *, runs: int = 5) -> dict[str, Any]:
    """Data as of, watermarks, the last runs, row and quarantine counts (read-only).

    While a writer holds the warehouse, the answer comes from the serving snapshot: the
    last published (committed) status, with ``busy`` saying who holds the warehouse.
    """
    summary: dict[str, Any] = {"source": settings.source, "warehouse": str(settings.warehouse_path)}
    if not settings.warehouse_path.exists():
        return {**summary, "empty": True, "datasets": [], "runs": [], "counts": {}}
    try:
        return _warehouse_status(settings, summary, runs)
    except LockBusy as busy:
        published = status_from_snapshot(settings.snapshot_path, runs)
        if published is None:
            raise
        return {**summary, **published, "busy": f"{busy}; showing the last published status"}


def _warehouse_status(settings: Settings, summary: dict[str, Any], runs: int) -> dict[str, Any]:
    with _read_only(settings) as con:
        newest = con.execute(  # a created date beyond tomorrow (flagged created_in_future) is never "newest"
            "SELECT max(created_date) FILTER (NOT list_contains(dirty_flags, 'created_in_future') "
            "AND created_utc <= (now() AT TIME ZONE 'UTC') + INTERVAL 1 DAY), "
            "max(source_updated_at) FROM requests"
        ).fetchone()
        summary["empty"] = False
        summary["data_as_of"] = _iso(newest[0]) if newest else None
        summary["newest_change_utc"] = _iso(newest[1]) if newest else None
        summary["datasets"] = _records(
            con, "SELECT dataset, watermark, last_success_at, unavailable_since FROM source_state "
            "WHERE source = ? ORDER BY dataset", [settings.source],
        )  # fmt: skip
        summary["runs"] = _records(
            con, "SELECT run_id, kind, status, started_at, ended_at, rows_new, rows_changed, rows_unchanged, "
            "rows_quarantined, watermark_before, watermark_after, full_replace, error FROM runs "
            "ORDER BY started_at DESC LIMIT ?", [runs],
        )  # fmt: skip
        summary["counts"] = {
            table: _scalar(con, f"SELECT count(*) FROM {table}")
            for table in ("requests", "request_versions", "quarantine")
        }
        summary["landing_checkpoint"] = _scalar(
            con, "SELECT coalesce(max(last_seq), 0) FROM landing_checkpoint"
        )
    return summary


def export(
    settings: Settings, table: ExportTable, fmt: ExportFormat, out: Path, *, wait_s: float = 3600.0
) -> int:
    """Write a warehouse table's last committed contents to ``out``; returns the number of rows.

    DuckDB lets no reader in while a writer holds the file, so during an update the export
    waits (up to ``wait_s`` seconds) for the writer to finish, then reads the committed state.
    """
    from resolve311.warehouse.export import export_table

    if not settings.warehouse_path.exists():
        raise ConfigError(f"no warehouse at {settings.warehouse_path}; run `resolve311 update` first")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with _read_only(settings) as con:
                return export_table(con, table, fmt, out)
        except LockBusy as busy:
            if time.monotonic() >= deadline:
                raise
            log.info("%s; waiting for it to finish", busy)
            time.sleep(EXPORT_POLL_S)


@contextmanager
def _read_only(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        con = connect(settings.warehouse_path, read_only=True)
    except duckdb.IOException as exc:
        holder = read_holder(settings.lock_path) if is_held(settings.lock_path) else "another process"
        raise LockBusy(f"the warehouse is busy ({holder}): {first_line(exc)}") from None
    try:
        yield con
    finally:
        con.close()


def _iso(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return None if value is None else str(value)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [
        {n: _iso(v) if isinstance(v, datetime) else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


# ------------------------------------------------------- from the snapshot
def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [
        {n: _iso(v) if isinstance(v, datetime) else v for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def status_from_snapshot(path: Path, runs: int) -> dict[str, Any] | None:
    """The parts of ``status`` the snapshot holds (None when there is no readable snapshot)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        state = _rows(con, "SELECT * FROM status LIMIT 1", [])
        generated = con.execute("SELECT value FROM meta WHERE key = 'generated_at'").fetchone()
        recent = _rows(
            con,
            "SELECT run_id, kind, status, started_at, ended_at, rows_new, rows_changed, rows_unchanged, "
            "rows_quarantined, watermark_before, watermark_after, full_replace, error FROM runs "
            "ORDER BY started_at DESC LIMIT ?",
            [runs],
        )
    finally:
        con.close()
    top = state[0] if state else {}
    return {
        "empty": not top.get("requests_total"),
        "from": "snapshot",
        "snapshot_generated_at": generated[0] if generated else None,
        "data_as_of": top.get("as_of"),
        "newest_change_utc": top.get("watermark"),
        "datasets": [
            {
                "dataset": "(all)",
                "watermark": top.get("watermark"),
                "last_success_at": top.get("last_success_at"),
                "unavailable_since": top.get("unavailable_since"),
            }
        ],
        "runs": recent,
        "counts": {"requests": top.get("requests_total"), "quarantine": top.get("quarantine_total")},
    }
