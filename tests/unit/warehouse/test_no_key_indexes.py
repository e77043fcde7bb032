"""Migration 008: the request tables lose their ART indexes, keep every row, column and NOT NULL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from resolve311.warehouse.connection import SCHEMA_VERSION, connect, migrations
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize
from resolve311.warehouse.row_hash import ensure_row_hash_scheme

TABLES = ("requests", "request_versions")


def _warehouse_at_007(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse as the code before migration 008 left it (PRIMARY KEY, unique versions index)."""
    con = duckdb.connect(str(path))
    for version, sql in migrations():
        if version <= 7:
            con.execute(sql)
            con.execute("INSERT INTO schema_version VALUES (?)", [version])
    ensure_row_hash_scheme(con)
    return con


def _indexes(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return con.execute(
        "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE table_name IN ('requests', "
        "'request_versions') AND constraint_type <> 'NOT NULL' UNION ALL "
        "SELECT table_name, index_name FROM duckdb_indexes() WHERE table_name IN ('requests', 'request_versions')"
    ).fetchall()


def _not_nulls(con: duckdb.DuckDBPyConnection) -> list[Any]:
    return con.execute(
        "SELECT table_name, constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name IN ('requests', 'request_versions') AND constraint_type = 'NOT NULL' ORDER BY ALL"
    ).fetchall()


def test_migration_008_keeps_every_row_and_drops_the_indexes(tmp_path: Path, make_row: Any) -> None:
    path = tmp_path / "w.duckdb"
    con = _warehouse_at_007(path)
    assert sorted(_indexes(con)) == [
        ("request_versions", "request_versions_key"),
        ("requests", "PRIMARY KEY"),
    ]
    batches = [
        [make_row(unique_key="1"), make_row(unique_key="2", status="Closed")],
        [make_row(unique_key="1", status="Closed", **{":updated_at": "2024-04-17T08:00:00.000Z"})],
    ]
    for seq, rows in enumerate(batches, start=1):
        con.begin()
        load_batch(con, normalize(rows, source="nyc", dataset=None), batch_seq=seq)
        con.commit()
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    columns = {t: [c[:3] for c in con.execute(f"DESCRIBE {t}").fetchall()] for t in TABLES}
    not_nulls = _not_nulls(con)
    con.close()

    con = connect(path)
    assert con.execute("SELECT max(version) FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES} == before
    assert len(before["requests"]) == 2 and len(before["request_versions"]) == 3
    assert {t: [c[:3] for c in con.execute(f"DESCRIBE {t}").fetchall()] for t in TABLES} == columns
    assert _not_nulls(con) == not_nulls
    assert _indexes(con) == []
    con.close()
