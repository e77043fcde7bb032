"""``resolve311 up``: one supervised process that backfills, updates on schedule, and serves.

The supervisor does no data work itself. Each update or backfill runs as a
child ``resolve311`` process (so a crash, a SIGTERM or a memory leak in one run
cannot take the dashboard down, and the warehouse is only ever opened by one
short-lived writer); the dashboard runs as another child that reads only the
serving snapshot and is restarted if it dies.

A several-city home (setting ``cities``) gets one :class:`~resolve311.cycles.CityCycle`
per city: each runs its own children (``update --city NAME``) in its own thread, with
its own lock, schedule (in the city's time zone) and retries, beside the one dashboard.
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
from datetime import UTC, date, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from resolve311.cli.exit_codes import EXIT_OK
from resolve311.cycles import (
    BACKFILL_MARKER,
    FIRST_STAGE_DAYS,
    CityCycle,
    RunState,
    backfill_stages,
    initial_backfill_since,
    read_last_success,
    unpublished_reason,
)
from resolve311.processes import stop_process
from resolve311.settings import Settings

__all__ = [
    "BACKFILL_MARKER",
    "FIRST_STAGE_DAYS",
    "RunState",
    "Supervisor",
    "backfill_stages",
    "child_env",
    "initial_backfill_since",
    "read_last_success",
    "unpublished_reason",
]

log = logging.getLogger(__name__)

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


class Supervisor:
    """Runs every city's updates on a schedule (with catch-up and retry) and keeps the dashboard up."""

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
        self.cycles = [CityCycle(self, settings, name) for name in settings.city_names()]
        self._stop = threading.Event()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._children_lock = threading.Lock()
        self._scheduler = BackgroundScheduler(timezone=self.cycles[0].settings.city_timezone())

    # ------------------------------------------- the only city (single-city homes and tests)
    @property
    def state(self) -> RunState:
        """The first city's state (the only one in a single-city home)."""
        return self.cycles[0].state

    @property
    def trigger(self) -> BaseTrigger:
        return self.cycles[0].trigger

    def run_cycle(self, reason: str) -> None:
        """One cycle of every city, one after the other (the schedule runs them in parallel)."""
        for cycle in self.cycles:
            cycle.run_cycle(reason)

    def _send_digest(self) -> None:
        for cycle in self.cycles:
            cycle.send_digest()

    # ----------------------------------------------------------------- children
    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        cmd = [sys.executable, "-m", "resolve311", *args]
        proc = subprocess.Popen(cmd, env=child_env(self.settings))
        with self._children_lock:
            self._children[name] = proc
        return proc

    def run_child(self, name: str, args: list[str]) -> int:
        """Run ``resolve311 ARGS`` as a child called ``name`` and wait for its exit code."""
        proc = self._spawn(name, args)
        code = proc.wait()
        with self._children_lock:
            self._children.pop(name, None)
        log.info("%s finished with exit code %s", name, code)
        return code

    def schedule_once(self, job_id: str, job: Callable[[], None], when: datetime | None) -> None:
        """Run ``job`` once at ``when`` (None: now), replacing a pending job of the same id."""
        self._scheduler.add_job(job, "date", run_date=when, id=job_id, replace_existing=True)

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

    def _watchdog(self) -> None:
        """Every few seconds: keep the dashboard up, and run missed updates (after sleep/start)."""
        self._ensure_web()
        now = datetime.now(UTC)
        for cycle in self.cycles:
            cycle.catch_up_if_due(now)

    # ---------------------------------------------------------------- lifecycle
    def run(self, watchdog_seconds: float = 5.0) -> int:
        """Block until SIGINT/SIGTERM; return the exit code."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        for cycle in self.cycles:
            self._scheduler.add_job(  # a cycle runs in its own thread: a long one blocks no other job
                cycle.start_thread,
                cycle.trigger,
                args=["schedule"],
                id=cycle.job_id("update"),
                name=f"update {cycle.name}",
                **common,
            )
        self._scheduler.add_job(self._watchdog, "interval", seconds=watchdog_seconds, id="watchdog", **common)
        for number, (job, seconds) in enumerate(self.extra_jobs):
            self._scheduler.add_job(job, "interval", seconds=seconds, id=f"extra-{number}", **common)
        self._scheduler.start()
        for cycle in self.cycles:
            cycle.on_start()
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
