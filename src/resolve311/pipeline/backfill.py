"""`backfill`: created-date windows pulled by several workers at once, landed and loaded in order.

The range is cut into windows (``chunk_days`` of created dates per dataset).
With ``backfill_workers > 1`` a :class:`~resolve311.extract.pool.WindowPool`
pulls that many windows at once; each worker also does the pure, GIL-free work
of a page: reading the JSON into Arrow, normalising it, compressing it for
the landing log. The calling thread is the single writer: it lands and loads
the pages window after window, in plan order: a window's pages, the landing
checkpoint and the window's done mark commit in one transaction (fewer, larger
commits also cost DuckDB less than one per page). With
``backfill_workers = 1`` the same steps run one after the other in one thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from resolve311.extract import soql
from resolve311.extract.incremental import PulledPage, WindowPuller
from resolve311.extract.pages import read_api_page
from resolve311.extract.pool import WindowPool
from resolve311.landing.store import BatchMeta, Payload
from resolve311.pipeline import ledger
from resolve311.pipeline.consumer import load_landed, prepare_batch
from resolve311.pipeline.run import Progress, RunContext
from resolve311.sources.catalog import Dataset, Source
from resolve311.warehouse.loader import LoadResult
from resolve311.warehouse.normalize import NormalizedBatch

log = logging.getLogger(__name__)

BACKFILL_CHUNK_DAYS = 7
AHEAD_PAGES = 1  # queue length per window: a worker holds at most 2 prepared pages
MAX_TRANSACTION_ROWS = 500_000  # a longer window commits in parts of about this many rows
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

    results = _results(todo, pull, workers)
    try:
        for window, pages in results:
            rows = write_window(run, window, pages)
            number += 1
            log_window(window, rows)
            if progress:
                progress(number, len(plan), f"{window.dataset} {window.key}")
    finally:
        results.close()  # stops the workers now, also when the writer is interrupted


def _results(
    todo: Sequence[Window], pull: Callable[[Window], Iterable[ReadyPage]], workers: int
) -> Generator[tuple[Window, Iterable[ReadyPage]], None, None]:
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
    # Several workers normalise pages at once: one DuckDB thread each, no oversubscription.
    threads = 1 if run.settings.backfill_workers > 1 else None
    batch = prepare_batch(records, meta, run.source, threads)
    return ReadyPage(meta, Payload.of(page.body, LANDING_GZIP_LEVEL), batch)


def write_window(run: RunContext, window: Window, pages: Iterable[ReadyPage]) -> int:
    """Land a window's pages and load them with the checkpoint and the window's done mark in ONE transaction.

    A window of more than ``MAX_TRANSACTION_ROWS`` rows commits every that many rows (its done
    mark comes with the last part). A failure rolls the open part back; its landed pages are
    loaded by the next run's catch-up and the window is pulled again.
    """
    rows, pending, results = 0, 0, []
    run.con.begin()
    try:
        for ready in pages:
            manifest = run.store.append(ready.payload, ready.meta)
            results.append(load_landed(run.con, manifest, ready.batch))
            rows += ready.meta.rows
            pending += ready.meta.rows
            if pending >= MAX_TRANSACTION_ROWS:
                _commit(run, results)
                pending, results = 0, []
                run.con.begin()
        if window.chunk[1] is not None:  # the open-ended last chunk is never done: new rows keep coming
            ledger.mark_chunk_done(run.con, run.source.name, window.dataset, window.key, rows)
        _commit(run, results)
    except BaseException:
        run.con.rollback()
        raise
    return rows


def _commit(run: RunContext, results: list[LoadResult]) -> None:
    """Commit the open transaction, then count what it loaded."""
    run.con.commit()
    for result in results:
        run.record(result)


def log_window(window: Window, rows: int) -> None:
    log.debug("backfill window %s %s: %d rows", window.dataset, window.key, rows)
