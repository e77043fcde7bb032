"""Pulling a window of rows page by page, in a total order, trusting no short answer blindly.

A *window* is a SoQL predicate (``:updated_at >= watermark - overlap``, or a
``created_date`` range). Pages follow ``$order=:updated_at,:id`` and continue
strictly after the last row received (keyset paging). A page shorter than the
page size ends the pull only when a ``count(*)`` of the rows after it says 0;
an empty page contradicted by the count is retried like any transient failure.
A pull that reads ahead counts its window's rows while the first page downloads:
a short page that brings the rows received to exactly that count ends it without
the count after it (one request fewer to wait for); otherwise the count after it decides.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

import pyarrow as pa

from resolve311.errors import ParseError, TerminalError
from resolve311.extract import soql
from resolve311.extract.retry import RetryableError, RetryPolicy, call_with_retry
from resolve311.extract.socrata import Gate, Page, SocrataClient, TablePage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PulledPage:
    """A confirmed page: its raw body, row count and the :updated_at range it covers."""

    dataset: str
    body: bytes | bytearray
    rows: int
    first: soql.Cursor
    last: soql.Cursor
    table: pa.Table | None = None  # the rows read as text columns (pulls with ``tables=True``)

    @property
    def updated_from(self) -> datetime:
        return parse_system_time(self.first.updated_at)

    @property
    def updated_to(self) -> datetime:
        return parse_system_time(self.last.updated_at)


@dataclass(frozen=True)
class FullReplaceCheck:
    """How many rows changed since the watermark compared with the whole dataset."""

    changed: int
    total: int
    ratio: float
    min_changed: int = 0  # below this many changed rows, re-downloading is cheap: never flag

    @property
    def detected(self) -> bool:
        return self.total > 0 and self.changed >= self.min_changed and self.changed > self.ratio * self.total


def parse_system_time(stamp: str) -> datetime:
    """A Socrata system timestamp (``2024-04-16T07:03:15.000Z``) as a naive UTC datetime."""
    value = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def cursor_of(row: dict[str, Any]) -> soql.Cursor:
    """The keyset position of a row (ParseError when the system fields are missing)."""
    updated, row_id = row.get(":updated_at"), row.get(":id")
    if not isinstance(updated, str) or not isinstance(row_id, str):
        raise ParseError("a row came without :updated_at/:id; the source ignored $select=:*,*")
    return soql.Cursor(updated_at=updated, row_id=row_id)


def edge_cursors(page: Page | TablePage) -> tuple[soql.Cursor, soql.Cursor] | None:
    """The cursors of a page's first and last rows (None when it is empty)."""
    if isinstance(page, Page):
        return (cursor_of(page.rows[0]), cursor_of(page.rows[-1])) if page.rows else None
    table = page.table
    if table.num_rows == 0:
        return None
    if ":updated_at" not in table.column_names or ":id" not in table.column_names:
        raise ParseError("a row came without :updated_at/:id; the source ignored $select=:*,*")
    updated, ids = table.column(":updated_at"), table.column(":id")
    first = {":updated_at": updated[0].as_py(), ":id": ids[0].as_py()}
    last = {":updated_at": updated[-1].as_py(), ":id": ids[-1].as_py()}
    return cursor_of(first), cursor_of(last)


def page_rows(page: Page | TablePage) -> int:
    return len(page.rows) if isinstance(page, Page) else page.table.num_rows


def watermark_floor(watermark: datetime | None, overlap_minutes: int) -> datetime | None:
    """Where an incremental pull starts: the stored watermark minus the overlap."""
    return None if watermark is None else watermark - timedelta(minutes=overlap_minutes)


