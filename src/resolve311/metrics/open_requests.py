"""The backlog's input kept in the warehouse: ``metric_open_requests`` (migration 007).

Each request whose latest stored version (:func:`backlog.latest_versions`) shows it open after
``since_ms`` — at most the first unit-end moment of the windows, so every backlog moment finds
all its requests there. A refresh updates it from the versions landed since it was last updated
only: a new version of a request is newer than all its stored ones (a later landing batch), so
the latest of a request's new versions is its latest version. Its old row goes, the new one comes
in while still open after ``since_ms``; rows closed by the new ``since_ms`` are dropped. A full
refresh (or a horizon that moved back) rebuilds it from every version. Its cost therefore follows
the day's changes and the requests open in the windows' span, not the length of the history.

The latest-version rule is the Ibis expression of :mod:`backlog`, compiled to DuckDB SQL and run
inside the warehouse; the Spark engine reads the table like any other input.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import ibis
import ibis.expr.types as ir

from resolve311.metrics import backlog
from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.staging import fetch_first
from resolve311.warehouse.normalize_sql import sql_text
from resolve311.warehouse.transaction import transaction

_COLUMNS = ("unique_key", *GROUP_COLS, "created_ms", "open_until")
_NEW: str = "metric_new_latest"
#: The view the metric engines read (one source's rows).
INPUT_VIEW = "metric_open_input"


@dataclass(frozen=True)
class OpenState:
    since_ms: int
    batch_seq: int | None


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> OpenState | None:
    row = fetch_first(con, "SELECT since_ms, batch_seq FROM metric_open_state WHERE source = ?", [source])
    return None if row is None else OpenState(int(row[0]), None if row[1] is None else int(row[1]))


def update(con: duckdb.DuckDBPyConnection, source: str, since_ms: int, *, full: bool) -> str:
    """Bring ``metric_open_requests`` of ``source`` up to date for ``since_ms``; 'rebuilt' or 'updated'.

    Reads the ``metric_versions`` view (:mod:`staging`); one transaction, so a failed update
    leaves the table and its state as they were. Creates :data:`INPUT_VIEW`.
    """
    state = read_state(con, source)
    rebuild = full or state is None or state.since_ms > since_ms
    backend = ibis.duckdb.from_connection(con)
    versions = backend.table("metric_versions")
    try:
        with transaction(con):
            if rebuild:
                _rebuild(con, source, since_ms, versions)
            else:
                assert state is not None
                _apply_new_versions(con, source, since_ms, versions, state.batch_seq)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_NEW}")
    create_input_view(con, source)
    return "rebuilt" if rebuild else "updated"


def create_input_view(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """:data:`INPUT_VIEW` on ``con`` (temporary views are per connection: the refresh updates the
    table on a cursor of its own, alongside the window rows' update)."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {INPUT_VIEW} AS SELECT {', '.join(_COLUMNS)}"
        f" FROM metric_open_requests WHERE source = {sql_text(source)}"
    )


def _sql(expr: ir.Table) -> str:
    return str(ibis.to_sql(expr, dialect="duckdb"))


def _rebuild(con: duckdb.DuckDBPyConnection, source: str, since_ms: int, versions: ir.Table) -> None:
    con.execute("DELETE FROM metric_open_requests WHERE source = ?", [source])
    con.execute(
        f"INSERT INTO metric_open_requests (source, {', '.join(_COLUMNS)})"
        f" SELECT $source, {', '.join(_COLUMNS)} FROM ({_sql(backlog.latest_open(versions, since_ms))})",
        {"source": source},
    )
    row = fetch_first(con, "SELECT max(batch_seq) FROM metric_versions")
    _write_state(con, source, since_ms, row[0] if row else None)


def _apply_new_versions(
    con: duckdb.DuckDBPyConnection, source: str, since_ms: int, versions: ir.Table, applied: int | None
) -> None:
    """Replace the rows of requests with versions after ``applied``; drop those closed by ``since_ms``.

    The versions are selected by ``batch_seq`` (landing order: the storage's min/max per row
    group skip the old ones), the table's old rows by key.
    """
    new = versions if applied is None else versions.filter(versions.batch_seq > applied)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_NEW} AS {_sql(backlog.latest_versions(new))}")
    con.execute(
        f"DELETE FROM metric_open_requests WHERE source = $source"
        f" AND (open_until <= $since OR unique_key IN (SELECT unique_key FROM {_NEW}))",
        {"source": source, "since": since_ms},
    )
    con.execute(
        f"INSERT INTO metric_open_requests (source, {', '.join(_COLUMNS)})"
        f" SELECT $source, {', '.join(_COLUMNS)} FROM {_NEW} WHERE open_until > $since",
        {"source": source, "since": since_ms},
    )
    row = fetch_first(con, _sql(new.aggregate(newest=new.batch_seq.max())))
    _write_state(con, source, since_ms, row[0] if row and row[0] is not None else applied)


def _write_state(con: duckdb.DuckDBPyConnection, source: str, since_ms: int, batch_seq: int | None) -> None:
    con.execute("INSERT OR REPLACE INTO metric_open_state VALUES (?, ?, ?)", [source, since_ms, batch_seq])
