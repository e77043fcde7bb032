"""How the metrics talk to the engine: results fetched through Arrow (``to_frame``: the same frame as
Ibis's to_pandas, sums included) and small tables made temporary tables of DuckDB (``small_table``)."""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd

from resolve311.metrics.definitions import numeric_frame, small_table, to_frame


def test_to_frame_equals_to_pandas_for_sums_strings_and_nulls() -> None:
    con = duckdb.connect()
    rows_frame = pd.DataFrame(
        {
            "agency": ["NYPD", "NYPD", "DOT", None, "DOT"],
            "n": [1, 2, 3, 4, 2**40],
            "ttc_h": [0.5, None, 2.0, 1.5, 3.25],
        }
    )
    con.register("rows_frame", rows_frame)
    con.execute("CREATE TABLE rows AS SELECT * FROM rows_frame")
    t = ibis.duckdb.from_connection(con).table("rows")
    grouped = t.group_by("agency").aggregate(
        total=t.n.sum().cast("int64"), closed=t.ttc_h.notnull().sum().cast("int64"), worst=t.ttc_h.max()
    )
    expected = grouped.to_pandas().sort_values("total").reset_index(drop=True)
    got = to_frame(grouped).sort_values("total").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected)  # dtypes too
    assert got["total"].tolist() == [3, 4, 2**40 + 3]


def test_small_table_is_a_temporary_table_of_the_inputs_connection_named_by_content() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE rows AS SELECT range AS day FROM range(10)")
    rows = ibis.duckdb.from_connection(con).table("rows")
    frame = pd.DataFrame({"day": [2, 3, 5], "unit": [0, 0, 1]})
    small = small_table(frame, rows)
    again = small_table(frame.copy(), rows)
    other = small_table(frame.assign(unit=[0, 1, 1]), rows)
    temp = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary ORDER BY 1").fetchall()
    assert len(temp) == 2  # the same content made once
    assert small.get_name() == again.get_name() != other.get_name()
    joined = rows.inner_join(small, "day").order_by("day")
    assert to_frame(joined)["unit"].tolist() == [0, 0, 1]
    assert small_table(frame).op().__class__.__name__ == "InMemoryTable"  # no engine: a memtable


def test_numeric_frame_equals_to_frame_for_numbers_and_flags_with_or_without_nulls() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE rows AS SELECT range AS gid, range * 1000 AS ms, range / 4 AS ttc_h,"
        " range % 3 = 0 AS admin, range::INTEGER AS small, 'x' || range AS key FROM range(5000)"
    )
    t = ibis.duckdb.from_connection(con).table("rows")
    numbers = t.select("gid", "ms", "ttc_h", "admin", offset=ibis.literal(20_000, type="int64") - t.gid)
    pd.testing.assert_frame_equal(numeric_frame(numbers), to_frame(numbers))  # dtypes too
    # an INTEGER, a string or a NULL: Arrow's frame, the same as to_frame's
    for other in (
        t.select("gid", "small"),
        t.select("gid", "key"),
        t.select("gid", ms=ibis.ifelse(t.admin, ibis.null("int64"), t.ms)),
    ):
        pd.testing.assert_frame_equal(numeric_frame(other), to_frame(other))
