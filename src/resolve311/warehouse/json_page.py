"""A plain SODA JSON page read and normalised inside DuckDB, with no Arrow table of the page in Python.

DuckDB's own JSON reader parses the page (every field as text, object fields such
as ``location`` as compact JSON text) into an in-memory table, and the staged
query every other path uses normalises it. The result is exactly the batch that
:func:`resolve311.extract.pages.read_api_page` + :func:`normalize` give for the
same bytes, or None when that cannot be promised (the caller then takes that
path). It is promised when:

- the body is one JSON array of objects (``[{`` … ``}]``) that DuckDB reads;
- every member was read (no member with a null value, no key outside the columns
  read, no repeated key). Checked by counting colons: each ``:`` of the body is a
  member's separator or sits inside a key or a value, so the body holds exactly
  as many as the members read; a member not read adds at least one. A ``\\u003a``
  escape (a colon in a value but not in the body) sends the page to the other path.
- every value is a string, or an object of strings in a column read as JSON:
  a number, boolean, array or object read as text lacks the two quotes a string
  has, so the body's ``"`` count falls short of what the values read imply;
- object values have one member order (a subsequence of their first-seen order,
  as Arrow's struct columns give) and no escape but ``\\"``.

Columns come in order of first appearance (ties by their order in that row), as
Arrow and ``read_records`` give them; a column whose values are all missing is absent.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import duckdb

from resolve311.schema import SODA_FIELDS, field_from_display_name
from resolve311.sources.city import CityRules
from resolve311.warehouse.columns import SYSTEM_FIELD_COLUMNS, quote_ident
from resolve311.warehouse.normalize import (
    NormalizedBatch,
    check_timezone,
    normalize_incoming,
    page_connection,
)
from resolve311.warehouse.normalize_sql import sql_text

_PAGE: Final = "page"
_CURSOR_FIELDS: Final = (":updated_at", ":id")
_WHITESPACE: Final = frozenset(b" \t\r\n")
_ROW_SEPARATOR: Final = b"\n,{"


@dataclass(frozen=True)
class PageBatch:
    """A page normalised by DuckDB, with its first and last rows' cursor fields (text or None)."""

    batch: NormalizedBatch
    first: dict[str, str | None]
    last: dict[str, str | None]

    @property
    def rows(self) -> int:
        return self.batch.rows_in


@dataclass(frozen=True)
class _Read:
    """What the checks found: the columns read with a value, in order, and the row count."""

    columns: list[str]
    objects: frozenset[str]
    rows: int


def normalize_page(
    body: bytes,
    *,
    source: str,
    dataset: str | None,
    tz: str = "America/New_York",
    field_map: Mapping[str, str] | None = None,
    rules: CityRules | None = None,
    threads: int | None = None,
) -> PageBatch | None:
    """``body`` normalised as ``normalize(read_api_page(body), …)`` would; None if not a plain page."""
    check_timezone(tz)
    head = _first_row(body)
    if head is None:
        return None
    renames = dict(field_map or {})
    objects = {k for k, v in head.items() if isinstance(v, dict)} | {"location"}
    objects |= {k for k, v in renames.items() if v == "location"}
    keys = list(dict.fromkeys([*head, *SODA_FIELDS, *SYSTEM_FIELD_COLUMNS, *renames]))
    if any(field_from_display_name(k) != k for k in keys):
        return None
    with page_connection(threads) as con, _body_file(body) as path:
        read = _read_checked(con, body, path, keys, objects)
        if read is None:
            return None
        return _normalized(con, read, renames, source=source, dataset=dataset, tz=tz, rules=rules)


def _first_row(body: bytes) -> dict[str, Any] | None:
    """The first object of a ``[{…}, …]`` body (None for any other shape)."""
    start, end = 0, len(body)
    while start < end and body[start] in _WHITESPACE:
        start += 1
    while end > start and body[end - 1] in _WHITESPACE:
        end -= 1
    if body[start : start + 2] != b"[{" or body[end - 2 : end] != b"}]" or body.find(b"\\u003", start) >= 0:
        return None
    try:
        row, _ = json.JSONDecoder().raw_decode(
            body[start + 1 : start + 1 + (1 << 20)].decode("utf-8", "replace")
        )
    except ValueError:
        return None
    return row if isinstance(row, dict) else None


