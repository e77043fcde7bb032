"""The PostgreSQL additions agree with the snapshot contract (snapshot_schema.sql)."""

from __future__ import annotations

import duckdb

from resolve311.metrics.snapshot import METRIC_TABLES, schema_sql
from resolve311.publish import pg_schema


def snapshot_columns() -> dict[str, list[str]]:
    con = duckdb.connect()
    con.execute(schema_sql())
    rows = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal ORDER BY column_index"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


def test_every_key_and_index_names_real_columns() -> None:
    columns = snapshot_columns() | {"metric_labels": ["metric", "label", "unit"]}
    for table, key in pg_schema.PRIMARY_KEYS.items():
        assert set(key) <= set(columns[table]), table
    for table, indexes in pg_schema.INDEXES.items():
        for index in indexes:
            assert set(index) <= set(columns[table]), (table, index)


def test_every_metric_table_and_column_has_a_comment() -> None:
    columns = snapshot_columns()
    for table in METRIC_TABLES:
        assert table in pg_schema.TABLE_COMMENTS
        missing = [c for c in columns[table] if c not in pg_schema.COLUMN_COMMENTS]
        assert missing == [], table


def test_every_scorecard_metric_has_a_label_and_unit() -> None:
    labels = {name: (label, unit) for name, label, unit in pg_schema.metric_labels()}
    assert len(labels) == 16
    assert labels["ttc_median_h"] == ("Time to close, median", "hours")
    assert {unit for _, unit in labels.values()} == {"count", "hours", "share"}
