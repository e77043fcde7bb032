"""Generated data shared by the realism tests: two months at 10 % of NYC volume, in DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import duckdb
import pyarrow as pa
import pytest

from resolve311.simulator.batches import generate_tables

FIRST, LAST = date(2024, 3, 1), date(2024, 4, 30)
SCALE = 0.1


@pytest.fixture(scope="module")
def generated() -> Iterator[duckdb.DuckDBPyConnection]:
    """Table ``g``: every generated request (static and lifecycle columns) of FIRST..LAST."""
    table = pa.concat_tables(generate_tables(seed=42, scale=SCALE, first=FIRST, last=LAST))
    con = duckdb.connect()
    con.register("g_arrow", table)
    con.execute("CREATE TABLE g AS SELECT * FROM g_arrow")
    yield con
    con.close()
