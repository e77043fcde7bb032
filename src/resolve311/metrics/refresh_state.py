"""The refresh's bookkeeping in the warehouse: the last batch refreshed and the days it touched.

``metric_refresh_state`` holds, per source, the newest landing batch the last refresh took in and
its as-of; the days whose rows changed since (:func:`touched_days`) are what an incremental
refresh recomputes. ``metric_day_counts`` (the per-day counts, :mod:`daily`) is created here
with it. Kept free of pandas and Ibis: the refresh reads it while those are still being imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from resolve311.metrics.staging import fetch_first

DERIVED_DDL = """
CREATE TABLE IF NOT EXISTS metric_day_counts (
    source VARCHAR NOT NULL, agency VARCHAR NOT NULL, complaint_type VARCHAR NOT NULL,
    borough VARCHAR NOT NULL, dnum INTEGER NOT NULL, created BIGINT NOT NULL, closed BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS metric_refresh_state (
    source VARCHAR PRIMARY KEY, last_batch_seq BIGINT, as_of TIMESTAMP, refreshed_at TIMESTAMP
);
"""

#: Batches landed after the last refresh that the loader did not record in ``load_touched_days``.
_UNRECORDED_SQL = """
SELECT count(*) FROM (
    SELECT DISTINCT batch_seq FROM request_versions WHERE source = $source AND batch_seq > $seq
    UNION SELECT DISTINCT batch_seq FROM requests WHERE source = $source AND batch_seq > $seq
) b WHERE NOT EXISTS (
    SELECT 1 FROM load_touched_days l WHERE l.source = $source AND l.batch_seq = b.batch_seq
)
"""

_TOUCHED_DAYS_SQL = """
WITH touched AS (
    SELECT DISTINCT unique_key FROM request_versions WHERE source = $source AND batch_seq > $seq
    UNION SELECT unique_key FROM requests WHERE source = $source AND batch_seq > $seq
), dates AS (
    SELECT created_date AS d, closed_date AS c FROM request_versions JOIN touched USING (unique_key)
    WHERE source = $source
    UNION ALL
    SELECT created_date, closed_date FROM requests JOIN touched USING (unique_key) WHERE source = $source
)
SELECT DISTINCT CAST(x AS DATE) FROM (SELECT d AS x FROM dates UNION ALL SELECT c FROM dates)
WHERE x IS NOT NULL
"""


@dataclass(frozen=True)
class RefreshState:
    last_batch_seq: int | None
    as_of: datetime | None


def ensure_derived_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create this module's derived warehouse tables if missing (idempotent)."""
    con.execute(DERIVED_DDL)


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> RefreshState | None:
    row = fetch_first(
        con, "SELECT last_batch_seq, as_of FROM metric_refresh_state WHERE source = ?", [source]
    )
    return None if row is None else RefreshState(row[0], row[1])


def write_state(con: duckdb.DuckDBPyConnection, source: str, as_of: datetime | None) -> None:
    seq = fetch_first(
        con,
        "SELECT max(batch_seq) FROM (SELECT batch_seq FROM requests WHERE source = $1"
        " UNION ALL SELECT batch_seq FROM request_versions WHERE source = $1)",
        [source],
    )
    con.execute(
        "INSERT OR REPLACE INTO metric_refresh_state VALUES (?, ?, ?, now()::TIMESTAMP)",
        [source, seq[0] if seq else None, as_of],
    )
    con.execute("DELETE FROM load_touched_days WHERE source = ?", [source])  # consumed


def touched_days(con: duckdb.DuckDBPyConnection, source: str, since_seq: int | None) -> set[date]:
    """The days whose current rows changed after batch ``since_seq``.

    The days the loader recorded (``load_touched_days``: old and new created/closed days of each
    changed row) when it recorded every batch landed since; otherwise (rows written by an older
    version, or not by the loader) the created and closed days of every version of the requests
    that changed — a probe of every stored version, so only the fallback.
    """
    params = {"source": source, "seq": -1 if since_seq is None else since_seq}
    unrecorded = fetch_first(con, _UNRECORDED_SQL, params)
    if unrecorded is not None and unrecorded[0] == 0:
        rows = con.execute(
            "SELECT DISTINCT day FROM load_touched_days WHERE source = ? AND day IS NOT NULL", [source]
        )
    else:
        rows = con.execute(_TOUCHED_DAYS_SQL, params)
    return {r[0] for r in rows.fetchall()}
