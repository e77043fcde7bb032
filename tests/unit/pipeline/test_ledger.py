"""The run ledger and incremental state in a real (temporary) warehouse."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from resolve311.extract import ledger
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
