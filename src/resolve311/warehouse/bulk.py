"""Bulk import of a CSV export at engine speed: DuckDB's own ``read_csv``, normalised in SQL.

A portal export (41/53 display-name columns, the 44-column API CSV, any size,
gzip allowed) is streamed by DuckDB's parallel CSV reader straight into the
same staged query the small-batch path uses (:mod:`normalize_sql`). A file of
keys never stored (every first import) is inserted into ``requests`` straight
from that query (:mod:`direct_load`: no staged copy of the file, which spilled
~0.7 GB per million rows beyond the memory cap); any other file is staged in a
temporary table and loaded by the loader's SQL (:func:`loader.load_staged`:
the newest version of each key, newest-wins upsert). No row passes through
Python and no Arrow table of the file is ever built. The whole file is one
batch (one ``batch_seq``), loaded in the caller's transaction.

Rows DuckDB cannot read (a row over :data:`MAX_ROW_BYTES`, a wrong number of
cells, bytes that are not UTF-8) do not fail the file: they are quarantined
with reason ``unreadable_row``, the reader's message and the start of the line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import duckdb

from resolve311.errors import ParseError
from resolve311.schema import SODA_FIELDS
from resolve311.sources.city import CityRules
from resolve311.warehouse.columns import SYSTEM_FIELD_COLUMNS, quote_ident
from resolve311.warehouse.csv_split import open_maybe_gzip
from resolve311.warehouse.direct_load import (
    csv_rows_profiled,
    direct_load_possible,
    direct_rows_are_new,
    finish_direct,
    insert_direct,
    undo_direct,
)
from resolve311.warehouse.formats import GZIP_MAGIC, UTF8_BOM, csv_fields, parse_header
from resolve311.warehouse.loader import LoadResult, load_staged, warehouse_empty
from resolve311.warehouse.normalize import staged_input
from resolve311.warehouse.normalize_sql import staged_query
from resolve311.warehouse.transaction import duckdb_options

#: A row longer than this is quarantined (``unreadable_row``) instead of failing the file.
MAX_ROW_BYTES: Final = 8 << 20
#: DuckDB's memory ceiling while a bulk file loads (it spills to disk beyond it).
BULK_MEMORY_LIMIT: Final = "3GB"
_MAX_HEADER_BYTES: Final = 1 << 20
_VIEW: Final = "_r311_bulk_incoming"
_DIRECT_VIEW: Final = "_r311_bulk_direct"
_STAGED: Final = "_r311_bulk_staged"
_REJECTS: Final = "_r311_bulk_rejects"
_REJECTS_SCAN: Final = "_r311_bulk_rejects_scan"
#: Characters of a rejected line kept in ``quarantine.raw``.
_REJECTED_LINE_CHARS: Final = 4096
#: Share of a file's load time spent reading and normalising (the rest: writing the tables).
_READ_SHARE: Final = 0.6
#: Share of a direct load's time spent in its insert (the rest: the quarantine read).
_DIRECT_SHARE: Final = 0.85

Progress = Callable[[float], None]


def read_header(path: Path) -> list[str]:
    """The header cells of a CSV file (gzip allowed); ParseError when it is empty or unreadable."""
    try:
        with open_maybe_gzip(path) as stream:
            head = stream.read(_MAX_HEADER_BYTES)
    except (OSError, EOFError) as exc:
        raise ParseError(f"unreadable: {exc}") from None
    head = head.removeprefix(UTF8_BOM)
    if not head.strip():
        raise ParseError("the file is empty")
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) >= _MAX_HEADER_BYTES:
        raise ParseError(f"no header line in the first {_MAX_HEADER_BYTES} bytes")
    return parse_header(line)


def key_column_check(header: list[str], fields: list[str]) -> None:
    """Refuse a file without a key column: a missing header row, or not a 311 file at all."""
    if "unique_key" not in fields:
        shown = ", ".join(repr(h) for h in header[:4]) + (", …" if len(header) > 4 else "")
        raise ParseError(
            f"no unique_key column in the header ({shown}); "
            "is the header row missing, or is this not a 311 export of this source?"
        )


@contextmanager
def bulk_memory(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """DuckDB's cap for a bulk load, for the caller's whole transaction: the commit writes the rows too.

    Set around ``BEGIN`` … ``COMMIT`` by the callers of :func:`bulk_load_csv` (which also sets it for
    its own statements); the previous value is back afterwards.
    """
    with duckdb_options(con, memory_limit=BULK_MEMORY_LIMIT):
        yield


def bulk_load_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    batch_seq: int,
    source: str,
    dataset: str | None,
    tz: str,
    field_map: Mapping[str, str] | None = None,
    rules: CityRules | None = None,
    progress: Progress | None = None,
) -> LoadResult:
    """Load the CSV file at ``path`` as batch ``batch_seq`` (inside the caller's transaction)."""
    header = read_header(path)
    fields = [(field_map or {}).get(f, f) for f in csv_fields(header)]
    key_column_check(header, fields)
    params = {"tz": tz, "source": source, "dataset": dataset}
    delivered = list(zip(header, fields, strict=True))

    def query(relation: str) -> str:
        return staged_query(staged_input([*fields, "__row"], delivered, relation=relation), rules)

    with duckdb_options(
        con, memory_limit=BULK_MEMORY_LIMIT, preserve_insertion_order=True, enable_progress_bar=False
    ):
        try:
            _create_view(con, _VIEW, path, fields, keep_rejects=True)
            _create_view(con, _DIRECT_VIEW, path, fields, keep_rejects=True)
            result = _load_direct(con, query, params, batch_seq, source, progress)
            if result is None:
                result = _load_staged(con, query(_VIEW), params, batch_seq, source, progress)
            if progress is not None:
                progress(100.0)
            return result
        finally:
            for name in (_STAGED, _REJECTS, _REJECTS_SCAN):
                _quietly(con, f"DROP TABLE IF EXISTS {name}")
            for name in (_VIEW, _DIRECT_VIEW):
                _quietly(con, f"DROP VIEW IF EXISTS {name}")


def _load_direct(
    con: duckdb.DuckDBPyConnection,
    query: Callable[[str], str],
    params: Mapping[str, object],
    batch_seq: int,
    source: str,
    progress: Progress | None,
) -> LoadResult | None:
    """A file of new keys, inserted straight from the reader (:mod:`direct_load`); None when it is not."""
    was_empty = warehouse_empty(con)
    if not was_empty and not direct_load_possible(con, _DIRECT_VIEW, batch_seq):
        return None
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    con.execute("SET preserve_insertion_order = false")  # no row position is kept from this read
    try:
        with _watching(con, None if progress is None else (lambda pct: progress(pct * _DIRECT_SHARE))):
            inserted, read = _inserted(con, query(_DIRECT_VIEW), params, batch_seq, loaded_at)
        if not direct_rows_are_new(con, batch_seq, was_empty=was_empty):
            undo_direct(con, batch_seq)  # a repeated or stored key: the staged path decides
            _drop_rejects(con)  # its read records the rejected rows again
            return None
    finally:
        _quietly(con, "SET preserve_insertion_order = true")
    _stage_quarantined(con, query(_VIEW), params, inserted, read)
    return finish_direct(
        con, _STAGED, inserted=inserted, batch_seq=batch_seq, source=source, loaded_at=loaded_at
    )


def _stage_quarantined(
    con: duckdb.DuckDBPyConnection,
    staged_sql: str,
    params: Mapping[str, object],
    inserted: int,
    read: int | None,
) -> None:
    """The quarantined rows of a direct load into ``_STAGED``, numbered by file position, then the
    rejected ones.

    When the reader produced exactly the rows inserted (``read``, from the insert's own profile), no
    readable row was quarantined: only the rejects its read recorded are left. Otherwise (or when
    the profile did not say) a second, ordered read keeps the quarantined rows and records the
    rejects again (the first read's are dropped).
    """
    select = f"SELECT __row, unique_key, source_updated_at, __reason, __detail, __raw_row FROM ({staged_sql})"
    if read == inserted:
        _execute(con, f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS {select} LIMIT 0", params)
        _add_rejected_rows(con, readable=str(inserted))
        return
    _drop_rejects(con)
    _execute(con, f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS {select} WHERE __reason IS NOT NULL", params)
    _add_rejected_rows(con, readable=f"{inserted} + (SELECT count(*) FROM {_STAGED})")


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    for name in (_REJECTS, _REJECTS_SCAN):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _inserted(
    con: duckdb.DuckDBPyConnection,
    staged_sql: str,
    params: Mapping[str, object],
    batch_seq: int,
    loaded_at: datetime,
) -> tuple[int, int | None]:
    """(rows inserted, rows the reader produced: None when its profile does not say)."""
    try:
        with csv_rows_profiled(con) as rows_read:
            inserted = insert_direct(con, staged_sql, params, batch_seq=batch_seq, loaded_at=loaded_at)
            return inserted, rows_read()
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise _parse_error(exc) from None


def _load_staged(
    con: duckdb.DuckDBPyConnection,
    staged_sql: str,
    params: Mapping[str, object],
    batch_seq: int,
    source: str,
    progress: Progress | None,
) -> LoadResult:
    """Any file: every row staged in a temporary table, then the loader's general rules."""
    with _watching(con, None if progress is None else (lambda pct: progress(pct * _READ_SHARE))):
        _execute(con, f"CREATE OR REPLACE TEMP TABLE {_STAGED} AS {staged_sql}", params)
    _add_rejected_rows(con, readable=f"(SELECT count(*) FROM {_STAGED})")
    con.execute("SET preserve_insertion_order = false")  # row positions are fixed by now
    try:
        return load_staged(con, _STAGED, batch_seq=batch_seq, source=source)
    finally:
        _quietly(con, "SET preserve_insertion_order = true")


def _create_view(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, fields: list[str], *, keep_rejects: bool
) -> None:
    """The file as a relation of text columns named by field, with its row position.

    Unreadable rows are skipped either way; ``keep_rejects`` records them in the rejects table
    (read once: each scan appends its own).
    """
    with path.open("rb") as probe:
        compression = "gzip" if probe.read(2) == GZIP_MAGIC else "none"
    raw = [f"c{i}" for i in range(len(fields))]
    types = ", ".join(f"'{c}': 'VARCHAR'" for c in raw)
    reader = (
        f"read_csv({_literal(str(path))}, header = true, auto_detect = false, columns = {{{types}}}, "
        f"delim = ',', quote = '\"', escape = '\"', compression = '{compression}', "
        f"max_line_size = {MAX_ROW_BYTES}, "
        + (
            f"store_rejects = true, rejects_table = '{_REJECTS}', rejects_scan = '{_REJECTS_SCAN}')"
            if keep_rejects
            else "ignore_errors = true)"
        )
    )
    selected = [f"{c} AS {quote_ident(f)}" for c, f in zip(raw, fields, strict=True)]
    present = set(fields)
    selected += [
        f"NULL::VARCHAR AS {quote_ident(f)}"
        for f in (*SODA_FIELDS, *SYSTEM_FIELD_COLUMNS)
        if f not in present
    ]
    _execute(
        con,
        f"CREATE OR REPLACE TEMP VIEW {name} AS "
        f"SELECT (row_number() OVER () - 1)::BIGINT AS __row, {', '.join(selected)} FROM {reader}",
    )


def _add_rejected_rows(con: duckdb.DuckDBPyConnection, *, readable: str) -> None:
    """Rows the reader could not read: quarantined after the ``readable`` ones (an SQL count), with
    the reader's reason."""
    _execute(
        con,
        f"""
        INSERT INTO {_STAGED} (__row, __reason, __detail, __raw_row)
        SELECT {readable} + row_number() OVER (ORDER BY line, column_idx) - 1,
               'unreadable_row',
               'line ' || line || ': ' || error_message,
               to_json({{line: line, csv_line: left(csv_line, {_REJECTED_LINE_CHARS})}})::VARCHAR
        FROM {_REJECTS}
        QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx) = 1
        """,
    )


@contextmanager
def _watching(con: duckdb.DuckDBPyConnection, progress: Progress | None) -> Iterator[None]:
    """Report DuckDB's own progress of the running query (0–100) from a watcher thread.

    DuckDB reports -1 while it has no estimate (and for some plans throughout); such values are
    skipped, and 100 is reported when the query ends, so the bar moves at least per phase.
    """
    if progress is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.5):
            percent = con.query_progress()
            if percent >= 0:
                progress(float(percent))

    watcher = threading.Thread(target=watch, name="r311-bulk-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
        progress(100.0)


def _execute(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None) -> None:
    """Run one statement; a reader error (a broken gzip stream, …) is a ParseError of the file."""
    try:
        con.execute(sql, params or {})
    except (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException) as exc:
        raise _parse_error(exc) from None


def _parse_error(exc: duckdb.Error) -> ParseError:
    """A reader error (a broken gzip stream, …) as a ParseError of the file."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ParseError(f"not a readable CSV file: {first}")


def _quietly(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    with suppress(duckdb.Error):
        con.execute(sql)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
