"""Signed counts added to a table of counts (``day_delta.add_signed``, one MERGE) on a real DuckDB."""

from __future__ import annotations

import duckdb

from resolve311.metrics.day_delta import add_signed


def test_signed_counts_add_up_delete_what_reaches_zero_and_match_null_keys() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (source VARCHAR, a VARCHAR, b INTEGER, n BIGINT, m BIGINT)")
    con.execute(
        "INSERT INTO t VALUES ('s', NULL, 1, 5, 1), ('s', 'x', NULL, 2, 0), ('s', 'y', 2, 3, 3),"
        " ('s', 'keep', 0, 4, 4), ('other', NULL, 1, 7, 7)"
    )
    con.execute(
        "CREATE TABLE c AS SELECT * FROM (VALUES"
        " (NULL, 1, -2, 0), (NULL, 1, 1, -1),"  # a NULL key matches its row: 5-2+1, 1-1
        " ('x', NULL, -2, 0),"  # every count reaches 0: the row goes
        " ('keep', 0, 1, 1), ('keep', 0, -1, -1),"  # signs that cancel: the row stays as it was
        " ('z', 3, 4, 0), ('z', 3, -4, 0), ('w', 1, 0, 0),"  # new keys that net to 0: never written
        " ('new', 5, 2, 1)) v(a, b, n, m)"  # a new key
    )
    add_signed(con, "t", "s", ["a", "b"], ["n", "m"], "c")
    assert con.execute("SELECT * FROM t ORDER BY ALL").fetchall() == [
        ("other", None, 1, 7, 7),  # another source's row with the same key is not touched
        ("s", "keep", 0, 4, 4),
        ("s", "new", 5, 2, 1),
        ("s", "y", 2, 3, 3),
        ("s", None, 1, 4, 0),
    ]
