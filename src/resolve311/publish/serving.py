"""The serving-file sink: the DuckDB snapshot the dashboard reads.

The metrics stage writes it (``metrics.snapshot.write_snapshot``: a temporary file
renamed into place); this sink is the first of every publish and checks that the
file on disk is whole and holds the release's generation, so the ledger records
the dashboard's copy next to the others.
"""

from __future__ import annotations

import duckdb

from resolve311.publish.base import Release


class ServingFile:
    """The dashboard's DuckDB file."""

    name = "serving"

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str:
        with duckdb.connect(str(release.snapshot_path), read_only=True) as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'generated_at'").fetchone()
            tables = con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()
        if row is None or not release.generation.startswith(f"{row[0]}+"):
            raise RuntimeError(f"{release.snapshot_path} changed while publishing")
        return f"{tables[0] if tables else 0} tables in {release.snapshot_path.name}"
