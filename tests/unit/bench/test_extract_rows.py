"""The extract benchmark's row of a client pulled several times: its median pull, and every pull's rate."""

from __future__ import annotations

from bench.extract import COLUMNS, _row
from bench.isolate import Measured
from bench.report import Table

SECONDS, RATE, ERROR = (COLUMNS.index(c) for c in ("seconds", "distinct rows/s", "error"))


def pull(distinct: int, seconds: float, error: str | None = None) -> Measured:
    result = {"status": "failed" if error else "success", "received": distinct, "distinct": distinct}
    return Measured(seconds=seconds + 1, peak_rss_mb=100.0, result=result | {"pull_s": seconds}, error=error)


def test_the_row_is_the_median_pull_by_rate_and_lists_every_pull_in_order() -> None:
    table = Table(COLUMNS)
    _row(table, "client", [pull(1000, 2.0), pull(1000, 1.0), pull(900, 2.0)])
    (row,) = table.rows
    assert len(row) == len(COLUMNS)
    assert row[SECONDS] == 2.0 and row[RATE] == 500.0  # 450, 500, 1000 rows/s: the median is the first pull
    assert row[-1] == "500, 1,000, 450"


def test_a_failed_pull_counts_as_the_slowest() -> None:
    table = Table(COLUMNS)
    _row(table, "client", [pull(0, 1.0, error="boom"), pull(1000, 1.0), pull(1000, 4.0)])
    (row,) = table.rows
    assert row[RATE] == 250.0 and row[ERROR] is None
    assert row[-1] == "failed, 1,000, 250"
    _row(table, "client", [pull(0, 1.0, error="boom")])
    assert table.rows[1][ERROR] == "boom" and table.rows[1][-1] == "failed"
