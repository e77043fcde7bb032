"""Every real NYC file parses whole, loads (loaded + quarantined == rows), and reads back right."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from helpers import REAL_FILES
from resolve311.warehouse.connection import connect
from resolve311.warehouse.formats import detect_format, read_records
from resolve311.warehouse.loader import load_batch
from resolve311.warehouse.normalize import normalize


def true_row_count(path: Path) -> int:
    """Rows counted independently (Python's csv module understands multi-line cells)."""
    if path.suffix == ".json":
        return len(json.loads(path.read_bytes()))
    with path.open(newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.DictReader(fh))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """One warehouse holding every real file, each loaded as its own batch."""
    con = connect(tmp_path_factory.mktemp("real") / "warehouse.duckdb")
    for seq, path in enumerate(REAL_FILES, start=1):
        data = path.read_bytes()
        batch = normalize(read_records(data, detect_format(path.name, data)), source="nyc", dataset=None)
        con.execute("BEGIN")
        load_batch(con, batch, batch_seq=seq)
        con.execute("COMMIT")
    yield con
    con.close()


def test_there_are_seven_real_data_files() -> None:
    assert len(REAL_FILES) == 7


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_every_row_is_loaded_or_quarantined(path: Path, tmp_path: Path) -> None:
    data = path.read_bytes()
    table = read_records(data, detect_format(path.name, data))
    expected = true_row_count(path)
    assert table.num_rows == expected
    batch = normalize(table, source="nyc", dataset=None)
    with connect(tmp_path / "w.duckdb") as con:
        result = load_batch(con, batch, batch_seq=1)
        stored = con.execute(
            "SELECT (SELECT count(*) FROM requests) + (SELECT count(*) FROM quarantine)"
        ).fetchone()
    loaded = result.rows_new + result.rows_changed + result.rows_unchanged + result.rows_duplicate
    assert loaded + result.rows_quarantined == expected
    assert stored == (expected - result.rows_duplicate,)


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_gzipped_file_reads_the_same(path: Path) -> None:
    data = path.read_bytes()
    fmt = detect_format(path.name + ".gz", gzip.compress(data))
    assert read_records(gzip.compress(data), fmt).equals(read_records(data, fmt))


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_location_shape_alone_gives_the_published_coordinates(path: Path) -> None:
    """Drop latitude/longitude: the coordinates parsed from each file's location shape agree."""
    data = path.read_bytes()
    table = read_records(data, detect_format(path.name, data))
    published = normalize(table, source="nyc", dataset=None).rows
    stripped = table.drop_columns(["latitude", "longitude"])
    parsed = normalize(stripped, source="nyc", dataset=None).rows
    pairs = [(a, b) for a, b in zip(_coords(published), _coords(parsed), strict=True) if a[0] is not None]
    assert len(pairs) > 50
    for (lat, lon), (plat, plon) in pairs:
        assert plat == pytest.approx(lat, abs=1e-6)
        assert plon == pytest.approx(lon, abs=1e-6)


def _coords(rows: pa.Table) -> list[tuple[Any, Any]]:
    return list(zip(rows.column("latitude").to_pylist(), rows.column("longitude").to_pylist(), strict=True))


def _row(con: duckdb.DuckDBPyConnection, key: str) -> dict[str, Any]:
    cursor = con.execute("SELECT * FROM requests WHERE unique_key = ?", [key])
    names = [d[0] for d in cursor.description]
    row = cursor.fetchone()
    assert row is not None, key
    return dict(zip(names, row, strict=True))


SPOT_CHECKS: dict[str, tuple[str, dict[str, Any]]] = {
    "export-41col_2018-09-02.csv": (
        "40170325",
        {
            "created_date": datetime(2018, 9, 2, 0, 0, 8),
            "created_utc": datetime(2018, 9, 2, 4, 0, 8),
            "closed_date": datetime(2018, 9, 2, 0, 22, 33),
            "complaint_type": "Noise - Residential",
            "x_coordinate_state_plane": "1037327",
            "bbl": "4161140002",
            "latitude": 40.58993080750793,
            "location": "(40.58993080750793, -73.80889570815852)",
            "is_closed": True,
        },
    ),
    "export-41col_2025-03-24.csv": (
        "64453126",
        {
            "created_date": datetime(2025, 3, 24, 23, 29),
            "created_utc": datetime(2025, 3, 25, 3, 29),
            "hours_to_close": pytest.approx(16.4),
            "agency": "DEP",
            "descriptor": "Noise: Jack Hammering (NC2)",
        },
    ),
    "export-53col_2016-06-to-07.csv": (
        "33654645",
        {
            "created_date": datetime(2016, 6, 21, 14, 14, 50),
            "due_date": datetime(2016, 6, 21, 22, 14, 50),
            "bbl": None,
            "open_data_channel_type": None,
            "longitude": -74.0157117930007,
        },
    ),
    "soda-csv-44col_76ig-c548_2019-12-31.csv": (
        "45281589",
        {
            "closed_date": datetime(2020, 1, 1, 5, 37, 3),
            "council_district": "07",
            "police_precinct": "Precinct 24",
            "location": "POINT (-73.96455113217 40.79692992182)",
            "latitude": 40.79692992181987,
        },
    ),
    "soda-csv_erm2-nwe9_2024-04-16.csv": (
        "60879417",
        {
            "created_date": datetime(2024, 4, 16, 3, 3, 15),
            "created_utc": datetime(2024, 4, 16, 7, 3, 15),
            "status": "Open",
            "is_closed": False,
            "hours_to_close": None,
            "location": "\n,  \n(40.67679280229251, -73.7379342313789)",
            "latitude": 40.67679280229251,
        },
    ),
    "soda-json_erm2-nwe9_2024-05-27.json": (
        "61276295",
        {
            "created_date": datetime(2024, 5, 27, 2, 8, 51),
            "closed_date": None,
            "latitude": 40.84735682050765,
            "incident_address": None,
        },
    ),
    "soda-json_fhrw-4uyv_2012-11.json": (
        "24445308",
        {
            "created_utc": datetime(2012, 11, 20, 12, 50, 59),  # EST
            "hours_to_close": pytest.approx(7.469444, abs=1e-5),
            "bbl": "1013910014",
            "location": '{"type":"Point","coordinates":[-73.963367927247,40.774634083459]}',
        },
    ),
}


@pytest.mark.parametrize("name", sorted(SPOT_CHECKS))
def test_spot_checks(name: str, loaded: duckdb.DuckDBPyConnection) -> None:
    key, expected = SPOT_CHECKS[name]
    row = _row(loaded, key)
    assert {k: row[k] for k in expected} == expected


def test_computed_region_keys_and_old_columns_are_kept_in_extra(loaded: duckdb.DuckDBPyConnection) -> None:
    extra = json.loads(_row(loaded, "61276295")["extra"])
    assert extra[":@computed_region_efsh_h5xi"] == "13091"
    assert len([k for k in extra if k.startswith(":@computed_region_")]) == 6
    school = json.loads(_row(loaded, "33654645")["extra"])
    assert school["school_name"] == "Unspecified"
    assert school["school_not_found"] == "N"
    assert "ferry_terminal_name" not in school  # empty cells are not kept


def test_mojibake_is_kept_as_delivered(loaded: duckdb.DuckDBPyConnection) -> None:
    text = _row(loaded, "24445403")["resolution_description"]
    assert "Transportation\u00e2\u0080\u0099s website" in text


def test_dirty_rows_of_2012_are_flagged_not_dropped(loaded: duckdb.DuckDBPyConnection) -> None:
    sentinel = _row(loaded, "24446101")
    assert sentinel["closed_date"] == datetime(1900, 1, 1)
    assert {"sentinel_date", "closed_before_created"} <= set(sentinel["dirty_flags"])
    assert sentinel["hours_to_close"] is None
    midnight = loaded.execute(
        "SELECT count(*) FROM requests WHERE list_contains(dirty_flags, 'created_at_midnight') "
        "AND created_date < DATE '2013-01-01'"
    ).fetchone()
    assert midnight == (465,)


def test_export_statuses_beyond_open_and_closed(loaded: duckdb.DuckDBPyConnection) -> None:
    statuses = {s for (s,) in loaded.execute("SELECT DISTINCT status FROM requests").fetchall()}
    assert {"Started", "In Progress", "Pending", "Assigned"} <= statuses


def test_every_display_name_in_the_published_metadata_maps_to_its_field() -> None:
    """The 2025 portal names (Problem, Problem Detail, Additional Details, ...) map by name."""
    from resolve311.schema import SODA_FIELDS

    meta = json.loads((REAL_FILES[0].parent / "view-metadata_76ig-c548.json").read_text())
    columns = [c for c in meta["columns"] if not c["fieldName"].startswith(":@")]
    header = ",".join(f'"{c["name"]}"' for c in columns).encode() + b"\n"
    table = read_records(header, "csv")
    assert table.column_names == [c["fieldName"] for c in columns]
    assert set(table.column_names) == set(SODA_FIELDS)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_of_every_real_row_imports_back_identically(
    fmt: str, loaded: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    from resolve311.warehouse.export import export_table

    out = tmp_path / f"requests.{fmt}"
    count = export_table(loaded, "requests", fmt, out)  # type: ignore[arg-type]
    table = read_records(out.read_bytes(), "csv") if fmt == "csv" else pq.read_table(out)
    again = normalize(table, source="nyc", dataset=None)
    assert again.rows.num_rows == count and not again.quarantined
    cursor = loaded.execute("SELECT * EXCLUDE (batch_seq, loaded_at) FROM requests ORDER BY unique_key")
    names = [d[0] for d in cursor.description]
    stored = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    assert sorted(again.rows.to_pylist(), key=lambda r: r["unique_key"]) == stored