class WindowPuller:
    """Pulls windows of one source portal with retries inside ``policy``'s budget."""

    def __init__(
        self,
        client: SocrataClient,
        policy: RetryPolicy,
        page_size: int,
        *,
        tables: bool = False,
        gate: Gate = contextlib.nullcontext,
    ) -> None:
        self.client = client
        self.policy = policy
        self.page_size = page_size
        self.tables = tables  # read pages as Arrow tables (parsed without holding the GIL)
        self.gate = gate  # held while a page is read into a table (the CPU-heavy part)

    def gated(self, gate: Gate) -> WindowPuller:
        """The same puller reading its pages inside ``gate()``."""
        return WindowPuller(self.client, self.policy, self.page_size, tables=self.tables, gate=gate)

    def count(self, dataset_id: str, where: str | None) -> int:
        """``count(*)`` over ``where``, retried."""
        return call_with_retry(
            lambda: self.client.count(dataset_id, where), self.policy, what=f"count {dataset_id}"
        )

    def check_full_replace(
        self,
        dataset_id: str,
        changed_where: str | None,
        ratio: float,
        total_where: str | None = None,
        min_changed: int = 0,
    ) -> FullReplaceCheck:
        """Compare the rows in the incremental window with the total (rows matching ``total_where``)."""
        changed = self.count(dataset_id, changed_where)
        total = self.count(dataset_id, total_where) if changed else 0
        return FullReplaceCheck(changed=changed, total=total, ratio=ratio, min_changed=min_changed)

    def latest_update(self, dataset_id: str, where: str | None) -> datetime | None:
        """The highest ``:updated_at`` in the window (None when it is empty)."""
        params = {"$select": ":updated_at", "$order": ":updated_at DESC", "$limit": "1"}
        if where:
            params["$where"] = where

        def attempt() -> Page:
            page = self.client.fetch_rows(dataset_id, params)
            if not page.rows and self.client.count(dataset_id, where) > 0:
                raise RetryableError("an empty answer, but a count says the window has rows")
            return page

        page = call_with_retry(attempt, self.policy, what=f"latest {dataset_id}")
        stamp = page.rows[0].get(":updated_at") if page.rows else None
        return parse_system_time(stamp) if isinstance(stamp, str) else None

    def pull(
        self,
        dataset_id: str,
        where: str | None,
        start_after: soql.Cursor | None = None,
        *,
        ahead: bool = False,
    ) -> Iterator[PulledPage]:
        """Every row of the window, page by page, in ``(:updated_at, :id)`` order.

        With ``ahead``, the next page is requested (and read) in a helper thread as soon as this
        page's last row is known, so it downloads while the caller works on this one: one more
        page in memory per pull.
        """
        fetch = functools.partial(self._page, dataset_id, where)
        total = self._window_total(dataset_id, where, start_after) if ahead else None
        pending = Ahead(functools.partial(fetch, start_after, _reaches(total, 0))) if ahead else None
        cursor, received = start_after, 0
        while True:
            page, remaining = pending.result() if pending else fetch(cursor)
            edges, rows = edge_cursors(page), page_rows(page)
            done = rows < self.page_size and remaining == 0
            cursor, received = (edges[1] if edges else cursor), received + rows
            if ahead and not done:
                pending = Ahead(functools.partial(fetch, cursor, _reaches(total, received)))
            if edges is not None:
                table = page.table if isinstance(page, TablePage) else None
                yield PulledPage(dataset_id, page.body, rows, edges[0], edges[1], table)
            if done:
                return

    def _window_total(
        self, dataset_id: str, where: str | None, start_after: soql.Cursor | None
    ) -> Ahead[int | None]:
        """The count of the window's rows after ``start_after``, asked for in a helper thread."""
        return Ahead(
            functools.partial(self._count_or_none, dataset_id, soql.and_all([where, soql.after(start_after)]))
        )

    def _count_or_none(self, dataset_id: str, where: str | None) -> int | None:
        """One ``count(*)`` request, or None when it fails: only the shortcut it gives :meth:`pull` is
        lost. Not retried: the short page waits for it, and its backoff would cost more than the
        count after the page it saves."""
        try:
            return self.client.count(dataset_id, where)
        except Exception as exc:  # the count after a short page still decides
            log.debug("window count of %s failed (%s); short pages are counted after", dataset_id, exc)
            return None

    def _page(
        self,
        dataset_id: str,
        where: str | None,
        cursor: soql.Cursor | None,
        reaches: Callable[[int], bool] | None = None,
    ) -> tuple[Page | TablePage, int | None]:
        """The confirmed page after ``cursor``, retried within the policy's budget."""
        return call_with_retry(
            functools.partial(self._confirmed_page, dataset_id, where, cursor, reaches),
            self.policy,
            what=f"page of {dataset_id}",
        )

    def _confirmed_page(
        self,
        dataset_id: str,
        where: str | None,
        cursor: soql.Cursor | None,
        reaches: Callable[[int], bool] | None = None,
    ) -> tuple[Page | TablePage, int | None]:
        """One page; when short, also the count of rows after it (an empty page must agree), unless
        ``reaches(rows)`` says the page brings the rows received to the window's count."""
        params = soql.page_params(soql.and_all([where, soql.after(cursor)]), self.page_size)
        page: Page | TablePage
        if self.tables:
            page = self.client.fetch_table(dataset_id, params, self.gate)
        else:
            page = self.client.fetch_rows(dataset_id, params)
        rows = page_rows(page)
        if rows >= self.page_size:
            return page, None
        if reaches is not None and reaches(rows):
            return page, 0
        edges = edge_cursors(page)
        tail = edges[1] if edges else cursor
        remaining = self.client.count(dataset_id, soql.and_all([where, soql.after(tail)]))
        if not rows and remaining > 0:
            raise RetryableError(f"an empty page, but a count says {remaining} rows remain")
        if remaining > 0:
            log.info("short page of %d rows with %d rows after it; continuing", rows, remaining)
        return page, remaining


def _reaches(total: Ahead[int | None] | None, received: int) -> Callable[[int], bool] | None:
    """Whether a page of ``rows`` brings the rows received to exactly the window's ``total`` (None
    without one). Exactly: more rows than counted means rows changed during the pull (a row updated
    comes again), and a short page that dropped rows could hide behind them; the count after decides."""
    if total is None:
        return None

    def reaches(rows: int) -> bool:
        expected = total.result()
        return expected is not None and received + rows == expected

    return reaches


T = TypeVar("T")


class Ahead(Generic[T]):
    """``call()`` running in a daemon thread (with the caller's context); ``result()`` waits for it.

    A daemon thread, like the pool's workers: one blocked in a request never holds up an
    interrupted run; a result nobody asks for is dropped with the thread.
    """

    def __init__(self, call: Callable[[], T]) -> None:
        self._value: tuple[T] | None = None  # set once ``call()`` returned (its result may be None)
        self._error: BaseException | None = None
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._run, call), name="pull-ahead", daemon=True
        )
        self._thread.start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._value = (call(),)
        except BaseException as exc:  # raised in the caller's thread by result()
            self._error = exc

    def result(self) -> T:
        """What ``call()`` returned, or its exception raised here."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value[0]


class FullReplaceDetected(TerminalError):
    """Far more rows changed than usual: the source was probably replaced wholesale."""
