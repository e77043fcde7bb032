"""Every real NYC file imports through the landing log: loaded + quarantined == rows in the file."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from helpers import REAL_FILES, open_real_text
from resolve311.landing.store import LandingStore


def true_row_count(path: Path) -> int:
    """Rows in a real file, counted independently (CSV cells may span lines)."""
    if path.suffix == ".json":
        return len(json.loads(path.read_bytes()))
    with open_real_text(path) as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def raw_rows(path: Path) -> list[dict[str, Any]]:
    """The file's rows as delivered (CSV headers lower-cased to match both naming styles)."""
    if path.suffix == ".json":
        return list(json.loads(path.read_bytes()))
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return [{k.strip().lower(): v for k, v in row.items()} for row in csv.DictReader(handle)]


def location_lat_lon(value: object) -> tuple[float, float] | None:
    """(lat, lon) from any of the five ``location`` shapes, read independently of the loader."""
    if isinstance(value, dict):
        if "coordinates" in value:
            lon, lat = value["coordinates"]
            return float(lat), float(lon)
        return float(value["latitude"]), float(value["longitude"])
    numbers = [float(x) for x in re.findall(r"-?\d+\.\d+", str(value or ""))]
    if len(numbers) != 2:
        return None
    return (numbers[0], numbers[1]) if numbers[0] > 0 else (numbers[1], numbers[0])


def test_every_real_file_imports_whole(cli: Any, warehouse: Any, home: Path, tmp_path: Path) -> None:
    gz = tmp_path / (REAL_FILES[0].name + ".gz")
    gz.write_bytes(gzip.compress(REAL_FILES[0].read_bytes()))
    result = cli("import", *map(str, REAL_FILES), "--json", "--skip-metrics")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "success"
    by_name = {Path(f["file"]).name: f for f in report["files"]}
    assert set(by_name) == {p.name for p in REAL_FILES}
    for path in REAL_FILES:
        entry = by_name[path.name]
        assert entry["rows"] == true_row_count(path), path.name
        assert entry["loaded"] + entry["duplicates"] + entry["quarantined"] == entry["rows"], path.name
        in_warehouse = warehouse(
            f"SELECT count(*) FROM request_versions WHERE batch_seq = {entry['batch_seq']}"
        )
        quarantined = warehouse(f"SELECT count(*) FROM quarantine WHERE batch_seq = {entry['batch_seq']}")
        assert in_warehouse[0][0] + quarantined[0][0] == entry["rows"] - entry["duplicates"], path.name

    # spot checks: coordinates from each file's location shape match what was loaded
    stored = {
        k: (lat, lon) for k, lat, lon in warehouse("SELECT unique_key, latitude, longitude FROM requests")
    }
    for path in REAL_FILES:
        checked = 0
        for row in raw_rows(path):
            expected = location_lat_lon(row.get("location"))
            key = row.get("unique_key") or row.get("unique key")
            if expected is None or key not in stored:
                continue
            assert stored[key] == pytest.approx(expected, abs=1e-6), (path.name, key)
            checked += 1
        assert checked > 0, path.name

    # a gzip-compressed copy imports too, and changes nothing (same versions)
    again = cli("import", str(gz), "--json", "--skip-metrics")
    assert again.returncode == 0, again.stderr
    entry = json.loads(again.stdout)["files"][0]
    assert entry["rows"] == true_row_count(REAL_FILES[0])
    assert json.loads(again.stdout)["rows_new"] == 0


def test_imports_land_raw_bytes_and_parsed_values_survive(cli: Any, warehouse: Any, home: Path) -> None:
    path = next(p for p in REAL_FILES if p.name.startswith("soda-json_erm2"))
    assert cli("import", str(path), "--skip-metrics").returncode == 0
    store = LandingStore(str(home / "landing"))
    manifest = store.manifests()[0]
    assert store.read(manifest) == path.read_bytes()
    assert (manifest.producer, manifest.format, manifest.name) == ("import", "json", path.name)
    first = json.loads(path.read_bytes())[0]
    row = warehouse(
        f"SELECT strftime(created_date, '%Y-%m-%dT%H:%M:%S.000'), agency FROM requests "
        f"WHERE unique_key = '{first['unique_key']}'"
    )
    assert row == [(first["created_date"], first["agency"])]


def test_rebuild_from_the_landing_log_reproduces_the_warehouse(cli: Any, warehouse: Any, home: Path) -> None:
    assert cli("import", *map(str, REAL_FILES[:3]), "--skip-metrics").returncode == 0
    before = warehouse("SELECT unique_key, row_hash FROM requests ORDER BY 1")
    versions = warehouse("SELECT count(*) FROM request_versions")
    shutil.move(home / "warehouse.duckdb", home / "old.duckdb")
    result = cli("rebuild", "--json", "--skip-metrics")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["batches"] == 3
    assert warehouse("SELECT unique_key, row_hash FROM requests ORDER BY 1") == before
    assert warehouse("SELECT count(*) FROM request_versions") == versions
    # rebuilding an existing warehouse in place gives the same again
    assert cli("rebuild", "--skip-metrics").returncode == 0
    assert warehouse("SELECT unique_key, row_hash FROM requests ORDER BY 1") == before


def test_export_writes_the_current_rows(cli: Any, home: Path, tmp_path: Path) -> None:
    path = next(p for p in REAL_FILES if p.name.startswith("soda-csv_erm2"))
    assert cli("import", str(path)).returncode == 0
    out = tmp_path / "requests.csv"
    result = cli("export", "--table", "requests", "--format", "csv", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == true_row_count(path)
    assert list(rows[0])[:3] == ["unique_key", "created_date", "closed_date"]


def test_missing_file_is_a_one_line_error(cli: Any, tmp_path: Path) -> None:
    result = cli("import", str(tmp_path / "nope.csv"))
    assert result.returncode != 0
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_another_city_is_loaded_through_its_field_map(home: Path, tmp_path: Path, warehouse: Any) -> None:
    from resolve311.pipeline import run_import
    from resolve311.settings import load_settings

    page = [
        {"sr_number": "SR24-001", "sr_type": "Pothole in Street", "owner_department": "CDOT",
         "created_date": "2024-04-16T03:03:15.000", "status": "Open", "zip_code": "60601"},
        {"sr_type": "No key here", "created_date": "2024-04-16T04:00:00.000"},
    ]  # fmt: skip
    path = tmp_path / "chicago.json"
    path.write_text(json.dumps(page))
    report = run_import(load_settings(), [path], source="chicago", refresh=False)
    assert report.status == "success"
    assert report.files[0]["loaded"] + report.files[0]["quarantined"] == 2
    rows = warehouse("SELECT unique_key, complaint_type, agency, incident_zip, source FROM requests")
    assert rows == [("SR24-001", "Pothole in Street", "CDOT", "60601", "chicago")]
    assert warehouse("SELECT reason FROM quarantine") == [("missing_unique_key",)]
