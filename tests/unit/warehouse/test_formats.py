"""Reading raw batches: format detection, gzip, JSON shapes, CSV with multi-line cells."""

from __future__ import annotations

import gzip
import json

import pytest

from resolve311.errors import ParseError
from resolve311.warehouse.formats import detect_format, nonstring_rows, read_records


def test_detect_format_by_name_then_by_content() -> None:
    assert detect_format("page.json", b"") == "json"
    assert detect_format("page.JSON.gz", b"") == "json"
    assert detect_format("export.csv.gz", b"") == "csv"
    assert detect_format("batch", b'  [{"unique_key":"1"}]') == "json"
    assert detect_format("batch", gzip.compress(b'[{"unique_key":"1"}]')) == "json"
    assert detect_format("batch", b"unique_key,created_date\n1,x\n") == "csv"


def test_gzip_is_recognised_by_magic_bytes() -> None:
    data = json.dumps([{"unique_key": "1", "status": "Open"}]).encode()
    table = read_records(gzip.compress(data), "json")
    assert table.to_pylist() == [{"unique_key": "1", "status": "Open"}]


def test_json_missing_keys_are_null_and_nested_values_become_json_text() -> None:
    rows = [
        {"unique_key": "1", "location": {"type": "Point", "coordinates": [-73.9, 40.7]}},
        {"unique_key": "2", "status": "Open", ":@computed_region_x": "7"},
    ]
    table = read_records(json.dumps(rows).encode(), "json")
    assert table.column_names == ["unique_key", "location", "status", ":@computed_region_x"]
    first, second = table.to_pylist()
    assert first["status"] is None
    assert json.loads(first["location"]) == {"type": "Point", "coordinates": [-73.9, 40.7]}
    assert second[":@computed_region_x"] == "7"


def test_json_numbers_are_kept_as_text() -> None:
    table = read_records(b'[{"unique_key": 12, "latitude": 40.5}]', "json")
    assert table.to_pylist() == [{"unique_key": "12", "latitude": "40.5"}]
    # ... and each such value is marked as not having been text (a key like this is quarantined)
    assert nonstring_rows(table, "unique_key") == [0]


def test_json_no_results_error_object_is_an_empty_page() -> None:
    table = read_records(b'{"errorCode": "query.soql.no-results"}', "json")
    assert table.num_rows == 0


def test_json_api_error_object_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no such column"):
        read_records(b'{"errorCode": "query.soql.no-such-column", "message": "no such column: x"}', "json")


def test_json_lines_and_geojson_feature_collections_are_read() -> None:
    lines = b'{"unique_key": "1"}\n{"unique_key": "2"}\n'
    assert read_records(lines, "json").column("unique_key").to_pylist() == ["1", "2"]
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-73.9, 40.7]},
                "properties": {"unique_key": "9"},
            }
        ],
    }
    row = read_records(json.dumps(geojson).encode(), "json").to_pylist()[0]
    assert row["unique_key"] == "9"
    assert json.loads(row["location"])["coordinates"] == [-73.9, 40.7]


def test_truncated_json_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        read_records(b'[{"unique_key": "1"}, {"uniq', "json")


def test_csv_multiline_quoted_cell_stays_one_row() -> None:
    data = b'"unique_key","location"\n"1","\n,  \n(40.67, -73.73)"\n"2",\n'
    table = read_records(data, "csv")
    assert table.num_rows == 2
    assert table.column("location").to_pylist() == ["\n,  \n(40.67, -73.73)", None]


def test_csv_display_names_map_by_name_not_position() -> None:
    data = (
        b"Status,Problem (formerly Complaint Type),Unique Key,X Coordinate (State Plane),School Name\r\n"
        b"Open,Noise,77,1000,PS 1\r\n"
    )
    table = read_records(data, "csv")
    assert table.to_pylist() == [
        {
            "status": "Open",
            "complaint_type": "Noise",
            "unique_key": "77",
            "x_coordinate_state_plane": "1000",
            "school_name": "PS 1",
        }
    ]


def test_csv_with_bom_and_only_a_header_is_empty() -> None:
    table = read_records(b"\xef\xbb\xbfUnique Key,Created Date\n", "csv")
    assert table.column_names == ["unique_key", "created_date"]
    assert table.num_rows == 0


def test_csv_text_is_kept_byte_for_byte() -> None:
    mojibake = "Parks\u00e2\u0080\u0099 site"
    data = f"unique_key,resolution_description\n1,{mojibake}\n".encode()
    assert read_records(data, "csv").column("resolution_description").to_pylist() == [mojibake]


def test_empty_input_gives_an_empty_table() -> None:
    assert read_records(b"", "csv").num_rows == 0
    assert read_records(b"  ", "json").num_rows == 0
    assert read_records(b"[]", "json").num_rows == 0


def test_csv_with_ragged_rows_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        read_records(b"a,b\n1,2,3\n", "csv")


def test_csv_with_invalid_utf8_keeps_every_valid_character() -> None:
    data = "unique_key,descriptor\n1,caf\u00e9 \u00e2\u0080\u0099\n2,".encode() + b"bad \xff byte\n"
    table = read_records(data, "csv")
    assert table.column("descriptor").to_pylist() == ["caf\u00e9 \u00e2\u0080\u0099", "bad \ufffd byte"]


def test_legacy_rows_json_is_read_by_column_metadata() -> None:
    doc = {
        "meta": {
            "view": {
                "columns": [
                    {"name": "sid", "fieldName": ":sid"},
                    {"name": "updated_at", "fieldName": ":updated_at"},
                    {"name": "Unique Key", "fieldName": "unique_key"},
                    {"name": "Created Date", "fieldName": "created_date"},
                ]
            }
        },
        "data": [[1, 1713254400, "42", "2024-04-16T03:03:15"], [2, None, "43", None]],
    }
    table = read_records(json.dumps(doc).encode(), "json")
    assert table.to_pylist() == [
        {":sid": "1", ":updated_at": "1713254400", "unique_key": "42", "created_date": "2024-04-16T03:03:15"},
        {":sid": "2", ":updated_at": None, "unique_key": "43", "created_date": None},
    ]


def test_legacy_rows_json_with_ragged_rows_is_a_parse_error() -> None:
    doc = {"meta": {"view": {"columns": [{"fieldName": "unique_key"}]}}, "data": [["1", "extra"]]}
    with pytest.raises(ParseError, match="columns"):
        read_records(json.dumps(doc).encode(), "json")
