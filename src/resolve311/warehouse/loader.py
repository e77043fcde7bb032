"""Load a normalised batch into the warehouse: upsert ``requests``, add versions, quarantine.

Set-based SQL inside the caller's transaction (never BEGIN/COMMIT here), so the
pipeline commits a load together with its landing checkpoint and watermark.

Newest wins: a row replaces the stored one only when its
``(source_updated_at NULLS FIRST, batch_seq)`` is greater and its ``row_hash``
differs; an older version never overwrites a newer one (it is still kept, in
``request_history``). Each row is stored once: ``requests`` holds the current
version of each key, ``request_history`` the others (a replaced current row
moves there), and ``request_versions`` is a view over both (migration 009).
Replaying a batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import duckdb
import pyarrow as pa

from resolve311.warehouse.columns import BATCH_COLUMNS, REQUEST_COLUMNS
from resolve311.warehouse.normalize import NormalizedBatch

_BATCH_VIEW: Final = "_r311_batch"
_INCOMING: Final = "_r311_incoming"
_QUARANTINE_VIEW: Final = "_r311_quarantine"
_OLDER_COPIES: Final = "_r311_older_copies"
#: Dates outside these years (sentinels such as 1900 or 3027) never mark metrics as affected.
AFFECTED_YEARS: Final[tuple[int, int]] = (1901, 2100)


@dataclass(frozen=True)
class LoadResult:
    """What one :func:`load_batch` did."""

    rows_new: int
    rows_changed: int
    rows_unchanged: int  # identical re-deliveries and older versions (rows_stale)
    rows_quarantined: int
    affected_dates: frozenset[date]  # local created/closed dates (old and new) of new, changed, stale rows
    max_source_updated_at: datetime | None
    # older than the stored version: kept in request_history only (request_versions shows it)
    rows_stale: int = 0
    rows_duplicate: int = 0  # older copies of a key within the batch, dropped


def load_batch(con: duckdb.DuckDBPyConnection, batch: NormalizedBatch, *, batch_seq: int) -> LoadResult:
    """Apply ``batch`` as landing batch ``batch_seq`` inside the caller's transaction."""
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    with without_progress_bar(con):
        con.register(_BATCH_VIEW, batch.rows)
        try:
            counts, affected = _load_rows(con, _BATCH_VIEW, batch_seq, loaded_at)
        finally:
            _best_effort(lambda: con.unregister(_BATCH_VIEW))
        _insert_quarantine(con, batch, batch_seq, loaded_at)
    return LoadResult(
        rows_new=counts.get("new", 0),
        rows_changed=counts.get("changed", 0),
        rows_unchanged=counts.get("unchanged", 0) + counts.get("stale", 0),
        rows_quarantined=len(batch.quarantined),
        affected_dates=affected,
        max_source_updated_at=batch.max_source_updated_at,
        rows_stale=counts.get("stale", 0),
        rows_duplicate=batch.duplicates,
    )


def load_staged(con: duckdb.DuckDBPyConnection, staged: str, *, batch_seq: int, source: str) -> LoadResult:
    """Load a staged table (see :mod:`normalize_sql`: rows with ``__row``, ``__reason``, ``__detail``,
    ``__raw_row``) as batch ``batch_seq``, all in SQL, inside the caller's transaction.

    The same rules as :func:`load_batch`: the newest row per key, then newest-wins upsert.
    """
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    # The older copies of a key, found over three narrow columns (a window over every column of
    # millions of rows would copy them all); usually there are none.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_OLDER_COPIES} AS SELECT __row FROM "
        f"(SELECT unique_key, source_updated_at, __row FROM {staged} WHERE __reason IS NULL) "
        "QUALIFY row_number() OVER (PARTITION BY unique_key "
        "ORDER BY source_updated_at DESC NULLS LAST, __row DESC) > 1"
    )
    older = con.execute(f"SELECT count(*) FROM {_OLDER_COPIES}").fetchone()
    newest = f"(SELECT {', '.join(BATCH_COLUMNS)} FROM {staged} s WHERE __reason IS NULL" + (
        f" AND NOT EXISTS (SELECT 1 FROM {_OLDER_COPIES} o WHERE o.__row = s.__row))"
        if older and older[0]
        else ")"
    )
    row = con.execute(
        f"SELECT count(*) FILTER (__reason IS NULL), count(*) FILTER (__reason IS NOT NULL), "
        f"max(source_updated_at) FROM {staged}"
    ).fetchone()
    assert row is not None
    valid, quarantined, max_updated = int(row[0]), int(row[1]), row[2]
    try:
        counts, affected = _load_rows(con, newest, batch_seq, loaded_at)
    finally:
        _best_effort(lambda: con.execute(f"DROP TABLE IF EXISTS {_OLDER_COPIES}"))
    insert_staged_quarantine(con, staged, batch_seq=batch_seq, source=source, at=loaded_at)
    return LoadResult(
        rows_new=counts.get("new", 0),
        rows_changed=counts.get("changed", 0),
        rows_unchanged=counts.get("unchanged", 0) + counts.get("stale", 0),
        rows_quarantined=quarantined,
        affected_dates=affected,
        max_source_updated_at=max_updated,
        rows_stale=counts.get("stale", 0),
        rows_duplicate=valid - sum(counts.values()),
    )


