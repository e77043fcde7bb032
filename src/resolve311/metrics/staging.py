"""Input views over the warehouse for the metric layer (DuckDB SQL, warehouse side).

The metric definitions (``definitions.py``) read only two narrow relations with
engine-neutral types (text, integers, doubles, booleans — no timestamps, so no
time-zone surprises on Spark):

``metric_input``     one row per current request (its two ``raw_*`` timestamps only prune scans;
                     ``unique_key`` and ``batch_seq`` keep ``metric_window_rows`` up to date).
``metric_versions``  one row per stored version (for backlog as of a past moment).
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import duckdb

from resolve311.schema import SODA_FIELDS
from resolve311.sources.city import BBox, CityRules
from resolve311.warehouse.location import inside_bbox_sql
from resolve311.warehouse.normalize_sql import sql_text, status_starts_sql

_GROUP_COLUMNS = """
    coalesce(nullif(trim(agency), ''), 'Unspecified') AS agency,
    coalesce(nullif(trim(complaint_type), ''), 'Unspecified') AS complaint_type,
    coalesce(nullif(trim(CAST($area AS VARCHAR)), ''), 'Unspecified') AS borough"""

# A close is usable for durations when it has a time, is not before creation and is no sentinel.
_VALID_CLOSE = "(closed_utc IS NOT NULL AND hours_to_close >= 0 AND year(closed_date) <= 2100)"

INPUT_SQL: Final[str] = f"""
CREATE OR REPLACE TEMP VIEW metric_input AS
SELECT {_GROUP_COLUMNS},
    CAST(date_diff('day', DATE '1970-01-01', CAST(created_date AS DATE)) AS INTEGER) AS created_dnum,
    CAST(hour(created_date) AS INTEGER) AS created_hour,
    CAST(isodow(created_date) - 1 AS INTEGER) AS weekday,
    epoch_ms(created_utc) AS created_ms,
    CASE WHEN {_VALID_CLOSE}
         THEN CAST(date_diff('day', DATE '1970-01-01', CAST(closed_date AS DATE)) AS INTEGER) END
        AS closed_dnum,
    CASE WHEN {_VALID_CLOSE} THEN hours_to_close END AS ttc_h,
    len(dirty_flags) > 0 AS is_dirty,
    is_closed,
    CASE WHEN $inside THEN latitude END AS lat,
    CASE WHEN $inside THEN longitude END AS lon,
    created_date AS raw_created, closed_date AS raw_closed,  -- for pruning only; never staged
    unique_key, batch_seq  -- for keeping metric_window_rows up to date (window_rows.py); never staged
FROM requests
WHERE source = $source AND NOT ($duplicate)
"""

VERSIONS_SQL: Final[str] = f"""
CREATE OR REPLACE TEMP VIEW metric_versions AS
SELECT unique_key, batch_seq, {_GROUP_COLUMNS},
    epoch_ms(created_utc) AS created_ms,
    CASE WHEN {_VALID_CLOSE} THEN epoch_ms(closed_utc) END AS closed_ms,
    is_closed,
    -- When this version became known. File imports carry no :updated_at: an open
    -- version is taken as known from creation, a closed one from its close.
    coalesce(epoch_ms(source_updated_at),
             CASE WHEN {_VALID_CLOSE} THEN epoch_ms(closed_utc) END,
             epoch_ms(created_utc)) AS known_ms
FROM request_versions
WHERE source = $source AND NOT ($duplicate)
"""

SLA_SQL: Final[str] = """
CREATE OR REPLACE TEMP VIEW metric_sla AS
SELECT coalesce(nullif(trim(agency), ''), '*') AS sla_agency,
       lower(trim(complaint_type)) AS sla_type,
       min(target_hours) AS target_hours
