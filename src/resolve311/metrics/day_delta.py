"""The affected days' stored counts brought up to date by the changed requests' delta (DuckDB SQL).

Every number of ``metric_day_counts``, ``metric_panel_days`` and ``metric_panel_hist`` is a count
of rows, so it is additive: after a day of changes, a stored row's new value is its old value plus
what the changed requests' new rows contribute to it, less what their old rows (as they were at
the last refresh) did. The window rows' update (``window_rows.py``) replaces exactly these rows in
``metric_window_rows``: the rows it takes out for the requests written since are the old rows, and
the changed requests' current rows are the new ones (:class:`Changes`). So a refresh after a day
of ~20k changed requests counts ~40k rows instead of the ~1.8M rows created or closed on the ~186
days they touch (late closes touch days all year).

An old row outside the kept reach (a request created before ``since`` and closed before it, or
still open, that changed: a request open for years closed today) is not in
``metric_window_rows``: such a request's days — the created and closed days of each of its stored
versions — are recomputed from their rows as before (``recompute``), and the delta leaves them
out. The delta's transaction and the recompute's are two: a failure between them fails the
refresh before it records its state, so the next one recomputes (:func:`usable`). The counts of a row that fall to zero are deleted, so the tables hold what a full
rebuild writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import duckdb
import pyarrow as pa

from resolve311.metrics import panel
from resolve311.metrics.definitions import GROUP_COLS, LEVELS
from resolve311.warehouse.columns import quote_idents
from resolve311.warehouse.normalize_sql import sql_text
from resolve311.warehouse.transaction import registered, transaction

#: The staged columns the day tables read (``window_rows.COLUMNS``).
_ROWS: Final[str] = "agency, complaint_type, borough, created_dnum, closed_dnum, ttc_h, is_dirty, is_closed"
_DAYS: Final[str] = "metric_delta_skip"  # the days recomputed instead (the delta leaves them out)
_SIGNED_ROWS: Final[str] = "metric_delta_rows"  # the new rows (w = 1) and the old (w = -1)


@dataclass(frozen=True)
class Changes:
    """The rows of the requests written after batch ``applied`` (``unique_key`` and the columns
    of ``metric_input``): ``old`` as ``metric_window_rows`` held them (and any row that left the
    reach: only the changed keys' rows are old rows), ``new`` their current rows, reach or not."""

    applied: int
    old: pa.Table
    new: pa.Table


def usable(changes: Changes | None, day_seq: int | None) -> bool:
    """Whether the stored day tables stand where the window rows stood before ``changes``: both
    brought up to date by the same refresh (the day tables' last batch is written after the window
    rows'; a refresh that failed between them leaves the window rows ahead: recompute then)."""
    return changes is not None and day_seq is not None and changes.applied <= day_seq


def apply(
    con: duckdb.DuckDBPyConnection,
    source: str,
    changes: Changes,
    recompute: Callable[[set[int]], None],
) -> set[int]:
    """Bring the day tables of ``source`` up to date by ``changes``; returns the days recomputed
    (by ``recompute``, from their rows) because an old row was out of reach."""
    with registered(con, metric_delta_old=changes.old, metric_delta_new=changes.new):
        days = _unknown_days(con, source, changes.applied)
        _signed_rows(con, source, changes.applied)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_DAYS} (dnum INTEGER PRIMARY KEY)")
        con.execute(f"INSERT INTO {_DAYS} SELECT unnest(?::INTEGER[])", [sorted(days)])
        with transaction(con):
            counts = ["created", "closed"]
            _merge(con, source, "metric_day_counts", [*GROUP_COLS, "dnum"], counts, _counts_sql(source))
            _merge(
                con, source, "metric_panel_days", ["agency", "dnum"], panel.DAY_COLUMNS, _panel_sql(source)
            )
            _merge(con, source, "metric_panel_hist", ["agency", "dnum", "bin"], ["n"], _hist_sql(source))
    if days:
        recompute(days)
    return days


#: Changed keys without an old row that have an older version (in ``request_history``): their row
#: at the last refresh, if they had one, was out of reach (or left out as a duplicate). Any older
#: version, not only those landed by the batch applied then: a version made current again is taken
#: out of the history and written with the new batch (A, then B, then A again since the last
#: refresh leaves only B there, landed after it). A key changed since always has one (the row it
#: replaced), so only keys first written since have none: new, no old row. Their versions'
#: created and closed days, as day numbers.
_UNKNOWN_DAYS_SQL = """
WITH unknown AS (
    SELECT unique_key FROM requests WHERE source = $source AND batch_seq > $applied
    EXCEPT SELECT unique_key FROM metric_delta_old
), before AS (
    SELECT DISTINCT h.unique_key FROM request_history h SEMI JOIN unknown u USING (unique_key)
    WHERE h.source = $source
), dates AS (
    SELECT created_date AS d, closed_date AS c FROM request_versions SEMI JOIN before USING (unique_key)
    WHERE source = $source
)
SELECT DISTINCT CAST(date_diff('day', DATE '1970-01-01', CAST(x AS DATE)) AS INTEGER)
FROM (SELECT d AS x FROM dates UNION ALL SELECT c FROM dates) WHERE x IS NOT NULL
"""