def insert_staged_quarantine(
    con: duckdb.DuckDBPyConnection, staged: str, *, batch_seq: int, source: str, at: datetime
) -> None:
    """The quarantined rows of a staged table (``__reason`` not NULL) into ``quarantine``, once each."""
    con.execute(
        f"""
        INSERT INTO quarantine (batch_seq, row_number, source, unique_key, reason, detail, raw, quarantined_at)
        SELECT $seq, q.__row, $source, q.unique_key, q.__reason, q.__detail, q.__raw_row, $at
        FROM {staged} q
        WHERE q.__reason IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM quarantine x WHERE x.batch_seq = $seq AND x.row_number = q.__row
        )
        """,
        {"seq": batch_seq, "source": source, "at": at},
    )


def _load_rows(
    con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int, loaded_at: datetime
) -> tuple[dict[str, int], frozenset[date]]:
    """Stage ``relation`` (one row per key), apply it, add its versions; (counts by change, dates)."""
    if warehouse_empty(con):
        return _load_first(con, relation, batch_seq, loaded_at)
    if _all_new(con, relation):
        return _load_new(con, relation, batch_seq, loaded_at)
    try:
        _stage(con, relation, batch_seq, loaded_at)
        counts = _counts(con)
        affected = _affected_dates(con)
        record_touched_days(con, _INCOMING, batch_seq)
        _apply_changes(con)
        _insert_versions(con)
    finally:
        _best_effort(lambda: con.execute(f"DROP TABLE IF EXISTS {_INCOMING}"))
    return counts, affected


