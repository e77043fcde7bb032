"""The request-rate limiter: its own recorded schedule never goes faster than the rate."""

from __future__ import annotations

import threading

import pytest

from resolve311.extract.ratelimit import RateLimiter


class FakeClock:
    """A clock that only moves when the limiter sleeps (so the schedule is exact)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.lock = threading.Lock()

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now = max(self.now, self.now + seconds)


def test_requests_are_spaced_by_the_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(4.0, clock=clock.time, sleep=clock.sleep)
    slots = [limiter.acquire() for _ in range(9)]
    assert slots == [100.0 + i * 0.25 for i in range(9)]
    assert limiter.min_gap() == pytest.approx(0.25)


def test_many_threads_together_keep_the_rate() -> None:
    limiter = RateLimiter(200.0)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(10)]) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(limiter.granted) == 60
    gap = limiter.min_gap()
    assert gap is not None and gap >= 1 / 200.0 - 1e-9
    assert max(limiter.granted) - min(limiter.granted) >= 59 / 200.0 - 1e-9


def test_a_429_holds_every_request_until_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0.0, clock=clock.time, sleep=clock.sleep)
    assert limiter.acquire() == 100.0
    limiter.hold(2.5)
    assert limiter.acquire() == 102.5
    assert limiter.acquire() == 102.5  # no rate: after the pause, no spacing
    assert limiter.holds == 1


def test_no_rate_means_no_waiting_and_a_negative_rate_is_refused() -> None:
    limiter = RateLimiter()
    assert limiter.interval == 0.0
    with pytest.raises(ValueError):
        RateLimiter(-1)
