"""The ``publishes`` ledger in the warehouse (migration 003): one row per attempt per sink."""

from __future__ import annotations

import duckdb

from resolve311.warehouse.timestamps import utcnow


def start(
    con: duckdb.DuckDBPyConnection, run_id: str | None, sink: str, generation: str, as_of: str | None
) -> None:
    """Record an attempt as 'running' (a crash leaves it so; the next run retries)."""
    con.execute(
        "INSERT INTO publishes (run_id, sink, generation, as_of, status, started_at) "
        "VALUES (?, ?, ?, ?, 'running', ?)",
        [run_id, sink, generation, as_of, utcnow()],
    )


def finish(
    con: duckdb.DuckDBPyConnection, sink: str, generation: str, *, error: str | None, detail: str | None
) -> None:
    """Close the newest 'running' attempt of ``sink`` for ``generation``."""
    con.execute(
        "UPDATE publishes SET status = ?, error = ?, detail = ?, ended_at = ? "
        "WHERE sink = ? AND generation = ? AND status = 'running'",
        ["failed" if error else "success", error, detail, utcnow(), sink, generation],
    )


def published(con: duckdb.DuckDBPyConnection, sink: str, generation: str) -> bool:
    """Whether the newest attempt of ``sink`` for ``generation`` succeeded."""
    row = con.execute(
        "SELECT status FROM publishes WHERE sink = ? AND generation = ? ORDER BY started_at DESC LIMIT 1",
        [sink, generation],
    ).fetchone()
    return bool(row and row[0] == "success")


def interrupt_stale(con: duckdb.DuckDBPyConnection) -> None:
    """Attempts still 'running' belong to a process that died (the caller holds the update lock)."""
    con.execute(
        "UPDATE publishes SET status = 'failed', ended_at = ?, "
        "error = 'the process ended before the publish finished' WHERE status = 'running'",
        [utcnow()],
    )