@contextmanager
def _body_file(body: bytes) -> Iterator[str]:
    """The body in a temporary file for DuckDB's reader (removed afterwards)."""
    with tempfile.NamedTemporaryFile(prefix="r311-page-", suffix=".json") as handle:
        handle.write(body)
        handle.flush()
        yield handle.name


def _read_checked(
    con: duckdb.DuckDBPyConnection, body: bytes, path: str, keys: list[str], objects: set[str]
) -> _Read | None:
    """Read the page into table ``page``; None when a check fails (see the module's docstring)."""
    kinds = ", ".join(f"{sql_text(k)}: '{'JSON' if k in objects else 'VARCHAR'}'" for k in keys)
    try:
        con.execute(
            f"CREATE TEMP TABLE {_PAGE} AS SELECT * FROM "
            f"read_json({sql_text(path)}, format = 'array', records = true, columns = {{{kinds}}})"
        )
        counts = _column_counts(con, keys, objects)
    except duckdb.Error:
        return None
    rows, nonnull, firsts, colons, quotes, objects_ok = counts
    present = [k for k, n in zip(keys, nonnull, strict=True) if n]
    read_colons = colons + sum(n * (1 + k.count(":")) for k, n in zip(keys, nonnull, strict=True))
    read_quotes = quotes + sum(
        n * (2 + k.count('"') + (0 if k in objects else 2)) for k, n in zip(keys, nonnull, strict=True)
    )
    if not objects_ok or read_colons != body.count(b":") or read_quotes != body.count(b'"'):
        return None
    present_objects = frozenset(k for k in present if k in objects)
    if not all(_object_column_ok(con, k) for k in present_objects):
        return None
    first_row = dict(zip(keys, firsts, strict=True))
    ordered = _in_order(con, body, present, first_row)
    return None if ordered is None else _Read(ordered, present_objects, rows)


def _column_counts(
    con: duckdb.DuckDBPyConnection, keys: list[str], objects: set[str]
) -> tuple[int, list[int], list[int | None], int, int, bool]:
    """Rows; per key non-null values and first row; colons and quotes in all values; objects are objects."""
    idents = [quote_ident(k) for k in keys]
    text = [f"{i}::VARCHAR" if k in objects else i for k, i in zip(keys, idents, strict=True)]
    joined = "concat(" + ", ".join(text) + ")"
    is_object = [
        f"{i} IS NULL OR starts_with({i}::VARCHAR, '{{')"
        for k, i in zip(keys, idents, strict=True)
        if k in objects
    ]
    row = con.execute(
        f"""
        SELECT count(*), [{", ".join(f"count({i})" for i in idents)}],
               [{", ".join(f"min(rowid) FILTER ({i} IS NOT NULL)" for i in idents)}],
               coalesce(sum(strlen(v) - strlen(replace(v, ':', ''))), 0),
               coalesce(sum(strlen(v) - strlen(replace(v, '"', ''))), 0),
               coalesce(bool_and({" AND ".join(f"({c})" for c in is_object) or "true"}), true)
        FROM (SELECT rowid, *, {joined} AS v FROM {_PAGE})
        """
    ).fetchall()[0]
    return int(row[0]), [int(n) for n in row[1]], list(row[2]), int(row[3]), int(row[4]), bool(row[5])