FROM sla_targets
GROUP BY ALL
"""

STAGED_RELATIONS: Final[tuple[str, ...]] = (
    "metric_window_input", "metric_day_input", "metric_open_input", "metric_sla",
)  # fmt: skip


def duplicate_sql(rules: CityRules) -> str:
    """SQL true for a row the city marks as a duplicate report (its status or its duplicate field).

    Duplicates are left out of every metric: the request they repeat is counted once.
    """
    tests = [status_starts_sql(rules.duplicate_statuses)] if rules.duplicate_statuses else []
    if rules.duplicate_field:
        field = rules.duplicate_field
        path = "$." + '"' + field.replace('"', "") + '"'
        value = field if field in SODA_FIELDS else f"json_extract_string(extra, {sql_text(path)})"
        tests.append(f"lower(trim(CAST({value} AS VARCHAR))) IN ('true', 't', '1', 'yes', 'y')")
    return "coalesce(" + " OR ".join(tests) + ", false)" if tests else "false"


def _inline(sql: str, source: str, bbox: BBox | None, area: str, duplicate: str) -> str:
    # Views cannot hold prepared parameters; the source name is quoted as a literal.
    if area not in SODA_FIELDS:
        raise ValueError(f"not a warehouse column: {area!r}")
    inside = inside_bbox_sql("latitude", "longitude", bbox)
    return (
        sql.replace("$source", sql_text(source))
        .replace("$inside", inside)
        .replace("$area", area)
        .replace("$duplicate", duplicate)
    )


def create_input_views(
    con: duckdb.DuckDBPyConnection,
    source: str,
    bbox: BBox | None = None,
    area: str = "borough",
    duplicate: str = "false",
) -> None:
    """(Re)create the temporary input views for ``source`` on ``con``.

    Only points inside ``bbox`` (the source's box: see its catalog) reach the "where" heat map.
    ``area`` is the warehouse column of the city's main area dimension (its catalog's first
    ``[[areas]]``: NYC ``borough``, Chicago's community area in ``community_board``); the
    metric layer calls it ``borough`` whatever the city. Rows for which ``duplicate`` (SQL, see
    :func:`duplicate_sql`) is true are left out.
    """
    for sql in (INPUT_SQL, VERSIONS_SQL):
        con.execute(_inline(sql, source, bbox, area, duplicate))
    con.execute(SLA_SQL)


#: The staged columns of ``metric_input`` (the ones the metric definitions read).
_STAGED: Final[str] = "* EXCLUDE (raw_created, raw_closed, unique_key, batch_seq)"


def window_rows_sql(first_dnum: int, columns: str = _STAGED) -> str:
    """``columns`` of the ``metric_input`` rows created or closed on or after ``first_dnum``."""
    first = int(first_dnum)
    return _created_or_closed_in(
        [(first, None)], f"created_dnum >= {first}", f"closed_dnum >= {first}", columns
    )


def create_day_input(
    con: duckdb.DuckDBPyConnection, days: list[int] | None, kept: tuple[str, int] | None = None
) -> None:
    """``metric_day_input``: the rows created or closed on one of ``days`` (materialised), or a
    view of all rows when ``days`` is None.

    ``kept`` = (a relation, ``since``) holding every row created or closed on or after day
    ``since`` (``window_rows.py``): those rows come from it, and only the rows created and closed
    before ``since`` (if any of ``days`` is before it) from ``metric_input`` — the two are disjoint.
    """
    drop_temp(con, "metric_day_input")
    if days is None:
        con.execute(f"CREATE TEMP VIEW metric_day_input AS SELECT {_STAGED} FROM metric_input")
        return
    con.execute("CREATE OR REPLACE TEMP TABLE metric_days_wanted (dnum INTEGER PRIMARY KEY)")
    if not days:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE metric_day_input AS SELECT {_STAGED} FROM metric_input LIMIT 0"
        )
        return
    con.execute("INSERT INTO metric_days_wanted SELECT unnest(?::INTEGER[])", [sorted(set(days))])
    created_in = "created_dnum IN (SELECT dnum FROM metric_days_wanted)"
    closed_in = "closed_dnum IN (SELECT dnum FROM metric_days_wanted)"
    if kept is None:
        wanted = _created_or_closed_in(day_ranges(days), created_in, closed_in)
    else:
        relation, since = kept[0], int(kept[1])
        parts = [f"SELECT * FROM {relation} WHERE {created_in} OR {closed_in}"]
        older = [d for d in days if d < since]
        if older:
            before = f"created_dnum < {since} AND coalesce(closed_dnum < {since}, true)"
            parts.append(
                f"SELECT * FROM ({_created_or_closed_in(day_ranges(older), created_in, closed_in)})"
                f" WHERE {before}"
            )
        wanted = " UNION ALL BY NAME ".join(parts)
    con.execute(f"CREATE OR REPLACE TEMP TABLE metric_day_input AS {wanted}")


def drop_temp(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temporary table or view ``name`` if there is one (``DROP VIEW`` fails on a table)."""
    for kind, catalog in (("TABLE", "duckdb_tables()"), ("VIEW", "duckdb_views()")):
        found = fetch_first(
            con, f"SELECT 1 FROM {catalog} WHERE temporary AND {kind.lower()}_name = ?", [name]
        )
        if found is not None:
            con.execute(f"DROP {kind} {name}")


def day_ranges(days: list[int], gap: int = 31, most: int = 8) -> list[tuple[int, int | None]]:
    """Sorted ``days`` as at most ``most`` half-open ranges [first, last + 1), split at the widest
    stretches of more than ``gap`` days without any (e.g. a sentinel 1900 day apart from the rest)."""
    ds = sorted(set(days))
    widest = sorted((b - a, i) for i, (a, b) in enumerate(itertools.pairwise(ds)) if b - a > gap)
    out: list[tuple[int, int | None]] = []
    start = ds[0]
    for i in sorted(i for _, i in widest[len(widest) - (most - 1) :] if most > 1):
        out.append((start, ds[i] + 1))
        start = ds[i + 1]
    return [*out, (start, ds[-1] + 1)]


def _created_or_closed_in(
    ranges: list[tuple[int, int | None]], created_in: str, closed_in: str, columns: str = _STAGED
) -> str:
    """Rows with ``created_in`` or ``closed_in`` whose created or closed day lies in one of ``ranges``.

    Each scan is filtered on one raw timestamp's range (an open end when None), a filter the
    storage checks against each row group's min/max, skipping the groups outside it: per range the
    rows created in it, then the rows closed in it but created in none of them (disjoint: no row is
    read twice). For the window input (one open-ended range) this measured the same as one scan
    with an OR of the two timestamps; the affected days' ranges were not measured apart.
    """
    created_any = " OR ".join(f"({within_days('raw_created', lo, hi)})" for lo, hi in ranges)
    parts = [
        f"SELECT {columns} FROM metric_input WHERE {within_days('raw_created', lo, hi)}"
        f" AND ({created_in} OR {closed_in})"
        for lo, hi in ranges
    ] + [
        f"SELECT {columns} FROM metric_input WHERE {within_days('raw_closed', lo, hi)}"
        f" AND NOT ({created_any}) AND {closed_in}{_created_by(hi)}"
        for lo, hi in ranges
    ]
    return " UNION ALL ".join(parts)


def _created_by(high: int | None) -> str:
    """A bound on the creation of rows validly closed before day ``high`` (a day after it: a valid
    close is not before its creation in UTC, and local times differ from UTC order by an hour at
    most), so the storage skips the row groups created after it — every row group's close-time
    range spans the calendar (sentinel dates), its creation range does not."""
    return (
        "" if high is None else f" AND raw_created < CAST(DATE '1970-01-01' + {int(high) + 1} AS TIMESTAMP)"
    )


def within_days(column: str, low: int, high: int | None) -> str:
    """``column`` (a timestamp) on day ``low`` or later and before day ``high`` (open when None):
    a range filter the storage checks against each row group's minimum and maximum."""
    start = f"{column} >= CAST(DATE '1970-01-01' + {int(low)} AS TIMESTAMP)"
    return start + (
        "" if high is None else f" AND {column} < CAST(DATE '1970-01-01' + {int(high)} AS TIMESTAMP)"
    )


def fetch_first(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> tuple[Any, ...] | None:
    """First row of a query, consuming the whole result (DuckDB 2 requires it)."""
    rows = con.execute(sql, params).fetchall() if params is not None else con.execute(sql).fetchall()
    return tuple(rows[0]) if rows else None