def _unknown_days(con: duckdb.DuckDBPyConnection, source: str, applied: int) -> set[int]:
    rows = con.execute(_UNKNOWN_DAYS_SQL, {"source": source, "applied": applied}).fetchall()
    return {int(r[0]) for r in rows}


def _signed_rows(con: duckdb.DuckDBPyConnection, source: str, applied: int) -> None:
    """:data:`_SIGNED_ROWS`: the new rows (w = 1) and the changed keys' old rows (w = -1)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_SIGNED_ROWS} AS
        SELECT {_ROWS}, 1::BIGINT AS w FROM metric_delta_new
        UNION ALL
        SELECT {_ROWS}, -1::BIGINT FROM metric_delta_old SEMI JOIN (
            SELECT unique_key FROM requests WHERE source = $source AND batch_seq > $applied
        ) USING (unique_key)""",
        {"source": source, "applied": applied},
    )


def _counts_sql(source: str) -> str:
    """Created and closed per group at every breakdown level × day, signed (``daily.py``'s rows)."""
    sets = ", ".join("(" + ", ".join([*level, "dnum"]) + ")" for level in LEVELS)
    groups = ", ".join(f"coalesce({c}, '{panel.ALL}') AS {c}" for c in GROUP_COLS)
    return f"""
    SELECT {sql_text(source)} AS source, {groups}, dnum, sum(created) AS created, sum(closed) AS closed
    FROM (SELECT {", ".join(GROUP_COLS)}, created_dnum AS dnum, w AS created, 0 AS closed
          FROM {_SIGNED_ROWS}
          UNION ALL
          SELECT {", ".join(GROUP_COLS)}, closed_dnum, 0, w FROM {_SIGNED_ROWS}
          WHERE closed_dnum IS NOT NULL)
    GROUP BY GROUPING SETS ({sets})"""


def _panel_sql(source: str) -> str:
    return panel.counting_sql(panel.DAYS_SELECT, source, rows=_SIGNED_ROWS, count="sum(w)")


def _hist_sql(source: str) -> str:
    return panel.counting_sql(panel.HIST_SELECT, source, rows=_SIGNED_ROWS, count="sum(w)")


def _merge(
    con: duckdb.DuckDBPyConnection, source: str, table: str, keys: list[str], cols: list[str], delta: str
) -> None:
    """Add the signed counts ``delta`` (columns source, ``keys``, ``cols``) to ``table``'s rows,
    except on the recomputed days (:func:`add_signed`)."""
    change = f"(SELECT * FROM ({delta}) WHERE dnum NOT IN (SELECT dnum FROM {_DAYS}))"
    add_signed(con, table, source, keys, cols, change)


def add_signed(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    keys: Sequence[str],
    counts: Sequence[str],
    change: str,
) -> None:
    """Add the signed ``counts`` of ``change`` (a relation with ``keys`` and ``counts``) to the rows of
    ``table`` of ``source`` with the same keys, in the caller's transaction; a row whose counts all
    become 0 is deleted, so the table holds what counting its rows afresh gives (the day tables here,
    the windowed counts kept across days in :mod:`unit_counts`)."""
    keyed, columns = quote_idents(keys), quote_idents([*keys, *counts])
    match = " AND ".join(f't."{k}" IS NOT DISTINCT FROM c."{k}"' for k in keys)
    sums = ", ".join(f'sum("{c}")::BIGINT AS "{c}"' for c in counts)
    changed = " OR ".join(f'sum("{c}") <> 0' for c in counts)
    all_zero = " AND ".join(f't."{c}" + c."{c}" = 0' for c in counts)
    added = ", ".join(f'"{c}" = t."{c}" + c."{c}"' for c in counts)
    values = ", ".join(f'c."{c}"' for c in [*keys, *counts])
    # one statement (a temporary table of the merged keys, a delete and an insert took twice as long);
    # keys whose signs cancel out are left alone
    con.execute(
        f"""MERGE INTO {table} t
        USING (SELECT {keyed}, {sums} FROM {change} GROUP BY {keyed} HAVING {changed}) c
        ON t.source = $source AND {match}
        WHEN MATCHED AND {all_zero} THEN DELETE
        WHEN MATCHED THEN UPDATE SET {added}
        WHEN NOT MATCHED THEN INSERT (source, {columns}) VALUES ($source, {values})""",
        {"source": source},
    )
