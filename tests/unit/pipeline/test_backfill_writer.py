"""The backfill writer's DuckDB options: full row groups written while loading, not all at the commit."""

from pathlib import Path

import duckdb
import pytest

from resolve311.pipeline.backfill import _writer_options

ROWS = 250_000  # two full row groups (122,880 rows each) and part of a third


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    assert row is not None
    return str(row[0])


def _file_growth_before_commit(path: Path, con: duckdb.DuckDBPyConnection) -> int:
    """Bytes the database file grew by while a transaction inserted ROWS rows (before its commit)."""
    con.execute("CREATE TABLE t (k VARCHAR, v DOUBLE)")
    con.execute("CHECKPOINT")
    before = path.stat().st_size
    con.begin()
    con.execute(f"INSERT INTO t SELECT 'key-' || i::VARCHAR, i / 7 FROM range({ROWS}) r(i)")
    grown = path.stat().st_size - before
    con.commit()
    return grown


@pytest.mark.parametrize("workers", [1, 4])
def test_full_row_groups_reach_the_file_during_the_transaction(tmp_path: Path, workers: int) -> None:
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    with _writer_options(con, workers):
        assert _setting(con, "write_buffer_row_group_count") == "1"
        assert _setting(con, "threads") == ("1" if workers > 1 else _setting(duckdb.connect(), "threads"))
        assert _file_growth_before_commit(path, con) > 0
    assert con.execute("SELECT count(*) FROM t").fetchone() == (ROWS,)


def test_the_options_are_restored_after_the_run(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    before = (_setting(con, "write_buffer_row_group_count"), _setting(con, "threads"))
    with _writer_options(con, 4):
        pass
    assert (_setting(con, "write_buffer_row_group_count"), _setting(con, "threads")) == before


def test_without_the_option_duckdb_keeps_them_until_the_commit(tmp_path: Path) -> None:
    """What the option changes: by default DuckDB buffers the row groups (the whole commit compresses them)."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    assert _file_growth_before_commit(path, con) == 0
