"""The DuckDB query that normalises a text batch (see docs/warehouse.md for every rule).

The query reads a text relation (``incoming`` by default: SODA field names, one
``__row`` position column) and produces a ``staged`` relation: every
``requests`` column (except batch_seq/loaded_at) plus ``__row``, ``__reason``
(NULL when the row is loadable, else the quarantine reason) and, for a
quarantined row only, ``__detail`` and ``__raw_row`` (the row as delivered, as
JSON text under its *original* column names; a batch asks for the latter
separately, for its quarantined rows only: :func:`raw_rows_query`). The same query serves a small
batch (an Arrow table) and a bulk file (DuckDB's own ``read_csv``).
Parameters: ``$tz``, ``$source``, ``$dataset``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from resolve311.schema import NUMBER_FIELDS, SODA_FIELDS, TIMESTAMP_FIELDS
from resolve311.sources.catalog import default_rules
from resolve311.sources.city import CityRules
from resolve311.warehouse.columns import BATCH_COLUMNS, NONSTRING_PREFIX, SYSTEM_FIELD_COLUMNS, quote_ident
from resolve311.warehouse.location import finite_number_sql, location_coordinate_sql, outside_city_sql
from resolve311.warehouse.row_hash import row_hash_sql
from resolve311.warehouse.timestamps import (
    is_sentinel_sql,
    utc_from_instant_sql,
    utc_from_wall_clock_sql,
    wall_clock_sql,
)

_UNSPECIFIED_BOROUGH = "borough IS NULL OR upper(trim(borough)) = 'UNSPECIFIED'"
_ZERO_COORDINATES = "(latitude = 0 AND longitude = 0)"
_NO_STATUS = "(status IS NULL OR upper(trim(status)) IN ('UNSPECIFIED', ''))"


#: Created later than this after the load time: flagged ``created_in_future``, never "newest".
FUTURE_SLACK: Final = "INTERVAL 1 DAY"


@dataclass(frozen=True)
class StagedInput:
    """What the staged query needs to know about its input relation."""

    #: (name as delivered, column of the relation) for every input column, in input order.
    columns: Sequence[tuple[str, str]]
    extra_columns: Sequence[str] = ()  # unknown columns folded into ``extra``
    has_extra_column: bool = False  # the input has an ``extra`` column (an export of ours)
    key_typed: bool = False  # the relation has a NONSTRING_PREFIX + unique_key column
    relation: str = "incoming"
    #: ``__raw_row`` in the result; without it, :func:`raw_rows_query` gives it for the rows that need it
    #: (carrying every row's original text through the query cost ~10 % of a clean page's normalisation).
    raw_rows: bool = True


def _parsed_select(spec: StagedInput) -> str:
    """Stage 1: text -> typed values; raw text of the created date kept for the reason."""
    key_ok = "trim(unique_key) <> ''"
    if spec.key_typed:
        key_ok += f" AND {quote_ident(NONSTRING_PREFIX + 'unique_key')} IS NOT TRUE"
    parts = [
        "__row",
        f"CASE WHEN {key_ok} THEN unique_key END AS unique_key",
        "unique_key AS __raw_unique_key",
    ]
    for field in SODA_FIELDS[1:]:
        if field in TIMESTAMP_FIELDS:
            parts.append(f"{wall_clock_sql(field)} AS {field}")
            parts.append(f"{field} AS __raw_{field}")
        elif field in NUMBER_FIELDS:
            parts.append(f"{finite_number_sql(field)} AS __num_{field}")
            parts.append(f"{field} AS __raw_{field}")
        else:
            parts.append(field)
    for system_field, column in SYSTEM_FIELD_COLUMNS.items():
        value = quote_ident(system_field)
        parsed = value if column == "source_id" else utc_from_instant_sql(value)
        parts.append(f"{parsed} AS {column}")
    parts.append(f"{_extra_sql(spec.extra_columns, spec.has_extra_column)} AS extra")
    if spec.raw_rows:
        parts.append(f"{_original_sql(spec.columns)} AS __orig")
    return "SELECT " + ",\n  ".join(parts) + f"\nFROM {spec.relation}"


def _original_sql(columns: Sequence[tuple[str, str]]) -> str:
    """The input columns of a row as one struct (what :func:`raw_row_sql` reads)."""
    original = ", ".join(f"{quote_ident(c)} := {quote_ident(c)}" for _, c in columns)
    return f"struct_pack({original})" if original else "NULL"


def raw_rows_query(spec: StagedInput) -> str:
    """``__row`` and ``__raw_row`` (as the staged query gives it) of the input rows whose ``__row`` is in ``$rows``."""
    return (
        f"SELECT __row, {raw_row_sql(spec.columns)} AS __raw_row "
        f"FROM (SELECT __row, {_original_sql(spec.columns)} AS __orig FROM {spec.relation} "
        "WHERE list_contains($rows, __row)) ORDER BY __row"
    )


def raw_row_sql(columns: Sequence[tuple[str, str]], struct: str = "__orig") -> str:
    """The row as delivered: a JSON object of its non-null values under their original names."""
    if not columns:
        return "'{}'"
    pieces = [
        f"CASE WHEN {struct}.{quote_ident(c)} IS NOT NULL "
        f"THEN {sql_text(json.dumps(name, ensure_ascii=False) + ':')} || to_json({struct}.{quote_ident(c)}) END"
        for name, c in columns
    ]
    return "'{' || concat_ws(',', " + ", ".join(pieces) + ") || '}'"


def _extra_sql(extra_columns: Sequence[str], has_extra_column: bool) -> str:
    """Unknown columns as a JSON object of their non-null text (NULL when none)."""
    pieces = [f"struct_pack(k := {sql_text(c)}, v := {quote_ident(c)})" for c in extra_columns]
    unknown = (
        "to_json(map_from_entries(list_filter([" + ", ".join(pieces) + "], lambda e: e.v IS NOT NULL)))"
        if pieces
        else "'{}'::JSON"
    )
    merged = (
        f"json_merge_patch(CASE WHEN json_valid(extra) THEN extra::JSON ELSE '{{}}'::JSON END, {unknown})"
        if has_extra_column
        else unknown
    )
    return f"nullif(({merged})::VARCHAR, '{{}}')"


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def status_starts_sql(words: Sequence[str]) -> str:
    """True when ``status`` starts with one of ``words`` (any case); FALSE when there are none."""
    if not words:
        return "false"
    tests = [f"upper(trim(status)) LIKE {sql_text(w.strip().upper().replace('%', '') + '%')}" for w in words]
    return "(" + " OR ".join(tests) + ")"


def _located_select(rules: CityRules) -> str:
    """Stage 2: coordinates from the columns, else from ``location``; UTC instants."""
    lat_loc = location_coordinate_sql("location", "lat")
    lon_loc = location_coordinate_sql("location", "lon")
    both = "__num_latitude IS NOT NULL AND __num_longitude IS NOT NULL"
    return (
        "SELECT *,\n"
        f"  CASE WHEN {both} THEN __num_latitude ELSE {lat_loc} END AS latitude,\n"
        f"  CASE WHEN {both} THEN __num_longitude ELSE {lon_loc} END AS longitude,\n"
        f"  {utc_from_wall_clock_sql('created_date')} AS created_utc,\n"
        f"  {utc_from_wall_clock_sql('closed_date')} AS closed_utc,\n"
        f"  coalesce({status_starts_sql(rules.ending_statuses)} OR ({_NO_STATUS} AND closed_date IS NOT NULL "
        f"AND NOT {is_sentinel_sql('closed_date')}), false) AS is_closed\n"
        "FROM parsed"
    )


def _flag_conditions(rules: CityRules) -> list[tuple[str, str]]:
    """(flag, condition) pairs; a row carries every flag whose condition is true."""
    ending = status_starts_sql(rules.ending_statuses)
    any_sentinel = " OR ".join(is_sentinel_sql(f) for f in sorted(TIMESTAMP_FIELDS))
    flags = [
        ("closed_before_created", "closed_utc < created_utc"),
        ("sentinel_date", any_sentinel),
        ("closed_same_second", "closed_date = created_date"),
        ("closed_at_midnight", "closed_date = date_trunc('day', closed_date)"),
        ("created_at_midnight", "created_date = date_trunc('day', created_date)"),
        ("resolution_before_created", "resolution_action_updated_date < created_date"),
        ("status_closed_no_date", f"{status_starts_sql(rules.closed_statuses)} AND closed_date IS NULL"),
        ("open_with_closed_date", f"NOT {_NO_STATUS} AND NOT {ending} AND closed_date IS NOT NULL"),
        ("unspecified_borough", _UNSPECIFIED_BOROUGH if rules.has_borough else "false"),
        ("zero_coordinates", _ZERO_COORDINATES),
        (
            "outside_city",
            f"NOT ({_ZERO_COORDINATES}) AND {outside_city_sql('latitude', 'longitude', rules.bbox)}",
        ),
        ("no_coordinates", "latitude IS NULL OR longitude IS NULL"),
        ("created_in_future", f"created_utc > (now() AT TIME ZONE 'UTC') + {FUTURE_SLACK}"),
    ]
    for field in sorted(TIMESTAMP_FIELDS - {"created_date"}):
        flags.append((f"unparseable_{field}", f"__raw_{field} IS NOT NULL AND {field} IS NULL"))
    unreadable = [
        f"(__raw_{axis} IS NOT NULL AND __num_{axis} IS NULL)" for axis in ("latitude", "longitude")
    ]
    flags.append(("unparseable_coordinates", " OR ".join(unreadable)))
    return flags


def _dirty_flags_sql(rules: CityRules) -> str:
    cases = ", ".join(
        f"CASE WHEN coalesce({cond}, false) THEN '{flag}' END"
        for flag, cond in _flag_conditions(rules)
        if cond != "false"
    )
    return f"list_filter([{cases}]::VARCHAR[], lambda f: f IS NOT NULL)"


def _reason_sql() -> str:
    return (
        "CASE WHEN unique_key IS NULL AND trim(__raw_unique_key) <> '' THEN 'invalid_unique_key' "
        "WHEN unique_key IS NULL THEN 'missing_unique_key' "
        "WHEN __raw_created_date IS NULL OR trim(__raw_created_date) = '' THEN 'missing_created_date' "
        "WHEN created_date IS NULL THEN 'unparseable_created_date' END"
    )


def _hours_to_close_sql() -> str:
    return (
        "CASE WHEN is_closed AND closed_utc >= created_utc "
        f"AND NOT {is_sentinel_sql('closed_date')} "
        "THEN date_diff('millisecond', created_utc, closed_utc) / 3600000.0 END"
    )


def _detail_sql() -> str:
    return (
        "CASE __reason WHEN 'missing_unique_key' THEN 'the row has no unique_key' "
        "WHEN 'invalid_unique_key' THEN 'unique_key is not a text key: ' || to_json(__raw_unique_key) "
        "WHEN 'missing_created_date' THEN 'the row has no created_date' "
        "WHEN 'unparseable_created_date' THEN "
        "'created_date is not a readable timestamp: ' || to_json(__raw_created_date) END"
    )


def staged_query(spec: StagedInput, rules: CityRules | None = None) -> str:
    """The whole normalisation as one query; unknown ``extra_columns`` are folded into ``extra``.

    ``rules`` are the city's facts (status vocabulary, bounding box, areas); default: the default source's.
    """
    rules = rules or default_rules()
    own = {
        "source": "$source::VARCHAR",
        "dataset": "$dataset::VARCHAR",
        "hours_to_close": _hours_to_close_sql(),
        "dirty_flags": _dirty_flags_sql(rules),
        "row_hash": row_hash_sql(),
    }
    select = [own.get(c, c) + (f" AS {c}" if c in own else "") for c in BATCH_COLUMNS]
    orig, raw = (
        (", __orig", f",\n  CASE WHEN __reason IS NOT NULL THEN {raw_row_sql(spec.columns)} END AS __raw_row")
        if spec.raw_rows
        else ("", "")
    )
    return "\n".join(
        [
            "WITH parsed AS (",
            _parsed_select(spec),
            "), located AS (",
            _located_select(rules),
            "), reasoned AS (",
            "SELECT " + ",\n  ".join(select) + f",\n  __row, {_reason_sql()} AS __reason,",
            f"  __raw_unique_key, __raw_created_date{orig}",
            "FROM located)",
            f"SELECT * EXCLUDE (__raw_unique_key, __raw_created_date{orig}),",
            f"  CASE WHEN __reason IS NOT NULL THEN {_detail_sql()} END AS __detail{raw}",
            "FROM reasoned",
        ]
    )
