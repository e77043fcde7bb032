"""The bulk import's direct load: a file of keys the warehouse has never seen goes straight into ``requests``.

A first import (and a portal export of another dataset or period) has no repeated
keys and no key already stored. For such a file the staged rows need no comparison,
so the normalised rows are inserted into ``requests`` straight from DuckDB's
streaming reader, without a staged copy of the file (at 26.7M rows that copy spilled
~19 GB of uncompressed temporary blocks, read back by every later statement).
The loader's rules are then checked exactly on what was written (the new rows are
the ones with this ``batch_seq``): a repeated key in the file or a key already stored
undoes the insert (:func:`undo_direct`) and the caller loads the file by the staged
path (newest-wins among a key's copies, comparison with the stored rows). Quarantined
rows come from a second, filtering read of the file (only they are kept), needed only when the
reader produced more rows than were inserted: the insert's own profile says how many it read.

Every function runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any, Final

import duckdb

from resolve311.warehouse.columns import BATCH_COLUMNS, REQUEST_COLUMNS
from resolve311.warehouse.loader import LoadResult, dates_of, insert_staged_quarantine, record_touched_days

#: Rows of the file's start compared with the stored keys before a direct load is tried (a cheap
#: guard against re-importing an export that is already loaded; the exact check follows the insert).
PROBE_ROWS: Final = 50_000


def direct_load_possible(con: duckdb.DuckDBPyConnection, relation: str, batch_seq: int) -> bool:
    """False when the first :data:`PROBE_ROWS` keys of ``relation`` (a file's text rows) are already
    stored, or when rows of ``batch_seq`` exist (a replayed batch): the staged path is then taken."""
    row = con.execute(
        f"""
        WITH probe AS (SELECT unique_key FROM {relation} LIMIT {PROBE_ROWS})
        SELECT NOT EXISTS (SELECT 1 FROM requests WHERE batch_seq = $seq)
           AND NOT EXISTS (SELECT 1 FROM request_history WHERE batch_seq = $seq)
           AND NOT EXISTS (SELECT 1 FROM probe p JOIN requests r ON r.unique_key = p.unique_key)
           AND NOT EXISTS (SELECT 1 FROM probe p JOIN request_history h ON h.unique_key = p.unique_key)
        """,
        {"seq": batch_seq},
    ).fetchall()
    return bool(row and row[0][0])


def insert_direct(
    con: duckdb.DuckDBPyConnection,
    staged_sql: str,
    params: Mapping[str, object],
    *,
    batch_seq: int,
    loaded_at: datetime,
) -> int:
    """Insert the loadable rows of the staged query into ``requests``; how many."""
    columns = ", ".join(REQUEST_COLUMNS)
    rows = con.execute(
        f"INSERT INTO requests ({columns}) SELECT {', '.join(BATCH_COLUMNS)}, $seq::BIGINT, "
        f"$loaded_at::TIMESTAMP FROM ({staged_sql}) WHERE __reason IS NULL",
        {**params, "seq": batch_seq, "loaded_at": loaded_at},
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def direct_rows_are_new(con: duckdb.DuckDBPyConnection, batch_seq: int, *, was_empty: bool) -> bool:
    """True when the rows just inserted as ``batch_seq`` have distinct keys none of which was stored."""
    batch = f"(SELECT unique_key FROM requests WHERE batch_seq = {int(batch_seq)})"
    row = con.execute(f"SELECT count(*) = count(DISTINCT unique_key) FROM {batch}").fetchall()
    if not (row and row[0][0]):
        return False
    if was_empty:
        return True
    row = con.execute(
        f"""
        SELECT NOT EXISTS (SELECT 1 FROM {batch} b JOIN requests r ON r.unique_key = b.unique_key
                           WHERE r.batch_seq <> {int(batch_seq)})
           AND NOT EXISTS (SELECT 1 FROM {batch} b JOIN request_history h ON h.unique_key = b.unique_key)
        """
    ).fetchall()
    return bool(row and row[0][0])


def undo_direct(con: duckdb.DuckDBPyConnection, batch_seq: int) -> None:
    """Remove the rows :func:`insert_direct` wrote (no other row has this ``batch_seq``)."""
    con.execute("DELETE FROM requests WHERE batch_seq = $seq", {"seq": batch_seq})


def finish_direct(
    con: duckdb.DuckDBPyConnection,
    quarantined: str,
    *,
    inserted: int,
    batch_seq: int,
    source: str,
    loaded_at: datetime,
) -> LoadResult:
    """Touched days, quarantine (the staged table ``quarantined`` holds only quarantined rows), result."""
    rows = f"(SELECT source, created_date, closed_date FROM requests WHERE batch_seq = {int(batch_seq)})"
    record_touched_days(con, rows, batch_seq)
    affected: frozenset[date] = dates_of(con, rows)
    insert_staged_quarantine(con, quarantined, batch_seq=batch_seq, source=source, at=loaded_at)
    found = con.execute(
        f"""
        SELECT (SELECT count(*) FROM {quarantined}),
               greatest((SELECT max(source_updated_at) FROM requests WHERE batch_seq = {int(batch_seq)}),
                        (SELECT max(source_updated_at) FROM {quarantined}))
        """
    ).fetchall()
    quarantined_rows, max_updated = int(found[0][0]), found[0][1]
    return LoadResult(
        rows_new=inserted,
        rows_changed=0,
        rows_unchanged=0,
        rows_quarantined=quarantined_rows,
        affected_dates=affected,
        max_source_updated_at=max_updated,
    )


@contextmanager
def csv_rows_profiled(con: duckdb.DuckDBPyConnection) -> Iterator[Callable[[], int | None]]:
    """Profile the statement run inside; yields a function giving the rows DuckDB's CSV reader
    produced in it (rejected rows are not produced), or None when the profile does not say.

    Call the function inside the block, right after the statement: the profile is the last one's.
    """
    con.execute("PRAGMA enable_profiling = 'no_output'")
    try:
        yield lambda: _csv_rows_read(con)
    finally:
        with suppress(duckdb.Error):
            con.execute("PRAGMA disable_profiling")


def _csv_rows_read(con: duckdb.DuckDBPyConnection) -> int | None:
    try:
        profile = json.loads(con.get_profiling_information(format="json"))
    except (duckdb.Error, ValueError, TypeError):
        return None
    if not isinstance(profile, dict):
        return None
    rows = [
        n.get("intermediate_rows")
        for n in _operators(profile.get("operator", []))
        if n.get("name") == "READ_CSV"
    ]
    return rows[0] if len(rows) == 1 and isinstance(rows[0], int) else None


def _operators(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        yield node
        yield from _operators(node.get("children", []))
