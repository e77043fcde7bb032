"""The batch path (bulk=False) lands a large CSV in bounded parts, and every record still arrives once."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb

from helpers import REAL_DATA
from resolve311.pipeline import run_import
from resolve311.settings import load_settings


def test_csv_import_is_split_into_parts(home: Path, tmp_path: Path) -> None:
    source = REAL_DATA / "soda-csv_erm2-nwe9_2024-04-16.csv"  # 1,000 rows, multi-line cells
    packed = tmp_path / "big.csv.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    report = run_import(load_settings(), [packed], refresh=False, rows_per_part=300, bulk=False)
    [summary] = report.files
    assert summary["batches"] == 4
    assert summary["rows"] == 1000
    assert summary["loaded"] + summary["duplicates"] + summary["quarantined"] == 1000
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*), count(DISTINCT unique_key) FROM requests").fetchone() == (
            1000,
            1000,
        )
        located = con.execute("SELECT count(*) FROM requests WHERE latitude IS NOT NULL").fetchone()
    finally:
        con.close()
    assert located is not None and located[0] > 900
