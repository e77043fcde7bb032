"""Retrying transient source failures with exponential backoff and jitter, inside a time budget.

The budget bounds one request's streak of failures: from the first failed attempt
until it either succeeds or the next wait would go past ``budget_s``; then
:class:`SourceUnavailable` is raised. A success starts the next request afresh.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from resolve311.errors import SourceUnavailable, TransientError
from resolve311.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")


class RetryableError(TransientError):
    """One attempt failed in a way that retrying may fix (202, 429, 5xx, timeout, bad body...)."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff delays: ``base_s * 2**attempt`` capped at ``max_s``, half of it jittered."""

    base_s: float = 1.0
    max_s: float = 60.0
    budget_s: float = 600.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(base_s=settings.retry_base_s, max_s=settings.retry_max_s, budget_s=settings.retry_budget_s)

    def delay(self, attempt: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based); honours ``Retry-After``."""
        ceiling = min(self.max_s, self.base_s * (2.0**attempt))
        backoff = ceiling / 2 + self.rng.uniform(0, ceiling / 2)
        return max(backoff, retry_after_s or 0.0)


def call_with_retry(
    attempt_once: Callable[[], T],
    policy: RetryPolicy,
    *,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``attempt_once`` until it succeeds; retry :class:`RetryableError` within the budget.

    Any other exception (e.g. a terminal 4xx) propagates at once.
    """
    started = clock()
    attempt = 0
    while True:
        try:
            return attempt_once()
        except RetryableError as exc:
            wait = policy.delay(attempt, exc.retry_after_s)
            elapsed = clock() - started
            if elapsed + wait > policy.budget_s:
                raise SourceUnavailable(
                    f"{what}: source unavailable after {attempt + 1} attempts in {elapsed:.1f}s "
                    f"(last error: {exc.reason})"
                ) from None
            log.warning("%s: %s; retry %d in %.2fs", what, exc.reason, attempt + 1, wait)
            sleep(wait)
            attempt += 1
