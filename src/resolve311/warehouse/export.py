"""Export a warehouse table to CSV or Parquet, one row per record.

``requests`` and ``request_versions``: the SODA source columns first, under
their field names, timestamps as the API writes them (local wall-clock ISO
text ``2024-04-16T03:03:15.000``; system fields ``:id``, ``:created_at``,
``:updated_at`` as UTC ``…Z`` text), then our own columns. Such a CSV imports
back unchanged (same row_hash). ``quarantine`` is exported as stored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

import duckdb

from resolve311.errors import ConfigError
from resolve311.schema import SODA_FIELDS, TIMESTAMP_FIELDS
from resolve311.warehouse.columns import quote_ident
from resolve311.warehouse.loader import without_progress_bar
from resolve311.warehouse.timestamps import iso_text_sql, iso_utc_text_sql

ExportTable = Literal["requests", "request_versions", "quarantine"]
ExportFormat = Literal["csv", "parquet"]

_ORDER: Final[dict[str, str]] = {
    "requests": "unique_key",
    "request_versions": "unique_key, source_updated_at NULLS FIRST, batch_seq, row_hash",
    "quarantine": "batch_seq, row_number",
}
_OWN_UTC_COLUMNS: Final = ("created_utc", "closed_utc")
_OWN_PLAIN_COLUMNS: Final = ("source", "dataset", "hours_to_close", "is_closed")


def export_query(table: ExportTable, fmt: ExportFormat) -> str:
    """The SELECT that an export writes."""
    if table not in _ORDER:
        raise ConfigError(f"cannot export table {table!r}: choose one of {', '.join(_ORDER)}")
    if table == "quarantine":
        return f"SELECT * FROM quarantine ORDER BY {_ORDER[table]}"
    return f"SELECT {', '.join(_request_columns(fmt))} FROM {table} ORDER BY {_ORDER[table]}"


def _request_columns(fmt: ExportFormat) -> list[str]:
    text_output = fmt == "csv"
    cols = [f"{iso_text_sql(f)} AS {f}" if f in TIMESTAMP_FIELDS else f for f in SODA_FIELDS]
    cols += [
        f"source_id AS {quote_ident(':id')}",
        f"{iso_utc_text_sql('source_created_at')} AS {quote_ident(':created_at')}",
        f"{iso_utc_text_sql('source_updated_at')} AS {quote_ident(':updated_at')}",
    ]
    cols += list(_OWN_PLAIN_COLUMNS)
    cols += [f"{iso_utc_text_sql(c)} AS {c}" if text_output else c for c in _OWN_UTC_COLUMNS]
    cols.append("to_json(dirty_flags)::VARCHAR AS dirty_flags" if text_output else "dirty_flags")
    cols += ["extra::VARCHAR AS extra", "row_hash", "batch_seq"]
    cols.append(f"{iso_utc_text_sql('loaded_at')} AS loaded_at" if text_output else "loaded_at")
    return cols


def export_table(con: duckdb.DuckDBPyConnection, table: ExportTable, fmt: ExportFormat, out: Path) -> int:
    """Write ``table`` to ``out`` (atomically: temp file, then rename); return the row count."""
    if fmt not in ("csv", "parquet"):
        raise ConfigError(f"unknown export format {fmt!r}: choose csv or parquet")
    query = export_query(table, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
    target = str(tmp).replace("'", "''")
    try:
        with without_progress_bar(con):
            row = con.execute(f"COPY ({query}) TO '{target}' ({options})").fetchone()
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return int(row[0]) if row else 0
