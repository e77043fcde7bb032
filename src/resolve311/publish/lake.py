"""The open Parquet lake: the warehouse and the serving tables as plain Parquet on any fsspec URL.

Layout (docs/consumers.md)::

    _lake.json                                    the manifest: every table's current files
    requests/created_month=YYYY-MM/part-*.parquet current state, by created month
    request_versions/landed_date=YYYY-MM-DD/...   every version, by the day it was loaded
    quarantine/part-*.parquet
    serving/<table>/part-*.parquet                every serving-snapshot table

A run rewrites only the partitions it touched: new files under new names, then one
atomic write of ``_lake.json`` (a rename on a local disk, a single PUT on object
storage), then the files no longer listed are deleted. A reader that takes its file
list from ``_lake.json`` never sees half an update.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import duckdb
import pyarrow as pa

from resolve311.publish.base import Release
from resolve311.settings import Settings

MANIFEST: Final[str] = "_lake.json"
FORMAT: Final[str] = "resolve311-lake/1"


@dataclass(frozen=True)
class Partitioned:
    """A warehouse table in the lake, partitioned by ``column`` truncated to ``unit``."""

    name: str
    key: str  # partition directory name, e.g. created_month
    column: str
    unit: str  # 'month' | 'day' | '' (one partition)

    def value(self, start: date) -> str:
        return start.strftime("%Y-%m") if self.unit == "month" else start.isoformat()


WAREHOUSE_TABLES: Final[tuple[Partitioned, ...]] = (
    Partitioned("requests", "created_month", "created_date", "month"),
    Partitioned("request_versions", "landed_date", "loaded_at", "day"),
    Partitioned("quarantine", "", "quarantined_at", ""),
)
_SELECT: Final[dict[str, str]] = {
    "requests": "SELECT * REPLACE (extra::VARCHAR AS extra) FROM requests",
    "request_versions": "SELECT * REPLACE (extra::VARCHAR AS extra) FROM request_versions",
    "quarantine": "SELECT * FROM quarantine",
}
_ORDER: Final[dict[str, str]] = {
    "requests": "unique_key", "request_versions": "unique_key, row_hash", "quarantine": "batch_seq, row_number",
}  # fmt: skip


class LakeSink:
    """Keep the lake at ``url`` up to date with the warehouse and the release."""

    name = "lake"
    required = False

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        import fsspec  # imported when a lake is configured: not on every refresh's path

        self.fs, self.root = fsspec.core.url_to_fs(self.url)

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeSink | None:
        """The lake at ``lake_url``; None when it is unset."""
        return cls(settings.lake_url) if settings.lake_url else None

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str:
        old = read_manifest(self.fs, self.root)
        version = int(old.get("version", 0)) + 1
        since = _incremental_since(warehouse, old)
        tables: dict[str, Any] = {}
        rewritten = 0
        for spec in WAREHOUSE_TABLES:
            previous = old.get("tables", {}).get(spec.name) if since is not None else None
            tables[spec.name], n = self._update(warehouse, spec, previous, since, version)
            rewritten += n
        for name in release.tables():
            files = [self._write(release.read(name), f"serving/{name}", version)]
            tables[f"serving/{name}"] = _entry("", {"": files})
        manifest = {
            "format": FORMAT,
            "version": version,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "generation": release.generation,
            "as_of": release.as_of,
            "batch_seq": _high_seq(warehouse),
            "tables": tables,
        }
        write_manifest(self.fs, self.root, manifest)
        removed = self._collect_garbage(manifest)
        mode = "full" if since is None else "incremental"
        return f"{mode} v{version}: {rewritten} partition(s) rewritten, {removed} old file(s) removed"

    # ------------------------------------------------------------ tables
    def _update(
        self, con: duckdb.DuckDBPyConnection, spec: Partitioned, previous: dict[str, Any] | None,
        since: int | None, version: int,
    ) -> tuple[dict[str, Any], int]:  # fmt: skip
        """The table's new manifest entry, rewriting the partitions changed after batch ``since``."""
        partitions: dict[str, list[str]] = dict(previous["partitions"]) if previous else {}
        starts = _touched(con, spec, None if previous is None else since)
        for start in starts:
            value = "" if start is None else spec.value(start)
            frame = _partition_rows(con, spec, start)
            if frame.num_rows == 0 and spec.unit:
                partitions.pop(value, None)
                continue
            folder = spec.name if not spec.unit else f"{spec.name}/{spec.key}={value}"
            partitions[value] = [self._write(frame, folder, version)]
        if previous is None:  # a full rewrite drops partitions that no longer exist
            kept = {"" if s is None else spec.value(s) for s in starts}
            partitions = {k: v for k, v in partitions.items() if k in kept}
        return _entry(spec.key, partitions), len(starts)

    def _write(self, table: pa.Table, folder: str, version: int) -> str:
        """Write one new Parquet file under ``folder``; returns its path relative to the lake."""
        relative = f"{folder}/part-{version:06d}-{uuid.uuid4().hex[:8]}.parquet"
        path = f"{self.root}/{relative}"
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        import pyarrow.parquet as pq

        with self.fs.open(path, "wb") as out:
            pq.write_table(table, out, compression="zstd")
        return relative

    def _collect_garbage(self, manifest: dict[str, Any]) -> int:
        """Delete the Parquet files the manifest no longer lists (and any left by a crashed update)."""
        keep = {f for entry in manifest["tables"].values() for f in entry["files"]}
        removed = 0
        for path in self.fs.find(self.root):
            relative = path[len(self.root.rstrip("/")) + 1 :]
            if relative.endswith(".parquet") and not relative.startswith("_") and relative not in keep:
                self.fs.rm_file(path)
                removed += 1
        return removed


