"""``resolve311 up``: one supervised process that backfills, updates on schedule, and serves.

The supervisor does no data work itself. Each update or backfill runs as a
child ``resolve311`` process (so a crash, a SIGTERM or a memory leak in one run
cannot take the dashboard down, and the warehouse is only ever opened by one
short-lived writer); the dashboard runs as another child that reads only the
serving snapshot and is restarted if it dies.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import FrameType

import duckdb
from apscheduler.schedulers.background import BackgroundScheduler

from resolve311.cli.exit_codes import EXIT_OK, EXIT_UNAVAILABLE
from resolve311.processes import stop_process
from resolve311.scheduler import missed_run_due, parse_schedule, retry_delay
from resolve311.settings import Settings

log = logging.getLogger(__name__)

BACKFILL_MARKER = "initial-backfill.done"
STOP_GRACE_S = 30.0


def child_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process exactly this process's effective settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump(mode="json", exclude={"app_token"}).items():
        key = f"RESOLVE311_{name.upper()}"
        if value is None:
            env.pop(key, None)
        elif isinstance(value, bool):
            env[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            env[key] = json.dumps(value)  # the [digest] table (the SMTP password stays in its own variable)
        else:
            env[key] = str(value)
    token = settings.token()
    if token:
        env["SOCRATA_APP_TOKEN"] = token
    env["PYTHONUNBUFFERED"] = "1"
    return env


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
    from resolve311.extract.lock import is_held
    from resolve311.metrics.snapshot import behind_reason
    from resolve311.warehouse.connection import open_warehouse

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
    """What the supervisor remembers between runs."""

    last_success: datetime | None = None
    failures: int = 0
    backfilled: bool = False
    retry_at: datetime | None = None
    digest_failures: int = 0
    digest_pending: bool = False  # a digest may be owed for the snapshot found at start


class Supervisor:
    """Runs updates on a schedule (with catch-up and retry) and keeps the dashboard up."""

    def __init__(
        self,
        settings: Settings,
        *,
        serve: bool = True,
        extra_jobs: list[tuple[Callable[[], None], float]] | None = None,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.settings = settings
        self.serve = serve
        self.extra_jobs = extra_jobs or []
        self.today = today or (lambda: datetime.now(UTC).date())
        self.trigger = parse_schedule(settings.schedule, settings.city_timezone())
        self.state = RunState(last_success=read_last_success(settings))
        self.state.backfilled = (settings.home / BACKFILL_MARKER).exists()
        self._stop = threading.Event()
        self._cycle_lock = threading.Lock()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._children_lock = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone=settings.city_timezone())

    # ----------------------------------------------------------------- children
    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "resolve311", *args]
        proc = subprocess.Popen(cmd, env=child_env(self.settings))
        with self._children_lock:
            self._children[name] = proc
        return proc

    def _run_child(self, name: str, args: list[str]) -> int:
        proc = self._spawn(name, args)
        code = proc.wait()
        with self._children_lock:
            self._children.pop(name, None)
        log.info("%s finished with exit code %s", name, code)
        return code

    def _ensure_web(self) -> None:
        if not self.serve or self._stop.is_set():
            return
        with self._children_lock:
            web = self._children.get("web")
        if web is None or web.poll() is not None:
            if web is not None:
                log.warning("dashboard exited with %s; restarting", web.returncode)
            args = ["serve", "--host", self.settings.host, "--port", str(self.settings.port)]
            self._spawn("web", args)
            log.info("dashboard on http://%s:%s", self.settings.host, self.settings.port)

    # ------------------------------------------------------------------- cycles
    def run_cycle(self, reason: str) -> None:
        """Backfill if never done, then one update; schedule a retry when it fails."""
        if self._stop.is_set() or not self._cycle_lock.acquire(blocking=False):
            return
        try:
            log.info("update cycle (%s)", reason)
            code = self._backfill_once() if not self.state.backfilled else EXIT_OK
            if code == EXIT_OK and not self._stop.is_set():
                code = self._run_child("update", ["update"])
            self._after(code)
            if code == EXIT_OK or self.state.digest_pending:
                self._send_digest()
        finally:
            self._cycle_lock.release()

    def _digest_cycle(self) -> None:
        """The digest alone (at start, and retries): its ledger makes every extra run harmless."""
        if self._stop.is_set() or not self._cycle_lock.acquire(blocking=False):
            return
        try:
            self._send_digest()
        finally:
            self._cycle_lock.release()

    def _send_digest(self) -> None:
        """After a successful publish: each subscriber's digest (a child; exactly once per target)."""
        if not self.settings.digest.subscribers or self._stop.is_set():
            return
        if self._run_child("digest", ["digest", "send"]) == EXIT_OK:
            self.state.digest_failures, self.state.digest_pending = 0, False
            return
        self.state.digest_failures += 1
        delay = retry_delay(self.state.digest_failures, self.settings.digest.retry_minutes)
        log.warning("some digests were not delivered; retrying in %s", delay)
        run_date = datetime.now(UTC) + delay
        self._scheduler.add_job(
            self._digest_cycle, "date", run_date=run_date, id="digest", replace_existing=True
        )

    def _backfill_once(self) -> int:
        today = self.today()
        code = EXIT_OK
        for since, until in backfill_stages(initial_backfill_since(self.settings, today), today):
            args = ["backfill", "--since", since.isoformat()]
            if until is not None:
                args += ["--until", until.isoformat()]
            code = self._run_child("backfill", args)
            if code != EXIT_OK or self._stop.is_set():
                return code
        if code == EXIT_OK:
            (self.settings.home / BACKFILL_MARKER).write_text(datetime.now(UTC).isoformat())
            self.state.backfilled = True
        return code

    def _after(self, code: int) -> None:
        now = datetime.now(UTC)
        if code == EXIT_OK:
            self.state.last_success, self.state.failures, self.state.retry_at = now, 0, None
            return
        if self._stop.is_set():
            return
        self.state.failures += 1
        delay = retry_delay(self.state.failures, self.settings.retry_unavailable_minutes)
        self.state.retry_at = now + delay
        what = "source unavailable" if code == EXIT_UNAVAILABLE else f"update failed ({code})"
        log.warning("%s; retrying at %s", what, self.state.retry_at.isoformat(timespec="seconds"))
        self._scheduler.add_job(
            self.run_cycle,
            "date",
            run_date=self.state.retry_at,
            args=["retry"],
            id="retry",
            replace_existing=True,
        )

    def _watchdog(self) -> None:
        """Every few seconds: keep the dashboard up, and run a missed update (after sleep/start)."""
        self._ensure_web()
        now = datetime.now(UTC)
        waiting_retry = self.state.retry_at is not None and now < self.state.retry_at
        if not waiting_retry and missed_run_due(self.trigger, self.state.last_success, now):
            threading.Thread(target=self.run_cycle, args=["catch-up"], daemon=True).start()

    # ---------------------------------------------------------------- lifecycle
    def run(self, watchdog_seconds: float = 5.0) -> int:
        """Block until SIGINT/SIGTERM; return the exit code."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        self._scheduler.add_job(self.run_cycle, self.trigger, args=["schedule"], id="update", **common)
        self._scheduler.add_job(self._watchdog, "interval", seconds=watchdog_seconds, id="watchdog", **common)
        for number, (job, seconds) in enumerate(self.extra_jobs):
            self._scheduler.add_job(job, "interval", seconds=seconds, id=f"extra-{number}", **common)
        self._scheduler.start()
        if self.settings.digest.subscribers and self.settings.snapshot_path.exists():
            # `up` may have stopped between a publish and its digest: the ledger sends only what is missing
            self.state.digest_pending = True
            self._scheduler.add_job(self._digest_cycle, "date", id="digest", replace_existing=True)
        reason = unpublished_reason(self.settings)
        if reason is not None:  # e.g. the last run was killed during its metrics or publish stage
            log.info("catch-up: %s", reason)
            threading.Thread(target=self.run_cycle, args=[f"catch-up: {reason}"], daemon=True).start()
        self._watchdog()
        self._stop.wait()
        self.shutdown()
        return EXIT_OK

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("received %s; shutting down", signal.Signals(signum).name)
        self._stop.set()

    def shutdown(self) -> None:
        """Stop the schedule, then let children end cleanly (SIGTERM), killing stragglers."""
        self._scheduler.shutdown(wait=False)
        with self._children_lock:
            children = list(self._children.values())
        for proc in children:
            if proc.poll() is None:
                proc.terminate()  # all at once, then wait for each
        for proc in children:
            stop_process(proc, STOP_GRACE_S)
