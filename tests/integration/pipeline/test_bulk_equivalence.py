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


def _export_rows() -> tuple[list[str], list[list[str]]]:
    with (REAL_DATA / "export-41col_2018-09-02.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _spy_staged(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record each file the bulk loader sends through its staged path (the real one still runs)."""
    from resolve311.warehouse import bulk

    calls: list[int] = []
    real = bulk._load_staged

    def spy(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "_load_staged", spy)
    return calls


def _assert_identical(reference: Path, bulk: Path) -> None:
    for table, written in TABLES:
        in_reference, in_bulk, differing = differences(reference, bulk, table, written)
        assert in_reference == in_bulk, table
        assert differing == 0, table


def test_a_large_file_of_new_keys_loads_directly_with_the_batch_paths_quarantine_numbers(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~20k rows (several reader chunks) with quarantined rows at the start, middle and end."""
    header, base = _export_rows()
    key, created = header.index("Unique Key"), header.index("Created Date")
    rows = []
    for copy in range(20_000 // len(base) + 1):
        for row in base:
            shifted = list(row)
            shifted[key] = str(int(row[key]) + copy * 10_000_000)
            rows.append(shifted)
    for at in (0, 1, len(rows) // 2, len(rows) - 1):
        rows[at][key] = ""
    for at in (7, len(rows) // 3, len(rows) - 2):
        rows[at][created] = "not a date"
    path = _write(tmp_path / "new-keys.csv", header, rows)
    staged = _spy_staged(monkeypatch)
    bulk = import_into(tmp_path / "bulk", [path], bulk=True, monkeypatch=monkeypatch)
    assert staged == []  # loaded directly
    reference = import_into(tmp_path / "batches", [path], bulk=False, monkeypatch=monkeypatch)
    _assert_identical(reference, bulk)
    con = duckdb.connect(str(bulk), read_only=True)
    try:
        numbers = con.execute("SELECT row_number FROM quarantine ORDER BY 1").fetchall()
    finally:
        con.close()
    expected = sorted({0, 1, len(rows) // 2, len(rows) - 1, 7, len(rows) // 3, len(rows) - 2})
    assert [n for (n,) in numbers] == expected


def test_a_repeated_key_or_a_stored_key_found_after_the_direct_insert_falls_back_to_the_staged_path(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct insert is undone, and the staged path's newest-wins rules give the batch path's rows."""
    from resolve311.warehouse import direct_load

    header, base = _export_rows()
    key, status = header.index("Unique Key"), header.index("Status")
    first = [list(r) for r in base[:300]]
    repeated = list(first[0])
    repeated[status] = "Repeated later in the file"  # no :updated_at: the later copy wins
    first.append(repeated)
    second = [list(r) for r in base[300:600]]
    stored = list(base[5])
    stored[status] = "Changed in the second file"  # a stored key, after the probed start of the file
    second.append(stored)
    files = [_write(tmp_path / "first.csv", header, first), _write(tmp_path / "second.csv", header, second)]
    assert first[0][key] == first[-1][key]
    monkeypatch.setattr(direct_load, "PROBE_ROWS", 1)
    undone: list[int] = []
    real_undo = direct_load.undo_direct

    def undo_spy(con: duckdb.DuckDBPyConnection, batch_seq: int) -> None:
        undone.append(batch_seq)
        real_undo(con, batch_seq)

    from resolve311.warehouse import bulk as bulk_module

    monkeypatch.setattr(bulk_module, "undo_direct", undo_spy)
    staged = _spy_staged(monkeypatch)
    bulk = import_into(tmp_path / "bulk", files, bulk=True, monkeypatch=monkeypatch)
    assert len(undone) == 2 and len(staged) == 2
    reference = import_into(tmp_path / "batches", files, bulk=False, monkeypatch=monkeypatch)
    _assert_identical(reference, bulk)
    con = duckdb.connect(str(bulk), read_only=True)
    try:
        statuses = dict(
            con.execute(
                "SELECT unique_key, status FROM requests WHERE unique_key IN (?, ?)",
                [first[0][key], stored[key]],
            ).fetchall()
        )
    finally:
        con.close()
    assert statuses == {
        first[0][key]: "Repeated later in the file",
        stored[key]: "Changed in the second file",
    }


def test_a_file_already_imported_is_not_inserted_twice(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe of the file's first keys sends a re-import to the staged path (no direct insert)."""
    from resolve311.warehouse import bulk as bulk_module

    header, base = _export_rows()
    path = _write(tmp_path / "again.csv", header, [list(r) for r in base[:200]])
    once = import_into(tmp_path / "bulk", [path], bulk=True, monkeypatch=monkeypatch)
    undone: list[int] = []
    monkeypatch.setattr(bulk_module, "undo_direct", lambda con, seq: undone.append(seq))
    staged = _spy_staged(monkeypatch)
    twice = import_into(tmp_path / "bulk", [path], bulk=True, monkeypatch=monkeypatch)
    assert undone == [] and staged == [1] and once == twice
    con = duckdb.connect(str(twice), read_only=True)
    try:
        counts = con.execute(
            "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM request_history)"
        ).fetchall()
    finally:
        con.close()
    assert counts == [(200, 0)]
