"""Backoff with jitter inside a budget; terminal errors pass straight through."""

import random

import pytest

from resolve311.errors import SourceRequestError, SourceUnavailable
from resolve311.extract.retry import RetryableError, RetryPolicy, call_with_retry


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def failing(times: int, error: Exception) -> tuple[list[int], object]:
    calls: list[int] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return "ok"

    return calls, attempt


def policy(budget: float = 100.0) -> RetryPolicy:
    return RetryPolicy(base_s=1.0, max_s=8.0, budget_s=budget, rng=random.Random(1))


def test_transient_failures_are_retried_until_success() -> None:
    clock = FakeClock()
    calls, attempt = failing(3, RetryableError("503"))
    assert call_with_retry(attempt, policy(), what="t", sleep=clock.sleep, clock=clock) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 4
    assert len(clock.sleeps) == 3


def test_delays_grow_exponentially_with_jitter_and_stay_capped() -> None:
    p = policy()
    for attempt in range(8):
        ceiling = min(8.0, 2.0**attempt)
        delay = p.delay(attempt)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured() -> None:
    assert policy().delay(0, retry_after_s=30.0) == 30.0


def test_budget_exhausted_raises_source_unavailable_with_the_last_error() -> None:
    clock = FakeClock()
    calls, attempt = failing(1000, RetryableError("503: server error"))
    with pytest.raises(SourceUnavailable, match="503: server error"):
        call_with_retry(attempt, policy(budget=10.0), what="page", sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    assert clock.now <= 10.0
    assert len(calls) > 1


def test_terminal_errors_are_not_retried() -> None:
    clock = FakeClock()
    calls, attempt = failing(5, SourceRequestError("400: bad query"))
    with pytest.raises(SourceRequestError):
        call_with_retry(attempt, policy(), what="page", sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]
    assert len(calls) == 1
    assert clock.sleeps == []
