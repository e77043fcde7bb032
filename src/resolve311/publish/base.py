"""The publish interface: a release (one serving snapshot) and a sink that copies it somewhere."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from resolve311.settings import Settings


@dataclass(frozen=True)
class Release:
    """One serving snapshot: its file, and its generation (``meta.generated_at`` + "+" + the file's mtime_ns)."""

    settings: Settings
    snapshot_path: Path
    generation: str
    as_of: str | None
    run_id: str | None = None

    def tables(self) -> list[str]:
        """The snapshot's tables, in name order."""
        with duckdb.connect(str(self.snapshot_path), read_only=True) as con:
            rows = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY table_name"
            ).fetchall()
        return [r[0] for r in rows]

    def read(self, table: str) -> pa.Table:
        """One snapshot table as Arrow."""
        with duckdb.connect(str(self.snapshot_path), read_only=True) as con:
            return con.sql(f'SELECT * FROM "{table}"').to_arrow_table()


class Sink(Protocol):
    """Somewhere a release is copied to. ``publish`` raises on failure and returns a short detail."""

    @property
    def name(self) -> str: ...

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str: ...
