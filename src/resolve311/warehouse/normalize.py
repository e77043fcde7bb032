"""Normalise parsed rows into the ``requests`` shape, setting aside rows that cannot be loaded.

The rules (timestamps, coordinates, flags, quarantine reasons, row_hash) are
in docs/warehouse.md; the SQL that applies them is in :mod:`normalize_sql`.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias, cast

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from resolve311.errors import ConfigError
from resolve311.schema import SODA_FIELDS
from resolve311.sources.city import CityRules
from resolve311.warehouse.columns import (
    BATCH_COLUMNS,
    DERIVED_ON_IMPORT,
    KNOWN_INPUT_COLUMNS,
    NONSTRING_PREFIX,
    SYSTEM_FIELD_COLUMNS,
)
from resolve311.warehouse.formats import nonstring_rows, original_names, table_from_rows
from resolve311.warehouse.normalize_sql import StagedInput, raw_rows_query, staged_query
from resolve311.warehouse.transaction import registered

Records: TypeAlias = "pa.Table | Iterable[Mapping[str, object]]"

#: Each thread's kept in-memory DuckDB (see :func:`_batch_connection`).
_THREAD_DB = threading.local()


@dataclass(frozen=True)
class QuarantinedRow:
    """A row that could not be loaded, with why."""

    row_number: int  # position in the batch, from 0
    unique_key: str | None
    reason: str  # missing_unique_key | invalid_unique_key | missing_created_date | unparseable_created_date
    detail: str
    raw: str  # the row as delivered, JSON text under the original names (null fields left out)


@dataclass(frozen=True)
class NormalizedBatch:
    """One batch ready to load: loadable rows (one per key) and quarantined rows."""

    rows: pa.Table  # exactly the columns of ``requests`` except batch_seq/loaded_at
    quarantined: list[QuarantinedRow]
    source: str = ""  # logical source the batch belongs to (also for quarantined rows)
    dataset: str | None = None
    rows_in: int = 0  # rows in the input
    duplicates: int = 0  # older copies of a key dropped in favour of the newest in this batch
    max_source_updated_at: datetime | None = None  # newest :updated_at of any input row


def normalize(
    records: Records,
    *,
    source: str,
    dataset: str | None,
    tz: str = "America/New_York",
    field_map: Mapping[str, str] | None = None,
    rules: CityRules | None = None,
    threads: int | None = None,
) -> NormalizedBatch:
    """Normalise ``records`` (a text table from :func:`read_records`, or row mappings).

    Rows without a key or a readable created date are quarantined; of several rows
    with one key, the newest is kept. ``field_map`` renames a city's field names
    onto ours (``{"sr_number": "unique_key"}``); ``rules`` are the city's facts
    (status vocabulary, bounding box, areas: default, the default source's). ``threads``
    limits DuckDB's threads (callers that already normalise several batches at once pass 1).
    """
    _check_timezone(tz)
    table, delivered = _text_table(records, field_map or {})
    table = table.append_column("__row", pa.array(range(table.num_rows), type=pa.int64()))
    with _batch_connection(threads) as con:
        con.register("incoming", table)
        spec = staged_input(table.column_names, delivered, raw_rows=False)
        params = {"tz": tz, "source": source, "dataset": dataset}
        staged = con.sql(staged_query(spec, rules), params=params).to_arrow_table()
        clean = staged.column("__reason").null_count == staged.num_rows  # no row quarantined
        valid = staged if clean else staged.filter(pc.is_null(staged.column("__reason")))
        rows = _newest_per_key(con, valid)
        newest = _newest_update(con, staged)
        bad = [] if clean else _quarantined(con, spec, staged.filter(pc.is_valid(staged.column("__reason"))))
    return NormalizedBatch(
        rows=rows,
        quarantined=bad,
        source=source,
        dataset=dataset,
        rows_in=table.num_rows,
        duplicates=valid.num_rows - rows.num_rows,
        max_source_updated_at=newest,
    )


@contextlib.contextmanager
def _batch_connection(threads: int | None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The calling thread's in-memory DuckDB for one batch, emptied afterwards and kept for its next.

    A fresh database per batch cost ~0.03 CPU-s more per 50,000-row page in 4 threads (~7 %), most
    of it the kernel handing it new memory, and ~0.05 CPU-s per page whatever its size on one
    thread (opening it and applying its settings): as much as normalising a 200-row page. A batch
    with another ``threads`` setting (``None``: DuckDB's default) replaces it; a database that
    failed mid-batch, or one inherited across a fork, is never reused.
    """
    key = (os.getpid(), threads)
    kept = getattr(_THREAD_DB, "con", None) if getattr(_THREAD_DB, "key", None) == key else None
    con = kept if kept is not None else _new_connection(threads)
    try:
        yield con
        con.unregister("incoming")
    except BaseException:
        if con is kept:
            _THREAD_DB.con = None
        with contextlib.suppress(duckdb.Error):
            con.close()
        raise
    if con is not kept:
        _THREAD_DB.con, _THREAD_DB.key = con, key


def _new_connection(threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")  # rows come out in input order (no sort)
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _newest_per_key(con: duckdb.DuckDBPyConnection, valid: pa.Table) -> pa.Table:
    """Loadable rows, one per key: the newest ``:updated_at``, then the later position.

    The staged rows come out of DuckDB as one Arrow table in ``__row`` order (DuckDB keeps
    insertion order, its default ``preserve_insertion_order``, for a query without ORDER BY), and a
    batch without repeated keys (the usual page) is that table's columns as they are: no
    materialised ``staged`` table read again, no window over every column, no sort (writing
    ``staged`` into DuckDB and reading it back cost ~0.06 CPU-s per 50,000 rows, the sort ~0.05).
    """
    if pc.count_distinct(valid.column("unique_key")).as_py() == valid.num_rows:
        return valid.select(BATCH_COLUMNS)
    with registered(con, staged=valid):
        return con.sql(
            f"SELECT {', '.join(BATCH_COLUMNS)} FROM staged "
            "QUALIFY row_number() OVER (PARTITION BY unique_key "
            "ORDER BY source_updated_at DESC NULLS LAST, __row DESC) = 1 ORDER BY __row"
        ).to_arrow_table()


def _newest_update(con: duckdb.DuckDBPyConnection, staged: pa.Table) -> datetime | None:
    """The newest ``source_updated_at`` of any staged row, as DuckDB gives it (also beyond Python's dates)."""
    with registered(con, staged=staged.select(["source_updated_at"])):
        (newest,) = con.sql("SELECT max(source_updated_at) FROM staged").fetchall()[0]
    return cast("datetime | None", newest)


def _quarantined(con: duckdb.DuckDBPyConnection, spec: StagedInput, bad: pa.Table) -> list[QuarantinedRow]:
    """The staged rows with a reason, in input order, each with the row as delivered (read from the input)."""
    columns = [bad.column(name).to_pylist() for name in ("__row", "unique_key", "__reason", "__detail")]
    staged = sorted(zip(*columns, strict=True), key=lambda row: row[0])
    raw = con.execute(raw_rows_query(spec), {"rows": [row[0] for row in staged]}).fetchall()
    return [
        QuarantinedRow(number, key, reason, detail, text)
        for (number, key, reason, detail), (_, text) in zip(staged, raw, strict=True)
    ]


def _check_timezone(tz: str) -> None:
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {tz!r}") from None


def _text_table(records: Records, field_map: Mapping[str, str]) -> tuple[pa.Table, list[tuple[str, str]]]:
    """Any input as a table of text columns, renamed by ``field_map``, with every SODA column.

    Also (name as delivered, column) for every input column, for quarantined rows.
    """
    table = records if isinstance(records, pa.Table) else table_from_rows(records)
    originals = original_names(table)
    renamed = [field_map.get(name, name) for name in table.column_names]
    key_column = next(
        (old for old, new in zip(table.column_names, renamed, strict=True) if new == "unique_key"), None
    )
    marked = nonstring_rows(table, key_column) if key_column else []
    delivered = list(zip(originals, renamed, strict=True))
    columns = {name: _as_text_column(table.column(i)) for i, name in enumerate(renamed)}
    for name in (*SODA_FIELDS, *SYSTEM_FIELD_COLUMNS):
        columns.setdefault(name, pa.nulls(table.num_rows, type=pa.string()))
    if marked:
        flags = [False] * table.num_rows
        for i in marked:
            flags[i] = True
        columns[NONSTRING_PREFIX + "unique_key"] = pa.array(flags)
    return pa.table(columns), delivered


def _as_text_column(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_null(column.type):
        return column.cast(pa.string())
    try:
        return pc.cast(column, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = column.to_pylist()
        return pa.array([None if v is None else json.dumps(v, default=str) for v in values], pa.string())


def staged_input(
    column_names: Iterable[str],
    delivered: list[tuple[str, str]],
    relation: str = "incoming",
    *,
    raw_rows: bool = True,
) -> StagedInput:
    """How to stage a relation with ``column_names`` (SODA field names) delivered as ``delivered``.

    Without ``raw_rows`` the staged query leaves ``__raw_row`` out (see :func:`raw_rows_query`).
    """
    names = list(column_names)
    extra = [
        name
        for name in names
        if name not in KNOWN_INPUT_COLUMNS
        and name not in DERIVED_ON_IMPORT
        and name not in ("extra", "__row")
        and not name.startswith(NONSTRING_PREFIX)
    ]
    return StagedInput(
        columns=delivered,
        extra_columns=extra,
        has_extra_column="extra" in names,
        key_typed=NONSTRING_PREFIX + "unique_key" in names,
        relation=relation,
        raw_rows=raw_rows,
    )
