"""``agencies``, the history start and the as-of from per-day totals kept in the warehouse.

``metric_agency_days`` (migration 011) holds per source × stored agency × created day the
requests created, their first and last creation, the newest named request's name and the oldest
clean creation. A refresh recomputes only the affected days (the old and new created days of every
changed request: ``load_touched_days``), reading the requests created on them (range-filtered on
``created_date``, so the storage skips the other row groups); a full refresh rebuilds it. Reading
``agencies`` and the history start from it costs the same at any history length, where a grouped
scan of every request's agency and flags grew with it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final

import duckdb
import pandas as pd

from resolve311.metrics.staging import day_ranges, fetch_first, within_days
from resolve311.warehouse.transaction import transaction

_DAY: Final[str] = "CAST(CAST(created_date AS DATE) - DATE '1970-01-01' AS INTEGER)"

#: Per stored agency and created day; ``{where}`` narrows the requests read.
_DAY_TOTALS_SQL: Final[str] = f"""
SELECT $source AS source, agency, {_DAY} AS dnum, count(*) AS n,
       min(created_date) AS first_created, max(created_date) AS last_created,
       arg_max(agency_name, created_date) AS agency_name,
       max(created_date) FILTER (WHERE agency_name IS NOT NULL) AS named_at,
       min(created_date) FILTER (WHERE len(dirty_flags) = 0) AS clean_first
FROM requests WHERE source = $source{{where}} GROUP BY agency, dnum"""

#: Per agency (blank and NULL as 'Unspecified'): its newest name, requests, first and last created.
#: The newest name is the one of the (agency, day) whose newest named request is newest
#: (``arg_max`` skips NULL names, as over all the rows).
AGENCIES_SQL: Final[str] = """
SELECT coalesce(nullif(trim(agency), ''), 'Unspecified') AS agency,
       arg_max(agency_name, named_at) AS agency_name,
       CAST(sum(n) AS BIGINT) AS requests_total, min(first_created) AS first_created,
       max(last_created) AS last_created
FROM metric_agency_days WHERE source = ? GROUP BY 1 ORDER BY 1"""


def update(con: duckdb.DuckDBPyConnection, source: str, days: Collection[int] | None) -> None:
    """Recompute the rows of ``days`` (every day when None) from the requests created on them."""
    with transaction(con):
        if days is None:
            con.execute("DELETE FROM metric_agency_days WHERE source = ?", [source])
            con.execute(
                "INSERT INTO metric_agency_days BY NAME " + _DAY_TOTALS_SQL.format(where=""),
                {"source": source},
            )
            return
        if not days:
            return
        wanted = sorted(set(days))
        con.execute(
            "DELETE FROM metric_agency_days WHERE source = ? AND list_contains(?, dnum)", [source, wanted]
        )
        ranges = " OR ".join(f"({within_days('created_date', lo, hi)})" for lo, hi in day_ranges(wanted))
        where = f" AND ({ranges}) AND list_contains($days, {_DAY})"
        con.execute(
            "INSERT INTO metric_agency_days BY NAME " + _DAY_TOTALS_SQL.format(where=where),
            {"source": source, "days": wanted},
        )


def agencies(con: duckdb.DuckDBPyConnection, source: str) -> pd.DataFrame:
    """The ``agencies`` table of ``source``."""
    return con.execute(AGENCIES_SQL, [source]).df()


def history_start(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    """The oldest creation of a clean row (no dirty flag), else of any row; None without rows."""
    row = fetch_first(
        con,
        "SELECT coalesce(min(clean_first), min(first_created)) FROM metric_agency_days WHERE source = ?",
        [source],
    )
    return None if row is None else row[0]


def as_of(con: duckdb.DuckDBPyConnection, source: str) -> datetime | None:
    """Newest ``created_date`` of the source, ignoring timestamps more than a day in the future.

    Looked for among the rows created from the newest stored day before yesterday on first (the
    storage skips the older row groups): when that finds any row, no older row can be newer; else
    (nothing stored before yesterday passes the filter) among every row.
    """
    sql = (
        "SELECT max(created_date) FROM requests WHERE source = ?"
        " AND created_utc <= now()::TIMESTAMP + INTERVAL 1 DAY"
    )
    newest = fetch_first(
        con,
        "SELECT max(dnum) FROM metric_agency_days WHERE source = ?"
        " AND dnum < CAST(current_date - DATE '1970-01-01' AS INTEGER) - 1",
        [source],
    )
    if newest is not None and newest[0] is not None:
        bound = " AND created_date >= CAST(DATE '1970-01-01' + ? AS TIMESTAMP)"
        row = fetch_first(con, sql + bound, [source, int(newest[0])])
        if row is not None and row[0] is not None:
            return row[0]  # type: ignore[no-any-return]
    row = fetch_first(con, sql, [source])
    return None if row is None else row[0]
