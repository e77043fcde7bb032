"""A bounded number of threads at a time in the CPU-heavy part of a page, the earliest window first.

A backfill's workers download several windows at once, but reading, normalising
and compressing a page is CPU work: with more workers than cores they all slow
each other down, and the page the single writer needs next (the earliest
window's) comes out no sooner than the others. A :class:`PriorityGate` lets at
most ``slots`` threads in at once and, when a slot frees up, hands it to the
waiting thread of the lowest rank (its window's position in the plan; ties in
arrival order). Downloads are not gated: they keep the source busy meanwhile.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import threading
from collections.abc import Iterator

#: The rank of a thread that never set one: after every ranked thread.
UNRANKED = 1 << 62


class PriorityGate:
    """At most ``slots`` threads inside ``with gate():`` at once; the lowest rank waiting goes first."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError("a gate needs at least one slot")
        self._free = slots
        self._waiting: list[tuple[int, int]] = []  # (rank, ticket) heap
        self._tickets = itertools.count()
        self._cond = threading.Condition()
        self._rank: contextvars.ContextVar[int] = contextvars.ContextVar("gate_rank", default=UNRANKED)

    @contextlib.contextmanager
    def ranked(self, rank: int) -> Iterator[None]:
        """Inside this block the caller (and threads started with a copy of its context) has ``rank``."""
        token = self._rank.set(rank)
        try:
            yield
        finally:
            self._rank.reset(token)

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        """Hold one slot for the block, waiting (in rank order) until one is free."""
        entry = (self._rank.get(), next(self._tickets))
        with self._cond:
            heapq.heappush(self._waiting, entry)
            self._cond.wait_for(lambda: self._free > 0 and self._waiting[0] == entry)
            heapq.heappop(self._waiting)
            self._free -= 1
            self._cond.notify_all()  # the next in line may take another free slot
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()
