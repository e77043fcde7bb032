"""The warehouse loader as a consumer of the landing log.

Each batch is parsed, normalised (API pages possibly earlier, in the worker
thread that fetched them: :func:`prepare_batch` is pure) and loaded in ONE transaction together with the
consumer's checkpoint (``landing_checkpoint``) and, for incremental API batches,
the dataset's watermark. A crash leaves either all of it or none of it, and a
batch at or below the checkpoint is skipped, so replaying the log is harmless.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from resolve311.extract.incremental import parse_system_time
from resolve311.extract.pages import read_api_page
from resolve311.landing.store import BatchMeta, Format, LandingStore, Manifest
from resolve311.pipeline import ledger
from resolve311.sources.catalog import Source
from resolve311.warehouse.formats import read_records
from resolve311.warehouse.loader import LoadResult, load_batch
from resolve311.warehouse.normalize import NormalizedBatch, normalize
from resolve311.warehouse.transaction import transaction

WAREHOUSE_CONSUMER = "warehouse"


def checkpoint(con: duckdb.DuckDBPyConnection, consumer: str = WAREHOUSE_CONSUMER) -> int:
    """The last landing sequence number loaded by ``consumer`` (0 when none)."""
    row = con.execute("SELECT last_seq FROM landing_checkpoint WHERE consumer = ?", [consumer]).fetchone()
    return int(row[0]) if row else 0


def read_batch(data: bytes, fmt: Format, dataset: str | None) -> pa.Table:
    """A batch's rows as text columns: API pages by the fast page reader, files by ``read_records``."""
    if fmt == "json" and dataset is not None:
        return read_api_page(data)
    return read_records(data, fmt)


def prepare_batch(
    records: pa.Table, meta: BatchMeta, source: Source, threads: int | None = None
) -> NormalizedBatch:
    """Normalise a batch's rows (pure: may run in any thread, before the batch is landed)."""
    return normalize(
        records,
        source=meta.source,
        dataset=meta.dataset,
        tz=source.timezone,
        field_map=source.field_map,
        rules=source.rules,
        threads=threads,
    )


def apply_batch(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    data: bytes,
    source: Source,
    path: Path | None = None,
    prepared: NormalizedBatch | None = None,
) -> LoadResult | None:
    """Load one landed batch with its checkpoint (and watermark) atomically; None if already loaded.

    A whole landed file (``manifest.stored == "file"``) is read from ``path`` by the bulk loader;
    ``prepared`` is the batch already normalised from ``data`` (by :func:`prepare_batch`).
    """
    if manifest.seq <= checkpoint(con):
        return None
    if path is None and prepared is None:
        prepared = prepare_batch(read_batch(data, manifest.format, manifest.dataset), manifest, source)
    with contextlib.ExitStack() as stack:
        if prepared is None:  # a whole file: its cap holds through the commit, which writes the rows
            from resolve311.warehouse.bulk import bulk_memory

            stack.enter_context(bulk_memory(con))
        with transaction(con):
            if prepared is not None:
                result = load_batch(con, prepared, batch_seq=manifest.seq)
            else:
                assert path is not None
                result = load_file(con, path, manifest.seq, manifest.source, manifest.dataset, source)
            finish_batch(con, manifest)
    return result


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    seq: int,
    source_name: str,
    dataset: str | None,
    source: Source,
) -> LoadResult:
    """Bulk-load a whole CSV file as batch ``seq`` (inside the caller's transaction)."""
    from resolve311.warehouse.bulk import bulk_load_csv

    return bulk_load_csv(
        con, path, batch_seq=seq, source=source_name, dataset=dataset, tz=source.timezone,
        field_map=dict(source.field_map), rules=source.rules,
    )  # fmt: skip


def load_landed(con: duckdb.DuckDBPyConnection, manifest: Manifest, batch: NormalizedBatch) -> LoadResult:
    """Inside the caller's transaction: load a landed batch, move its watermark and the checkpoint."""
    result = load_batch(con, batch, batch_seq=manifest.seq)
    finish_batch(con, manifest)
    return result


def finish_batch(con: duckdb.DuckDBPyConnection, manifest: Manifest) -> None:
    """Inside the caller's transaction: a loaded batch moves its watermark and the checkpoint."""
    if manifest.advances_watermark and manifest.dataset and manifest.watermark_to:
        ledger.advance_watermark(
            con, manifest.source, manifest.dataset, parse_system_time(manifest.watermark_to)
        )
    save_checkpoint(con, manifest.seq)


def save_checkpoint(con: duckdb.DuckDBPyConnection, seq: int) -> None:
    """The warehouse consumer has loaded every batch up to ``seq`` (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO landing_checkpoint VALUES (?, ?) "
        "ON CONFLICT (consumer) DO UPDATE SET last_seq = excluded.last_seq",
        [WAREHOUSE_CONSUMER, seq],
    )


def drain(
    con: duckdb.DuckDBPyConnection,
    store: LandingStore,
    source_for: Callable[[str], Source],
    on_loaded: Callable[[Manifest, LoadResult], None],
) -> int:
    """Load every landed batch after the checkpoint, in sequence order; returns how many."""
    loaded = 0
    for manifest in store.manifests(after_seq=checkpoint(con)):
        if manifest.stored == "file":
            with store.file_of(manifest) as path:
                result = apply_batch(con, manifest, b"", source_for(manifest.source), path)
        else:
            result = apply_batch(con, manifest, store.read(manifest), source_for(manifest.source))
        if result is not None:
            on_loaded(manifest, result)
            loaded += 1
    return loaded
