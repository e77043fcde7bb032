"""The run ledger and incremental state in a real (temporary) warehouse."""

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from resolve311.pipeline import ledger
from resolve311.warehouse.connection import connect


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = connect(tmp_path / "w.duckdb")
    yield connection
    connection.close()


def test_the_watermark_never_moves_backward(con: duckdb.DuckDBPyConnection) -> None:
    ledger.advance_watermark(con, "nyc", "erm2-nwe9", datetime(2024, 1, 2))
    ledger.advance_watermark(con, "nyc", "erm2-nwe9", datetime(2024, 1, 1))
    assert ledger.watermark(con, "nyc", "erm2-nwe9") == datetime(2024, 1, 2)
    ledger.advance_watermark(con, "nyc", "76ig-c548", datetime(2023, 1, 1))
    assert ledger.watermark(con, "nyc") == datetime(2024, 1, 2)
    assert ledger.watermark(con, "nyc", "other") is None


def test_an_outage_keeps_its_first_moment_until_the_source_answers(con: duckdb.DuckDBPyConnection) -> None:
    ledger.mark_unavailable(con, "nyc", ["erm2-nwe9"])
    first = con.execute("SELECT unavailable_since FROM source_state").fetchone()
    ledger.mark_unavailable(con, "nyc", ["erm2-nwe9"])
    assert con.execute("SELECT unavailable_since FROM source_state").fetchone() == first
    assert ledger.last_success(con, "nyc", "erm2-nwe9") is None
    ledger.mark_reachable(con, "nyc", ["erm2-nwe9"], success=True)
    row = con.execute("SELECT unavailable_since, last_success_at IS NOT NULL FROM source_state").fetchone()
    assert row == (None, True)


def test_runs_left_running_are_marked_interrupted(con: duckdb.DuckDBPyConnection) -> None:
    ledger.start_run(
        con, run_id="a", source="nyc", kind="update", started_at=datetime(2024, 1, 1), watermark_before=None
    )
    ledger.start_run(
        con, run_id="b", source="nyc", kind="update", started_at=datetime(2024, 1, 2), watermark_before=None
    )
    ledger.finish_run(
        con, run_id="b", status="success", counts=ledger.RunCounts(rows_new=3),
        watermark_after=datetime(2024, 1, 2), full_replace=False, error=None,
    )  # fmt: skip
    assert ledger.interrupt_stale_runs(con) == 1
    rows = con.execute(
        "SELECT run_id, status, rows_new, ended_at IS NOT NULL FROM runs ORDER BY 1"
    ).fetchall()
    assert rows == [("a", "interrupted", 0, True), ("b", "success", 3, True)]


def test_backfill_chunks_are_remembered(con: duckdb.DuckDBPyConnection) -> None:
    assert ledger.done_chunks(con, "nyc", "erm2-nwe9") == set()
    ledger.mark_chunk_done(con, "nyc", "erm2-nwe9", "2024-01-01..2024-01-08", 10)
    ledger.mark_chunk_done(con, "nyc", "erm2-nwe9", "2024-01-01..2024-01-08", 10)
    assert ledger.done_chunks(con, "nyc", "erm2-nwe9") == {"2024-01-01..2024-01-08"}
    assert ledger.done_chunks(con, "nyc", "76ig-c548") == set()


def test_dates_loaded_by_interrupted_runs_are_found_for_the_next_refresh(
    con: duckdb.DuckDBPyConnection,
) -> None:
    def run(run_id: str, day: int, status: str) -> None:
        ledger.start_run(
            con,
            run_id=run_id,
            source="nyc",
            kind="update",
            started_at=datetime(2024, 1, day),
            watermark_before=None,
        )
        con.execute("UPDATE runs SET status = ? WHERE run_id = ?", [status, run_id])

    run("a", 1, "success")
    assert ledger.unrefreshed_since(con) is None
    run("b", 2, "interrupted")
    run("c", 3, "interrupted")
    assert ledger.unrefreshed_since(con) == datetime(2024, 1, 2)
    columns = [r[0] for r in con.execute("DESCRIBE request_versions").fetchall()]
    insert = f"INSERT INTO request_history ({', '.join(columns)}) SELECT " + ", ".join(
        {"unique_key": "?", "created_date": "?", "closed_date": "?", "loaded_at": "?", "row_hash": "?",
         "source": "'nyc'", "created_utc": "?", "is_closed": "false", "dirty_flags": "[]", "batch_seq": "1"}.get(c, "NULL")
        for c in columns
    )  # fmt: skip

    def version(key: str, created: datetime, closed: datetime | None, loaded: datetime, h: str) -> None:
        ordered = {
            "unique_key": key,
            "created_date": created,
            "closed_date": closed,
            "loaded_at": loaded,
            "row_hash": h,
            "created_utc": created,
        }
        con.execute(insert, [ordered[c] for c in columns if c in ordered])

    version("k1", datetime(2023, 5, 1), None, datetime(2023, 12, 1), "h1")  # old version, closed later
    version("k1", datetime(2023, 5, 1), datetime(2023, 6, 1), datetime(2024, 1, 2, 1), "h2")
    version("k2", datetime(2023, 7, 1), None, datetime(2023, 12, 1), "h3")  # untouched
    assert ledger.dates_loaded_since(con, datetime(2024, 1, 2)) == {date(2023, 5, 1), date(2023, 6, 1)}
    run("d", 4, "success")
    assert ledger.unrefreshed_since(con) is None
