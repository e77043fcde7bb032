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
recomputed from the stored columns once, in one transaction, so re-deliveries
keep comparing equal to what is stored.
"""

from __future__ import annotations

from typing import Final

import duckdb

from resolve311.schema import NUMBER_FIELDS, SODA_FIELDS, TIMESTAMP_FIELDS

#: Source fields that make a version: everything except ``location`` (its text
#: shape differs by format; its content is latitude/longitude).
HASHED_FIELDS: Final[tuple[str, ...]] = tuple(f for f in SODA_FIELDS if f != "location")
_TABLES: Final = ("requests", "request_versions")
_VERSIONS_INDEX: Final = (
    "CREATE UNIQUE INDEX IF NOT EXISTS request_versions_key ON request_versions (unique_key, row_hash)"
)


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

    The caller must not be in a transaction. The unique index of ``request_versions`` is dropped
    first (DuckDB refuses to update an indexed column in place), the rows are re-hashed in one
    transaction, then the index and the probe are written: a crash at any point leaves the old
    probe, so the next open does it again (each step is idempotent).
    """
    probe = current_probe(con)
    if con.execute("SELECT probe FROM row_hash_scheme").fetchall() == [(probe,)]:
        return False
    con.execute("DROP INDEX IF EXISTS request_versions_key")
    con.begin()
    try:
        for table in _TABLES:
            con.execute(f"UPDATE {table} SET row_hash = {row_hash_sql()} WHERE row_hash <> {row_hash_sql()}")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    con.execute(_VERSIONS_INDEX)
    con.begin()
    con.execute("DELETE FROM row_hash_scheme")
    con.execute("INSERT INTO row_hash_scheme VALUES (?)", [probe])
    con.commit()
    return True
