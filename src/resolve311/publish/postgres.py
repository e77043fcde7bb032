"""The PostgreSQL sink: the serving tables for BI tools (Tableau, Power BI, Superset, Metabase).

Each release is loaded into ``<schema>_staging`` (COPY, with primary keys: a broken
snapshot fails there, before anything live is touched), then swapped in with ONE
transaction that replaces the rows of every live table and recreates the views. Readers
keep seeing the previous snapshot until that transaction commits, and never see a mix
of two (PostgreSQL's MVCC); a publisher killed at any point leaves the live tables whole.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import duckdb

from resolve311.errors import ConfigError
from resolve311.publish import pg_schema
from resolve311.publish.base import Release
from resolve311.settings import Settings

_TYPES: Final[dict[str, str]] = {
    "VARCHAR": "text", "DOUBLE": "double precision", "FLOAT": "real", "BIGINT": "bigint",
    "INTEGER": "integer", "SMALLINT": "smallint", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp",
    "DATE": "date", "HUGEINT": "numeric",
}  # fmt: skip

Columns = list[tuple[str, str]]


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "publishing to PostgreSQL needs psycopg: pip install 'resolve311[postgres]'"
        ) from None
    return psycopg


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


class PostgresSink:
    """Publish to the schema ``schema`` of the database at ``url``."""

    name = "postgres"
    required = False

    def __init__(self, url: str, schema: str = "resolve311") -> None:
        self.url = url
        self.schema = schema
        self.staging = f"{schema}_staging"

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresSink | None:
        """The schema ``publish_schema`` at ``publish_url``; None when the URL is unset."""
        if settings.publish_url is None:
            return None
        return cls(settings.publish_url.get_secret_value(), settings.publish_schema)

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str:
        psycopg = _psycopg()
        tables = _snapshot_tables(release.snapshot_path, release.tables())
        with psycopg.connect(self.url, autocommit=True, connect_timeout=30) as pg:
            rows = self.load_staging(pg, release.snapshot_path, tables)
            self.swap(pg, tables)
            pg.execute(f"DROP SCHEMA IF EXISTS {q(self.staging)} CASCADE")
        return f"{len(tables)} tables, {sum(rows.values())} rows in schema {self.schema}"

    # ------------------------------------------------------------ staging
    def load_staging(self, pg: Any, snapshot_path: Path, tables: dict[str, Columns]) -> dict[str, int]:
        """Recreate the staging schema and COPY every table into it."""
        pg.execute(f"DROP SCHEMA IF EXISTS {q(self.staging)} CASCADE")
        pg.execute(f"CREATE SCHEMA {q(self.staging)}")
        rows: dict[str, int] = {}
        with duckdb.connect(str(snapshot_path), read_only=True) as snap, tempfile.TemporaryDirectory() as tmp:
            for name, columns in tables.items():
                pg.execute(_create_sql(self.staging, name, columns))
                rows[name] = _copy_table(pg, snap, self.staging, name, columns, Path(tmp))
        pg.execute(_create_sql(self.staging, "metric_labels", _LABEL_COLUMNS))
        with pg.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {q(self.staging)}.metric_labels VALUES (%s, %s, %s)", pg_schema.metric_labels()
            )
        tables["metric_labels"] = _LABEL_COLUMNS
        rows["metric_labels"] = len(pg_schema.metric_labels())
        return rows

    # --------------------------------------------------------------- swap
    def swap(self, pg: Any, tables: dict[str, Columns]) -> None:
        """In one transaction: replace every live table's rows, then recreate the views."""
        live, staging = q(self.schema), q(self.staging)
        with pg.transaction():
            pg.execute(f"CREATE SCHEMA IF NOT EXISTS {live}")
            for view in pg_schema.views(self.schema):
                pg.execute(f"DROP VIEW IF EXISTS {live}.{q(view)}")
            for name, columns in tables.items():
                if _live_columns(pg, self.schema, name) != _live_columns(pg, self.staging, name):
                    pg.execute(f"DROP TABLE IF EXISTS {live}.{q(name)} CASCADE")
                    pg.execute(f"CREATE TABLE {live}.{q(name)} (LIKE {staging}.{q(name)} INCLUDING ALL)")
                    _add_indexes(pg, self.schema, name, [c for c, _ in columns])
                else:
                    pg.execute(f"DELETE FROM {live}.{q(name)}")
                pg.execute(f"INSERT INTO {live}.{q(name)} SELECT * FROM {staging}.{q(name)}")
                _comment(pg, self.schema, name, [c for c, _ in columns])
            for view, select in pg_schema.views(self.schema).items():
                pg.execute(f"CREATE VIEW {live}.{q(view)} AS {select}")
        for name in tables:
            pg.execute(f"ANALYZE {live}.{q(name)}")


