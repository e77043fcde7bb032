"""The simulation: its clock, its data and its fault plan (everything but HTTP)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from resolve311.errors import ConfigError
from resolve311.simulator.cities import sim_schema
from resolve311.simulator.config import SimConfig
from resolve311.simulator.faults import FaultPlan
from resolve311.simulator.replay import default_replay_today, replay_table
from resolve311.simulator.store import Store, snapshot_local
from resolve311.simulator.volume import EPOCH, HORIZON

CLOSE_WAIT_S = 10.0


class Simulation:
    """Generated (or replayed) NYC 311 data as shown on the simulated ``today``."""

    def __init__(self, config: SimConfig):
        self.config = config
        schema = sim_schema(config.source)
        if config.replay and schema.is_projection:
            raise ConfigError(
                f"--replay serves NYC files; it cannot be combined with --source {config.source}"
            )
        self._tmp = None if config.data_dir else Path(tempfile.mkdtemp(prefix="resolve311-sim-"))
        self.data_dir = config.data_dir or self._tmp
        assert self.data_dir is not None
        if config.replay:
            self.today = config.today or default_replay_today(list(config.replay))
        else:
            self.today = config.today_or_now()
            self._check_dates(self.today - timedelta(days=config.history_days), self.today)
        self.store = Store(self.data_dir, memory_limit=config.memory_limit, schema=schema)
        self.faults = FaultPlan(config)
        self.stop_event = threading.Event()
        self.requests_served = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition()
        self._in_flight = 0

    @staticmethod
    def _check_dates(first: date, last: date) -> None:
        if first < EPOCH or last > HORIZON:
            raise ConfigError(f"simulated dates must lie within {EPOCH}..{HORIZON}, got {first}..{last}")

    @property
    def _scale(self) -> float:
        """The generator's volume multiplier: the configured scale times the city's share of NYC."""
        return self.config.scale * self.store.schema.volume

    def start(self) -> None:
        """Generate the history (or read the replay files) and build what the API shows."""
        if self.config.replay:
            with self.store.lock:
                replay_table(list(self.config.replay), self.store.con, snapshot_local(self.today))
            return
        shutil.rmtree(self.store.base_dir, ignore_errors=True)
        first = self.today - timedelta(days=self.config.history_days)
        self.store.generate(self.config.seed, self._scale, first, self.today, self.config.incidents)
        self.store.build(self.today)

    def advance(self, days: int) -> dict[str, Any]:
        """Move today forward: create the new days' requests and the changes that fall due."""
        if days < 0:
            raise ConfigError("days must be >= 0")
        with self._lock:
            before, after = self.today, self.today + timedelta(days=days)
            if days and not self.config.replay:
                self._check_dates(before, after)
                self.store.generate(
                    self.config.seed,
                    self._scale,
                    before + timedelta(days=1),
                    after,
                    self.config.incidents,
                )
                self.store.refresh(before, after)
            self.today = after
        return self.state()

    def replace_all(self) -> dict[str, Any]:
        """Simulate a full dataset replace: every ``:updated_at`` moves to today's load."""
        with self._lock:
            self.store.bump_all(self.today)
        return self.state()

    def state(self) -> dict[str, Any]:
        """What /_sim/state answers."""
        counts = self.store.counts()
        updated = self.store.rows_updated_at()
        return {
            "today": self.today.isoformat(),
            "snapshot_local": snapshot_local(self.today).isoformat(),
            "rows_updated_at": updated.isoformat(timespec="milliseconds") + "Z" if updated else None,
            "rows": counts,
            "total_rows": self.store.schema.total(counts),
            "seed": self.config.seed,
            "scale": self.config.scale,
            "replay": [str(p) for p in self.config.replay],
            "down": self.faults.is_down(self.today),
            "faults": dict(self.config.faults),
            "latency_seconds": self.config.latency_seconds,
            "faults_injected": dict(self.faults.injected),
            "requests_served": self.requests_served,
        }

    def count_request(self) -> None:
        with self._lock:
            self.requests_served += 1

    @contextmanager
    def handling(self) -> Iterator[None]:
        """Mark one HTTP request as in flight (close() waits for them)."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def close(self) -> None:
        """Stop stalled requests, close the database, remove a temporary data directory."""
        self.stop_event.set()
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0, timeout=CLOSE_WAIT_S)
        self.store.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
