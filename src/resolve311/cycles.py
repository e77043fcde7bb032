"""One city's update cycles under ``resolve311 up``: backfill once, update on schedule, retry, digest.

:class:`CityCycle` decides and waits; the work runs in child ``resolve311`` processes
started by the :class:`~resolve311.supervisor.Supervisor`. A several-city home has one
cycle per city, each with its own schedule (in the city's time zone), thread, lock,
retry and state, so an outage or a long backfill of one city never delays another.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import duckdb

from resolve311.cli.exit_codes import EXIT_OK, EXIT_UNAVAILABLE
from resolve311.scheduler import missed_run_due, parse_schedule, retry_delay
from resolve311.settings import Settings

if TYPE_CHECKING:
    from resolve311.supervisor import Supervisor

log = logging.getLogger(__name__)

BACKFILL_MARKER = "initial-backfill.done"

#: The first backfill stage covers the recent windows and the 8-week baseline,
#: so the dashboard is populated before the long history arrives.
FIRST_STAGE_DAYS = 63


def initial_backfill_since(settings: Settings, today: date) -> date:
    """First created date to backfill into an empty warehouse (history, plus a year for baselines)."""
    days = settings.history_days + (365 if settings.history_year_earlier else 0)
    return today - timedelta(days=days)


def backfill_stages(since: date, today: date) -> list[tuple[date, date | None]]:
    """(since, until-exclusive) ranges, newest first: the recent weeks, then the rest."""
    boundary = today - timedelta(days=FIRST_STAGE_DAYS)
    if since >= boundary:
        return [(since, None)]
    return [(boundary, None), (since, boundary)]


def read_last_success(settings: Settings) -> datetime | None:
    """Last successful update according to the serving snapshot (None when unknown)."""
    path = settings.snapshot_path
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
        try:
            row = con.execute("SELECT max(last_success_at) FROM status").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        return None
    value = row[0] if row else None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def unpublished_reason(settings: Settings) -> str | None:
    """Why the serving snapshot does not show the warehouse's last state (None: it does, or no one can tell
    now because a writer is at work). Read-only; the catch-up's update then refreshes and publishes."""
    from resolve311.metrics.snapshot import behind_reason
    from resolve311.warehouse.connection import open_warehouse
    from resolve311.warehouse.lock import is_held

    if not settings.warehouse_path.exists() or is_held(settings.lock_path):
        return None
    try:
        with open_warehouse(settings.warehouse_path, read_only=True) as con:
            behind = behind_reason(con, settings)
            row = con.execute("SELECT run_id, status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
    except duckdb.Error:
        return None
    if behind is not None:
        return behind
    if row is None:
        return None
    shown = _snapshot_last_run(settings)
    if shown != (row[0], row[1]):
        return f"the snapshot does not show the last run ({row[0]}, {row[1]})"
    return None


def _snapshot_last_run(settings: Settings) -> tuple[str, str] | None:
    try:
        con = duckdb.connect(str(settings.snapshot_path), read_only=True)
        try:
            row = con.execute("SELECT last_run_id, last_run_status FROM status").fetchone()
        finally:
            con.close()
    except duckdb.Error:
        return None
    return (str(row[0]), str(row[1])) if row else None


@dataclass
class RunState:
    """What the supervisor remembers about one city between runs."""

    last_success: datetime | None = None
    failures: int = 0
    backfilled: bool = False
    retry_at: datetime | None = None
    digest_failures: int = 0
    digest_pending: bool = False  # a digest may be owed for the snapshot found at start


class CityCycle:
    """One city's cycles: backfill if never done, then updates on schedule, retries, digests."""

    def __init__(self, host: Supervisor, home: Settings, name: str) -> None:
        self.host = host
        self.name = name
        self.settings = home.for_city(name)  # its own warehouse, lock and snapshot
        self.flags = ["--city", name] if home.several_cities else []
        self.trigger = parse_schedule(home.schedule, self.settings.city_timezone())
        self.state = RunState(last_success=read_last_success(self.settings))
        self.state.backfilled = (self.settings.home / BACKFILL_MARKER).exists()
        self._lock = threading.Lock()

    def job_id(self, what: str) -> str:
        """The scheduler job id of this city's ``what`` (update, retry, digest; the city after a colon
        in a several-city home)."""
        return f"{what}:{self.name}" if self.flags else what

    def _child(self, what: str, args: list[str]) -> int:
        return self.host.run_child(f"{what}:{self.name}", [*args, *self.flags])

    # ------------------------------------------------------------------- cycles
    def run_cycle(self, reason: str) -> None:
        """Backfill if never done, then one update; schedule a retry when it fails."""
        if self.host.stopping:
            return
        if not self._lock.acquire(blocking=False):
            log.debug("%s: a cycle is still running; %s skipped", self.name, reason)
            return
        try:
            log.info("%s: update cycle (%s)", self.name, reason)
            code = self._backfill_once() if not self.state.backfilled else EXIT_OK
            if code == EXIT_OK and not self.host.stopping:
                code = self._child("update", ["update"])
            self._after(code)
            if code == EXIT_OK or self.state.digest_pending:
                self.send_digest()
        finally:
            self._lock.release()

    def digest_cycle(self) -> None:
        """The digest alone (at start, and retries): its ledger makes every extra run harmless."""
        if self.host.stopping or not self._lock.acquire(blocking=False):
            return
        try:
            self.send_digest()
        finally:
            self._lock.release()

    def send_digest(self) -> None:
        """After a successful publish: each subscriber's digest (a child; exactly once per target)."""
        from resolve311.digest.send import chosen

        if not chosen(self.settings.digest, None, self.name) or self.host.stopping:
            return
        if self._child("digest", ["digest", "send"]) == EXIT_OK:
            self.state.digest_failures, self.state.digest_pending = 0, False
            return
        self.state.digest_failures += 1
        delay = retry_delay(self.state.digest_failures, self.settings.digest.retry_minutes)
        log.warning("%s: some digests were not delivered; retrying in %s", self.name, delay)
        self.host.schedule_once(self.job_id("digest"), self.digest_cycle, datetime.now(UTC) + delay)

    def _backfill_once(self) -> int:
        today = self.host.today()
        code = EXIT_OK
        for since, until in backfill_stages(initial_backfill_since(self.settings, today), today):
            args = ["backfill", "--since", since.isoformat()]
            if until is not None:
                args += ["--until", until.isoformat()]
            code = self._child("backfill", args)
            if code != EXIT_OK or self.host.stopping:
                return code
        if code == EXIT_OK:
            self.settings.home.mkdir(parents=True, exist_ok=True)
            (self.settings.home / BACKFILL_MARKER).write_text(datetime.now(UTC).isoformat())
            self.state.backfilled = True
        return code

    def _after(self, code: int) -> None:
        now = datetime.now(UTC)
        if code == EXIT_OK:
            self.state.last_success, self.state.failures, self.state.retry_at = now, 0, None
            return
        if self.host.stopping:
            return
        self.state.failures += 1
        delay = retry_delay(self.state.failures, self.settings.retry_unavailable_minutes)
        self.state.retry_at = now + delay
        what = "source unavailable" if code == EXIT_UNAVAILABLE else f"update failed ({code})"
        log.warning(
            "%s: %s; retrying at %s", self.name, what, self.state.retry_at.isoformat(timespec="seconds")
        )
        self.host.schedule_once(self.job_id("retry"), lambda: self.start_thread("retry"), self.state.retry_at)

    def catch_up_if_due(self, now: datetime) -> None:
        """Start a missed update in its own thread (after sleep or start), unless a retry is pending."""
        waiting_retry = self.state.retry_at is not None and now < self.state.retry_at
        if not waiting_retry and missed_run_due(self.trigger, self.state.last_success, now):
            self.start_thread("catch-up")

    def start_thread(self, reason: str) -> None:
        """Run one cycle in its own thread (never in the caller's: cities never wait for each other)."""
        threading.Thread(target=self.run_cycle, args=[reason], name=f"cycle-{self.name}", daemon=True).start()

    def on_start(self) -> None:
        """When ``up`` starts: a digest possibly owed, and a catch-up when the snapshot is behind."""
        if self.settings.digest.subscribers and self.settings.snapshot_path.exists():
            # `up` may have stopped between a publish and its digest: the ledger sends only what is missing
            self.state.digest_pending = True
            self.host.schedule_once(self.job_id("digest"), self.digest_cycle, None)
        reason = unpublished_reason(self.settings)
        if reason is not None:  # e.g. the last run was killed during its metrics or publish stage
            log.info("%s: catch-up: %s", self.name, reason)
            self.start_thread(f"catch-up: {reason}")