_LABEL_COLUMNS: Final[Columns] = [("metric", "text"), ("label", "text"), ("unit", "text")]


def _snapshot_tables(path: Path, names: Sequence[str]) -> dict[str, Columns]:
    """The tables ``names`` of the snapshot with their columns as PostgreSQL types."""
    with duckdb.connect(str(path), read_only=True) as snap:
        rows = snap.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE NOT internal"
            " AND schema_name = 'main' ORDER BY table_name, column_index"
        ).fetchall()
    tables: dict[str, Columns] = {}
    for table, column, dtype in rows:
        if table in names:
            tables.setdefault(table, []).append((column, _TYPES.get(str(dtype).split("(")[0], "text")))
    return tables


def _create_sql(schema: str, name: str, columns: Columns) -> str:
    cols = [f"{q(c)} {t}" for c, t in columns]
    key = pg_schema.PRIMARY_KEYS.get(name)
    if key and {c for c, _ in columns} >= set(key):
        cols.append(f"PRIMARY KEY ({', '.join(q(c) for c in key)})")
    return f"CREATE TABLE {q(schema)}.{q(name)} ({', '.join(cols)})"


def _copy_table(
    pg: Any, snap: duckdb.DuckDBPyConnection, schema: str, name: str, columns: Columns, tmp: Path
) -> int:
    """COPY one table through a CSV file written by DuckDB (fast: no per-row Python)."""
    path = tmp / f"{name}.csv"
    snap.execute(f"COPY (SELECT * FROM {q(name)}) TO '{path}' (FORMAT csv, HEADER false)")
    cols = ", ".join(q(c) for c, _ in columns)
    with pg.cursor() as cur:
        with (
            cur.copy(f"COPY {q(schema)}.{q(name)} ({cols}) FROM STDIN (FORMAT csv)") as copy,
            path.open("rb") as f,
        ):
            while chunk := f.read(1 << 20):
                copy.write(chunk)
        count = cur.execute(f"SELECT count(*) FROM {q(schema)}.{q(name)}").fetchone()
    path.unlink()
    return int(count[0])


def _live_columns(pg: Any, schema: str, name: str) -> Columns:
    rows = pg.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [(c, t) for c, t in rows]


def _add_indexes(pg: Any, schema: str, name: str, columns: Sequence[str]) -> None:
    for i, index in enumerate(pg_schema.INDEXES.get(name, ())):
        if set(index) <= set(columns):
            cols = ", ".join(q(c) for c in index)
            pg.execute(f"CREATE INDEX {q(f'{name}_bi_{i}')} ON {q(schema)}.{q(name)} ({cols})")


def _comment(pg: Any, schema: str, name: str, columns: Sequence[str]) -> None:
    table = f"{q(schema)}.{q(name)}"
    if name in pg_schema.TABLE_COMMENTS:
        pg.execute(f"COMMENT ON TABLE {table} IS {_literal(pg_schema.TABLE_COMMENTS[name])}")
    for column in columns:
        if column in pg_schema.COLUMN_COMMENTS:
            text = _literal(pg_schema.COLUMN_COMMENTS[column])
            pg.execute(f"COMMENT ON COLUMN {table}.{q(column)} IS {text}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
