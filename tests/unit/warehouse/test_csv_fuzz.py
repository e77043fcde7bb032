"""Fuzz: any CSV Python's csv module writes, read_records and iter_csv_parts read back exactly."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from resolve311.warehouse.csv_split import iter_csv_parts
from resolve311.warehouse.formats import read_records

COLUMNS = ["unique_key", "descriptor", "location"]
cell = st.text(alphabet=st.sampled_from('ab ,"\n\r\u00e2\u0080\u0099é(-.)0123'), max_size=12)
rows = st.lists(st.tuples(cell, cell, cell), max_size=25)


def _write(records: list[tuple[str, str, str]], quoting: int) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=quoting, lineterminator="\r\n")  # RFC 4180: quotes any CR or LF
    writer.writerow(COLUMNS)
    writer.writerows(records)
    return out.getvalue().encode("utf-8")


def _expected(records: list[tuple[str, str, str]]) -> list[dict[str, str | None]]:
    return [{c: (v if v != "" else None) for c, v in zip(COLUMNS, r, strict=True)} for r in records]


@settings(max_examples=60, deadline=None)
@given(records=rows, quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]), per_part=st.integers(1, 7))
def test_written_csv_reads_back(records: list[tuple[str, str, str]], quoting: int, per_part: int) -> None:
    # A record of empty cells writes as a blank line, which CSV readers skip: keep keys non-empty.
    records = [(f"k{i}{r[0]}", r[1], r[2]) for i, r in enumerate(records)]
    data = _write(records, quoting)
    assert read_records(data, "csv").to_pylist() == _expected(records)
    parts = list(iter_csv_parts(io.BytesIO(data), per_part))
    if records:
        assert pa.concat_tables([read_records(p, "csv") for p in parts]).to_pylist() == _expected(records)
    else:
        assert parts == []
