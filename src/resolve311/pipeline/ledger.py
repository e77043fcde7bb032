"""The run ledger (``runs``) and the incremental state (``source_state``) in the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from resolve311.logs import redact_optional
from resolve311.warehouse.timestamps import utcnow as utcnow

BACKFILL_DDL = """
CREATE TABLE IF NOT EXISTS backfill_chunks (
    source      VARCHAR NOT NULL,
    dataset     VARCHAR NOT NULL,
    chunk       VARCHAR NOT NULL,     -- 'YYYY-MM-DD..YYYY-MM-DD' by created date, end exclusive
    rows        BIGINT NOT NULL,
    done_at     TIMESTAMP NOT NULL,   -- UTC
    PRIMARY KEY (source, dataset, chunk)
)
"""


@dataclass
class RunCounts:
    """Row counts accumulated over a run."""

    rows_new: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0


def interrupt_stale_runs(con: duckdb.DuckDBPyConnection) -> int:
    """Mark runs still 'running' as 'interrupted' (call while holding the update lock)."""
    rows = con.execute(
        "UPDATE runs SET status = 'interrupted', ended_at = coalesce(ended_at, ?), "
        "error = coalesce(error, 'the process ended before the run finished') "
        "WHERE status = 'running' RETURNING run_id",
        [utcnow()],
    ).fetchall()
    con.execute(
        "UPDATE run_stages SET status = 'interrupted', ended_at = coalesce(ended_at, ?), "
        "error = coalesce(error, 'the process ended before the stage finished') WHERE status = 'running'",
        [utcnow()],
    )
    return len(rows)


def start_stage(con: duckdb.DuckDBPyConnection, run_id: str, stage: str, detail: str | None = None) -> None:
    """Record that ``stage`` of the run started (status 'running')."""
    con.execute(
        "INSERT OR REPLACE INTO run_stages (run_id, stage, status, started_at, detail) "
        "VALUES (?, ?, 'running', ?, ?)",
        [run_id, stage, utcnow(), detail],
    )


def finish_stage(
    con: duckdb.DuckDBPyConnection, run_id: str, stage: str, status: str,
    *, detail: str | None = None, error: str | None = None,
) -> None:  # fmt: skip
    """Record the stage's outcome (the row is created if the stage never started)."""
    now = utcnow()
    con.execute(
        "INSERT INTO run_stages (run_id, stage, status, started_at, ended_at, detail, error) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, stage) DO UPDATE SET status = excluded.status, "
        "ended_at = excluded.ended_at, detail = coalesce(excluded.detail, run_stages.detail), "
        "error = excluded.error",
        [run_id, stage, status, now, now, detail, redact_optional(error)],
    )


def unrefreshed_since(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """Start of the earliest interrupted run since the last run that finished (and refreshed metrics)."""
    row = con.execute(
        "SELECT min(started_at) FROM runs WHERE status = 'interrupted' AND started_at > "
        "coalesce((SELECT max(started_at) FROM runs WHERE status NOT IN ('interrupted', 'running')), "
        "'-infinity'::TIMESTAMP)"
    ).fetchone()
    return row[0] if row else None


def dates_loaded_since(con: duckdb.DuckDBPyConnection, since: datetime) -> set[date]:
    """Local created/closed dates of every version of the requests that got a version since ``since``."""
    rows = con.execute(
        "WITH touched AS (SELECT DISTINCT unique_key FROM request_versions WHERE loaded_at >= ?), "
        "days AS (SELECT created_date::DATE AS d FROM request_versions JOIN touched USING (unique_key) "
        "UNION SELECT closed_date::DATE FROM request_versions JOIN touched USING (unique_key)) "
        "SELECT d FROM days WHERE year(d) BETWEEN 1901 AND 2100",
        [since],
    ).fetchall()
    return {r[0] for r in rows}


def start_run(
    con: duckdb.DuckDBPyConnection, *, run_id: str, source: str, kind: str, started_at: datetime,
    watermark_before: datetime | None,
) -> None:  # fmt: skip
    """Insert the run's ledger row with status 'running'."""
    con.execute(
        "INSERT INTO runs (run_id, source, kind, started_at, status, watermark_before) "
        "VALUES (?, ?, ?, ?, 'running', ?)",
        [run_id, source, kind, started_at, watermark_before],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection, *, run_id: str, status: str, counts: RunCounts,
    watermark_after: datetime | None, full_replace: bool, error: str | None,
) -> None:  # fmt: skip
    """Close the run's ledger row (``status`` 'running' records the counts and keeps it open)."""
    con.execute(
        "UPDATE runs SET ended_at = ?, status = ?, rows_new = ?, rows_changed = ?, rows_unchanged = ?, "
        "rows_quarantined = ?, watermark_after = ?, full_replace = ?, error = ? WHERE run_id = ?",
        [
            None if status == "running" else utcnow(), status, counts.rows_new, counts.rows_changed, counts.rows_unchanged,
            counts.rows_quarantined, watermark_after, full_replace, redact_optional(error), run_id,
        ],
    )  # fmt: skip


def close_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, error: str | None) -> None:
    """Set a run's final status once its stages are done (the error is kept if none is given)."""
    con.execute(
        "UPDATE runs SET status = ?, ended_at = ?, error = coalesce(?, error) WHERE run_id = ?",
        [status, utcnow(), redact_optional(error), run_id],
    )


