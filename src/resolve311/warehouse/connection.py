"""The only place that opens the warehouse DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

SCHEMA_VERSION = 1


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create or upgrade the warehouse schema (idempotent)."""
    sql = resources.files("resolve311.warehouse.migrations").joinpath("001_initial.sql").read_text()
    con.execute(sql)
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    if row is None or row[0] is None:
        con.execute("INSERT INTO schema_version VALUES (?)", [SCHEMA_VERSION])


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
