"""Every bad import gets a clear outcome: a one-line refusal (exit 1, nothing loaded) or quarantined rows."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any

from helpers import REAL_DATA

EXPORT = REAL_DATA / "export-41col_2018-09-02.csv"


def export_rows(count: int) -> tuple[list[str], list[list[str]]]:
    with EXPORT.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [next(reader) for _ in range(count)]


def write_csv(path: Path, header: list[str] | None, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows] if header else rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def assert_refused(result: Any) -> None:
    """Exit 1 with exactly one ``error:`` line and no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr


def test_garbage_csv_is_refused_in_one_line(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"\x00\x9c garbage\rmore,stuff\n1,2\n\xff\xfe\r\n")
    assert_refused(cli("import", str(path), "--skip-metrics"))


def test_deeply_nested_json_is_refused(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    result = cli("import", str(path), "--skip-metrics")
    assert_refused(result)
    assert "RecursionError" not in result.stderr


def test_truncated_gzip_says_why_and_still_prints_json(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    whole = gzip.compress(EXPORT.read_bytes())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    result = cli("import", str(path), "--json", "--skip-metrics")
    assert_refused(result)
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and "cut.csv.gz" in report["error"]
    assert warehouse("SELECT count(*) FROM requests") == [(0,)]  # nothing of the file was kept


def test_one_huge_field_quarantines_its_row_not_the_file(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    header, rows = export_rows(5)
    rows[2][header.index("Resolution Description")] = "x" * (17 << 20)
    path = write_csv(tmp_path / "huge-cell.csv", header, rows)
    result = cli("import", str(path), "--json", "--skip-metrics")
    assert result.returncode == 0, result.stderr
    assert warehouse("SELECT count(*) FROM requests") == [(4,)]
    [(reason, detail, raw)] = warehouse("SELECT reason, detail, raw FROM quarantine")
    assert reason == "unreadable_row" and "line" in detail
    assert len(raw) < 10_000 and rows[2][0] in raw


def test_empty_file_and_a_non_311_object_are_refused(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert_refused(cli("import", str(empty), "--skip-metrics"))
    header_only = write_csv(tmp_path / "header-only.csv", export_rows(0)[0], [])
    assert_refused(cli("import", str(header_only), "--skip-metrics"))
    odd = tmp_path / "odd.json"
    odd.write_text('{"a":1}')
    result = cli("import", str(odd), "--skip-metrics")
    assert_refused(result)
    assert "unique_key" in result.stderr
    assert warehouse("SELECT count(*) FROM quarantine") == [(0,)]


def test_number_and_boolean_keys_are_quarantined(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    row = {"created_date": "2024-04-16T03:03:15.000", "agency": "NYPD"}
    page = [{**row, "unique_key": 9.095e7}, {**row, "unique_key": True}, {**row, "unique_key": "90950000"}]
    path = tmp_path / "typed-keys.json"
    path.write_text(json.dumps(page))
    assert cli("import", str(path), "--skip-metrics").returncode == 0
    assert warehouse("SELECT unique_key FROM requests") == [("90950000",)]
    quarantined = warehouse("SELECT reason, raw FROM quarantine ORDER BY row_number")
    assert [reason for reason, _ in quarantined] == ["invalid_unique_key", "invalid_unique_key"]
    assert [json.loads(raw)["unique_key"] for _, raw in quarantined] == ["90950000.0", "true"]


def test_future_created_dates_are_flagged_and_never_newest(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    header, rows = export_rows(3)
    created = header.index("Created Date")
    rows[0][created] = "12/31/9999 11:59:59 PM"
    rows[1][created] = "07/04/2099 10:00:00 AM"
    path = write_csv(tmp_path / "future.csv", header, rows)
    assert cli("import", str(path), "--skip-metrics").returncode == 0
    flagged = warehouse(
        "SELECT unique_key FROM requests WHERE list_contains(dirty_flags, 'created_in_future') ORDER BY 1"
    )
    assert flagged == sorted([(rows[0][0],), (rows[1][0],)])
    status = json.loads(cli("status", "--json").stdout)
    assert status["data_as_of"].startswith("2018-09-02"), status["data_as_of"]


def test_csv_without_a_header_row_is_refused(cli: Any, warehouse: Any, tmp_path: Path) -> None:
    data = [
        ["46803456", "07/20/2020 10:51:12 AM", "NYPD", "Noise - Residential", "Open"],
        ["46803457", "07/20/2020 10:52:40 AM", "DSNY", "Dirty Condition", "Closed"],
    ]
    result = cli("import", str(write_csv(tmp_path / "damaged.csv", None, data)), "--skip-metrics")
    assert_refused(result)
    assert "header" in result.stderr
    assert warehouse("SELECT count(*) FROM requests") == [(0,)]
    assert warehouse("SELECT count(*) FROM quarantine") == [(0,)]


def test_quarantined_rows_keep_the_header_names_as_delivered(
    cli: Any, warehouse: Any, tmp_path: Path
) -> None:
    header, rows = export_rows(2)
    rows[1][header.index("Created Date")] = "not a date"
    path = write_csv(tmp_path / "one-bad.csv", header, rows)
    assert cli("import", str(path), "--skip-metrics").returncode == 0
    [(raw, detail)] = warehouse("SELECT raw, detail FROM quarantine")
    delivered = json.loads(raw)
    assert delivered["Created Date"] == "not a date"
    assert delivered["Unique Key"] == rows[1][0]
    assert set(delivered) <= set(header)
    assert '"not a date"' in detail
