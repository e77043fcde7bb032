"""Read one raw batch or file (SODA JSON, SODA CSV, portal export CSV; gzip or not) into rows.

Every format becomes the same thing: a :class:`pyarrow.Table` whose columns are
named by SODA field name (display names mapped by name, never by position) and
whose values are the text as delivered (``None`` for a missing or empty value).
Unknown columns are kept under their (normalised) names; the names as delivered
are kept in the table's schema metadata (:func:`original_names`), so a
quarantined row can be shown exactly as it came.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from resolve311.errors import ParseError
from resolve311.schema import field_from_display_name

Format = Literal["json", "csv"]

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
_JSON_EXTENSIONS = (".json", ".geojson", ".ndjson", ".jsonl")
_NAMES_KEY = b"r311.names"
_NONSTRING_KEY = b"r311.nonstring"
_SCALARS = (int, float, bool)


def original_names(table: pa.Table) -> list[str]:
    """The column names as delivered (header cells, JSON keys), aligned with ``table``'s columns."""
    metadata = table.schema.metadata or {}
    if _NAMES_KEY in metadata:
        names = json.loads(metadata[_NAMES_KEY])
        if isinstance(names, list) and len(names) == table.num_columns:
            return [str(n) for n in names]
    return list(table.column_names)


def with_original_names(table: pa.Table, names: list[str]) -> pa.Table:
    """``table`` carrying ``names`` (as delivered) in its schema metadata."""
    metadata = {**(table.schema.metadata or {}), _NAMES_KEY: json.dumps(names, ensure_ascii=False).encode()}
    return table.replace_schema_metadata(metadata)


def decompress(data: bytes) -> bytes:
    """Undo gzip (recognised by its magic bytes, possibly several members); other data as is."""
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"corrupt gzip data: {exc}") from None


def detect_format(name: str, data: bytes) -> Format:
    """Guess the format from the file name, else from the first non-blank byte."""
    lowered = name.lower().removesuffix(".gz")
    if lowered.endswith(_JSON_EXTENSIONS):
        return "json"
    if lowered.endswith((".csv", ".txt")):
        return "csv"
    head = decompress(data[:65536] if not data.startswith(GZIP_MAGIC) else data)[:4096]
    head = head.removeprefix(UTF8_BOM).lstrip()
    return "json" if head[:1] in (b"[", b"{") else "csv"


def read_records(data: bytes, fmt: Format) -> pa.Table:
    """Parse one batch (bytes, gzip allowed) into a table of text columns named by SODA field."""
    raw = decompress(data).removeprefix(UTF8_BOM)
    if fmt == "json":
        return table_from_rows(_json_rows(raw))
    if fmt == "csv":
        return _read_csv(raw)
    raise ParseError(f"unknown format {fmt!r}")


def table_from_rows(rows: Iterable[Mapping[str, object]]) -> pa.Table:
    """Turn row mappings into a text table; nested values become compact JSON text, "" becomes null."""
    materialised = list(rows)
    keys = dict.fromkeys(itertools.chain.from_iterable(materialised))
    names = _unique_names({key: field_from_display_name(key) for key in keys})
    if not names:  # no rows, or only empty objects (each still a row, without a key)
        return pa.table({"unique_key": pa.nulls(len(materialised), type=pa.string())})
    columns: dict[str, pa.Array] = {}
    nonstring: dict[str, list[int]] = {}
    for key, field in names.items():
        values = [row.get(key) for row in materialised]
        columns[field] = _text_column(values)
        marked = [i for i, v in enumerate(values) if isinstance(v, _SCALARS)]
        if marked:
            nonstring[field] = marked
    table = with_original_names(pa.table(columns), [str(key) for key in names])
    if nonstring:
        metadata = {**(table.schema.metadata or {}), _NONSTRING_KEY: json.dumps(nonstring)}
        table = table.replace_schema_metadata(metadata)
    return table


def nonstring_rows(table: pa.Table, column: str) -> list[int]:
    """Rows whose ``column`` was a JSON number or boolean rather than text (empty when unknown)."""
    metadata = table.schema.metadata or {}
    marked = json.loads(metadata.get(_NONSTRING_KEY, b"{}"))
    return [int(i) for i in marked.get(column, [])]


