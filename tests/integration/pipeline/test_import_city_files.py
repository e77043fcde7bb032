"""Every real Chicago and SF file imports whole, read by its city's catalog (field map, statuses, box, zone)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import CITY_FILES
from resolve311.metrics import staging
from resolve311.pipeline import run_import
from resolve311.settings import load_settings

from .test_bulk_equivalence import TABLES, differences
from .test_import_real_files import true_row_count

CHICAGO = CITY_FILES["chicago"][0]
SF_API = next(p for p in CITY_FILES["sf"] if p.name.startswith("sf_soda-csv"))
SF_EXPORT = next(p for p in CITY_FILES["sf"] if p.name.startswith("sf_export"))


def import_city(
    home: Path, city: str, files: list[Path], monkeypatch: pytest.MonkeyPatch, *, bulk: bool = True
) -> Any:
    monkeypatch.setenv("RESOLVE311_HOME", str(home))
    report = run_import(load_settings(source=city), files, refresh=False, bulk=bulk)
    assert report.status == "success", report.error
    return report


def query(home: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def flag_counts(home: Path, batch_seq: int) -> dict[str, int]:
    rows = query(
        home,
        "SELECT flag, count(*) FROM (SELECT unnest(dirty_flags) AS flag FROM request_versions "
        f"WHERE batch_seq = {batch_seq}) GROUP BY flag",
    )
    return {str(flag): int(n) for flag, n in rows}


@pytest.mark.parametrize("city", sorted(CITY_FILES))
def test_every_city_file_imports_whole(
    city: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = CITY_FILES[city]
    assert files, f"no real {city} files in the fixtures"
    report = import_city(home, city, files, monkeypatch)
    by_name = {Path(f["file"]).name: f for f in report.files}
    for path in files:
        entry = by_name[path.name]
        assert entry["rows"] == true_row_count(path), path.name
        assert entry["loaded"] + entry["duplicates"] + entry["quarantined"] == entry["rows"], path.name
        [(versions,)] = query(
            home, f"SELECT count(*) FROM request_versions WHERE batch_seq = {entry['batch_seq']}"
        )
        [(held,)] = query(home, f"SELECT count(*) FROM quarantine WHERE batch_seq = {entry['batch_seq']}")
        assert versions + held == entry["rows"] - entry["duplicates"], path.name
    # no row is dirty for lack of a borough the city does not have
    assert query(
        home, "SELECT count(*) FROM requests WHERE list_contains(dirty_flags, 'unspecified_borough')"
    ) == [(0,)]
    assert query(home, "SELECT DISTINCT source FROM requests") == [(city,)]


def test_chicago_completed_rows_are_closed_in_chicago_time(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_city(home, "chicago", [CHICAGO], monkeypatch)
    with CHICAGO.open(newline="", encoding="utf-8") as handle:
        raw = {row["sr_number"]: row for row in csv.DictReader(handle)}
    rows = query(
        home,
        "SELECT unique_key, status, is_closed, closed_date IS NOT NULL, agency, complaint_type, "
        "community_board, council_district, date_diff('hour', created_date, created_utc), dirty_flags FROM requests",
    )
    assert len(rows) == len(raw) == 24
    for key, status, closed, has_close, agency, type_, area, ward, offset, flags in rows:
        assert key.startswith("SR26-")
        assert closed == (status == "Completed") == has_close, key
        assert "open_with_closed_date" not in flags and "outside_city" not in flags, key
        assert (agency, type_) == (raw[key]["owner_department"], raw[key]["sr_type"])
        assert (area or "", ward or "") == (raw[key]["community_area"], raw[key]["ward"])
        assert offset == 5  # Central Daylight Time in August
        assert ("no_coordinates" in flags) == (raw[key]["latitude"] == ""), key
    [(hours,)] = query(home, "SELECT count(hours_to_close) FROM requests WHERE status = 'Completed'")
    assert hours == 8


def test_sf_api_csv_flags_zero_coordinates_and_a_close_before_the_open(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_city(home, "sf", [SF_API], monkeypatch)
    flags = flag_counts(home, 1)
    assert flags["zero_coordinates"] == 119  # the README's 119 rows at 0,0: not "outside the city"
    assert flags.get("outside_city", 0) == 0
    assert flags["closed_before_created"] == 1
    assert query(home, "SELECT status, is_closed, count(*) FROM requests GROUP BY ALL ORDER BY 1") == [
        ("Closed", True, 4940),
        ("Open", False, 60),
    ]
    [(created, zone_hours, agency, type_, sub, lat)] = query(
        home,
        "SELECT created_date, date_diff('hour', created_date, created_utc), agency, complaint_type, "
        "descriptor, latitude FROM requests WHERE unique_key = '13437452'",
    )
    assert str(created) == "2021-02-01 07:48:00" and zone_hours == 8  # Pacific Standard Time
    assert (agency, type_, sub) == ("DPW Ops Queue", "Street and Sidewalk Cleaning", "General Cleaning")
    assert lat == pytest.approx(37.759907915394)


def test_sf_export_display_names_and_am_pm_times(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import_city(home, "sf", [SF_EXPORT], monkeypatch)
    [(created, closed, agency, type_, district, channel, lon, extra)] = query(
        home,
        "SELECT created_date, closed_date, agency, complaint_type, council_district, open_data_channel_type, "
        "longitude, extra FROM requests WHERE unique_key = '11064745'",
    )
    assert (str(created), str(closed)) == ("2019-06-29 21:48:00", "2019-06-30 08:43:04")
    assert (agency, type_, district, channel) == (
        "Recology_Abandoned",
        "Street and Sidewalk Cleaning",
        "3",
        "Phone",
    )
    assert lon == pytest.approx(-122.4035949707)
    assert json.loads(extra)["analysis_neighborhood"] == "North Beach"
    assert query(home, "SELECT count(*), count(*) FILTER (is_closed) FROM requests") == [(4209, 4209)]


def test_broken_sf_export_rows_are_quarantined_with_reasons(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SF_EXPORT.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [next(reader) for _ in range(6)]
    rows[0][header.index("CaseID")] = ""
    rows[1][header.index("Opened")] = "yesterday"
    rows[2][header.index("Opened")] = ""
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *rows])
    broken = tmp_path / "sf-broken.csv"
    broken.write_text(out.getvalue(), encoding="utf-8")
    report = import_city(home, "sf", [broken], monkeypatch)
    assert report.files[0]["loaded"] == 3 and report.files[0]["quarantined"] == 3
    assert query(home, "SELECT reason FROM quarantine ORDER BY row_number") == [
        ("missing_unique_key",),
        ("unparseable_created_date",),
        ("missing_created_date",),
    ]
    [(raw,)] = query(home, "SELECT raw FROM quarantine WHERE reason = 'unparseable_created_date'")
    assert json.loads(raw)["Opened"] == "yesterday"  # kept under the export's own column names


@pytest.mark.parametrize("city", sorted(CITY_FILES))
def test_bulk_and_batch_paths_agree_for_other_cities(
    city: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_city(tmp_path / "batches", city, CITY_FILES[city], monkeypatch, bulk=False)
    import_city(tmp_path / "bulk", city, CITY_FILES[city], monkeypatch, bulk=True)
    for table, written in TABLES:
        in_batches, in_bulk, differing = differences(
            tmp_path / "batches" / "warehouse.duckdb", tmp_path / "bulk" / "warehouse.duckdb", table, written
        )
        assert in_batches == in_bulk and differing == 0, table


def test_a_chicago_json_page_goes_through_the_batch_path(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with CHICAGO.open(newline="", encoding="utf-8") as handle:
        records = [
            {k: v for k, v in row.items() if v != ""} for row in csv.DictReader(handle)
        ]  # SODA leaves nulls out
    page = tmp_path / "chicago-page.json"
    page.write_text(json.dumps(records), encoding="utf-8")
    report = import_city(home, "chicago", [page], monkeypatch)
    assert report.files[0]["loaded"] == 24
    assert query(
        home, "SELECT count(*) FILTER (is_closed), count(*) FILTER (status = 'Completed') FROM requests"
    ) == [(8, 8)]
    assert query(
        home,
        "SELECT count(*) FROM requests WHERE len(dirty_flags) > 0 AND NOT "
        "list_has_all(['no_coordinates', 'closed_same_second'], dirty_flags)",
    ) == [(0,)]


@pytest.mark.parametrize("bulk", [True, False])
def test_chicago_duplicates_are_stored_but_left_out_of_the_metrics(
    bulk: bool, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = list(csv.DictReader(io.StringIO(CHICAGO.read_text(encoding="utf-8"))))
    duplicates = {r["sr_number"] for r in rows if r["duplicate"] == "true"}
    assert duplicates, "the real Chicago sample has duplicate reports"
    import_city(home, "chicago", [CHICAGO], monkeypatch, bulk=bulk)
    assert query(home, "SELECT count(*) FROM requests") == [(len(rows),)]  # every row kept
    settings = load_settings(source="chicago")
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        staging.create_input_views(con, "chicago", duplicate=staging.duplicate_sql(settings.city().rules))
        counted = con.execute("SELECT count(*) FROM metric_input").fetchone()
        versions = con.execute("SELECT DISTINCT unique_key FROM metric_versions").fetchall()
    finally:
        con.close()
    assert counted == (len(rows) - len(duplicates),)
    assert not duplicates & {key for (key,) in versions}
