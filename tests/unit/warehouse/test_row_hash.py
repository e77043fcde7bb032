"""row_hash: DuckDB's hash() of the normalised fields, with a probe that re-hashes stored rows once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import duckdb

from resolve311.warehouse.connection import connect
from resolve311.warehouse.row_hash import current_probe, ensure_row_hash_scheme

MD5_ERA = "md5(to_json(struct_pack(unique_key := unique_key, status := status))::VARCHAR)"


def stored(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [
        (str(k), str(h))
        for k, h in con.execute(f"SELECT unique_key, row_hash FROM {table} ORDER BY ALL").fetchall()
    ]


def test_a_new_warehouse_records_the_probe_of_this_engine_and_rehashes_nothing(
    tmp_path: Path, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="resolve311.warehouse.row_hash")
    con = connect(tmp_path / "new.duckdb")
    assert con.execute("SELECT probe FROM row_hash_scheme").fetchall() == [(current_probe(con),)]
    assert not [r for r in caplog.records if "re-hashing" in r.getMessage()]
    assert ensure_row_hash_scheme(con) is False  # the probe matches
    con.execute("DELETE FROM row_hash_scheme")  # as before its first open
    assert ensure_row_hash_scheme(con) is False  # no rows: nothing to re-hash, only the probe recorded
    assert con.execute("SELECT probe FROM row_hash_scheme").fetchall() == [(current_probe(con),)]
    con.close()


def test_hashes_of_an_older_scheme_are_recomputed_once_and_redelivery_stays_unchanged(
    tmp_path: Path, load: Any, make_row: Any
) -> None:
    rows = [make_row(unique_key="1"), make_row(unique_key="2", status="Closed"), make_row(unique_key="3")]
    load(rows, seq=1)
    load([make_row(unique_key="1", status="Closed", **{":updated_at": "2024-04-17T00:00:00.000Z"})], seq=2)
    con = connect(tmp_path / "warehouse.duckdb")  # the fixture's file, a second connection
    current = {t: stored(con, t) for t in ("requests", "request_versions")}
    # a warehouse written by the md5 era: other hashes, no probe
    for table in ("requests", "request_history"):  # request_versions: a view over both
        con.execute(f"UPDATE {table} SET row_hash = {MD5_ERA}")
    con.execute("DELETE FROM row_hash_scheme")
    assert stored(con, "requests") != current["requests"]

    assert ensure_row_hash_scheme(con) is True
    assert {t: stored(con, t) for t in current} == current
    assert ensure_row_hash_scheme(con) is False
    con.close()

    again = load(rows, seq=3)  # the same rows again: nothing new, nothing changed
    assert (again.rows_new, again.rows_changed) == (0, 0)


def test_a_changed_probe_triggers_the_rehash(
    warehouse: duckdb.DuckDBPyConnection, load: Any, make_row: Any
) -> None:
    load([make_row(unique_key="7")], seq=1)
    before = stored(warehouse, "requests")
    warehouse.execute("UPDATE row_hash_scheme SET probe = 'from another engine'")
    warehouse.execute("UPDATE requests SET row_hash = 'stale'")
    assert ensure_row_hash_scheme(warehouse) is True
    assert stored(warehouse, "requests") == before


def test_the_rehash_goes_slice_by_slice_within_its_own_memory_cap(
    tmp_path: Path, load: Any, make_row: Any, monkeypatch: Any
) -> None:
    import resolve311.warehouse.row_hash as row_hash

    load([make_row(unique_key=str(k)) for k in range(1, 8)], seq=1)
    con = connect(tmp_path / "warehouse.duckdb")
    current = {t: stored(con, t) for t in ("requests", "request_versions")}
    for table in ("requests", "request_history"):
        con.execute(f"UPDATE {table} SET row_hash = {MD5_ERA}")
    con.execute("DELETE FROM row_hash_scheme")
    con.execute("SET memory_limit = '3GB'")
    caller_cap = con.execute("SELECT current_setting('memory_limit')").fetchall()
    monkeypatch.setattr(row_hash, "REHASH_SLICE_ROWS", 2)  # 7 rows: four slices per table

    assert ensure_row_hash_scheme(con) is True
    assert {t: stored(con, t) for t in current} == current  # every slice, the last partial one too
    after = con.execute("SELECT current_setting('memory_limit')").fetchall()
    assert after in (caller_cap, [("2.6 GiB",)])  # the caller's cap is back (DuckDB reports it rounded)
    con.close()
