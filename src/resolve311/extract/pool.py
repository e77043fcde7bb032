"""Pulling several windows at once and handing their items, in plan order, to one consumer.

A bounded pool of worker threads takes the windows of a plan in order; each
worker pulls one window at a time (its pages in keyset order) and puts what it
prepared from each page on that window's own bounded queue. The consumer (the
single writer) reads window 0's items to the end, then window 1's, and so on,
so it sees exactly the sequence a serial pull would give. A worker that runs
ahead blocks on its full queue, and ends a window only when the end marker fits
in its queue: at most ``workers × 2 × ahead`` items are held (what is left of a
finished window, the current window's queue and the item in hand) plus the
one the consumer works on, whatever the plan's length.

When the consumer's next item is not ready yet and every window has been
taken by a worker (the run's tail), ``on_tail_wait`` is called in the
consumer's thread first: time it would spend waiting, for work it deferred.

A failure in a worker is handed over in its window's place: the consumer
first gets every item of the windows before it, then the exception. No new
window is started after a failure. :meth:`WindowPool.close` stops the workers
(they are daemon threads: one blocked in a request never holds up an
interrupted run).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Generic, TypeVar

W = TypeVar("W")
T = TypeVar("T")

POLL_S = 0.2
JOIN_S = 2.0  # how long close() waits for all workers together


class _End:
    """A window's last item."""


@dataclass(frozen=True)
class _Failure:
    error: BaseException


class WorkersLost(RuntimeError):
    """Every worker ended while the consumer still waited for a window (a bug, never expected)."""


class WindowPool(Generic[W, T]):
    """Run ``pull(window)`` for each window of ``plan`` on ``workers`` threads; iterate in plan order."""

    def __init__(
        self,
        plan: Sequence[W],
        pull: Callable[[W], Iterable[T]],
        *,
        workers: int,
        ahead: int = 2,
        on_tail_wait: Callable[[], None] | None = None,
    ) -> None:
        if workers < 1 or ahead < 1:
            raise ValueError("workers and ahead must be >= 1")
        self._plan = list(plan)
        self._pull = pull
        self._on_tail_wait = on_tail_wait
        self._queues: list[queue.Queue[T | _End | _Failure]] = [queue.Queue(ahead) for _ in self._plan]
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._failed = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"pull-{n}", daemon=True)
            for n in range(min(workers, len(self._plan)))
        ]

    def __enter__(self) -> WindowPool[W, T]:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker (a window in flight is abandoned) and wait a little for them."""
        self._stop.set()
        deadline = time.monotonic() + JOIN_S
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def results(self) -> Iterator[tuple[W, Iterator[T]]]:
        """Each window with an iterator over its items, in plan order (read each to its end)."""
        for index, window in enumerate(self._plan):
            yield window, self._items(index)

    # ------------------------------------------------------------- workers
    def _work(self) -> None:
        while not self._stop.is_set() and not self._failed.is_set():
            with self._lock:
                index = self._next
                if index >= len(self._plan):
                    return
                self._next += 1
            target = self._queues[index]
            try:
                for item in self._pull(self._plan[index]):
                    if not self._put(target, item):
                        return
                self._put(target, _End())
            except BaseException as exc:  # handed to the consumer, which raises it in order
                self._failed.set()
                self._put(target, _Failure(exc))
                return

    def _put(self, target: queue.Queue[T | _End | _Failure], item: T | _End | _Failure) -> bool:
        while not self._stop.is_set():
            try:
                target.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    # ------------------------------------------------------------ consumer
    def _items(self, index: int) -> Iterator[T]:
        source = self._queues[index]
        while True:
            if self._on_tail_wait and source.empty() and self._all_taken():
                self._on_tail_wait()  # the consumer would wait: let it do its deferred work now
            item = self._get(source)
            if isinstance(item, _End):
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item

    def _all_taken(self) -> bool:
        with self._lock:
            return self._next >= len(self._plan)

    def _get(self, source: queue.Queue[T | _End | _Failure]) -> T | _End | _Failure:
        while True:
            try:
                return source.get(timeout=POLL_S)
            except queue.Empty:
                if not any(thread.is_alive() for thread in self._threads) and source.empty():
                    raise WorkersLost("every pull worker ended before its window was complete") from None