def warehouse_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True when no request version is stored at all (a first load)."""
    row = con.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM requests) AND NOT EXISTS (SELECT 1 FROM request_history)"
    ).fetchone()
    return bool(row and row[0])


def _load_first(
    con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int, loaded_at: datetime
) -> tuple[dict[str, int], frozenset[date]]:
    """The first load into an empty warehouse: every row is new; no staging copy, no comparison.

    The same result as the general path (every row ``new``: written once, into ``requests``),
    without the join against the stored rows and without a temporary copy of the batch.
    """
    columns = ", ".join(REQUEST_COLUMNS)
    con.execute(
        f"INSERT INTO requests ({columns}) SELECT {', '.join(BATCH_COLUMNS)}, $seq, $loaded_at FROM {relation}",
        {"seq": batch_seq, "loaded_at": loaded_at},
    )
    row = con.execute("SELECT count(*) FROM requests").fetchone()
    new = int(row[0]) if row else 0
    record_touched_days(con, "requests", batch_seq)
    return ({"new": new} if new else {}), dates_of(con, "requests")


def _all_new(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    """True when no key of ``relation`` is stored yet (a first load, most pages of a backfill)."""
    row = con.execute(
        f"""
        SELECT NOT EXISTS (SELECT 1 FROM {relation} b JOIN requests r ON r.unique_key = b.unique_key)
           AND NOT EXISTS (SELECT 1 FROM {relation} b JOIN request_history h ON h.unique_key = b.unique_key)
        """
    ).fetchall()
    return bool(row and row[0][0])


def _load_new(
    con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int, loaded_at: datetime
) -> tuple[dict[str, int], frozenset[date]]:
    """A batch of keys a non-empty warehouse has never seen (most pages of a backfill): every row is new.

    As :func:`_load_first`, the same result as the general path without its staging copy and
    comparison; the rows come from the batch itself (``requests`` holds older rows too).
    """
    columns = ", ".join(REQUEST_COLUMNS)
    params = {"seq": batch_seq, "loaded_at": loaded_at}
    batch = f"SELECT {', '.join(BATCH_COLUMNS)}, $seq::BIGINT, $loaded_at::TIMESTAMP FROM {relation}"
    con.execute(f"INSERT INTO requests ({columns}) {batch}", params)
    count = con.execute(f"SELECT count(*) FROM {relation}").fetchall()
    new = int(count[0][0]) if count else 0
    record_touched_days(con, relation, batch_seq)
    return ({"new": new} if new else {}), dates_of(con, relation)


def dates_of(con: duckdb.DuckDBPyConnection, relation: str) -> frozenset[date]:
    """The created and closed dates of every row of ``relation`` within ``AFFECTED_YEARS``."""
    low, high = AFFECTED_YEARS
    dates = con.execute(
        f"""
        SELECT DISTINCT d FROM (SELECT unnest([created_date, closed_date])::DATE AS d FROM {relation})
        WHERE d IS NOT NULL AND year(d) BETWEEN {low} AND {high}
        """
    ).fetchall()
    return frozenset(_as_date(d) for (d,) in dates)


@contextmanager
def without_progress_bar(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep DuckDB's progress bar (printed on stdout for long queries) off, then restore the setting."""
    row = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    before = bool(row[0]) if row else False
    con.execute("SET enable_progress_bar = false")
    try:
        yield
    finally:
        if before:
            _best_effort(lambda: con.execute("SET enable_progress_bar = true"))


def _best_effort(cleanup: Callable[[], object]) -> None:
    """Clean-up that must not hide the original error (an aborted transaction refuses statements)."""
    with suppress(duckdb.Error):
        cleanup()


