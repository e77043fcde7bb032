"""Render query answers as the real API does, inside DuckDB (one text line per row).

JSON: an array of objects, null fields omitted, every value a string,
``location`` an object with ``latitude``, ``longitude`` and a JSON-encoded
``human_address``; rows separated by ``\\n,`` as on the real portal.
CSV: a quoted header of field names, every value quoted, ``location`` the
3-line cell ``"\\n,  \\n(lat, lon)"``.
"""

from __future__ import annotations

import json

from resolve311.simulator.soql import OutputColumn, Query
from resolve311.simulator.soql_parse import BOOLEAN, FIXED, FLOATING, GEOPOINT, NUMBER, POINT

HUMAN_ADDRESS = json.dumps(json.dumps({"address": "", "city": "", "state": "", "zip": ""}))
#: X-SODA2-Types names by SoQL type.
SODA2_TYPES = {
    "text": "text",
    FLOATING: "floating_timestamp",
    FIXED: "fixed_timestamp",
    NUMBER: "number",
    BOOLEAN: "boolean",
    POINT: "location",
    GEOPOINT: "point",
    "null": "text",
}


def _as_text(ref: str, kind: str) -> str:
    """SQL turning column ``ref`` of SoQL ``kind`` into the API's text form."""
    if kind == FLOATING:
        return f"strftime({ref}, '%Y-%m-%dT%H:%M:%S.%g')"
    if kind == FIXED:
        return f"strftime({ref}, '%Y-%m-%dT%H:%M:%S.%gZ')"
    if kind == BOOLEAN:
        return f"CASE WHEN {ref} THEN 'true' ELSE 'false' END"
    return f"CAST({ref} AS VARCHAR)"


def _json_member(index: int, column: OutputColumn) -> str:
    ref = f"c{index}"
    key = json.dumps(column.name).replace("'", "''")
    if column.kind == POINT:
        value = (
            '\'{"latitude":"\' || CAST('
            + ref
            + '.lat AS VARCHAR) || \'","longitude":"\' || CAST('
            + ref
            + '.lon AS VARCHAR) || \'","human_address":'
            + HUMAN_ADDRESS.replace("'", "''")
            + "}'"
        )
    elif column.kind == GEOPOINT:
        value = (
            '\'{"type":"Point","coordinates":[\' || CAST('
            + ref
            + ".lon AS VARCHAR) || ',' || CAST("
            + ref
            + ".lat AS VARCHAR) || ']}'"
        )
    else:
        value = f"CAST(to_json({_as_text(ref, column.kind)}) AS VARCHAR)"
    return f"CASE WHEN {ref} IS NOT NULL THEN '{key}:' || {value} END"


def _csv_cell(index: int, column: OutputColumn) -> str:
    ref = f"c{index}"
    if column.kind == POINT:
        text = f"'\n,  \n(' || CAST({ref}.lat AS VARCHAR) || ', ' || CAST({ref}.lon AS VARCHAR) || ')'"
    elif column.kind == GEOPOINT:
        text = f"'POINT (' || CAST({ref}.lon AS VARCHAR) || ' ' || CAST({ref}.lat AS VARCHAR) || ')'"
    else:
        text = _as_text(ref, column.kind)
    return f"coalesce('\"' || replace({text}, '\"', '\"\"') || '\"', '')"


def json_lines_sql(query: Query, inner_sql: str) -> str:
    """SQL yielding one JSON object text per answer row, in order, as column ``line``."""
    members = ", ".join(_json_member(i, c) for i, c in enumerate(query.columns))
    return f"SELECT '{{' || concat_ws(',', {members}) || '}}' AS line FROM ({inner_sql})"


def csv_lines_sql(query: Query, inner_sql: str) -> str:
    """SQL yielding one CSV record (no newline) per answer row, as column ``line``."""
    cells = " || ',' || ".join(_csv_cell(i, c) for i, c in enumerate(query.columns))
    return f"SELECT {cells} AS line FROM ({inner_sql})"


def csv_header(query: Query) -> str:
    return ",".join('"' + c.name.replace('"', '""') + '"' for c in query.columns)


def soda2_headers(query: Query) -> dict[str, str]:
    """X-SODA2-Fields / X-SODA2-Types describing the answer's columns."""
    return {
        "X-SODA2-Fields": json.dumps([c.name for c in query.columns]),
        "X-SODA2-Types": json.dumps([SODA2_TYPES.get(c.kind, "text") for c in query.columns]),
    }
