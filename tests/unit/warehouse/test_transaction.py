"""`transaction` commits or rolls back; `duckdb_options` puts every option back as it was."""

from __future__ import annotations

import duckdb
import pytest

from resolve311.warehouse.transaction import duckdb_options, transaction


def _setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    assert row is not None
    return str(row[0]).lower()


def _gib(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"gib": 1.0, "mib": 1 / 1024}[unit]


def test_transaction_commits_the_block() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    with transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
    assert con.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_transaction_rolls_back_on_any_exception_and_reraises() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x INTEGER)")
    with pytest.raises(KeyboardInterrupt), transaction(con):
        con.execute("INSERT INTO t VALUES (1)")
        raise KeyboardInterrupt
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    with transaction(con):  # the connection is usable again: no transaction left open
        con.execute("INSERT INTO t VALUES (2)")
    assert con.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_options_at_their_default_come_back_exactly() -> None:
    con = duckdb.connect()
    default = _setting(con, "memory_limit")
    with duckdb_options(con, memory_limit="1GB", preserve_insertion_order=False):
        assert _setting(con, "memory_limit") != default
        assert _setting(con, "preserve_insertion_order") == "false"
    assert _setting(con, "memory_limit") == default
    assert _setting(con, "preserve_insertion_order") == "true"


def test_an_option_a_caller_changed_is_put_back_even_after_an_error() -> None:
    con = duckdb.connect()
    con.execute("SET memory_limit = '3GB'")
    before = _setting(con, "memory_limit")
    with pytest.raises(RuntimeError), duckdb_options(con, memory_limit="500MB"):
        raise RuntimeError("boom")
    # DuckDB reports the cap rounded ('2.7 gib' for 3GB): put back within one step of what it reports
    assert abs(_gib(_setting(con, "memory_limit")) - _gib(before)) <= 0.15
    assert _setting(con, "memory_limit") != _setting(duckdb.connect(), "memory_limit")  # not the default


def test_a_nested_block_setting_the_same_value_leaves_it_exactly_as_it_was() -> None:
    con = duckdb.connect()
    with duckdb_options(con, memory_limit="3GB"):
        outer = _setting(con, "memory_limit")
        with duckdb_options(con, memory_limit="3GB"):  # e.g. bulk_load_csv inside bulk_memory
            pass
        assert _setting(con, "memory_limit") == outer  # not the rounded text set back
