"""Fixtures for publishing: a real PostgreSQL server and a home with a warehouse and a snapshot."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from integration.metrics.conftest import WarehouseBuilder
from pg_server import PostgresServer, pg_bin
from resolve311.publish import refresh_and_publish
from resolve311.settings import Settings, load_settings


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (skipped when PostgreSQL is not installed)."""
    pytest.importorskip("psycopg")
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (.ci/run installs the postgresql package)")
    server = PostgresServer.start()
    yield server
    server.stop()


@dataclass
class PublishEnv:
    """A home with a warehouse the test fills and refreshes."""

    settings: Settings
    warehouse: WarehouseBuilder
    rng: random.Random
    keys: int = 0

    def add_requests(self, n: int, start: datetime, days: int, batch_seq: int) -> None:
        """``n`` new requests created over ``days`` days from ``start``, loaded in batch ``batch_seq``."""
        for _ in range(n):
            self.keys += 1
            created = start + timedelta(minutes=self.rng.randrange(0, 60 * 24 * days))
            hours = self.rng.expovariate(1 / 30) if self.rng.random() < 0.8 else None
            self.warehouse.add(
                f"k{self.keys}",
                created,
                created + timedelta(hours=hours) if hours is not None else None,
                agency=self.rng.choice(["NYPD", "HPD", "DOT"]),
                complaint_type=self.rng.choice(["Noise", "HEAT/HOT WATER", "Street Condition"]),
                borough=self.rng.choice(["BROOKLYN", "QUEENS"]),
                lat=40.6 + self.rng.random() * 0.2,
                lon=-74.0 + self.rng.random() * 0.2,
                batch_seq=batch_seq,
            )
        self.warehouse.commit()

    def close_some(self, keys: list[str], at: datetime, batch_seq: int) -> None:
        """New versions of ``keys``: closed at ``at`` (same created date as before)."""
        rows = self.warehouse.con.execute(
            "SELECT unique_key, created_date, agency, complaint_type, borough FROM requests"
            " WHERE list_contains(?, unique_key)",
            [keys],
        ).fetchall()
        for key, created, agency, ctype, borough in rows:
            self.warehouse.add(key, created, at, agency=agency, complaint_type=ctype, borough=borough,
                               batch_seq=batch_seq)  # fmt: skip
        self.warehouse.commit()

    def refresh(self) -> None:
        """Refresh the metrics and publish them to the serving file only (a new generation; the
        other sinks are left to the test's publish_release, which skips the serving file)."""
        refresh_and_publish(self.settings, full=True)


@pytest.fixture
def publish_env(home: Path) -> Callable[..., PublishEnv]:
    """Make a home (settings overrides as keyword arguments) holding ~400 requests and a snapshot."""
    made: list[PublishEnv] = []

    def make(**overrides: object) -> PublishEnv:
        settings = load_settings(home=home, **overrides)
        env = PublishEnv(settings, WarehouseBuilder(settings.warehouse_path), random.Random(7))
        env.add_requests(400, datetime(2024, 3, 1), 90, batch_seq=1)
        env.refresh()
        made.append(env)
        return env

    yield make
    for env in made:
        env.warehouse.close()
