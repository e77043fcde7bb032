"""`backfill`: created-date windows pulled by several workers at once, landed and loaded in order.

The range is cut into windows (``chunk_days`` of created dates per dataset).
With ``backfill_workers > 1`` a :class:`~resolve311.extract.pool.WindowPool`
pulls that many windows at once; each worker also does the pure, GIL-free work
of a page: reading the JSON into Arrow, normalising it, compressing it for
the landing log. The calling thread is the single writer: it lands and loads
the pages window after window, in plan order, each page with its landing
checkpoint and each finished window with its done mark, in transactions of
about ``MAX_TRANSACTION_ROWS`` rows that span windows (see
:class:`TransactionWriter`). With ``backfill_workers = 1`` the same steps run
one after the other in one thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from resolve311.extract import soql
from resolve311.extract.gate import PriorityGate
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
from resolve311.warehouse.transaction import duckdb_options

log = logging.getLogger(__name__)

BACKFILL_CHUNK_DAYS = 7
AHEAD_PAGES = 1  # queue length per window: a worker holds at most 2 prepared pages and 1 read ahead
MAX_TRANSACTION_ROWS = 500_000  # the writer commits about every this many rows (and at the end)
#: In the run's tail (every window started), a writer that would wait for its next page commits
#: what it holds once it holds this many rows, so the final commit, which nothing overlaps, is small.
TAIL_COMMIT_ROWS = 150_000
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

    pull = _window_pull(run, puller, todo, workers)
    writer = TransactionWriter(run, tail_limit=TAIL_COMMIT_ROWS)  # read at run time (tests set it)
    results = _results(todo, pull, workers, writer.tail_wait)
    try:
        with _writer_options(run.con, workers):
            for window, pages in results:
                rows = writer.write(window, pages)
                number += 1
                log_window(window, rows)
                if progress:
                    progress(number, len(plan), f"{window.dataset} {window.key}")
            writer.commit()
    except BaseException:
        writer.abandon()
        raise
    finally:
        results.close()  # stops the workers now, also when the writer is interrupted


def _window_pull(
    run: RunContext, puller: WindowPuller, todo: Sequence[Window], workers: int
) -> Callable[[Window], Iterator[ReadyPage]]:
    """How a worker pulls a window: its pages fetched and prepared, in keyset order.

    With workers, each window requests its next page while the current one is prepared, and
    reading and preparing a page waits for one of the cores (``PriorityGate``), the earliest
    window of the plan first: the writer's next page comes out first instead of all at once.
    """
    gate = PriorityGate(min(workers, os.cpu_count() or 1))  # one slot, one thread: never waits
    rank = {window: n for n, window in enumerate(todo)}
    pages = puller.gated(gate)

    def pull(window: Window) -> Iterator[ReadyPage]:
        with gate.ranked(rank[window]):
            for page in pages.pull(window.dataset, window.where, ahead=workers > 1):
                with gate():
                    ready = prepare_page(run, page)
                yield ready

    return pull


def _writer_options(con: duckdb.DuckDBPyConnection, workers: int) -> contextlib.AbstractContextManager[None]:
    """How the writer's DuckDB runs during a backfill.

    Each full row group of a transaction's inserts is compressed and written to the file as soon as
    it fills (``write_buffer_row_group_count = 1``; DuckDB's default buffers 5, so a transaction of
    300,000 rows was compressed all at its commit, ~1.0 CPU-s on one thread): the writer does that
    work while it loads pages the workers are still preparing, and the commit after the last page
    only writes what is left of the last row group (~0.2 CPU-s). With workers, it also runs on one
    thread: a load on two threads cost 1.6x the CPU of one (0.98 vs 0.61 CPU-s for 300k rows in 6
    pages; the commit the same) for no gain when every core is already busy with the workers.
    """
    one_thread = {"threads": "1"} if workers > 1 else {}
    return duckdb_options(con, write_buffer_row_group_count="1", **one_thread)


def _results(
    todo: Sequence[Window],
    pull: Callable[[Window], Iterable[ReadyPage]],
    workers: int,
    tail_wait: Callable[[], None],
) -> Generator[tuple[Window, Iterable[ReadyPage]], None, None]:
    if workers <= 1:  # the serial path: fetch, prepare, land and load one page after the other
        yield from ((window, pull(window)) for window in todo)
        return
    with WindowPool(todo, pull, workers=workers, ahead=AHEAD_PAGES, on_tail_wait=tail_wait) as pool:
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


class TransactionWriter:
    """The single writer: lands and loads pages, window after window, in long transactions.

    Each page is landed, then loaded with its landing checkpoint; a finished window's done mark
    joins them. The transaction commits every ``limit`` rows and at the end, so windows share
    commits (a commit costs DuckDB far more than its share of rows; a long one writes row groups
    straight to the file). A failure that comes between two writes (the source failed for good,
    the run was interrupted) commits what is complete, so finished windows stay done; a failure
    inside a write rolls the open transaction back: its landed pages are loaded by the next
    run's catch-up and its windows are pulled again.
    """

    def __init__(
        self, run: RunContext, limit: int = MAX_TRANSACTION_ROWS, tail_limit: int = TAIL_COMMIT_ROWS
    ) -> None:
        self.run = run
        self.limit = limit
        self.tail_limit = tail_limit
        self.pending = 0
        self.results: list[LoadResult] = []
        self.open = False
        self.in_write = False

    def write(self, window: Window, pages: Iterable[ReadyPage]) -> int:
        """Land and load a window's pages (and mark it done); returns its rows."""
        rows = 0
        for ready in pages:
            with self._writing():
                manifest = self.run.store.append(ready.payload, ready.meta)
                self.results.append(load_landed(self.run.con, manifest, ready.batch))
            rows += ready.meta.rows
            self.pending += ready.meta.rows
            if self.pending >= self.limit:
                self.commit()
        if window.chunk[1] is not None:  # the open-ended last chunk is never done: new rows keep coming
            with self._writing():
                ledger.mark_chunk_done(self.run.con, self.run.source.name, window.dataset, window.key, rows)
        return rows

    def tail_wait(self) -> None:
        """The next page is not ready and every window has started: commit now if enough is pending.

        The final commit comes after the last page, with nothing left to overlap it (~1 CPU-s per
        300,000 rows on one thread, whatever DuckDB's ``threads``); committing most rows while the
        last windows still download costs one more commit (~0.27 CPU-s) and leaves a small one.
        """
        if self.pending >= self.tail_limit:
            self.commit()

    def commit(self) -> None:
        """Commit the open transaction, then count what it loaded."""
        if not self.open:
            return
        self.run.con.commit()
        self.open = False
        results, self.results, self.pending = self.results, [], 0
        for result in results:
            self.run.record(result)

    def abandon(self) -> None:
        """After a failure: keep what is complete if it came between two writes, else roll back."""
        if not self.open:
            return
        if not self.in_write:
            with contextlib.suppress(duckdb.Error):
                self.commit()
                return
        self.open, self.results, self.pending = False, [], 0
        with contextlib.suppress(duckdb.Error):  # an aborted or failed commit: keep the real cause
            self.run.con.rollback()

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        if not self.open:
            self.run.con.begin()
            self.open = True
        self.in_write = True
        yield
        self.in_write = False


def log_window(window: Window, rows: int) -> None:
    log.debug("backfill window %s %s: %d rows", window.dataset, window.key, rows)
