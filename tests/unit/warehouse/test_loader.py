"""Loading: upsert newest-wins, versions, replay no-op, quarantine, affected dates, transactions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb

from resolve311.warehouse.columns import REQUEST_COLUMNS
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize

T1, T2, T3 = "2024-04-16T08:00:00.000Z", "2024-04-17T08:00:00.000Z", "2024-04-18T08:00:00.000Z"


def _status(con: duckdb.DuckDBPyConnection, key: str = "1001") -> Any:
    row = con.execute("SELECT status FROM requests WHERE unique_key = ?", [key]).fetchone()
    return row[0] if row else None


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_new_rows_are_inserted_with_load_columns(warehouse: Any, load: Any, make_row: Any) -> None:
    result = load([make_row(unique_key="1"), make_row(unique_key="2")], seq=7)
    assert (result.rows_new, result.rows_changed, result.rows_unchanged) == (2, 0, 0)
    rows = warehouse.execute("SELECT batch_seq, loaded_at FROM requests").fetchall()
    assert [r[0] for r in rows] == [7, 7]
    assert all(isinstance(r[1], datetime) for r in rows)
    assert _count(warehouse, "request_versions") == 2


def test_a_newer_version_replaces_the_row_and_adds_a_version(
    warehouse: Any, load: Any, make_row: Any
) -> None:
    load([make_row(status="Open", **{":updated_at": T1})], seq=1)
    result = load(
        [make_row(status="Closed", closed_date="2024-04-20T10:00:00.000", **{":updated_at": T2})], seq=2
    )
    assert (result.rows_new, result.rows_changed, result.rows_unchanged) == (0, 1, 0)
    assert _status(warehouse) == "Closed"
    assert _count(warehouse, "request_versions") == 2
    row = warehouse.execute("SELECT is_closed, hours_to_close, batch_seq FROM requests").fetchone()
    assert row[0] is True and row[1] > 0 and row[2] == 2


def test_an_older_version_arriving_later_never_overwrites(warehouse: Any, load: Any, make_row: Any) -> None:
    load([make_row(status="Closed", **{":updated_at": T3})], seq=1)
    result = load([make_row(status="Open", **{":updated_at": T1})], seq=2)
    assert (result.rows_changed, result.rows_unchanged, result.rows_stale) == (0, 1, 1)
    assert _status(warehouse) == "Closed"
    versions = warehouse.execute("SELECT status FROM request_versions ORDER BY source_updated_at").fetchall()
    assert versions == [("Open",), ("Closed",)]  # the older version is history, not current state


def test_without_updated_at_the_later_batch_wins(warehouse: Any, load: Any, make_row: Any) -> None:
    load([make_row(status="Open", **{":updated_at": None})], seq=1)
    load([make_row(status="Closed", **{":updated_at": None})], seq=2)
    assert _status(warehouse) == "Closed"
    load([make_row(status="Open", **{":updated_at": None})], seq=1)  # replay of the older batch
    assert _status(warehouse) == "Closed"


def test_a_file_import_never_overwrites_an_api_version(warehouse: Any, load: Any, make_row: Any) -> None:
    load([make_row(status="Closed", **{":updated_at": T1})], seq=1)
    load([make_row(status="Open", **{":updated_at": None})], seq=2)
    assert _status(warehouse) == "Closed"


def test_identical_redelivery_is_unchanged(warehouse: Any, load: Any, make_row: Any) -> None:
    load([make_row()], seq=1)
    result = load([make_row()], seq=2)
    assert (result.rows_new, result.rows_changed, result.rows_unchanged) == (0, 0, 1)
    assert result.affected_dates == frozenset()
    assert warehouse.execute("SELECT batch_seq FROM requests").fetchone() == (1,)


def test_replaying_a_batch_is_a_no_op(warehouse: Any, make_row: Any) -> None:
    rows = [make_row(unique_key=str(i), status="Open" if i % 2 else "Closed") for i in range(50)]
    rows.append(make_row(unique_key=None))
    batch = normalize(rows, source="nyc", dataset="erm2-nwe9")
    load_batch(warehouse, batch, batch_seq=3)
    before = {t: _snapshot(warehouse, t) for t in ("requests", "request_versions", "quarantine")}
    result = load_batch(warehouse, batch, batch_seq=3)
    assert (result.rows_new, result.rows_changed, result.rows_unchanged) == (0, 0, 50)
    assert {t: _snapshot(warehouse, t) for t in before} == before


def _snapshot(con: duckdb.DuckDBPyConnection, table: str) -> list[Any]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def test_quarantine_rows_are_stored_once_per_batch_position(warehouse: Any, make_row: Any) -> None:
    batch = normalize(
        [make_row(unique_key=None), make_row(created_date="garbage")], source="nyc", dataset=None
    )
    first = load_batch(warehouse, batch, batch_seq=5)
    load_batch(warehouse, batch, batch_seq=5)
    assert first.rows_quarantined == 2
    rows = warehouse.execute(
        "SELECT batch_seq, row_number, source, unique_key, reason FROM quarantine ORDER BY row_number"
    ).fetchall()
    assert rows == [
        (5, 0, "nyc", None, "missing_unique_key"),
        (5, 1, "nyc", "1001", "unparseable_created_date"),
    ]
    assert _count(warehouse, "requests") == 0


def test_affected_dates_cover_old_and_new_created_and_closed_dates(load: Any, make_row: Any) -> None:
    first = load([make_row(created_date="2024-04-16T03:00:00.000", **{":updated_at": T1})], seq=1)
    assert first.affected_dates == frozenset({date(2024, 4, 16)})
    second = load(
        [
            make_row(
                created_date="2024-04-15T23:00:00.000",
                closed_date="2024-04-19T10:00:00.000",
                status="Closed",
                **{":updated_at": T2},
            )
        ],
        seq=2,
    )
    assert second.affected_dates == frozenset({date(2024, 4, 15), date(2024, 4, 16), date(2024, 4, 19)})
    assert second.max_source_updated_at == datetime(2024, 4, 17, 8)


def test_each_load_records_its_touched_days_for_the_next_refresh(
    warehouse: Any, load: Any, make_row: Any
) -> None:
    """Old and new created/closed days of changed rows (sentinels too), one NULL marker per batch."""
    load([make_row(created_date="2024-04-16T03:00:00.000", **{":updated_at": T1})], seq=1)  # first load
    load(
        [
            make_row(closed_date="2024-04-19T10:00:00.000", status="Closed", **{":updated_at": T2}),
            make_row(
                unique_key="2", created_date="2024-04-17T01:00:00.000", closed_date="1900-01-01T00:00:00"
            ),
        ],
        seq=2,
    )
    load([make_row(closed_date="2024-04-19T10:00:00.000", status="Closed", **{":updated_at": T2})], seq=3)
    load([make_row(unique_key="3", created_date="2024-04-20T01:00:00.000")], seq=4)  # only new keys
    rows = warehouse.execute(
        "SELECT source, batch_seq, day FROM load_touched_days ORDER BY batch_seq, day NULLS FIRST"
    ).fetchall()
    assert rows == [
        ("nyc", 1, None),
        ("nyc", 1, date(2024, 4, 16)),
        ("nyc", 2, None),
        ("nyc", 2, date(1900, 1, 1)),
        ("nyc", 2, date(2024, 4, 16)),
        ("nyc", 2, date(2024, 4, 17)),
        ("nyc", 2, date(2024, 4, 19)),
        ("nyc", 3, None),  # an identical re-delivery touches no day
        ("nyc", 4, None),
        ("nyc", 4, date(2024, 4, 20)),
    ]


def test_sentinel_dates_do_not_count_as_affected(load: Any, make_row: Any) -> None:
    result = load([make_row(closed_date="1900-01-01T00:00:00.000", status="Closed")], seq=1)
    assert result.affected_dates == frozenset({date(2024, 4, 16)})


def test_load_runs_inside_the_callers_transaction(warehouse: Any, make_row: Any) -> None:
    batch = normalize([make_row(), make_row(unique_key=None)], source="nyc", dataset=None)
    warehouse.execute("BEGIN")
    load_batch(warehouse, batch, batch_seq=1)
    warehouse.execute("ROLLBACK")
    assert [_count(warehouse, t) for t in ("requests", "request_versions", "quarantine")] == [0, 0, 0]


def test_many_changes_in_one_transaction(warehouse: Any, make_row: Any) -> None:
    warehouse.execute("BEGIN")
    for seq, ts in enumerate((T1, T2, T3), start=1):
        rows = [make_row(unique_key=str(i), descriptor=f"v{seq}", **{":updated_at": ts}) for i in range(20)]
        load_batch(warehouse, normalize(rows, source="nyc", dataset=None), batch_seq=seq)
    warehouse.execute("COMMIT")
    assert warehouse.execute("SELECT DISTINCT descriptor FROM requests").fetchall() == [("v3",)]
    assert _count(warehouse, "request_versions") == 60


def test_requests_and_versions_hold_the_same_columns(warehouse: Any, load: Any, make_row: Any) -> None:
    load([make_row()], seq=1)
    for table in ("requests", "request_versions"):
        names = [r[0] for r in warehouse.execute(f"DESCRIBE {table}").fetchall()]
        assert tuple(names) == REQUEST_COLUMNS
    assert _snapshot(warehouse, "requests") == _snapshot(warehouse, "request_versions")


def test_a_late_older_version_marks_its_dates_affected(load: Any, make_row: Any) -> None:
    """It changes no current row, but it adds history (backlog as of past days)."""
    load([make_row(status="Closed", closed_date="2024-04-18T09:00:00.000", **{":updated_at": T3})], seq=1)
    late = load(
        [make_row(status="Open", created_date="2024-04-16T03:03:15.000", **{":updated_at": T1})], seq=2
    )
    assert late.rows_stale == 1
    assert date(2024, 4, 16) in late.affected_dates


def test_a_failing_load_reports_its_own_error_and_rolls_back(warehouse: Any, make_row: Any) -> None:
    import pytest

    batch = normalize([make_row()], source="nyc", dataset=None)
    warehouse.execute("BEGIN")
    warehouse.execute("DROP VIEW request_versions")
    warehouse.execute("DROP TABLE request_history")  # make the load fail
    with pytest.raises(duckdb.CatalogException, match="request_history"):
        load_batch(warehouse, batch, batch_seq=1)
    warehouse.execute("ROLLBACK")
    assert _count(warehouse, "requests") == 0


def test_the_callers_progress_bar_setting_is_restored(warehouse: Any, make_row: Any) -> None:
    warehouse.execute("SET enable_progress_bar = true")
    load_batch(warehouse, normalize([make_row()], source="nyc", dataset=None), batch_seq=1)
    assert warehouse.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (True,)


def test_a_batch_of_only_new_keys_matches_the_general_path(tmp_path: Any, make_row: Any) -> None:
    from resolve311.warehouse.connection import connect

    rows = [
        make_row(unique_key="1"),
        make_row(unique_key="2", status="Closed", closed_date="2024-04-18T10:00:00.000"),
        make_row(unique_key="3", created_date="1900-01-01T00:00:00.000"),
    ]
    stored, results = [], []
    known = make_row(unique_key="0")
    for name, first in (("empty", None), ("new keys", make_row(unique_key="00")), ("general", known)):
        con = connect(tmp_path / f"{name}.duckdb")
        if first is not None:  # a stored key in the batch makes the loader take the general path
            con.begin()
            load_batch(con, normalize([first], source="nyc", dataset="erm2-nwe9"), batch_seq=1)
            con.commit()
        batch = [*rows, known] if name == "general" else rows
        con.begin()
        results.append(load_batch(con, normalize(batch, source="nyc", dataset="erm2-nwe9"), batch_seq=2))
        con.commit()
        columns = ", ".join(c for c in REQUEST_COLUMNS if c != "loaded_at")
        stored.append(
            [
                con.execute(
                    f"SELECT {columns} FROM {t} WHERE unique_key NOT IN ('0', '00') ORDER BY unique_key"
                ).fetchall()
                for t in ("requests", "request_versions")
            ]
        )
        con.close()
    assert stored[0] == stored[1] == stored[2] and len(stored[0][0]) == 3 and len(stored[0][1]) == 3
    empty, new_keys, general = results
    assert (empty.rows_new, empty.rows_changed, empty.rows_unchanged) == (3, 0, 0)
    assert (general.rows_new, general.rows_unchanged) == (3, 1)  # the stored key: the general path
    assert empty.affected_dates == new_keys.affected_dates == general.affected_dates
    assert empty.rows_new == new_keys.rows_new == general.rows_new
    assert date(2024, 4, 18) in empty.affected_dates


def test_the_request_tables_have_no_index_and_the_loader_keeps_keys_and_versions_unique(
    tmp_path: Any, make_row: Any
) -> None:
    """No ART index: DuckDB builds it in memory at commit, outside memory_limit (migration 008)."""
    from resolve311.warehouse.connection import connect

    con = connect(tmp_path / "w.duckdb")
    indexed = con.execute(
        "SELECT table_name FROM duckdb_indexes() WHERE table_name IN ('requests', 'request_versions') "
        "UNION ALL SELECT table_name FROM duckdb_constraints() "
        "WHERE table_name IN ('requests', 'request_versions') AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
    ).fetchall()
    assert indexed == []
    first = normalize([make_row(unique_key="1"), make_row(unique_key="2")], source="nyc", dataset=None)
    con.begin()
    load_batch(con, first, batch_seq=1)
    con.rollback()
    assert _count(con, "requests") == _count(con, "request_versions") == 0
    changed = [make_row(unique_key="1", status="Closed", **{":updated_at": T2}), make_row(unique_key="3")]
    for seq, rows in enumerate([first.rows.to_pylist(), changed, changed], start=1):
        batch = first if seq == 1 else normalize(rows, source="nyc", dataset=None)
        con.begin()
        load_batch(con, batch, batch_seq=seq)
        con.commit()
    keys = con.execute("SELECT count(*), count(DISTINCT unique_key) FROM requests").fetchall()
    versions = con.execute(
        "SELECT count(*), count(DISTINCT (unique_key, row_hash)) FROM request_versions"
    ).fetchall()
    assert keys == [(3, 3)] and versions == [(4, 4)]
    con.close()
