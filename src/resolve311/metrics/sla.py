"""Import service-level targets (NYC dataset cs9t-e3x8 shape) into ``sla_targets``.

Accepted: a SODA JSON export (list of objects) or a CSV with API or display-name
headers. Columns used: ``agency``, ``problem`` (or ``complaint_type``) and
``sla_days`` (or ``sla``/``target``), a text like ``"4 days"``, ``"8 hours"`` or
``"2 weeks"``. Rows saying "SLA Not Managed by 311" or without a number are
skipped. A complaint type with several targets (one per problem detail) keeps
the median. ``agency`` is matched to the warehouse's agency codes, also by
agency name; an empty agency applies the target to every agency.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb

from resolve311.errors import ParseError
from resolve311.schema import field_from_display_name
from resolve311.warehouse.transaction import transaction

_DURATION: Final = re.compile(r"(\d+(?:\.\d+)?)\s*(hour|hr|day|week|month)s?\b", re.IGNORECASE)
_HOURS_PER: Final[dict[str, float]] = {"hour": 1.0, "hr": 1.0, "day": 24.0, "week": 168.0, "month": 720.0}
_TYPE_FIELDS: Final = ("problem", "complaint_type", "problem_formerly_complaint_type")
_TARGET_FIELDS: Final = ("sla_days", "sla", "target", "target_hours")


@dataclass(frozen=True)
class SlaImport:
    rows_read: int
    targets: int
    skipped: int


def parse_target_hours(text: str | None) -> float | None:
    """``'4 days'`` -> 96.0, ``'8 hours'`` -> 8.0; None when no duration is given."""
    if not text:
        return None
    match = _DURATION.search(text)
    if match is None:
        return None
    return float(match.group(1)) * _HOURS_PER[match.group(2).lower()]


def read_rows(data: bytes) -> list[dict[str, str]]:
    """Rows of a JSON list or a CSV, keys normalised to API field names."""
    try:
        text = data.decode("utf-8-sig")
        if text.lstrip().startswith("["):
            raw = json.loads(text)
            if not all(isinstance(r, dict) for r in raw):
                raise ValueError("a JSON list of objects was expected")
            rows = [{str(k): "" if v is None else str(v) for k, v in r.items()} for r in raw]
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
    except (ValueError, csv.Error, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ParseError(f"cannot read SLA file: {' '.join(str(exc).split())[:300]}") from None
    return [{field_from_display_name(k): (v or "").strip() for k, v in r.items() if k} for r in rows]


def _first(row: dict[str, str], names: tuple[str, ...]) -> str:
    return next((row[n] for n in names if row.get(n)), "")


def import_sla(con: duckdb.DuckDBPyConnection, path: Path) -> SlaImport:
    """Replace ``sla_targets`` with the targets in ``path``.

    A file that is not an SLA file (no rows, no complaint-type or target column, or not one
    row with both) raises ParseError and leaves the loaded targets as they were.
    """
    rows = read_rows(path.read_bytes())
    kept = "the loaded targets are kept"
    if not rows:
        raise ParseError(f"{path.name}: no rows; {kept}")
    if not any(n in rows[0] for n in _TYPE_FIELDS):
        raise ParseError(f"{path.name}: not an SLA file (no 'problem' or 'complaint_type' column); {kept}")
    if not any(n in rows[0] for n in _TARGET_FIELDS):
        raise ParseError(f"{path.name}: not an SLA file (no 'sla_days', 'sla' or 'target' column); {kept}")
    codes = _agency_codes(con)
    targets: dict[tuple[str | None, str], list[float]] = {}
    skipped = 0
    for row in rows:
        hours = parse_target_hours(_first(row, _TARGET_FIELDS))
        ctype = _first(row, _TYPE_FIELDS)
        if hours is None or not ctype:
            skipped += 1
            continue
        agency = row.get("agency") or None
        key = (codes.get(agency.lower(), agency) if agency else None, ctype)
        targets.setdefault(key, []).append(hours)
    values = [[a, t, statistics.median(h)] for (a, t), h in sorted(targets.items(), key=str)]
    if not values:
        raise ParseError(f"{path.name}: none of {len(rows)} row(s) has a complaint type and a target; {kept}")
    with transaction(con):
        con.execute("DELETE FROM sla_targets")
        con.executemany("INSERT INTO sla_targets VALUES (?, ?, ?)", values)
    return SlaImport(rows_read=len(rows), targets=len(values), skipped=skipped)


def _agency_codes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Lower-cased agency code or name -> agency code, from the warehouse."""
    out: dict[str, str] = {}
    for code, name in con.execute(
        "SELECT DISTINCT agency, agency_name FROM requests WHERE agency IS NOT NULL"
    ).fetchall():
        out[str(code).lower()] = str(code)
        if name:
            out[str(name).lower()] = str(code)
    return out
