"""``resolve311 status`` from the serving snapshot, for when a writer holds the warehouse.

DuckDB admits no reader while another process writes the file, so during an update
``status`` reports the last published state: the snapshot is replaced atomically and
always holds a committed view (the ``status``, ``runs`` and ``quarantine_summary``
tables the last run published).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb


def _iso(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [{n: _iso(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


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
