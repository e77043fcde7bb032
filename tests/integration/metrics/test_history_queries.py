"""Queries over every request, made cheaper, give what the row-by-row queries gave (agencies, history start)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from resolve311.metrics.refresh import AGENCIES_SQL, _history_start

ROW_BY_ROW = """SELECT coalesce(nullif(trim(agency), ''), 'Unspecified') AS agency,
       arg_max(agency_name, created_date) AS agency_name,
       count(*) AS requests_total, min(created_date) AS first_created, max(created_date) AS last_created
FROM requests WHERE source = ? GROUP BY 1 ORDER BY 1"""


def test_two_level_grouping_gives_the_row_by_row_table() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE requests AS SELECT * FROM (VALUES
            ('nyc', 'NYPD', 'Police', TIMESTAMP '2024-01-01'),
            ('nyc', ' NYPD ', 'Police Dept', TIMESTAMP '2024-03-01'),
            ('nyc', 'NYPD', NULL, TIMESTAMP '2024-05-01'),
            ('nyc', NULL, 'Nobody', TIMESTAMP '2023-01-01'),
            ('nyc', '', 'Blank', TIMESTAMP '2024-02-01'),
            ('nyc', '  ', NULL, TIMESTAMP '2024-06-01'),
            ('nyc', 'DSNY', 'Sanitation', NULL),
            ('nyc', 'DSNY', 'Sanitation Dept', TIMESTAMP '2022-01-01'),
            ('chi', 'NYPD', 'Elsewhere', TIMESTAMP '2025-01-01')
        ) t(source, agency, agency_name, created_date)"""
    )
    expected = con.execute(ROW_BY_ROW, ["nyc"]).df()
    got = con.execute(AGENCIES_SQL, ["nyc"]).df()
    assert got.equals(expected)
    assert got.set_index("agency").loc["NYPD", "agency_name"] == "Police Dept"  # newest named row
    assert got.set_index("agency").loc["Unspecified", "requests_total"] == 3


def _history_start_row_by_row(con: duckdb.DuckDBPyConnection, source: str) -> object:
    row = con.execute(
        "SELECT coalesce(min(created_date) FILTER (WHERE len(dirty_flags) = 0), min(created_date))"
        " FROM requests WHERE source = ?",
        [source],
    ).fetchall()
    return row[0][0]


def test_history_start_searched_from_the_oldest_rows_equals_the_full_scan() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE requests AS SELECT * FROM (VALUES
            ('nyc', TIMESTAMP '2020-01-01', ['bad_close']),
            ('nyc', TIMESTAMP '2020-03-01', ['x']),
            ('nyc', TIMESTAMP '2023-01-01', []::VARCHAR[]),
            ('nyc', TIMESTAMP '2024-01-01', []::VARCHAR[]),
            ('chi', TIMESTAMP '2000-01-01', []::VARCHAR[])
        ) t(source, created_date, dirty_flags)"""
    )
    # the oldest clean row lies more than a year after the oldest row: the last, unbounded search
    assert _history_start(con, "nyc") == _history_start_row_by_row(con, "nyc") == datetime(2023, 1, 1)
    con.execute("UPDATE requests SET dirty_flags = ['x'] WHERE source = 'nyc'")
    assert _history_start(con, "nyc") == _history_start_row_by_row(con, "nyc") == datetime(2020, 1, 1)
    con.execute("UPDATE requests SET dirty_flags = [] WHERE created_date = TIMESTAMP '2020-03-01'")
    assert _history_start(con, "nyc") == datetime(2020, 3, 1)  # within the first month
    assert _history_start(con, "sf") is None
