"""`backfill`: created-date windows pulled by several workers at once, landed and loaded in order.

The range is cut into windows (``chunk_days`` of created dates per dataset).
With ``backfill_workers > 1`` a :class:`~resolve311.extract.pool.WindowPool`
pulls that many windows at once; each worker also does the pure, GIL-free work
of a page: reading the JSON into Arrow, normalising it, compressing it for
the landing log. The calling thread is the single writer: it lands and loads
the pages window after window, in plan order, each page in one transaction
with its checkpoint, and marks a window done when its last page is in. With
``backfill_workers = 1`` the same steps run one after the other in one thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from resolve311.extract import ledger, soql
from resolve311.extract.incremental import PulledPage, WindowPuller
from resolve311.extract.pages import read_api_page
from resolve311.extract.pool import WindowPool
from resolve311.extract.runner import Progress, RunContext
from resolve311.landing.consumer import apply_batch, prepare_batch
from resolve311.landing.store import BatchMeta, Payload
from resolve311.sources.catalog import Dataset, Source
from resolve311.warehouse.normalize import NormalizedBatch

log = logging.getLogger(__name__)

BACKFILL_CHUNK_DAYS = 7
AHEAD_PAGES = 1  # queue length per window: a worker holds at most 2 prepared pages
LANDING_GZIP_LEVEL = 1  # fast: CPU is the limit of a backfill; the landing log stays plain gzip

Chunk = tuple[date, date | None]


@dataclass(frozen=True)
class Window:
    """One dataset's requests created in ``chunk`` (end exclusive, None: open-ended)."""

    dataset: str
    chunk: Chunk
    where: str | None

    @property
    def key(self) -> str:
        return chunk_key(self.chunk)


@dataclass(frozen=True)
class ReadyPage:
    """A page prepared by a worker: what to land and the rows to load."""

    meta: BatchMeta
    payload: Payload
    batch: NormalizedBatch


def backfill_chunks(since: date, until: date | None, today: date, days: int) -> list[Chunk]:
    """[start, end) created-date chunks covering [since, until); open-ended last chunk if no until."""
    end = until or today + timedelta(days=2)
    chunks: list[Chunk] = []
    start = since
    while start < end:
        chunks.append((start, min(start + timedelta(days=days), end)))
        start += timedelta(days=days)
    if until is None:
        chunks.append((max(end, since), None))
    return chunks


def chunk_key(chunk: Chunk) -> str:
    """How a backfill chunk is named in ``backfill_chunks`` (``2024-01-01..2024-01-08``)."""
    return f"{chunk[0]}..{chunk[1] or ''}"


def plan_windows(source: Source, since: date, until: date | None, today: date, days: int) -> list[Window]:
    """Every (dataset, chunk) window of the range, datasets in catalog order, chunks by date."""
    datasets = [d for d in source.datasets if d.overlaps(since, until)]
    chunks = backfill_chunks(since, until, today, days)
    return [
        Window(d.id, c, window_where(source, d, c))
        for d in datasets
        for c in chunks
        if d.overlaps(c[0], c[1])
    ]


def window_where(source: Source, dataset: Dataset, chunk: Chunk) -> str | None:
    """The created-date predicate of a chunk, clipped to the dataset's own range."""
    start, end = chunk
    lo = max(start, dataset.created_from) if dataset.created_from else start
    ends = [x for x in (end, dataset.created_until) if x is not None]
    return soql.created_between(source.created_field, lo, min(ends) if ends else None)


def run_windows(
    run: RunContext, puller: WindowPuller, plan: Sequence[Window], progress: Progress | None, workers: int
) -> None:
    """Pull the windows not done yet (``workers`` at once), landing and loading them in plan order."""
    done = {d: ledger.done_chunks(run.con, run.source.name, d) for d in {w.dataset for w in plan}}
    todo = [w for w in plan if w.key not in done[w.dataset]]
    number = 0
    for window in plan:  # windows done by an earlier run count as progress at once
        if window.key in done[window.dataset]:
            number += 1
            if progress:
                progress(number, len(plan), f"{window.dataset} {window.key}")

    def pull(window: Window) -> Iterator[ReadyPage]:
        for page in puller.pull(window.dataset, window.where):
            yield prepare_page(run, page)

    for window, pages in _results(todo, pull, workers):
        rows = write_window(run, window, pages)
        number += 1
        log_window(window, rows)
        if progress:
            progress(number, len(plan), f"{window.dataset} {window.key}")


def _results(
    todo: Sequence[Window], pull: Callable[[Window], Iterable[ReadyPage]], workers: int
) -> Iterator[tuple[Window, Iterable[ReadyPage]]]:
    if workers <= 1:  # the serial path: fetch, prepare, land and load one page after the other
        yield from ((window, pull(window)) for window in todo)
        return
    with WindowPool(todo, pull, workers=workers, ahead=AHEAD_PAGES) as pool:
        yield from pool.results()


def prepare_page(run: RunContext, page: PulledPage) -> ReadyPage:
    """Everything about a page that needs no warehouse: pure, so it runs in the worker that fetched it."""
    meta = BatchMeta(
        source=run.source.name,
        dataset=page.dataset,
        producer=run.report.kind,
        kind="backfill",
        format="json",
        rows=page.rows,
        run_id=run.report.run_id,
        watermark_from=page.first.updated_at,
        watermark_to=page.last.updated_at,
        advances_watermark=False,
    )
    records = page.table if page.table is not None else read_api_page(page.body)
    batch = prepare_batch(records, meta, run.source)
    return ReadyPage(meta, Payload.of(page.body, LANDING_GZIP_LEVEL), batch)


def write_window(run: RunContext, window: Window, pages: Iterable[ReadyPage]) -> int:
    """Land and load a window's pages (each in one transaction with its checkpoint); mark it done."""
    rows = 0
    for ready in pages:
        manifest = run.store.append(ready.payload, ready.meta)
        result = apply_batch(run.con, manifest, b"", run.source, prepared=ready.batch)
        if result is None:  # cannot happen for a fresh sequence number, but stay honest
            raise RuntimeError(f"landing batch {manifest.seq} was already loaded")
        run.record(result)
        rows += ready.meta.rows
    if window.chunk[1] is not None:  # the open-ended last chunk is never done: new rows keep coming
        ledger.mark_chunk_done(run.con, run.source.name, window.dataset, window.key, rows)
    return rows


def log_window(window: Window, rows: int) -> None:
    log.debug("backfill window %s %s: %d rows", window.dataset, window.key, rows)
