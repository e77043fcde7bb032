"""Export: SODA field names and wall-clock ISO text first, own columns after; CSV and Parquet round trips."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from resolve311.errors import ConfigError
from resolve311.schema import SODA_FIELDS
from resolve311.warehouse.export import export_table
from resolve311.warehouse.formats import read_records
from resolve311.warehouse.normalize import normalize


def _rows(make_row: Any) -> list[dict[str, Any]]:
    return [
        make_row(
            unique_key="2", closed_date="2024-04-16T05:00:00.000", status="Closed", **{"school_name": "PS 1"}
        ),
        make_row(unique_key="1", location="\n,  \n(40.67, -73.73)", latitude=None, longitude=None),
        make_row(unique_key=None),
    ]


def test_csv_export_columns_and_values(warehouse: Any, load: Any, make_row: Any, tmp_path: Path) -> None:
    load(_rows(make_row), seq=4)
    out = tmp_path / "out" / "requests.csv"
    assert export_table(warehouse, "requests", "csv", out) == 2
    with out.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None
        assert tuple(reader.fieldnames[: len(SODA_FIELDS)]) == SODA_FIELDS
        assert reader.fieldnames[len(SODA_FIELDS) : len(SODA_FIELDS) + 3] == [
            ":id",
            ":created_at",
            ":updated_at",
        ]
        rows = list(reader)
    assert [r["unique_key"] for r in rows] == ["1", "2"]
    assert rows[1]["created_date"] == "2024-04-16T03:03:15.000"
    assert rows[1]["closed_date"] == "2024-04-16T05:00:00.000"
    assert rows[1][":updated_at"] == "2024-04-16T08:00:00.000Z"
    assert rows[1]["created_utc"] == "2024-04-16T07:03:15.000Z"
    assert json.loads(rows[1]["extra"]) == {"school_name": "PS 1"}
    assert json.loads(rows[0]["dirty_flags"]) == []
    assert (rows[0]["latitude"], rows[0]["longitude"]) == ("40.67", "-73.73")  # parsed from location
    assert rows[0]["location"] == "\n,  \n(40.67, -73.73)"
    assert not list(tmp_path.joinpath("out").glob(".*tmp*"))


def test_csv_export_imports_back_to_the_same_versions(
    warehouse: Any, load: Any, make_row: Any, tmp_path: Path
) -> None:
    load(_rows(make_row), seq=1)
    out = tmp_path / "requests.csv"
    export_table(warehouse, "requests", "csv", out)
    again = normalize(read_records(out.read_bytes(), "csv"), source="nyc", dataset="erm2-nwe9")
    stored = warehouse.execute("SELECT * EXCLUDE (batch_seq, loaded_at) FROM requests ORDER BY unique_key")
    names = [d[0] for d in stored.description]
    expected = [dict(zip(names, r, strict=True)) for r in stored.fetchall()]
    assert sorted(again.rows.to_pylist(), key=lambda r: r["unique_key"]) == expected


def test_parquet_export_round_trip(warehouse: Any, load: Any, make_row: Any, tmp_path: Path) -> None:
    load(_rows(make_row), seq=1)
    out = tmp_path / "requests.parquet"
    assert export_table(warehouse, "requests", "parquet", out) == 2
    table = pq.read_table(out)
    assert table.column("created_date").to_pylist() == ["2024-04-16T03:03:15.000"] * 2
    assert table.column("dirty_flags").to_pylist()[1] == []
    again = normalize(table, source="nyc", dataset="erm2-nwe9")
    stored = warehouse.execute("SELECT row_hash FROM requests ORDER BY unique_key").fetchall()
    assert again.rows.column("row_hash").to_pylist() == [h for (h,) in stored]


def test_versions_export_has_one_row_per_version(
    warehouse: Any, load: Any, make_row: Any, tmp_path: Path
) -> None:
    load([make_row(status="Open")], seq=1)
    load([make_row(status="Closed", **{":updated_at": "2024-04-20T00:00:00.000Z"})], seq=2)
    out = tmp_path / "versions.csv"
    assert export_table(warehouse, "request_versions", "csv", out) == 2
    with out.open(newline="") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["Open", "Closed"]


def test_quarantine_export(warehouse: Any, load: Any, make_row: Any, tmp_path: Path) -> None:
    load(_rows(make_row), seq=9)
    out = tmp_path / "q.parquet"
    assert export_table(warehouse, "quarantine", "parquet", out) == 1
    [row] = pq.read_table(out).to_pylist()
    assert (row["batch_seq"], row["row_number"], row["reason"]) == (9, 2, "missing_unique_key")


def test_export_of_an_empty_table_writes_a_header(warehouse: Any, tmp_path: Path) -> None:
    out = tmp_path / "empty.csv"
    assert export_table(warehouse, "requests", "csv", out) == 0
    assert out.read_text().startswith("unique_key,created_date,")


def test_unknown_table_or_format_is_a_config_error(warehouse: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot export"):
        export_table(warehouse, "runs", "csv", tmp_path / "x.csv")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="format"):
        export_table(warehouse, "requests", "xlsx", tmp_path / "x.xlsx")  # type: ignore[arg-type]
