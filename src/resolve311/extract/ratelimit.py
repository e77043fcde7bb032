"""A request-rate limiter shared by every thread that talks to one source.

Requests are spaced at least ``1 / rate`` seconds apart (no bursts), whichever
thread sends them. A 429 with ``Retry-After`` pauses *every* thread until that
time has passed (:meth:`RateLimiter.hold`), not only the one that was told.
The limiter records when it let each request go (the last ``keep`` of them),
so tests and benchmarks can check the schedule it actually kept.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``rate`` requests per second (0: no limit), and shared pauses after a 429."""

    def __init__(
        self,
        rate: float = 0.0,
        *,
        keep: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError("rate must be >= 0")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = float("-inf")  # earliest moment the next request may go
        self._paused_until = float("-inf")
        self.granted: deque[float] = deque(maxlen=keep)  # when each request was let go (clock time)
        self.holds = 0  # how many times a 429 paused everyone

    @property
    def interval(self) -> float:
        """The least time between two requests, seconds."""
        return 1.0 / self.rate if self.rate > 0 else 0.0

    def acquire(self) -> float:
        """Wait for this request's turn; returns the clock time it was let go."""
        with self._lock:  # reserve a slot, then sleep outside the lock
            now = self._clock()
            slot = max(now, self._next, self._paused_until)
            self._next = slot + self.interval
            self.granted.append(slot)
        wait = slot - self._clock()
        if wait > 0:
            self._sleep(wait)
        return slot

    def hold(self, seconds: float) -> None:
        """Let no request go for ``seconds`` from now (the source answered 429 with Retry-After)."""
        if seconds <= 0:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)
            self.holds += 1

    def min_gap(self) -> float | None:
        """The shortest time between two recorded requests (None with fewer than two)."""
        times = sorted(self.granted)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        return min(gaps) if gaps else None
