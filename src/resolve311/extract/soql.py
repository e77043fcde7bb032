"""Pure SoQL query builders: the predicates and parameters of every request the puller makes.

Paging uses a *keyset* over the total order ``(:updated_at, :id)``: each page asks
for the rows strictly after the last row received. Unlike ``$offset`` paging this
neither skips nor repeats rows when rows change while the pull is running.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

ORDER = ":updated_at,:id"
SELECT_ALL = ":*,*"


@dataclass(frozen=True)
class Cursor:
    """The position after a received row: its ``:updated_at`` (as sent) and ``:id``."""

    updated_at: str
    row_id: str


def quote(value: str) -> str:
    """A SoQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def soql_timestamp(value: datetime | date) -> str:
    """ISO text with milliseconds and no zone, as SoQL compares timestamps."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds")


def strip_zone(stamp: str) -> str:
    """A system timestamp as received (``...Z``) in the form SoQL compares."""
    return stamp[:-1] if stamp.endswith("Z") else stamp


def and_all(predicates: Iterable[str | None]) -> str | None:
    """The conjunction of the given predicates (None when there are none)."""
    parts = [p for p in predicates if p]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " AND ".join(f"({p})" for p in parts)


def updated_since(since: datetime | None) -> str | None:
    """``:updated_at >= since`` (inclusive: rows tied at the boundary are never lost)."""
    return None if since is None else f":updated_at >= {quote(soql_timestamp(since))}"


def created_between(field: str, since: date | datetime | None, until: date | datetime | None) -> str | None:
    """``field`` in [since, until) (either end may be open)."""
    parts = []
    if since is not None:
        parts.append(f"{field} >= {quote(soql_timestamp(since))}")
    if until is not None:
        parts.append(f"{field} < {quote(soql_timestamp(until))}")
    return " AND ".join(parts) or None


def after(cursor: Cursor | None) -> str | None:
    """Rows strictly after ``cursor`` in the order ``(:updated_at, :id)``."""
    if cursor is None:
        return None
    stamp, row_id = quote(strip_zone(cursor.updated_at)), quote(cursor.row_id)
    return f":updated_at > {stamp} OR (:updated_at = {stamp} AND :id > {row_id})"


def page_params(where: str | None, limit: int) -> dict[str, str]:
    """SODA 2.1 query parameters of one page."""
    params = {"$select": SELECT_ALL, "$order": ORDER, "$limit": str(limit)}
    if where:
        params["$where"] = where
    return params


def count_params(where: str | None) -> dict[str, str]:
    """SODA 2.1 query parameters of ``count(*)`` over ``where``."""
    params = {"$select": "count(*)"}
    if where:
        params["$where"] = where
    return params


def soda3_body(params: dict[str, str]) -> dict[str, Any]:
    """The SODA 3 POST body equivalent to SODA 2.1 ``params`` (one page, page number 1)."""
    query = f"SELECT {params.get('$select', SELECT_ALL)}"
    if "$where" in params:
        query += f" WHERE {params['$where']}"
    if "$order" in params:
        query += f" ORDER BY {params['$order']}"
    body: dict[str, Any] = {"query": query, "includeSynthetic": False}
    if "$limit" in params:
        body["page"] = {"pageNumber": 1, "pageSize": int(params["$limit"])}
    return body
