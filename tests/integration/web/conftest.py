"""Fixtures for the web integration tests: a synthetic snapshot and a Flask test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from e2e.snapshot_shapes import CHICAGO
from resolve311.settings import load_settings
from resolve311.web.app import create_app


@pytest.fixture(scope="session")
def snapshot_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home holding a complete snapshot (with a hostile agency name and complaint type)."""
    home = tmp_path_factory.mktemp("web-home")
    build_snapshot(home / "serving.duckdb", SnapshotSpec(hostile_text=True))
    return home


def client_for(home: Path) -> Iterator[FlaskClient]:
    app = create_app(load_settings(home=home, recent="7d"))
    yield app.server.test_client()


@pytest.fixture
def client(snapshot_home: Path) -> Iterator[FlaskClient]:
    yield from client_for(snapshot_home)


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[FlaskClient]:
    """A server whose home has no snapshot yet."""
    yield from client_for(tmp_path / "empty-home")


CITIES = ["nyc", "chicago", "sf"]


@pytest.fixture(scope="session")
def several_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A several-city home: NYC and Chicago published, SF configured but without a snapshot yet."""
    home = tmp_path_factory.mktemp("several-home")
    build_snapshot(home / "cities" / "nyc" / "serving.duckdb", SnapshotSpec())
    build_snapshot(home / "cities" / "chicago" / "serving.duckdb", SnapshotSpec(**CHICAGO))  # type: ignore[arg-type]
    return home


@pytest.fixture
def several_client(several_home: Path) -> Iterator[FlaskClient]:
    app = create_app(load_settings(home=several_home, cities=CITIES, recent="7d"))
    yield app.server.test_client()
