"""Reading a SODA JSON page into a text table without a Python object per value.

A page as Socrata sends it is ``[{...}\\n,{...}\\n,...]``: one object per row,
rows separated by a newline and a comma, every value a string (``location`` an
object of strings). Such a body is read by Arrow's JSON reader, which runs in
C++ without the GIL, so worker threads parse pages in parallel. The result is
the table :func:`resolve311.warehouse.formats.read_records` gives for the same
bytes (columns by first appearance, ``""`` as null, nested objects as compact
JSON text); any body of another shape, or with a value that is not a string or
an object of strings, is read by ``read_records`` itself. The live load and
every replay of a landed API batch use this function, so they always agree.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from resolve311.schema import field_from_display_name
from resolve311.warehouse.formats import read_records

ROW_SEPARATOR = b"\n,{"


def read_api_page(body: bytes) -> pa.Table:
    """The rows of a SODA JSON body as a table of text columns named by SODA field."""
    table = _fast_table(body)
    return table if table is not None else read_records(body, "json")


def _fast_table(body: bytes) -> pa.Table | None:
    """The Arrow-read table when the body has Socrata's exact shape; None otherwise."""
    text = body.strip()
    if not (text.startswith(b"[{") and text.endswith(b"}]")):
        return None
    lines = text[1:-1].replace(ROW_SEPARATOR, b"\n{")
    expected_rows = text.count(ROW_SEPARATOR) + 1
    options = pajson.ReadOptions(use_threads=False, block_size=max(len(lines) + 1, 1 << 20))
    try:
        table = pajson.read_json(io.BytesIO(lines), read_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows != expected_rows or not _plain_names(table.column_names):
        return None
    columns = [_text_column(table.column(i)) for i in range(table.num_columns)]
    if any(column is None for column in columns):
        return None
    return pa.table(dict(zip(table.column_names, columns, strict=True)))


def _plain_names(names: list[str]) -> bool:
    """API field names that ``read_records`` keeps unchanged (so no renaming is needed)."""
    return all(field_from_display_name(name) == name for name in names)


def _text_column(column: pa.ChunkedArray) -> pa.Array | pa.ChunkedArray | None:
    """Strings with ``""`` as null; objects of strings as compact JSON text; None for any other type."""
    kind = column.type
    if pa.types.is_null(kind):
        return column.cast(pa.string())
    if pa.types.is_string(kind):
        empty = pc.equal(column, "")
        return pc.if_else(empty, pa.scalar(None, pa.string()), column) if pc.any(empty).as_py() else column
    if pa.types.is_struct(kind) and all(
        pa.types.is_string(kind.field(i).type) for i in range(kind.num_fields)
    ):
        return pa.array([_object_text(value) for value in column.to_pylist()], type=pa.string())
    return None


def _object_text(value: dict[str, str | None] | None) -> str | None:
    """An object as ``json.dumps`` writes it compactly (the fields it had, in order)."""
    if value is None:
        return None
    present = {key: item for key, item in value.items() if item is not None}
    return json.dumps(present, separators=(",", ":"), ensure_ascii=False)
