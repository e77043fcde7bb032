"""The publish interface: a release (one complete serving snapshot) and a sink that publishes it.

A sink is a class with a ``name``, a ``required`` flag, a ``from_settings`` classmethod
(None when its settings leave it off) and ``publish(release, warehouse) -> detail``; the
list of sinks is ``SINKS`` in ``sinks.py`` (docs/consumers.md, "Adding a sink").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from resolve311.settings import Settings

#: Snapshot tables only the dashboard's file carries (they name subscribers' addresses).
PRIVATE_TABLES: frozenset[str] = frozenset({"digest_deliveries"})


@dataclass(frozen=True)
class Release:
    """One complete serving snapshot in a DuckDB file, and its generation.

    The generation is ``meta.generated_at`` + "+" + the file's mtime_ns: unique per
    release, and the same for the file linked into place. ``staged``: the file is a
    temporary one built for this publish (``release.py``), not the serving file itself.
    """

    settings: Settings
    snapshot_path: Path
    generation: str
    as_of: str | None
    run_id: str | None = None
    staged: bool = False

    @classmethod
    def of_file(
        cls, settings: Settings, path: Path, run_id: str | None = None, *, staged: bool = False
    ) -> Release:
        """The release a snapshot file holds."""
        with duckdb.connect(str(path), read_only=True) as con:
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        generation = f"{meta.get('generated_at') or ''}+{path.stat().st_mtime_ns}"
        return cls(settings, path, generation, meta.get("as_of"), run_id, staged)

    def tables(self) -> list[str]:
        """The snapshot's tables for every consumer, in name order (not :data:`PRIVATE_TABLES`)."""
        with duckdb.connect(str(self.snapshot_path), read_only=True) as con:
            rows = con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE NOT internal ORDER BY table_name"
            ).fetchall()
        return [r[0] for r in rows if r[0] not in PRIVATE_TABLES]

    def read(self, table: str) -> pa.Table:
        """One snapshot table as Arrow."""
        with duckdb.connect(str(self.snapshot_path), read_only=True) as con:
            return con.sql(f'SELECT * FROM "{table}"').to_arrow_table()


class Sink(Protocol):
    """Somewhere a release is published. ``publish`` raises on failure and returns a short detail.

    A ``required`` sink (the serving file) must succeed for a run to succeed; the others
    never fail a run nor block the dashboard: their failure is recorded and retried.
    """

    @property
    def name(self) -> str: ...

    @property
    def required(self) -> bool: ...

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str: ...
