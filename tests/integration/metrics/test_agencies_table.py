"""The agencies table grouped by the stored agency first == grouped by the cleaned name row by row."""

from __future__ import annotations

import duckdb

from resolve311.metrics.refresh import AGENCIES_SQL

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
