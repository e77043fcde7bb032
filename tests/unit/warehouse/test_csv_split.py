"""Splitting large CSVs into self-contained parts: whole records, byte for byte, any block size."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pyarrow as pa
import pytest

from helpers import REAL_FILES
from resolve311.errors import ParseError
from resolve311.warehouse import csv_split
from resolve311.warehouse.csv_split import iter_csv_parts, open_maybe_gzip
from resolve311.warehouse.formats import read_records

MULTILINE = next(p for p in REAL_FILES if p.name.startswith("soda-csv_erm2"))
TRICKY = (
    b"unique_key,descriptor,location\r\n"
    b'1,"say ""hi""\r\nthere","\n,  \n(40.67, -73.73)"\r\n'
    b"2,plain,\r\n"
    b'3,"""quoted"" start","(40.1, -73.9)"'  # no final newline
)


def _split(data: bytes, rows: int) -> list[bytes]:
    return list(iter_csv_parts(io.BytesIO(data), rows))


@pytest.mark.parametrize("read_size", [5, 997, 1 << 20])
@pytest.mark.parametrize("rows", [1, 3, 250, 5000])
def test_parts_concatenate_to_the_whole_file(
    read_size: int, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_split, "_READ_SIZE", read_size)
    data = MULTILINE.read_bytes()
    if read_size < 1000:  # tiny reads: keep the first ~10 records (cut at a record start)
        data = data[: data.index(b'\n"6', 6_000) + 1]
    whole = read_records(data, "csv")
    parts = _split(data, rows)
    tables = [read_records(part, "csv") for part in parts]
    assert all(t.num_rows <= rows for t in tables)
    assert all(t.num_rows == rows for t in tables[:-1])
    assert pa.concat_tables(tables).equals(whole)


@pytest.mark.parametrize("read_size", [1, 2, 5, 64])
def test_escaped_quotes_crlf_and_missing_final_newline(
    read_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_split, "_READ_SIZE", read_size)
    parts = _split(TRICKY, 1)
    assert len(parts) == 3
    assert all(part.startswith(b"unique_key,descriptor,location\r\n") for part in parts)
    rows = [read_records(part, "csv").to_pylist()[0] for part in parts]
    assert rows[0]["descriptor"] == 'say "hi"\r\nthere'
    assert rows[0]["location"] == "\n,  \n(40.67, -73.73)"
    assert [r["unique_key"] for r in rows] == ["1", "2", "3"]
    assert rows[2]["descriptor"] == '"quoted" start'


def test_records_are_kept_byte_for_byte() -> None:
    data = MULTILINE.read_bytes()
    header, _, body = data.partition(b"\n")
    parts = _split(data, 100)
    assert b"".join(part.removeprefix(header + b"\n") for part in parts) == body


def test_empty_and_header_only_files() -> None:
    assert _split(b"", 10) == []
    assert _split(b"\xef\xbb\xbfa,b\n", 10) == []


def test_unbalanced_header_quote_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        _split(b'"a,b\n1,2\n', 10)


def test_gzip_files_open_transparently(tmp_path: Path) -> None:
    path = tmp_path / "export.csv.gz"
    path.write_bytes(gzip.compress(TRICKY))
    with open_maybe_gzip(path) as stream:
        assert len(list(iter_csv_parts(stream, 2))) == 2
    plain = tmp_path / "export.csv"
    plain.write_bytes(TRICKY)
    with open_maybe_gzip(plain) as stream:
        assert stream.read() == TRICKY
