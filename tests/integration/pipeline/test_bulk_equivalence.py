"""The bulk CSV import (DuckDB's read_csv + SQL) gives the same warehouse as the batch path (the reference)."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import duckdb
import pytest

from helpers import REAL_DATA, REAL_FILES
from resolve311.pipeline import run_import
from resolve311.settings import load_settings

# (table, column that records when the row was written: the only one allowed to differ)
TABLES = (("requests", "loaded_at"), ("request_versions", "loaded_at"), ("quarantine", "quarantined_at"))


def quirky_export(tmp_path: Path) -> Path:
    """A 41-column export with every row-level quirk: no key, bad/missing/future dates, duplicates."""
    source = REAL_DATA / "export-41col_2018-09-02.csv"
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(12)]
    key, created, status = header.index("Unique Key"), header.index("Created Date"), header.index("Status")
    rows[0][key] = ""
    rows[1][key] = "   "
    rows[2][created] = "yesterday"
    rows[3][created] = ""
    rows[4][created] = "12/31/9999 11:59:59 PM"
    rows[5][created] = "01/01/2099 12:00:00 AM"
    rows[6][status] = "Closed, then reopened"
    rows.append(list(rows[6]))  # the same key twice in one file
    rows[-1][status] = "In Progress"
    rows[7][header.index("Descriptor")] = 'multi-line\n"quoted", café'
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    path = tmp_path / "quirky-export.csv.gz"
    path.write_bytes(gzip.compress(out.getvalue().encode("utf-8")))
    return path


def import_into(home: Path, files: list[Path], *, bulk: bool, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RESOLVE311_HOME", str(home))
    report = run_import(load_settings(), files, refresh=False, bulk=bulk)
    assert report.status == "success", report.error
    return home / "warehouse.duckdb"


def differences(a: Path, b: Path, table: str, written: str) -> tuple[int, int, int]:
    """(rows in a, rows in b, rows that differ either way), every column but ``written`` compared."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        cols = f"* EXCLUDE ({written})"
        row = con.execute(
            f"SELECT (SELECT count(*) FROM a.{table}), (SELECT count(*) FROM b.{table}), "
            f"(SELECT count(*) FROM ((SELECT {cols} FROM a.{table} EXCEPT ALL SELECT {cols} FROM b.{table}) "
            f"UNION ALL (SELECT {cols} FROM b.{table} EXCEPT ALL SELECT {cols} FROM a.{table})))"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_bulk_and_batch_paths_build_identical_warehouses(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [*REAL_FILES, quirky_export(tmp_path)]
    assert sum(p.suffix == ".csv" for p in files) >= 5  # the 41-, 53- and 44-column layouts are all here
    reference = import_into(tmp_path / "batches", files, bulk=False, monkeypatch=monkeypatch)
    bulk = import_into(tmp_path / "bulk", files, bulk=True, monkeypatch=monkeypatch)
    for table, written in TABLES:
        in_reference, in_bulk, differing = differences(reference, bulk, table, written)
        assert in_reference == in_bulk > 0, table
        assert differing == 0, table
    con = duckdb.connect(str(bulk), read_only=True)
    try:
        reasons = con.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1 ORDER BY 1").fetchall()
        future = con.execute(
            "SELECT count(*) FROM requests WHERE list_contains(dirty_flags, 'created_in_future')"
        ).fetchone()
    finally:
        con.close()
    assert reasons == [
        ("missing_created_date", 1),
        ("missing_unique_key", 2),
        ("unparseable_created_date", 1),
    ]
    assert future == (2,)


def test_a_bulk_file_is_landed_as_delivered_and_rebuilt_from_the_log(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolve311.errors import LandingError
    from resolve311.landing.store import LandingStore
    from resolve311.pipeline import rebuild

    packed = quirky_export(tmp_path)
    first = import_into(home, [packed], bulk=True, monkeypatch=monkeypatch)
    store = LandingStore(str(home / "landing"))
    [manifest] = store.manifests()
    assert (manifest.stored, manifest.format, manifest.rows) == ("file", "csv", 13)
    with store.file_of(manifest) as landed:
        assert landed.read_bytes() == packed.read_bytes()  # compressed as delivered, not re-encoded
    before = tmp_path / "before.duckdb"
    first.rename(before)
    assert rebuild(load_settings(), refresh=False).status == "success"
    for table, written in TABLES:
        in_before, in_rebuilt, differing = differences(before, first, table, written)
        assert in_before == in_rebuilt > 0 and differing == 0, table
    # a landed file that no longer matches its checksum is never loaded
    with store.file_of(manifest) as landed:
        landed.write_bytes(landed.read_bytes()[:-10])
    with pytest.raises(LandingError, match="checksum"), store.file_of(manifest):
        pass