def _entry(key: str, partitions: dict[str, list[str]]) -> dict[str, Any]:
    files = [f for value in sorted(partitions) for f in partitions[value]]
    return {"partition_by": key or None, "partitions": partitions, "files": files}


def _high_seq(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(
        "SELECT greatest((SELECT max(batch_seq) FROM request_versions), (SELECT max(batch_seq) FROM quarantine))"
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _incremental_since(con: duckdb.DuckDBPyConnection, manifest: dict[str, Any]) -> int | None:
    """The batch the lake is up to date with, or None for a full rewrite (new lake, rebuilt warehouse)."""
    seq = manifest.get("batch_seq")
    if manifest.get("format") != FORMAT or seq is None or int(seq) > _high_seq(con):
        return None
    return int(seq)


def _touched(con: duckdb.DuckDBPyConnection, spec: Partitioned, since: int | None) -> list[date | None]:
    """Partition starts to rewrite: all of them when ``since`` is None."""
    if not spec.unit:
        if since is None:
            return [None]
        row = con.execute(f"SELECT count(*) FROM {spec.name} WHERE batch_seq > ?", [since]).fetchone()
        return [None] if row and row[0] else []
    trunc = f"date_trunc('{spec.unit}', {spec.column})::DATE"
    if since is None:
        sql = f"SELECT DISTINCT {trunc} FROM {spec.name}"
        params: list[object] = []
    elif spec.name == "requests":  # every month any version of a changed request was created in
        sql = (
            f"SELECT DISTINCT {trunc} FROM request_versions WHERE unique_key IN "
            "(SELECT unique_key FROM request_versions WHERE batch_seq > ?)"
        )
        params = [since]
    else:
        sql, params = f"SELECT DISTINCT {trunc} FROM {spec.name} WHERE batch_seq > ?", [since]
    return sorted(r[0] for r in con.execute(sql, params).fetchall())


def _partition_rows(con: duckdb.DuckDBPyConnection, spec: Partitioned, start: date | None) -> pa.Table:
    select, order = _SELECT[spec.name], _ORDER[spec.name]
    if start is None:
        return con.sql(f"{select} ORDER BY {order}").to_arrow_table()
    span = f"INTERVAL 1 {spec.unit.upper()}"
    return con.sql(
        f"{select} WHERE {spec.column} >= ?::TIMESTAMP AND {spec.column} < ?::TIMESTAMP + {span}"
        f" ORDER BY {order}",
        params=[start, start],
    ).to_arrow_table()


def read_manifest(fs: Any, root: str) -> dict[str, Any]:
    """The lake's manifest ({} when there is no lake yet)."""
    path = f"{root}/{MANIFEST}"
    if not fs.exists(path):
        return {}
    data: dict[str, Any] = json.loads(fs.cat_file(path))
    return data


def write_manifest(fs: Any, root: str, manifest: dict[str, Any]) -> None:
    """Switch the lake to ``manifest`` atomically: rename on a local disk, one PUT elsewhere."""
    data = json.dumps(manifest, indent=1, sort_keys=True).encode()
    from fsspec.implementations.local import LocalFileSystem

    path = f"{root}/{MANIFEST}"
    if isinstance(fs, LocalFileSystem):
        tmp = f"{root}/.{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        fs.pipe_file(tmp, data)
        fs.mv(tmp, path)
    else:
        fs.pipe_file(path, data)
