"""``row_hash``: what makes a version, computed in SQL, and kept consistent across engine upgrades.

The hash is DuckDB's 64-bit ``hash()`` of one struct of the normalised source
fields (every SODA field except ``location``) plus ``:updated_at``, as 16 hex
digits. It is about 5× cheaper than the md5 of the fields' JSON it replaces
(the largest single cost of a bulk import) and, compared within one key only,
a collision needs two versions of the same request out of 2^64.

DuckDB does not promise that ``hash()`` stays the same across its releases, so
the warehouse keeps a *probe*: the hash of one fixed row, written when the
schema is created. :func:`ensure_row_hash_scheme` (run by ``migrate`` on every
writable open) recomputes it; when it differs, or is missing (a warehouse of the
md5 era), every stored ``row_hash`` of ``requests`` and ``request_versions`` is
recomputed from the stored columns once, slice by slice, so re-deliveries
keep comparing equal to what is stored.
"""

from __future__ import annotations

import logging
from typing import Final

import duckdb

from resolve311.schema import NUMBER_FIELDS, SODA_FIELDS, TIMESTAMP_FIELDS
from resolve311.warehouse.transaction import duckdb_options, transaction

log = logging.getLogger(__name__)

#: Source fields that make a version: everything except ``location`` (its text
#: shape differs by format; its content is latitude/longitude).
HASHED_FIELDS: Final[tuple[str, ...]] = tuple(f for f in SODA_FIELDS if f != "location")
_TABLES: Final = ("requests", "request_history")  # request_versions: a view over both


def row_hash_sql(updated_at: str = "source_updated_at") -> str:
    """The SQL expression of ``row_hash`` over the normalised columns (``updated_at``: the :updated_at column)."""
    fields = ", ".join(f"{f} := {f}" for f in HASHED_FIELDS)
    return f"lpad(to_hex(hash(struct_pack({fields}, updated_at := {updated_at}))), 16, '0')"


def _probe_row_sql() -> str:
    """One fixed row of every hashed type, with NULLs: its hash changes whenever ``hash()`` does."""
    values = []
    for i, field in enumerate(HASHED_FIELDS):
        if i % 5 == 4:
            value = f"NULL::{'TIMESTAMP' if field in TIMESTAMP_FIELDS else 'DOUBLE' if field in NUMBER_FIELDS else 'VARCHAR'}"
        elif field in TIMESTAMP_FIELDS:
            value = f"TIMESTAMP '2021-0{i % 9 + 1}-1{i % 9} 0{i % 9}:3{i % 9}:0{i % 9}'"
        elif field in NUMBER_FIELDS:
            value = f"{40 + i}.{i}25::DOUBLE"
        else:
            value = f"'{field} café ''{i}'''"
        values.append(f"{value} AS {field}")
    values.append("TIMESTAMP '2024-04-17 00:00:00.123' AS source_updated_at")
    return "SELECT " + ", ".join(values)


def current_probe(con: duckdb.DuckDBPyConnection) -> str:
    """The hash of the probe row on this engine."""
    row = con.execute(f"SELECT {row_hash_sql()} FROM ({_probe_row_sql()})").fetchone()
    assert row is not None
    return str(row[0])


def ensure_row_hash_scheme(con: duckdb.DuckDBPyConnection) -> bool:
    """Re-hash stored rows once when the stored probe is missing or differs; True when it did.

    A warehouse without rows (a new one) only records this engine's probe.

    The caller must not be in a transaction. The rows are re-hashed in slices of
    ``REHASH_SLICE_ROWS`` row ids, each its own transaction, within ``REHASH_MEMORY_LIMIT`` (one
    transaction at DuckDB's default cap peaked at 12.3 GB on a 40M-request warehouse), then the
    probe is written (the request tables have no index since migration 008):
    a crash at any point leaves the old probe, so the next open goes on (each step is
    idempotent: a slice only touches rows whose hash differs).
    """
    probe = current_probe(con)
    if con.execute("SELECT probe FROM row_hash_scheme").fetchall() == [(probe,)]:
        return False
    rehash = _holds_rows(con)
    if rehash:
        log.info(
            "re-hashing the stored rows once (the row-hash scheme changed); minutes on a large warehouse"
        )
        with duckdb_options(con, memory_limit=REHASH_MEMORY_LIMIT):
            for table in _TABLES:
                _rehash(con, table)
    with transaction(con):
        con.execute("DELETE FROM row_hash_scheme")
        con.execute("INSERT INTO row_hash_scheme VALUES (?)", [probe])
    return rehash


def _holds_rows(con: duckdb.DuckDBPyConnection) -> bool:
    exists = " OR ".join(f"EXISTS (SELECT 1 FROM {table})" for table in _TABLES)
    row = con.execute(f"SELECT {exists}").fetchone()
    return bool(row and row[0])


#: Row ids re-hashed per transaction: bounds the undo DuckDB keeps in memory.
REHASH_SLICE_ROWS: Final = 2_000_000
#: DuckDB's memory cap while re-hashing (its default, 80% of RAM, let the buffer cache reach
#: 12 GB on a 40M-request warehouse). The previous cap is back afterwards.
REHASH_MEMORY_LIMIT: Final = "2GB"


def _rehash(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Recompute ``table``'s row hashes slice by slice of row ids, one transaction each."""
    row = con.execute(f"SELECT max(rowid) FROM {table}").fetchone()
    last = -1 if row is None or row[0] is None else int(row[0])
    for start in range(0, last + 1, REHASH_SLICE_ROWS):
        with transaction(con):
            con.execute(
                f"UPDATE {table} SET row_hash = {row_hash_sql()} "
                f"WHERE rowid >= {start} AND rowid < {start + REHASH_SLICE_ROWS} AND row_hash <> {row_hash_sql()}"
            )
