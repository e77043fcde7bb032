"""Shared fixtures: a temporary home, running simulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import SimulatorProcess, start_simulator


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RESOLVE311_HOME, and no config file or token leaking in from the machine."""
    h = tmp_path / "home"
    monkeypatch.setenv("RESOLVE311_HOME", str(h))
    monkeypatch.setenv("RESOLVE311_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SOCRATA_APP_TOKEN", raising=False)
    return h


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., SimulatorProcess]]:
    """Start simulators (``resolve311 simulate --port 0 ARGS``); all stop at the end of the test."""
    started: list[SimulatorProcess] = []

    def factory(*args: str, env: dict[str, str] | None = None) -> SimulatorProcess:
        sim = start_simulator(*args, env=env)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
