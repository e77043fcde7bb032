"""agencies, the history start and the as-of, read from the per-day totals kept in the warehouse
(``metric_agency_days``), give what the row-by-row queries over every request give — after a full
rebuild and after the affected days only are recomputed."""

from __future__ import annotations

from datetime import datetime

import duckdb

from resolve311.metrics import agencies
from resolve311.warehouse.connection import migrations

ROW_BY_ROW = """SELECT coalesce(nullif(trim(agency), ''), 'Unspecified') AS agency,
       arg_max(agency_name, created_date) AS agency_name,
       count(*) AS requests_total, min(created_date) AS first_created, max(created_date) AS last_created
FROM requests WHERE source = ? GROUP BY 1 ORDER BY 1"""

REQUESTS = """CREATE TABLE requests AS SELECT source, agency, agency_name, created_date,
    created_date + INTERVAL 5 HOUR AS created_utc, dirty_flags FROM (VALUES
    ('nyc', 'NYPD', 'Police', TIMESTAMP '2024-01-01', []::VARCHAR[]),
    ('nyc', ' NYPD ', 'Police Dept', TIMESTAMP '2024-03-01', []::VARCHAR[]),
    ('nyc', 'NYPD', NULL, TIMESTAMP '2024-05-01', []::VARCHAR[]),
    ('nyc', NULL, 'Nobody', TIMESTAMP '2023-01-01', ['x']),
    ('nyc', '', 'Blank', TIMESTAMP '2024-02-01', []::VARCHAR[]),
    ('nyc', '  ', NULL, TIMESTAMP '2024-06-01', []::VARCHAR[]),
    ('nyc', 'DSNY', 'Sanitation Dept', TIMESTAMP '2022-01-01', ['bad_close']),
    ('nyc', 'DSNY', 'Sanitation', TIMESTAMP '2022-01-01 10:00', ['x']),
    ('nyc', 'DSNY', 'Future', TIMESTAMP '2999-01-01', ['sentinel_date']),
    ('chi', 'NYPD', 'Elsewhere', TIMESTAMP '2025-01-01', []::VARCHAR[])
) t(source, agency, agency_name, created_date, dirty_flags)"""


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(REQUESTS)
    sql = dict(migrations())[11]
    con.execute(sql)
    return con


def _history_start_row_by_row(con: duckdb.DuckDBPyConnection, source: str) -> object:
    row = con.execute(
        "SELECT coalesce(min(created_date) FILTER (WHERE len(dirty_flags) = 0), min(created_date))"
        " FROM requests WHERE source = ?",
        [source],
    ).fetchall()
    return row[0][0]


def _as_of_row_by_row(con: duckdb.DuckDBPyConnection, source: str) -> object:
    sql = "SELECT max(created_date) FROM requests WHERE source = ? AND created_utc <= now()::TIMESTAMP + INTERVAL 1 DAY"
    return con.execute(sql, [source]).fetchall()[0][0]


def _agree(con: duckdb.DuckDBPyConnection, source: str = "nyc") -> None:
    assert agencies.agencies(con, source).equals(con.execute(ROW_BY_ROW, [source]).df())
    assert agencies.history_start(con, source) == _history_start_row_by_row(con, source)
    assert agencies.as_of(con, source) == _as_of_row_by_row(con, source)


def _day(text: str) -> int:
    return (datetime.fromisoformat(text).date() - datetime(1970, 1, 1).date()).days


def test_full_rebuild_gives_the_row_by_row_tables() -> None:
    con = _warehouse()
    agencies.update(con, "nyc", None)
    _agree(con)
    got = agencies.agencies(con, "nyc").set_index("agency")
    assert got.loc["NYPD", "agency_name"] == "Police Dept"  # the newest named row
    assert got.loc["Unspecified", "requests_total"] == 3
    assert agencies.history_start(con, "nyc") == datetime(2024, 1, 1)  # the oldest clean row
    assert agencies.as_of(con, "nyc") == datetime(2024, 6, 1)  # the 2999 row ignored
    assert agencies.history_start(con, "sf") is None
    assert agencies.as_of(con, "sf") is None


def test_recomputing_the_touched_days_gives_the_row_by_row_tables() -> None:
    con = _warehouse()
    agencies.update(con, "nyc", None)
    # a request moves from 2024-03-01 to 2021-06-01 and gets clean; a new one on 2024-06-02
    con.execute(
        "UPDATE requests SET created_date = TIMESTAMP '2021-06-01', dirty_flags = []"
        " WHERE agency_name = 'Police Dept'"
    )
    con.execute(
        "INSERT INTO requests VALUES ('nyc', 'DSNY', 'Sanitation New', TIMESTAMP '2024-06-02',"
        " TIMESTAMP '2024-06-02 05:00', [])"
    )
    agencies.update(con, "nyc", [_day("2024-03-01"), _day("2021-06-01"), _day("2024-06-02")])
    _agree(con)
    assert agencies.history_start(con, "nyc") == datetime(2021, 6, 1)
    assert agencies.agencies(con, "nyc").set_index("agency").loc["DSNY", "requests_total"] == 4
    con.execute("UPDATE requests SET dirty_flags = ['x'] WHERE source = 'nyc'")
    agencies.update(
        con,
        "nyc",
        [
            _day(str(d[0]))
            for d in con.execute("SELECT DISTINCT CAST(created_date AS DATE) FROM requests").fetchall()
        ],
    )
    _agree(con)
    assert agencies.history_start(con, "nyc") == datetime(2021, 6, 1)  # no clean row: the oldest
    agencies.update(con, "nyc", [])  # nothing touched: nothing changes
    _agree(con)