def _text_column(values: list[object]) -> pa.Array:
    try:
        array = pa.array(values, type=pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        array = pa.array([_as_text(v) for v in values], type=pa.string())
    empty = pc.equal(array, "")
    return pc.if_else(empty, pa.scalar(None, pa.string()), array) if pc.any(empty).as_py() else array


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _unique_names(names: dict[str, str]) -> dict[str, str]:
    """Map original key -> field name, suffixing clashes (``status``, ``status_2``)."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for key, field in names.items():
        candidate, n = field or "column", 1
        while candidate in seen:
            n += 1
            candidate = f"{field}_{n}"
        seen.add(candidate)
        out[key] = candidate
    return out


def _json_rows(raw: bytes) -> list[Mapping[str, object]]:
    text = raw.strip()
    if not text:
        return []
    try:
        if text.startswith(b"[") or text.startswith(b"{"):
            parsed = json.loads(text)
        else:
            raise ValueError("not a JSON array or object")
    except ValueError:
        parsed = _json_lines(text)
    except RecursionError:
        raise ParseError("not a readable JSON batch: nested too deeply") from None
    return _rows_of(parsed)


def _json_lines(text: bytes) -> list[object]:
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError as exc:
        raise ParseError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ParseError("not a readable JSON batch: nested too deeply") from None


def _rows_of(parsed: object) -> list[Mapping[str, object]]:
    """A SODA page is a list of objects; also accept GeoJSON, legacy rows.json and no-results."""
    if isinstance(parsed, dict):
        if "meta" in parsed and isinstance(parsed.get("data"), list):
            return _legacy_rows(parsed)
        if parsed.get("type") == "FeatureCollection":
            return [_feature_row(f) for f in parsed.get("features") or []]
        if parsed.get("errorCode") == "query.soql.no-results":
            return []
        if parsed.get("error") or parsed.get("errorCode"):
            raise ParseError(f"the batch is an API error: {parsed.get('message') or parsed}")
        parsed = [parsed]
    if not isinstance(parsed, list) or not all(isinstance(r, dict) for r in parsed):
        raise ParseError("JSON batch is not a list of objects")
    return parsed


def _legacy_rows(parsed: dict[str, Any]) -> list[Mapping[str, object]]:
    """``/api/views/<id>/rows.json``: positional rows, named by ``meta.view.columns[].fieldName``."""
    try:
        columns = parsed["meta"]["view"]["columns"]
        names = [str(c.get("fieldName") or c["name"]) for c in columns]
    except (KeyError, TypeError, AttributeError):
        raise ParseError("rows.json without meta.view.columns") from None
    rows = parsed["data"]
    if not all(isinstance(r, list) and len(r) == len(names) for r in rows):
        raise ParseError(f"rows.json rows do not have the {len(names)} columns of its metadata")
    return [dict(zip(names, r, strict=True)) for r in rows]


def _feature_row(feature: object) -> Mapping[str, object]:
    if not isinstance(feature, dict):
        raise ParseError("GeoJSON feature is not an object")
    props = dict(feature.get("properties") or {})
    if feature.get("geometry") is not None and "location" not in props:
        props["location"] = feature["geometry"]
    return props


def _read_csv(raw: bytes) -> pa.Table:
    if not raw.strip():
        return table_from_rows([])
    try:
        return _parse_csv(raw)
    except UnicodeDecodeError:
        # Undecodable bytes become U+FFFD; every valid character stays as delivered.
        return _parse_csv(raw.decode("utf-8", errors="replace").encode("utf-8"))


def csv_fields(header: list[str]) -> list[str]:
    """The column names (SODA fields, unique) of a CSV header's cells."""
    return list(
        _unique_names({f"{i}:{h}": field_from_display_name(h) for i, h in enumerate(header)}).values()
    )


def _parse_csv(raw: bytes) -> pa.Table:
    header = _csv_header(raw)
    fields = csv_fields(header)
    table = _arrow_csv(raw, fields, 1 << 24)
    return with_original_names(table, header)


def _arrow_csv(raw: bytes, fields: list[str], block_size: int) -> pa.Table:
    try:
        return pacsv.read_csv(
            io.BytesIO(raw),
            read_options=pacsv.ReadOptions(column_names=fields, skip_rows=1, block_size=block_size),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(fields, pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower():
            raise UnicodeDecodeError("utf-8", raw[:1], 0, 1, str(exc)) from None
        if "straddl" in str(exc) and block_size < len(raw):  # one huge cell: one block for the batch
            return _arrow_csv(raw, fields, len(raw) + 1)
        raise ParseError(f"not a readable CSV: {exc}") from None


def parse_header(line: bytes) -> list[str]:
    """The cells of a CSV header line (names may be quoted); ParseError when it is not one."""
    try:
        header = next(csv.reader([line.rstrip(b"\r\n").decode("utf-8")]), [])
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ParseError(f"not a readable CSV header: {exc}") from None
    if not header:
        raise ParseError("CSV has no header")
    return header


def _csv_header(raw: bytes) -> list[str]:
    """The first CSV record (header names may be quoted)."""
    return parse_header(raw.split(b"\n", 1)[0])
