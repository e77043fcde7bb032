"""The only place that opens the warehouse DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

from resolve311.warehouse.row_hash import ensure_row_hash_scheme
from resolve311.warehouse.transaction import transaction


def migrations() -> list[tuple[int, str]]:
    """Every ``NNN_name.sql`` in ``warehouse/migrations`` as (version, SQL), in version order."""
    folder = resources.files("resolve311.warehouse.migrations")
    found = [(int(f.name[:3]), f.read_text()) for f in folder.iterdir() if f.name.endswith(".sql")]
    return sorted(found)


SCHEMA_VERSION = max(version for version, _ in migrations())


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create or upgrade the warehouse schema: apply each migration not yet recorded, in order.

    Each migration runs in one transaction with its ``schema_version`` row, so a crash leaves it
    applied and recorded, or neither. Then stored ``row_hash`` values are brought to the current
    scheme when needed (:func:`~resolve311.warehouse.row_hash.ensure_row_hash_scheme`).
    """
    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    applied = {row[0] for row in con.execute("SELECT version FROM schema_version").fetchall()}
    for version, sql in migrations():
        if version not in applied:
            with transaction(con):  # a migration and its version row commit together
                con.execute(sql)
                con.execute("INSERT INTO schema_version VALUES (?)", [version])
    ensure_row_hash_scheme(con)


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and on first use create and migrate) the warehouse at ``path``."""
    if read_only:
        return _quiet(duckdb.connect(str(path), read_only=True))
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _quiet(duckdb.connect(str(path)))
    migrate(con)
    return con


def _quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """DuckDB prints a progress bar to stdout on long queries: it would corrupt `--json` output."""
    con.execute("SET enable_progress_bar = false")
    return con


@contextmanager
def open_warehouse(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`connect` that always closes the connection."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
