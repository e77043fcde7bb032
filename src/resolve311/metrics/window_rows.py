"""The windowed metrics' input kept in the warehouse: ``metric_window_rows`` (migration 010).

Every current request of a source (duplicates left out) created or validly closed on or after
``since_dnum``, in the narrow form of ``metric_input`` (:mod:`staging`). Staging these rows from
``requests`` at each refresh read every row group's close time — sentinel close dates (1899,
3023) widen each row group's range over the whole calendar, so the storage could skip none and
the cost grew with the history. Kept here instead, a refresh only applies the requests written
since it last did (``requests.batch_seq``: a changed request is deleted and written again with
its new batch, so the newest batches hold every new and changed one; the storage skips the old
row groups): their old rows go, their current ones come in while inside the reach, and the rows
that fell out of the reach (``since_dnum`` moved on) are dropped. A full refresh, a reach that
moved back or a changed staging definition (another bounding box, area column or duplicate
rule: ``metric_input``'s SQL is kept with the rows) rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import duckdb

from resolve311.metrics.day_delta import Changes
from resolve311.metrics.staging import drop_temp, fetch_first, window_rows_sql
from resolve311.warehouse.normalize_sql import sql_text
from resolve311.warehouse.transaction import registered, transaction

#: The columns the metric definitions read (``metric_input``'s staged columns, in its order).
COLUMNS: Final[tuple[str, ...]] = (
    "agency", "complaint_type", "borough", "created_dnum", "created_hour", "weekday", "created_ms",
    "closed_dnum", "ttc_h", "is_dirty", "is_closed", "lat", "lon",
)  # fmt: skip
_KEYED = ", ".join(("unique_key", *COLUMNS))
#: The relation the metric engines read.
INPUT: Final[str] = "metric_window_input"


@dataclass(frozen=True)
class WindowState:
    since_dnum: int
    batch_seq: int | None
    input_sql: str


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> WindowState | None:
    row = fetch_first(
        con, "SELECT since_dnum, batch_seq, input_sql FROM metric_window_state WHERE source = ?", [source]
    )
    if row is None:
        return None
    return WindowState(int(row[0]), None if row[1] is None else int(row[1]), str(row[2]))


@dataclass(frozen=True)
class Update:
    """What :func:`update` did: rebuilt the rows, or applied the requests written since the last
    time (``changes``: their old and new rows, which ``day_delta.py`` counts; None before a batch)."""

    rebuilt: bool
    changes: Changes | None = None


def update(con: duckdb.DuckDBPyConnection, source: str, since_dnum: int, *, full: bool) -> Update:
    """Bring ``metric_window_rows`` of ``source`` up to date for ``since_dnum``.

    Reads the ``metric_input`` view (:func:`staging.create_input_views` first); one transaction, so
    a failed update leaves the table and its state as they were. Then creates :data:`INPUT` (the
    rows inside the reach, as the engines read them).
    """
    since = int(since_dnum)
    definition = _input_sql(con)
    state = read_state(con, source)
    rebuild = full or state is None or state.since_dnum > since or state.input_sql != definition
    changes = None
    with transaction(con):
        if rebuild:
            _rebuild(con, source, since)
        else:
            assert state is not None
            changes = _apply_written_since(con, source, since, state.batch_seq)
        newest = fetch_first(con, "SELECT max(batch_seq) FROM requests WHERE source = ?", [source])
        con.execute(
            "INSERT OR REPLACE INTO metric_window_state VALUES (?, ?, ?, ?)",
            [source, since, newest[0] if newest else None, definition],
        )
    _create_input(con, source, since)
    return Update(rebuild, changes)


def _create_input(con: duckdb.DuckDBPyConnection, source: str, since: int) -> None:
    """:data:`INPUT`, a view: reading the stored rows measured faster than a temporary copy of them
    (which cost ~1 CPU-s per 4M rows to make)."""
    drop_temp(con, INPUT)
    con.execute(f"CREATE TEMP VIEW {INPUT} AS {input_sql(source, since)}")


def input_sql(source: str, since: int) -> str:
    """The SELECT of :data:`INPUT` (for a connection that cannot see the temporary view: another
    thread's cursor)."""
    since = int(since)
    return (
        f"SELECT {', '.join(COLUMNS)} FROM metric_window_rows"
        f" WHERE source = {sql_text(source)} AND (created_dnum >= {since} OR closed_dnum >= {since})"
    )


def _input_sql(con: duckdb.DuckDBPyConnection) -> str:
    row = fetch_first(con, "SELECT sql FROM duckdb_views() WHERE view_name = 'metric_input' AND temporary")
    if row is None:
        raise RuntimeError("metric_input is not staged (staging.create_input_views first)")
    return str(row[0])


def _rebuild(con: duckdb.DuckDBPyConnection, source: str, since: int) -> None:
    con.execute("DELETE FROM metric_window_rows WHERE source = ?", [source])
    con.execute(
        f"INSERT INTO metric_window_rows (source, {_KEYED})"
        f" SELECT {sql_text(source)}, {_KEYED} FROM ({window_rows_sql(since, _KEYED)})"
    )


def _apply_written_since(
    con: duckdb.DuckDBPyConnection, source: str, since: int, applied: int | None
) -> Changes | None:
    """Replace the rows of the requests written after batch ``applied``; drop those out of reach.

    The rows taken out and the changed requests' current rows (all of them, in reach or not) are
    returned (None when no batch was applied yet).
    """
    after = -1 if applied is None else applied
    params = {"source": source, "after": after, "since": since}
    new = con.sql(
        f"SELECT {_KEYED} FROM metric_input WHERE batch_seq > $after", params={"after": after}
    ).to_arrow_table()
    old = con.sql(
        f"""DELETE FROM metric_window_rows WHERE source = $source AND (
               unique_key IN (SELECT unique_key FROM requests WHERE source = $source AND batch_seq > $after)
               OR NOT (coalesce(created_dnum >= $since, false) OR coalesce(closed_dnum >= $since, false)))
           RETURNING {_KEYED}""",
        params=params,
    ).to_arrow_table()
    with registered(con, metric_window_new=new):
        con.execute(
            f"INSERT INTO metric_window_rows (source, {_KEYED})"
            f" SELECT $source, {_KEYED} FROM metric_window_new"
            " WHERE created_dnum >= $since OR closed_dnum >= $since",
            {"source": source, "since": since},
        )
    return None if applied is None else Changes(applied, old, new)
