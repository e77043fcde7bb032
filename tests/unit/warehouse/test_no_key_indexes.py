"""Migrations 008 and 009 on a warehouse the code before them wrote: every row kept, no index,
each row stored once (``request_versions`` a view over ``request_history`` and ``requests``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from resolve311.warehouse.connection import SCHEMA_VERSION, connect, migrations
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize
from resolve311.warehouse.row_hash import current_probe

T2 = "2024-04-17T08:00:00.000Z"


def _warehouse_at_007(path: Path, rows_from: Path) -> None:
    """A warehouse as the code before 008 left it (PRIMARY KEY, unique versions index, every version
    in the ``request_versions`` table), holding the rows of the warehouse at ``rows_from``."""
    con = duckdb.connect(str(path))
    for version, sql in migrations():
        if version <= 7:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?)", [version])
    con.execute("INSERT INTO row_hash_scheme VALUES (?)", [current_probe(con)])  # the hashes are current
    con.execute(f"ATTACH '{rows_from}' AS src (READ_ONLY)")
    for table in ("requests", "request_versions"):
        con.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    con.execute("DETACH src")
    con.close()


def _indexes(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return con.execute(
        "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE table_name IN ('requests', "
        "'request_versions', 'request_history') AND constraint_type <> 'NOT NULL' UNION ALL "
        "SELECT table_name, index_name FROM duckdb_indexes() "
        "WHERE table_name IN ('requests', 'request_versions', 'request_history')"
    ).fetchall()


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> list[Any]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_migrations_keep_every_row_drop_the_indexes_and_store_each_row_once(
    tmp_path: Path, make_row: Any
) -> None:
    scratch = connect(tmp_path / "scratch.duckdb")  # the rows, written by today's loader
    batches = [
        [make_row(unique_key="1"), make_row(unique_key="2", status="Closed"), make_row(unique_key="3")],
        [make_row(unique_key="1", status="Closed", **{":updated_at": T2})],
    ]
    for seq, rows in enumerate(batches, start=1):
        scratch.begin()
        load_batch(scratch, normalize(rows, source="nyc", dataset=None), batch_seq=seq)
        scratch.commit()
    scratch.close()
    path = tmp_path / "w.duckdb"
    _warehouse_at_007(path, tmp_path / "scratch.duckdb")
    con = duckdb.connect(str(path))
    assert sorted(_indexes(con)) == [
        ("request_versions", "request_versions_key"),
        ("requests", "PRIMARY KEY"),
    ]
    before = {t: _rows(con, t) for t in ("requests", "request_versions")}
    columns = [c[:2] for c in con.execute("DESCRIBE request_versions").fetchall()]
    con.close()
    assert len(before["requests"]) == 3 and len(before["request_versions"]) == 4

    con = connect(path)
    assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert {t: _rows(con, t) for t in before} == before  # the same rows through the view
    assert [c[:2] for c in con.execute("DESCRIBE request_versions").fetchall()] == columns
    assert len(_rows(con, "request_history")) == 1  # only key 1's superseded version is stored apart
    assert _indexes(con) == []
    con.close()


def test_each_version_is_stored_once_and_a_revived_one_shows_once(tmp_path: Path, make_row: Any) -> None:
    """A, then B, then A again as newer (file imports: no :updated_at, the later batch wins)."""
    con = connect(tmp_path / "w.duckdb")
    a, b = (
        make_row(status="Open", **{":updated_at": None}),
        make_row(status="Closed", **{":updated_at": None}),
    )
    for seq, row in enumerate([a, b, a, b], start=1):
        con.begin()
        load_batch(con, normalize([row], source="nyc", dataset=None), batch_seq=seq)
        con.commit()
    versions = con.execute("SELECT status, batch_seq FROM request_versions ORDER BY batch_seq").fetchall()
    assert versions == [("Open", 3), ("Closed", 4)]  # each version once, B current since batch 4
    assert con.execute("SELECT status, batch_seq FROM requests").fetchall() == [("Closed", 4)]
    assert con.execute("SELECT status, batch_seq FROM request_history").fetchall() == [("Open", 3)]
    con.close()
