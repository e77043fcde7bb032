"""SoQL parsing and translation (pure), run against a tiny DuckDB table."""

from __future__ import annotations

import duckdb
import pytest

from resolve311.simulator.soql import from_params, from_query_text
from resolve311.simulator.soql_parse import SoqlError, tokenize

ROWS = """
CREATE TABLE rows AS SELECT * FROM (VALUES
  ('row-a', TIMESTAMP '2024-01-01 10:00:00.250', '1', TIMESTAMP '2024-01-01 05:00:00', 'NYPD', 40.7),
  ('row-b', TIMESTAMP '2024-01-01 10:00:00.250', '2', TIMESTAMP '2024-01-02 05:00:00', 'HPD', NULL),
  ('row-c', TIMESTAMP '2024-01-03 10:00:00.000', '3', TIMESTAMP '2024-01-03 05:00:00', 'O''Neil', 40.8)
) t(":id", ":updated_at", unique_key, created_date, agency, latitude)
"""


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute(ROWS)
    return c


def keys(con: duckdb.DuckDBPyConnection, **params: str) -> list[object]:
    query = from_params({"$select": "unique_key", **params})
    return [r[0] for r in con.execute(query.sql("rows", "TRUE")).fetchall()]


def test_order_with_ties_broken_by_id(con: duckdb.DuckDBPyConnection) -> None:
    assert keys(con, **{"$order": ":updated_at DESC, :id"}) == ["3", "1", "2"]
    assert keys(con, **{"$order": ":updated_at, :id DESC"}) == ["2", "1", "3"]


def test_keyset_continuation_predicate(con: duckdb.DuckDBPyConnection) -> None:
    where = ":updated_at > '2024-01-01T10:00:00.250Z' OR (:updated_at = '2024-01-01T10:00:00.250Z' AND :id > 'row-a')"
    assert keys(con, **{"$where": where, "$order": ":updated_at,:id"}) == ["2", "3"]


def test_between_is_inclusive_and_nulls_sort_last(con: duckdb.DuckDBPyConnection) -> None:
    where = "created_date between '2024-01-01T05:00:00' and '2024-01-02T05:00:00'"
    assert keys(con, **{"$where": where, "$order": "unique_key"}) == ["1", "2"]
    assert keys(con, **{"$order": "latitude"}) == ["1", "3", "2"]
    assert keys(con, **{"$order": "latitude DESC"}) == ["2", "3", "1"]


def test_text_literals_escape_quotes(con: duckdb.DuckDBPyConnection) -> None:
    assert keys(con, **{"$where": "agency = 'O''Neil'"}) == ["3"]


def test_limit_offset_and_full_query(con: duckdb.DuckDBPyConnection) -> None:
    assert keys(con, **{"$order": "unique_key", "$limit": "1", "$offset": "1"}) == ["2"]
    query = from_query_text("SELECT unique_key WHERE latitude IS NULL ORDER BY unique_key LIMIT 5")
    assert con.execute(query.sql("rows", "TRUE")).fetchall() == [("2",)]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$where": "nope = 1"}, "query.soql.no-such-column"),
        ({"$where": "agency = "}, "query.compiler.malformed"),
        ({"$where": "agency = 'x' AND"}, "query.compiler.malformed"),
        ({"$where": "created_date > 'soon'"}, "query.soql.type-mismatch"),
        ({"$where": "unique_key > 5"}, "query.soql.type-mismatch"),
        ({"$select": "frobnicate(agency)"}, "query.soql.no-such-function"),
        ({"$limit": "ten"}, "query.compiler.malformed"),
        ({"$select": "agency, count(*)"}, "query.soql.invalid-group"),
        ({"$nonsense": "1"}, "query.compiler.malformed"),
    ],
)
def test_bad_queries_raise_with_socrata_codes(params: dict[str, str], code: str) -> None:
    with pytest.raises(SoqlError) as info:
        from_params(params)
    assert info.value.code == code and info.value.message


def test_tokenizer_rejects_junk() -> None:
    with pytest.raises(SoqlError):
        tokenize("agency = #")
    assert tokenize(":*, *") == [("name", ":*"), ("op", ","), ("op", "*")]
