"""Fixtures for the pipeline's integration tests: running the CLI, reading the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(home: Path) -> CliRunner:
    """Run ``resolve311 ARGS`` in a child process with the test's home; returns the finished process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "resolve311", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run


@pytest.fixture
def warehouse(home: Path) -> Callable[..., list[tuple[object, ...]]]:
    """Run a read-only query on the test's warehouse."""

    def query(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return query


# ---------------------------------------------------------------- the oracle
ORACLE_HEADERS = {"X-Sim-No-Faults": "1"}
NYC_DATASETS = ("76ig-c548", "erm2-nwe9")
IGNORED_COLUMNS = ("batch_seq", "loaded_at")


def oracle_rows(url: str) -> list[dict[str, object]]:
    """The simulator's exact current data (both NYC datasets), read past every fault."""
    import httpx

    rows: list[dict[str, object]] = []
    for dataset in NYC_DATASETS:
        params = {"$select": ":*,*", "$order": ":id", "$limit": "10000000"}
        response = httpx.get(
            f"{url}/resource/{dataset}.json", params=params, headers=ORACLE_HEADERS, timeout=120
        )
        response.raise_for_status()
        rows.extend({**row, "__dataset": dataset} for row in response.json())
    return rows


def oracle_versions(rows: list[dict[str, object]]) -> set[tuple[str, object]]:
    """(unique_key, :updated_at as naive UTC) of the oracle's rows: one per published version."""
    from resolve311.extract.incremental import parse_system_time

    return {(str(r["unique_key"]), parse_system_time(str(r[":updated_at"]))) for r in rows}


def normalized_oracle(rows: list[dict[str, object]]) -> object:
    """The oracle's rows through the loader's own normalisation, per dataset (an Arrow table)."""
    import json

    import pyarrow as pa

    from resolve311.warehouse.formats import read_records
    from resolve311.warehouse.normalize import normalize

    tables = []
    for dataset in NYC_DATASETS:
        part = [{k: v for k, v in r.items() if k != "__dataset"} for r in rows if r["__dataset"] == dataset]
        if part:
            batch = normalize(read_records(json.dumps(part).encode(), "json"), source="nyc", dataset=dataset)
            assert not batch.quarantined, batch.quarantined[:3]
            tables.append(batch.rows)
    return pa.concat_tables(tables)


def table_differences(warehouse_path: Path, rows: list[dict[str, object]]) -> list[tuple[object, ...]]:
    """Rows of ``requests`` and of the normalised oracle that differ in any column (both ways)."""
    oracle = normalized_oracle(rows)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        con.register("oracle", oracle)
        columns = [c for c in oracle.column_names if c not in IGNORED_COLUMNS]  # type: ignore[attr-defined]
        cols = ", ".join(f'"{c}"::VARCHAR' for c in columns)
        sql = (
            f"(SELECT 'only in warehouse', {cols} FROM requests EXCEPT SELECT 'only in warehouse', {cols} FROM oracle)"
            f" UNION ALL (SELECT 'only in oracle', {cols} FROM oracle EXCEPT SELECT 'only in oracle', {cols} FROM requests)"
        )
        return con.execute(sql).fetchall()
    finally:
        con.close()


def raw_field_mismatches(warehouse_path: Path, rows: list[dict[str, object]]) -> list[str]:
    """Text fields compared with the oracle's raw strings, independent of the loader's normalisation."""
    from resolve311.schema import SODA_COLUMNS

    text_fields = [name for name, kind in SODA_COLUMNS if kind == "text" and name != "location"]
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        cursor = con.execute(f"SELECT {', '.join(text_fields)} FROM requests")
        stored = {r[0]: r for r in cursor.fetchall()}
    finally:
        con.close()
    problems = []
    for row in rows:
        mine = stored.get(str(row["unique_key"]))
        if mine is None:
            problems.append(f"{row['unique_key']}: missing")
            continue
        for name, value in zip(text_fields, mine, strict=True):
            if (row.get(name) or None) != value:
                problems.append(f"{row['unique_key']}.{name}: {row.get(name)!r} != {value!r}")
    return problems


class OracleTools:
    """The oracle helpers above, handed to tests through the ``oracle`` fixture."""

    rows = staticmethod(oracle_rows)
    versions = staticmethod(oracle_versions)
    differences = staticmethod(table_differences)
    raw_mismatches = staticmethod(raw_field_mismatches)


@pytest.fixture
def oracle() -> type[OracleTools]:
    """Read and compare the simulator's exact current data."""
    return OracleTools
