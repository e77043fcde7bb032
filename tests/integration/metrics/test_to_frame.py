"""definitions.to_frame fetches through Arrow: the same frame as Ibis's to_pandas, sums included."""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd

from resolve311.metrics.definitions import to_frame


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