def _stage(con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int, loaded_at: datetime) -> None:
    """Copy the batch with its load columns and how it compares with the stored row."""
    new_ts = "coalesce(b.source_updated_at, '-infinity'::TIMESTAMP)"
    old_ts = "coalesce(r.source_updated_at, '-infinity'::TIMESTAMP)"
    newer = f"({new_ts} > {old_ts} OR ({new_ts} = {old_ts} AND $seq > r.batch_seq))"
    batch_cols = ", ".join(f"b.{c}" for c in BATCH_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_INCOMING} AS
        SELECT {batch_cols}, $seq::BIGINT AS batch_seq, $loaded_at::TIMESTAMP AS loaded_at,
            CASE WHEN r.unique_key IS NULL THEN 'new'
                 WHEN b.row_hash = r.row_hash THEN 'unchanged'
                 WHEN {newer} THEN 'changed'
                 ELSE 'stale' END AS change,
            r.created_date AS old_created_date, r.closed_date AS old_closed_date
        FROM {relation} b LEFT JOIN requests r ON r.unique_key = b.unique_key
        """,
        {"seq": batch_seq, "loaded_at": loaded_at},
    )


def _counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    rows = con.execute(f"SELECT change, count(*) FROM {_INCOMING} GROUP BY change").fetchall()
    return {str(change): int(n) for change, n in rows}


def _affected_dates(con: duckdb.DuckDBPyConnection) -> frozenset[date]:
    low, high = AFFECTED_YEARS
    rows = con.execute(
        f"""
        SELECT DISTINCT d FROM (
            SELECT unnest([created_date, closed_date, old_created_date, old_closed_date])::DATE AS d
            FROM {_INCOMING} WHERE change IN ('new', 'changed', 'stale')
        ) WHERE d IS NOT NULL AND year(d) BETWEEN {low} AND {high}
        """
    ).fetchall()
    return frozenset(_as_date(d) for (d,) in rows)


def record_touched_days(con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int) -> None:
    """Append the days whose current rows this load changes to ``load_touched_days``.

    ``relation`` has the new rows' ``source``, ``created_date`` and ``closed_date`` and, when it
    has them, ``change`` and the stored row's ``old_created_date`` / ``old_closed_date``
    (``_INCOMING``); a batch of only new keys passes itself (a first load: ``requests``). Unlike the affected dates no year is left
    out: the metrics count every stored day. One row with day NULL marks the batch as recorded,
    so the next metrics refresh reads these days instead of probing every stored version.
    """
    staged = relation == _INCOMING
    old = ", old_created_date, old_closed_date" if staged else ""
    changed = "WHERE change IN ('new', 'changed', 'stale')" if staged else ""
    con.execute(
        f"""
        INSERT INTO load_touched_days (source, batch_seq, day)
        SELECT DISTINCT source, $seq, d FROM (
            SELECT source, unnest([created_date, closed_date{old}])::DATE AS d FROM {relation} {changed}
        ) WHERE d IS NOT NULL
        UNION SELECT DISTINCT source, $seq, NULL FROM {relation}
        """,
        {"seq": batch_seq},
    )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _apply_changes(con: duckdb.DuckDBPyConnection) -> None:
    """Replace changed keys (only ever by a newer version) and insert new ones.

    DELETE + INSERT: several times faster in DuckDB than UPDATE or MERGE on a
    wide table with a list column, and valid for the same key within one transaction.
    The replaced current row becomes history first; a version made current again (it was
    history) leaves the history, so ``request_versions`` shows every version once.
    """
    columns = ", ".join(REQUEST_COLUMNS)
    changed = f"(SELECT unique_key FROM {_INCOMING} WHERE change = 'changed')"
    con.execute(
        f"INSERT INTO request_history ({columns}) SELECT {columns} FROM requests WHERE unique_key IN {changed}"
    )
    con.execute(
        f"DELETE FROM request_history h USING {_INCOMING} i WHERE i.change = 'changed' "
        "AND h.unique_key = i.unique_key AND h.row_hash = i.row_hash"
    )
    con.execute(f"DELETE FROM requests WHERE unique_key IN {changed}")
    con.execute(
        f"INSERT INTO requests ({columns}) SELECT {columns} FROM {_INCOMING} WHERE change IN ('new', 'changed')"
    )


def _insert_versions(con: duckdb.DuckDBPyConnection) -> None:
    """Stale rows (older than the current one, another hash) into the history, once each.

    New and changed rows are current: ``requests`` holds them, and ``request_versions`` (a view
    over both tables) shows them.
    """
    columns = ", ".join(REQUEST_COLUMNS)
    con.execute(
        f"""
        INSERT INTO request_history ({columns})
        SELECT {columns} FROM {_INCOMING} AS i
        WHERE i.change = 'stale' AND NOT EXISTS (
            SELECT 1 FROM request_history h WHERE h.unique_key = i.unique_key AND h.row_hash = i.row_hash
        )
        """
    )


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection, batch: NormalizedBatch, batch_seq: int, at: datetime
) -> None:
    if not batch.quarantined:
        return
    table = pa.table(
        {
            "row_number": [q.row_number for q in batch.quarantined],
            "unique_key": pa.array([q.unique_key for q in batch.quarantined], pa.string()),
            "reason": [q.reason for q in batch.quarantined],
            "detail": [q.detail for q in batch.quarantined],
            "raw": [q.raw for q in batch.quarantined],
        }
    )
    con.register(_QUARANTINE_VIEW, table)
    try:
        con.execute(
            f"""
            INSERT INTO quarantine (batch_seq, row_number, source, unique_key, reason, detail, raw, quarantined_at)
            SELECT $seq, q.row_number, $source, q.unique_key, q.reason, q.detail, q.raw, $at
            FROM {_QUARANTINE_VIEW} q
            WHERE NOT EXISTS (
                SELECT 1 FROM quarantine x WHERE x.batch_seq = $seq AND x.row_number = q.row_number
            )
            """,
            {"seq": batch_seq, "source": batch.source, "at": at},
        )
    finally:
        _best_effort(lambda: con.unregister(_QUARANTINE_VIEW))
