"""The warehouse loader as a consumer of the landing log.

Each batch is parsed, normalised (API pages possibly earlier, in the worker
thread that fetched them: :func:`prepare_batch` is pure) and loaded in ONE transaction together with the
consumer's checkpoint (``landing_checkpoint``) and, for incremental API batches,
the dataset's watermark. A crash leaves either all of it or none of it, and a
batch at or below the checkpoint is skipped, so replaying the log is harmless.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from resolve311.extract import ledger
from resolve311.extract.incremental import parse_system_time
from resolve311.extract.pages import read_api_page
from resolve311.landing.store import BatchMeta, Format, LandingStore, Manifest
from resolve311.sources.catalog import Source
from resolve311.warehouse.formats import read_records
from resolve311.warehouse.loader import LoadResult, load_batch
from resolve311.warehouse.normalize import NormalizedBatch, normalize

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


def prepare_batch(records: pa.Table, meta: BatchMeta, source: Source) -> NormalizedBatch:
    """Normalise a batch's rows (pure: may run in any thread, before the batch is landed)."""
    return normalize(
        records, source=meta.source, dataset=meta.dataset, tz=source.timezone, field_map=source.field_map
    )


def apply_batch(
    con: duckdb.DuckDBPyConnection,
    manifest: Manifest,
    data: bytes,
    source: Source,
    prepared: NormalizedBatch | None = None,
) -> LoadResult | None:
    """Load one landed batch with its checkpoint (and watermark) atomically; None if already loaded.

    ``prepared`` is the batch already normalised from ``data`` (by :func:`prepare_batch`).
    """
    if manifest.seq <= checkpoint(con):
        return None
    batch = (
        prepared
        if prepared is not None
        else prepare_batch(read_batch(data, manifest.format, manifest.dataset), manifest, source)
    )
    con.begin()
    try:
        result = load_landed(con, manifest, batch)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def load_landed(con: duckdb.DuckDBPyConnection, manifest: Manifest, batch: NormalizedBatch) -> LoadResult:
    """Inside the caller's transaction: load a landed batch, move its watermark and the checkpoint."""
    result = load_batch(con, batch, batch_seq=manifest.seq)
    if manifest.advances_watermark and manifest.dataset and manifest.watermark_to:
        ledger.advance_watermark(
            con, manifest.source, manifest.dataset, parse_system_time(manifest.watermark_to)
        )
    con.execute(
        "INSERT INTO landing_checkpoint VALUES (?, ?) "
        "ON CONFLICT (consumer) DO UPDATE SET last_seq = excluded.last_seq",
        [WAREHOUSE_CONSUMER, manifest.seq],
    )
    return result


def drain(
    con: duckdb.DuckDBPyConnection,
    store: LandingStore,
    source_for: Callable[[str], Source],
    on_loaded: Callable[[Manifest, LoadResult], None],
) -> int:
    """Load every landed batch after the checkpoint, in sequence order; returns how many."""
    loaded = 0
    for manifest in store.manifests(after_seq=checkpoint(con)):
        result = apply_batch(con, manifest, store.read(manifest), source_for(manifest.source))
        if result is not None:
            on_loaded(manifest, result)
            loaded += 1
    return loaded
