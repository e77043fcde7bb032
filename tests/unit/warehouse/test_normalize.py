"""Normalisation: quarantine reasons, in-batch duplicates, dirty flags, is_closed, row_hash, extra."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from resolve311.warehouse.columns import BATCH_COLUMNS
from resolve311.warehouse.normalize import normalize


def _norm(rows: list[dict[str, Any]], **kwargs: Any) -> Any:
    return normalize(rows, source="nyc", dataset="erm2-nwe9", **kwargs)


def test_batch_has_exactly_the_request_columns(make_row: Any) -> None:
    batch = _norm([make_row()])
    assert tuple(batch.rows.column_names) == BATCH_COLUMNS
    assert batch.rows.column("source").to_pylist() == ["nyc"]
    assert batch.rows.column("dataset").to_pylist() == ["erm2-nwe9"]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"unique_key": None}, "missing_unique_key"),
        ({"unique_key": "   "}, "missing_unique_key"),
        ({"created_date": None}, "missing_created_date"),
        ({"created_date": "not a date"}, "unparseable_created_date"),
        ({"created_date": "2024-13-45T00:00:00.000"}, "unparseable_created_date"),
    ],
)
def test_unloadable_rows_are_quarantined_with_a_reason(
    fields: dict[str, Any], reason: str, make_row: Any
) -> None:
    bad = make_row(**fields)
    batch = _norm([make_row(unique_key="ok"), bad])
    assert batch.rows.column("unique_key").to_pylist() == ["ok"]
    [quarantined] = batch.quarantined
    assert (quarantined.row_number, quarantined.reason) == (1, reason)
    assert json.loads(quarantined.raw) == {k: v for k, v in bad.items() if v is not None}
    assert quarantined.detail


def test_quarantined_row_keeps_its_key_when_it_has_one(make_row: Any) -> None:
    [q] = _norm([make_row(unique_key="77", created_date="yesterday")]).quarantined
    assert q.unique_key == "77"
    assert '"yesterday"' in q.detail


def test_duplicate_key_in_a_batch_keeps_the_newest_and_is_not_quarantined(make_row: Any) -> None:
    rows = [
        make_row(status="Open", **{":updated_at": "2024-04-16T09:00:00.000Z"}),
        make_row(status="Closed", **{":updated_at": "2024-04-16T11:00:00.000Z"}),
        make_row(status="In Progress", **{":updated_at": "2024-04-16T10:00:00.000Z"}),
    ]
    batch = _norm(rows)
    assert batch.rows.column("status").to_pylist() == ["Closed"]
    assert (batch.rows_in, batch.duplicates, batch.quarantined) == (3, 2, [])


def test_duplicate_key_without_updated_at_keeps_the_last_row(make_row: Any) -> None:
    rows = [
        make_row(status="Open", **{":updated_at": None}),
        make_row(status="Closed", **{":updated_at": None}),
    ]
    assert _norm(rows).rows.column("status").to_pylist() == ["Closed"]


def test_max_source_updated_at_covers_every_input_row(make_row: Any) -> None:
    rows = [
        make_row(unique_key="1", **{":updated_at": "2024-04-16T09:00:00.000Z"}),
        make_row(unique_key=None, **{":updated_at": "2024-04-18T00:00:00.000Z"}),
    ]
    assert _norm(rows).max_source_updated_at == datetime(2024, 4, 18)


@pytest.mark.parametrize(
    ("fields", "flag"),
    [
        ({"closed_date": "2024-04-15T00:00:00.000", "status": "Closed"}, "closed_before_created"),
        ({"closed_date": "1900-01-01T00:00:00.000", "status": "Closed"}, "sentinel_date"),
        ({"closed_date": "1899-12-31T19:00:00.000", "status": "Closed"}, "sentinel_date"),
        ({"closed_date": "3027-05-01T00:00:00.000", "status": "Closed"}, "sentinel_date"),
        ({"closed_date": "2024-04-16T03:03:15.000", "status": "Closed"}, "closed_same_second"),
        ({"closed_date": "2024-04-17T00:00:00.000", "status": "Closed"}, "closed_at_midnight"),
        ({"resolution_action_updated_date": "2024-04-01T00:00:00.000"}, "resolution_before_created"),
        ({"status": "Closed", "closed_date": None}, "status_closed_no_date"),
        ({"status": "Open", "closed_date": "2024-04-16T05:00:00.000"}, "open_with_closed_date"),
        ({"borough": "Unspecified"}, "unspecified_borough"),
        ({"borough": None}, "unspecified_borough"),
        ({"due_date": "soon"}, "unparseable_due_date"),
        ({"closed_date": "later", "status": "Closed"}, "unparseable_closed_date"),
    ],
)
def test_suspicious_rows_are_loaded_with_a_flag(
    fields: dict[str, Any], flag: str, make_row: Any, normalize_one: Any
) -> None:
    row = normalize_one(make_row(**fields))
    assert flag in row["dirty_flags"]


def test_clean_row_has_no_flags(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(closed_date="2024-04-16T05:00:00.000", status="Closed"))
    assert row["dirty_flags"] == []


@pytest.mark.parametrize(
    ("status", "closed_date", "is_closed", "hours"),
    [
        ("Closed", "2024-04-16T05:03:15.000", True, 2.0),
        ("Closed - Testing", "2024-04-16T05:03:15.000", True, 2.0),
        ("CLOSED", None, True, None),
        ("Open", "2024-04-16T03:03:15.000", False, None),  # DOB 'submitted' rows: not closed
        ("Pending", "2024-04-16T12:00:00.000", False, None),
        (None, "2024-04-16T05:03:15.000", True, 2.0),  # no status: the closed date decides
        ("Unspecified", "2024-04-16T05:03:15.000", True, 2.0),
        (None, "1900-01-01T00:00:00.000", False, None),  # a sentinel is not a close
        ("Closed", "1900-01-01T00:00:00.000", True, None),  # closed, duration unknown
        ("Closed", "2024-04-15T03:03:15.000", True, None),  # closed before created: no duration
        ("In Progress", None, False, None),
    ],
)
def test_is_closed_and_hours_to_close(
    status: str | None,
    closed_date: str | None,
    is_closed: bool,
    hours: float | None,
    make_row: Any,
    normalize_one: Any,
) -> None:
    row = normalize_one(make_row(status=status, closed_date=closed_date))
    assert row["is_closed"] is is_closed
    assert row["hours_to_close"] == (pytest.approx(hours) if hours is not None else None)


def test_text_is_kept_exactly_as_delivered(make_row: Any, normalize_one: Any) -> None:
    text = "Department of Transportation\u00e2\u0080\u0099s website  "
    row = normalize_one(
        make_row(resolution_description=text, incident_zip="00000", complaint_type="../../../../")
    )
    assert row["resolution_description"] == text
    assert row["incident_zip"] == "00000"
    assert row["complaint_type"] == "../../../../"


def test_unknown_columns_go_to_extra_without_nulls(make_row: Any) -> None:
    rows = [
        make_row(unique_key="1", **{":@computed_region_efsh_h5xi": "13091", "school_name": "PS 1"}),
        make_row(unique_key="2"),
    ]
    extras = _norm(rows).rows.column("extra").to_pylist()
    assert json.loads(extras[0]) == {":@computed_region_efsh_h5xi": "13091", "school_name": "PS 1"}
    assert extras[1] is None


def test_row_hash_ignores_format_but_not_content_or_updated_at(make_row: Any, normalize_one: Any) -> None:
    api = normalize_one(make_row(location="POINT (-73.73 40.67)"))
    export_style = normalize_one(
        make_row(
            created_date="04/16/2024 03:03:15 AM", location="(40.67, -73.73)", **{":@computed_region_x": "1"}
        )
    )
    changed = normalize_one(make_row(status="Closed"))
    touched = normalize_one(make_row(**{":updated_at": "2024-04-17T00:00:00.000Z"}))
    assert api["row_hash"] == export_style["row_hash"]
    assert len({api["row_hash"], changed["row_hash"], touched["row_hash"]}) == 3


def test_row_hash_is_stable_across_runs(make_row: Any, normalize_one: Any) -> None:
    assert normalize_one(make_row())["row_hash"] == normalize_one(make_row())["row_hash"]


def test_field_map_renames_another_citys_fields(make_row: Any) -> None:
    chicago = {"sr_number": "SR24-1", "created_date": "2024-04-16T03:03:15.000", "sr_type": "Pothole"}
    batch = normalize(
        [chicago],
        source="chicago",
        dataset="v6vf-nfxy",
        tz="America/Chicago",
        field_map={"sr_number": "unique_key", "sr_type": "complaint_type"},
    )
    [row] = batch.rows.to_pylist()
    assert (row["unique_key"], row["complaint_type"], row["extra"]) == ("SR24-1", "Pothole", None)


def test_typed_arrow_input_is_accepted(make_row: Any) -> None:
    table = pa.table(
        {
            "unique_key": pa.array([5], pa.int64()),
            "created_date": pa.array([datetime(2024, 4, 16, 3, 3, 15)], pa.timestamp("ms")),
            "latitude": pa.array([40.7], pa.float64()),
            "longitude": pa.array([-73.9], pa.float64()),
        }
    )
    [row] = normalize(table, source="nyc", dataset=None).rows.to_pylist()
    assert (row["unique_key"], row["created_date"], row["latitude"]) == (
        "5",
        datetime(2024, 4, 16, 3, 3, 15),
        40.7,
    )


def test_empty_input_gives_an_empty_batch() -> None:
    batch = normalize([], source="nyc", dataset=None)
    assert batch.rows.num_rows == 0
    assert tuple(batch.rows.column_names) == BATCH_COLUMNS
    assert batch.max_source_updated_at is None


def test_empty_objects_are_rows_without_a_key() -> None:
    batch = normalize([{}, {"unique_key": ""}], source="nyc", dataset=None)
    assert [q.reason for q in batch.quarantined] == ["missing_unique_key", "missing_unique_key"]
    assert [q.raw for q in batch.quarantined] == ["{}", "{}"]


def test_a_city_closes_with_its_own_words_and_has_its_own_box(make_row: Any) -> None:
    from resolve311.sources.catalog import get_source

    chicago = get_source("chicago").rules
    rows = [
        make_row(unique_key="1", status="Completed", closed_date="2024-04-16T05:03:15.000", borough=None),
        make_row(unique_key="2", status="Canceled", closed_date="2024-04-16T05:03:15.000", borough=None),
        make_row(unique_key="3", status="Open", closed_date=None, latitude="41.88", longitude="-87.63"),
    ]
    out = {
        r["unique_key"]: r
        for r in normalize(rows, source="chicago", dataset=None, rules=chicago).rows.to_pylist()
    }
    assert [out[k]["is_closed"] for k in "123"] == [True, True, False]
    assert out["1"]["hours_to_close"] == pytest.approx(2.0)
    for row in out.values():
        assert not {"open_with_closed_date", "unspecified_borough"} & set(row["dirty_flags"])
    assert "outside_city" in out["1"]["dirty_flags"]  # the fixture's NYC point is outside Chicago
    assert "outside_city" not in out["3"]["dirty_flags"]
    # read with NYC's vocabulary (the default) the same Chicago row is open with a closed date
    [nyc] = normalize(rows[:1], source="nyc", dataset=None).rows.to_pylist()
    assert nyc["is_closed"] is False and "open_with_closed_date" in nyc["dirty_flags"]


def test_loadable_rows_keep_the_input_order_across_row_groups() -> None:
    """Rows come out in input order without a sort, also when DuckDB scans in parallel."""
    n = 300_000  # more than two DuckDB row groups
    keys = [str(n - i) for i in range(n)]  # descending: any reordering by key or hash shows
    table = pa.table(
        {
            "unique_key": keys,
            "created_date": ["2024-01-02T03:04:05.000"] * n,
            "status": [None if i % 1000 else "" for i in range(n)],
        }
    )
    batch = normalize(table, source="nyc", dataset="erm2-nwe9", threads=2)
    assert batch.rows.column("unique_key").to_pylist() == keys


def test_a_thread_that_keeps_its_database_normalises_each_batch_as_a_fresh_one(make_row: Any) -> None:
    """A thread's in-memory DuckDB is reused from batch to batch: nothing of one batch reaches the next."""
    import threading

    from resolve311.warehouse import normalize as module

    batches = [
        [make_row(unique_key="1"), make_row(unique_key=None), make_row(unique_key="2", created_date="x")],
        [make_row(unique_key="3", surprise="a"), make_row(unique_key="3", descriptor="newer")],
        [make_row(unique_key="4")],
    ]
    fresh: list[Any] = []
    kept: list[Any] = []
    failed: list[BaseException] = []

    def in_thread(work: Callable[[], None]) -> None:
        def guarded() -> None:
            try:
                work()
            except BaseException as exc:  # handed to the test's thread
                failed.append(exc)

        thread = threading.Thread(target=guarded)
        thread.start()
        thread.join()

    def reuse() -> None:
        for threads in (1, None):  # a worker's setting, and DuckDB's default (the serial path)
            kept.extend(_norm(rows, threads=threads) for rows in batches)
            assert module._THREAD_DB.con is not None  # kept for the thread's next batch
            assert module._THREAD_DB.key[1] == threads

    for rows in batches:  # a new thread each: a database of its own each time
        in_thread(lambda rows=rows: fresh.append(_norm(rows)))
    in_thread(reuse)
    assert failed == []
    assert len(kept) == 2 * len(batches)
    for got, want in zip(kept, [*fresh, *fresh], strict=True):
        assert got.rows.equals(want.rows)
        assert got.quarantined == want.quarantined
        assert (got.rows_in, got.duplicates) == (want.rows_in, want.duplicates)
    assert [len(b.quarantined) for b in fresh] == [2, 0, 0] and fresh[1].duplicates == 1