def _object_column_ok(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """Objects of strings only, no escape but ``\\"``, members in one order (as Arrow's struct gives)."""
    column = quote_ident(key)
    structure, escaped = con.execute(
        f"SELECT json_group_structure({column}), "
        f"coalesce(bool_or(contains(replace({column}::VARCHAR, '\\\"', ''), '\\')), false) "
        f"FROM {_PAGE} WHERE {column} IS NOT NULL"
    ).fetchall()[0]
    shape = json.loads(str(structure))
    if escaped or not isinstance(shape, dict) or not shape or any(v != "VARCHAR" for v in shape.values()):
        return False
    orders = con.execute(
        f"SELECT json_keys({column}) AS k, min(rowid) AS r FROM {_PAGE} WHERE {column} IS NOT NULL "
        "GROUP BY k ORDER BY r"
    ).fetchall()
    seen = list(dict.fromkeys(name for names, _ in orders for name in names))
    return all(_subsequence(list(names), seen) for names, _ in orders)


def _subsequence(items: list[str], order: list[str]) -> bool:
    positions = [order.index(item) for item in items]
    return positions == sorted(positions)


def _in_order(
    con: duckdb.DuckDBPyConnection, body: bytes, present: list[str], first_row: Mapping[str, int | None]
) -> list[str] | None:
    """``present`` by first appearance; columns first seen in the same row by their order in it."""
    by_row: dict[int, list[str]] = {}
    for key in present:
        by_row.setdefault(int(first_row[key] or 0), []).append(key)
    ordered: list[str] = []
    for row in sorted(by_row):
        keys = by_row[row]
        if len(keys) > 1:
            order = _row_keys(con, body, row, present)
            if order is None or not set(keys) <= set(order):
                return None
            keys = sorted(keys, key=order.index)
        ordered += keys
    return ordered


def _row_keys(con: duckdb.DuckDBPyConnection, body: bytes, row: int, present: list[str]) -> list[str] | None:
    """The keys of row ``row`` in their order, found after the ``row``-th ``\\n,{`` separator.

    The object found there must be that row: the same values as DuckDB read for it (a raw newline
    cannot sit inside a JSON string, so the separator is always between rows; a body separated
    otherwise gives None).
    """
    position = body.find(b"{")
    for _ in range(row):
        position = body.find(_ROW_SEPARATOR, position)
        if position < 0:
            return None
        position += len(_ROW_SEPARATOR) - 1
    end = body.find(_ROW_SEPARATOR, position)
    try:
        found = json.loads(body[position : end if end >= 0 else body.rfind(b"]")])
    except ValueError:
        return None
    stored = con.execute(
        f"SELECT {', '.join(quote_ident(k) + '::VARCHAR' for k in present)} FROM {_PAGE} WHERE rowid = {int(row)}"
    ).fetchall()[0]
    values = {k: v for k, v in zip(present, stored, strict=True) if v is not None}
    if not isinstance(found, dict) or set(found) != set(values):
        return None
    if any(isinstance(found[k], str) and found[k] != v for k, v in values.items()):
        return None
    return list(found)


def _normalized(
    con: duckdb.DuckDBPyConnection,
    read: _Read,
    renames: Mapping[str, str],
    *,
    source: str,
    dataset: str | None,
    tz: str,
    rules: CityRules | None,
) -> PageBatch | None:
    """Stage the read columns as ``incoming`` (renamed, ``""`` as NULL, every SODA column) and normalise."""
    renamed = [renames.get(k, k) for k in read.columns]
    if len(set(renamed)) != len(renamed):
        return None
    select = ["rowid AS __row"] + [
        f"{quote_ident(k)}::VARCHAR AS {quote_ident(r)}"
        if k in read.objects
        else f"nullif({quote_ident(k)}, '') AS {quote_ident(r)}"
        for k, r in zip(read.columns, renamed, strict=True)
    ]
    missing = [f for f in (*SODA_FIELDS, *SYSTEM_FIELD_COLUMNS) if f not in renamed]
    select += [f"NULL::VARCHAR AS {quote_ident(f)}" for f in missing]
    con.execute(f"CREATE TEMP VIEW incoming AS SELECT {', '.join(select)} FROM {_PAGE}")
    first, last = _edges(con, read)
    batch = normalize_incoming(
        con, [*renamed, *missing, "__row"], list(zip(read.columns, renamed, strict=True)),
        rows_in=read.rows, source=source, dataset=dataset, tz=tz, rules=rules,
    )  # fmt: skip
    return PageBatch(batch, first, last)


def _edges(
    con: duckdb.DuckDBPyConnection, read: _Read
) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """The cursor fields of the first and last rows (None where missing or empty)."""
    values = [
        f"nullif({quote_ident(f)}, '')" if f in read.columns else "NULL::VARCHAR" for f in _CURSOR_FIELDS
    ]
    rows = con.execute(
        f"SELECT {', '.join(values)} FROM {_PAGE} WHERE rowid IN (0, {read.rows - 1}) ORDER BY rowid"
    ).fetchall()
    first, last = rows[0], rows[-1]
    return dict(zip(_CURSOR_FIELDS, first, strict=True)), dict(zip(_CURSOR_FIELDS, last, strict=True))
