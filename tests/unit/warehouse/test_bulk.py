"""The bulk CSV loader on small files: unreadable rows quarantined, settings restored, progress reported."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import pytest

from resolve311.errors import ParseError
from resolve311.warehouse.bulk import BULK_MEMORY_LIMIT, bulk_load_csv, bulk_memory
from resolve311.warehouse.connection import connect
from resolve311.warehouse.direct_load import csv_rows_profiled

HEADER = b"Unique Key,Created Date,Agency,Status\n"


def load(
    tmp_path: Path, body: bytes, name: str = "f.csv"
) -> tuple[duckdb.DuckDBPyConnection, list[float], int]:
    path = tmp_path / name
    path.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    con = connect(tmp_path / "w.duckdb")
    seen: list[float] = []
    con.begin()
    result = bulk_load_csv(
        con, path, batch_seq=7, source="nyc", dataset=None, tz="America/New_York", progress=seen.append
    )
    con.commit()
    return con, seen, result.rows_new


def test_unreadable_rows_are_quarantined_after_the_readable_ones(tmp_path: Path) -> None:
    body = (
        HEADER
        + b"1,04/16/2024 03:03:15 AM,DOT,Open\n2,too,many,cells,here\n3,04/16/2024 04:00:00 AM,NYPD,Closed\n"
    )
    con, seen, new = load(tmp_path, body, "f.csv.gz")
    assert new == 2
    assert con.execute("SELECT unique_key FROM requests ORDER BY 1").fetchall() == [("1",), ("3",)]
    [(row_number, reason, detail, raw)] = con.execute(
        "SELECT row_number, reason, detail, raw FROM quarantine WHERE batch_seq = 7"
    ).fetchall()
    assert (row_number, reason) == (2, "unreadable_row")
    assert detail.startswith("line 3:") and "too,many" in raw
    assert seen[-1] == 100.0
    con.close()


def test_settings_are_restored_and_temporary_objects_dropped(tmp_path: Path) -> None:
    con, _, _ = load(tmp_path, HEADER + b"1,04/16/2024 03:03:15 AM,DOT,Open\n")
    assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
    leftovers = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_r311%'"
    ).fetchall()
    assert leftovers == []
    con.close()


def test_the_bulk_cap_holds_for_the_whole_transaction_then_the_previous_one_is_back(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")

    def cap() -> object:
        row = con.execute("SELECT current_setting('memory_limit')").fetchone()
        return row[0] if row else None

    default = cap()
    probe = duckdb.connect()
    probe.execute(f"SET memory_limit = '{BULK_MEMORY_LIMIT}'")
    bulk_cap = probe.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    probe.close()
    path = tmp_path / "f.csv"
    path.write_bytes(HEADER + b"1,04/16/2024 03:03:15 AM,DOT,Open\n")
    with bulk_memory(con):
        con.begin()
        bulk_load_csv(con, path, batch_seq=1, source="nyc", dataset=None, tz="America/New_York")
        assert cap() == bulk_cap != default  # still capped when the caller commits
        con.commit()
    assert cap() == default
    assert con.execute("SELECT count(*) FROM requests").fetchall() == [(1,)]
    con.close()


def test_a_header_without_a_key_column_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="no unique_key column"):
        load(tmp_path, b"07/20/2020 10:51:12 AM,NYPD,Noise\n07/20/2020 10:52:40 AM,DSNY,Dirty\n")


@pytest.mark.parametrize("missing_key", [True, False])
def test_a_row_that_is_not_utf8_is_quarantined_once_whichever_read_finds_it(
    tmp_path: Path, missing_key: bool
) -> None:
    """The count that spares a direct load its second read does not decode text: a non-UTF-8 row
    sends it to the ordered read, whose rejects alone are kept (no row quarantined twice)."""
    keyless = b",04/16/2024 03:05:00 AM,DOT,Open\n" if missing_key else b""
    body = (
        HEADER
        + b"1,04/16/2024 03:03:15 AM,DOT,Open\n2,04/16/2024 03:04:00 AM,D\xffT,Open\n"
        + keyless
        + b"4,04/16/2024 04:00:00 AM,NYPD,Closed\n"
    )
    con, _, new = load(tmp_path, body)
    assert new == 2
    rows = con.execute("SELECT row_number, reason FROM quarantine WHERE batch_seq = 7 ORDER BY 1").fetchall()
    readable = 3 if missing_key else 2
    expected = [(1, "missing_unique_key")] if missing_key else []
    assert rows == [*expected, (readable, "unreadable_row")]
    con.close()


def test_the_insert_profile_counts_the_rows_the_reader_produced(tmp_path: Path) -> None:
    """A direct load needs no second read of the file when the reader's own count says nothing was
    quarantined: the count must come from the profile (rejected rows not counted), and profiling is
    off again afterwards."""
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,x\n2,y,z\n3,\xff\xfe\n4,w\n")
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a VARCHAR, b VARCHAR)")
    reader = (
        f"read_csv('{path}', header = true, auto_detect = false, columns = {{'a': 'VARCHAR', 'b': 'VARCHAR'}}, "
        "store_rejects = true)"
    )
    with csv_rows_profiled(con) as rows_read:
        con.execute(f"INSERT INTO t SELECT a, b FROM {reader} WHERE b <> 'w'")
        read = rows_read()
    assert read == 2  # rows 1 and 4; the wrong cell count and the non-UTF-8 row were rejected
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(1,)]
    assert con.execute("SELECT current_setting('enable_profiling')").fetchall() == [(None,)]