def watermark(con: duckdb.DuckDBPyConnection, source: str, dataset: str | None = None) -> datetime | None:
    """The dataset's committed watermark, or the highest over the source when ``dataset`` is None."""
    if dataset is None:
        row = con.execute("SELECT max(watermark) FROM source_state WHERE source = ?", [source]).fetchone()
    else:
        row = con.execute(
            "SELECT watermark FROM source_state WHERE source = ? AND dataset = ?", [source, dataset]
        ).fetchone()
    return row[0] if row else None


def last_success(con: duckdb.DuckDBPyConnection, source: str, dataset: str) -> datetime | None:
    """When an update of this dataset last completed (None: never, e.g. the first pull is unfinished)."""
    row = con.execute(
        "SELECT last_success_at FROM source_state WHERE source = ? AND dataset = ?", [source, dataset]
    ).fetchone()
    return row[0] if row else None


def advance_watermark(con: duckdb.DuckDBPyConnection, source: str, dataset: str, to: datetime) -> None:
    """Move the watermark forward to ``to`` (never backward)."""
    con.execute(
        "INSERT INTO source_state (source, dataset, watermark) VALUES (?, ?, ?) "
        "ON CONFLICT (source, dataset) DO UPDATE SET watermark = "
        "greatest(coalesce(source_state.watermark, excluded.watermark), excluded.watermark)",
        [source, dataset, to],
    )


def mark_reachable(con: duckdb.DuckDBPyConnection, source: str, datasets: list[str], success: bool) -> None:
    """Record that the source answered (and, when ``success``, that the run completed)."""
    now = utcnow()
    for dataset in datasets:
        con.execute(
            "INSERT INTO source_state (source, dataset, last_success_at, unavailable_since) "
            "VALUES (?, ?, ?, NULL) ON CONFLICT (source, dataset) DO UPDATE SET "
            "last_success_at = coalesce(excluded.last_success_at, source_state.last_success_at), "
            "unavailable_since = NULL",
            [source, dataset, now if success else None],
        )


def mark_unavailable(con: duckdb.DuckDBPyConnection, source: str, datasets: list[str]) -> None:
    """Record that the source is unavailable (keeping the first moment of the outage)."""
    now = utcnow()
    for dataset in datasets:
        con.execute(
            "INSERT INTO source_state (source, dataset, unavailable_since) VALUES (?, ?, ?) "
            "ON CONFLICT (source, dataset) DO UPDATE SET "
            "unavailable_since = coalesce(source_state.unavailable_since, excluded.unavailable_since)",
            [source, dataset, now],
        )


def done_chunks(con: duckdb.DuckDBPyConnection, source: str, dataset: str) -> set[str]:
    """Backfill chunks of this dataset already completed."""
    con.execute(BACKFILL_DDL)
    rows = con.execute(
        "SELECT chunk FROM backfill_chunks WHERE source = ? AND dataset = ?", [source, dataset]
    ).fetchall()
    return {r[0] for r in rows}


def mark_chunk_done(con: duckdb.DuckDBPyConnection, source: str, dataset: str, chunk: str, rows: int) -> None:
    """Record a completed backfill chunk."""
    con.execute(BACKFILL_DDL)
    con.execute(
        "INSERT INTO backfill_chunks VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [source, dataset, chunk, rows, utcnow()],
    )
