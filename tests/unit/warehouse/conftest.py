"""Fixtures for warehouse tests: a real DuckDB warehouse file and tiny row factories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from resolve311.warehouse.connection import connect
from resolve311.warehouse.loader import LoadResult, load_batch
from resolve311.warehouse.normalize import normalize

RowFactory = Callable[..., dict[str, Any]]


def api_row(**fields: Any) -> dict[str, Any]:
    """One SODA JSON row as the API sends it (strings; a None value means the key is left out)."""
    row: dict[str, Any] = {
        "unique_key": "1001",
        "created_date": "2024-04-16T03:03:15.000",
        "agency": "DOT",
        "complaint_type": "Street Condition",
        "status": "Open",
        "borough": "QUEENS",
        "latitude": "40.67679280229251",
        "longitude": "-73.7379342313789",
        ":id": "row-abc",
        ":created_at": "2024-04-16T08:00:00.000Z",
        ":updated_at": "2024-04-16T08:00:00.000Z",
    }
    row.update(fields)
    return {k: v for k, v in row.items() if v is not None}


@pytest.fixture
def make_row() -> RowFactory:
    return api_row


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh, migrated warehouse file."""
    con = connect(tmp_path / "warehouse.duckdb")
    yield con
    con.close()


Loader = Callable[..., LoadResult]


@pytest.fixture
def load(warehouse: duckdb.DuckDBPyConnection) -> Loader:
    """Normalise rows and load them as one batch in its own transaction."""

    def _load(rows: list[dict[str, Any]], *, seq: int, source: str = "nyc") -> LoadResult:
        batch = normalize(rows, source=source, dataset="erm2-nwe9")
        warehouse.execute("BEGIN")
        result = load_batch(warehouse, batch, batch_seq=seq)
        warehouse.execute("COMMIT")
        return result

    return _load


NormalizeOne = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def normalize_one() -> NormalizeOne:
    """Normalise one row and return it as a dict (fails if it was quarantined)."""

    def _one(row: dict[str, Any]) -> dict[str, Any]:
        batch = normalize([row], source="nyc", dataset="erm2-nwe9")
        assert not batch.quarantined, batch.quarantined
        rows: list[dict[str, Any]] = batch.rows.to_pylist()
        assert len(rows) == 1
        return rows[0]

    return _one
