"""A simulator shared by the read-only tests of this folder, plus a factory for private ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any

import httpx
import pytest

from resolve311.simulator import SimConfig, run_simulator

TODAY = date(2024, 4, 16)
ORACLE = {"X-Sim-No-Faults": "1"}


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    """A read-only simulator: 20 days before 2024-04-16 at 5 % of NYC volume (~10k rows)."""
    with run_simulator(SimConfig(seed=7, today=TODAY, history_days=20, scale=0.05)) as url:
        yield url


@pytest.fixture
def client(sim_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_url, timeout=60) as c:
        yield c


@pytest.fixture
def make_sim() -> Iterator[Callable[..., str]]:
    """Start private simulators (tiny by default); all stop at the end of the test."""
    with ExitStack() as stack:

        def factory(**overrides: Any) -> str:
            settings: dict[str, Any] = {"seed": 3, "today": TODAY, "history_days": 2, "scale": 0.01}
            settings.update(overrides)
            return stack.enter_context(run_simulator(SimConfig(**settings)))

        yield factory


ReadAll = Callable[..., list[dict[str, Any]]]


def _read_all(client: httpx.Client, dataset: str = "erm2-nwe9", **params: str) -> list[dict[str, Any]]:
    query = {"$select": ":*,*", "$order": ":id", "$limit": "10000000", **params}
    response = client.get(f"/resource/{dataset}.json", params=query, headers=ORACLE)
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()
    return rows


@pytest.fixture
def read_all() -> ReadAll:
    """``read_all(client, dataset="erm2-nwe9")``: every row, one oracle request ordered by :id."""
    return _read_all
