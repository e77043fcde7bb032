"""Column lists of the warehouse tables, shared by the normaliser, loader and exporter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from resolve311.schema import SODA_FIELDS, SYSTEM_FIELDS

#: Our own columns of ``requests`` / ``request_versions``, in DDL order, with DuckDB types.
OWN_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("source", "VARCHAR"),
    ("dataset", "VARCHAR"),
    ("created_utc", "TIMESTAMP"),
    ("closed_utc", "TIMESTAMP"),
    ("hours_to_close", "DOUBLE"),
    ("is_closed", "BOOLEAN"),
    ("dirty_flags", "VARCHAR[]"),
    ("source_id", "VARCHAR"),
    ("source_created_at", "TIMESTAMP"),
    ("source_updated_at", "TIMESTAMP"),
    ("extra", "JSON"),
    ("row_hash", "VARCHAR"),
)

#: Columns the loader adds when it writes a batch.
LOAD_COLUMNS: Final[tuple[str, ...]] = ("batch_seq", "loaded_at")

#: The columns of a normalised batch: every ``requests`` column except LOAD_COLUMNS.
BATCH_COLUMNS: Final[tuple[str, ...]] = SODA_FIELDS + tuple(name for name, _ in OWN_COLUMNS)

#: All ``requests`` columns in table order.
REQUEST_COLUMNS: Final[tuple[str, ...]] = BATCH_COLUMNS + LOAD_COLUMNS

#: System field -> our column.
SYSTEM_FIELD_COLUMNS: Final[dict[str, str]] = dict(
    zip(SYSTEM_FIELDS, ("source_id", "source_created_at", "source_updated_at"), strict=True)
)

#: Columns of ours that an export carries and that a re-import recomputes (never kept in ``extra``).
DERIVED_ON_IMPORT: Final[frozenset[str]] = frozenset(
    {"source", "dataset", "created_utc", "closed_utc", "hours_to_close", "is_closed", "dirty_flags"}
    | {"source_id", "source_created_at", "source_updated_at", "row_hash", *LOAD_COLUMNS}
)

#: Names that are ours in ``extra`` handling: everything the batch knows by name.
KNOWN_INPUT_COLUMNS: Final[frozenset[str]] = frozenset(SODA_FIELDS) | frozenset(SYSTEM_FIELDS)


#: Companion column marking rows whose value was a JSON number/boolean, not text (such a key is quarantined).
NONSTRING_PREFIX: Final = "__nonstring__"


def quote_ident(name: str) -> str:
    """Quote a column name for DuckDB SQL (names such as ``:@computed_region_x``)."""
    return '"' + name.replace('"', '""') + '"'


def quote_idents(names: Iterable[str]) -> str:
    """:func:`quote_ident` of each name, comma-separated (a column list)."""
    return ", ".join(map(quote_ident, names))
