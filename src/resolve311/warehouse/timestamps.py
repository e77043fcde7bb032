"""SQL expressions that read NYC timestamps (vectorised in DuckDB).

Source timestamps are *floating* wall-clock values in the city's time zone,
either ISO (``2024-04-16T03:03:15.000``, the API) or US style
(``04/16/2024 03:03:15 AM``, portal exports), sometimes date only. Socrata's
system fields (``:created_at``, ``:updated_at``) are real UTC instants (``…Z``).

Conversion to UTC uses DuckDB's ICU time zones: an ambiguous wall-clock time
(the repeated hour when DST ends) is read as its *second* occurrence (standard
time); a nonexistent one (the skipped hour when DST starts) is shifted forward
by the gap (02:30 -> 03:30 EDT). Both rules are applied to every column alike,
so durations across the switch stay within an hour of the truth.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final


def utcnow() -> datetime:
    """Now as a naive UTC datetime (the warehouse's convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


#: US-style formats seen in portal exports, tried after ISO 8601.
US_FORMATS: Final[tuple[str, ...]] = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


#: A timestamp that carries its own offset (``...Z``, ``...-05:00``), as Open311 and some cities send.
_WITH_OFFSET = r"^\s*\d{4}-\d\d-\d\d[T ]\d\d:\d\d.*(Z|[+-]\d\d:?\d\d)\s*$"
#: The API's wall-clock timestamps (``2024-04-16T03:03:15.000``); its instants add ``Z``.
_API_SHAPE = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\d"


def wall_clock_sql(text: str, tz_param: str = "$tz") -> str:
    """A TIMESTAMP (no zone) read from the text expression ``text``; NULL when unreadable.

    A value with an explicit offset is converted to the wall clock of ``tz_param``. A value that does
    not start like an ISO date (``YYYY-``) is tried with the US formats first: a failing cast is
    the most expensive step of a bulk import of a portal export, and no US-style value with a
    year after 31 is also a valid ISO cast (its "day" would be that year). A value in the API's own
    shape is cast at once (the branches after it give it the same result: nothing to trim, no offset,
    no US format matches) for about 2/3 of the cost. Before all that, the portal export's own shape
    (the first US format, untrimmed) is tried alone: a value it reads is read the same way by the
    general expression (not the API shape, not an offset, the first US format of the list), and for
    an export's values it costs a fifth of the general expression (docs/warehouse.md "Where a large
    import's time goes"). Only a value with a ``/`` is tried that way: a failed ``try_strptime`` costs
    three times the general reading of an API value.
    """
    formats = ", ".join(f"'{fmt}'" for fmt in US_FORMATS)
    trimmed = f"trim({text})"
    return (
        f"coalesce(CASE WHEN contains({text}, '/') THEN try_strptime({text}, '{US_FORMATS[0]}') END, "
        f"CASE WHEN regexp_full_match({text}, '{_API_SHAPE}') THEN try_cast({text} AS TIMESTAMP) "
        f"WHEN substr({trimmed}, 5, 1) <> '-' "
        f"THEN coalesce(try_strptime({trimmed}, [{formats}]), try_cast({trimmed} AS TIMESTAMP)) "
        f"WHEN regexp_matches({trimmed}, '{_WITH_OFFSET}') "
        f"THEN timezone({tz_param}, try_cast({trimmed} AS TIMESTAMPTZ)) "
        f"ELSE coalesce(try_cast({trimmed} AS TIMESTAMP), try_strptime({trimmed}, [{formats}])) END)"
    )


def utc_from_wall_clock_sql(wall_clock: str, tz_param: str = "$tz") -> str:
    """The UTC instant (TIMESTAMP holding UTC) of a local wall-clock TIMESTAMP in zone ``tz_param``."""
    return f"timezone('UTC', timezone({tz_param}, {wall_clock}))"


def utc_from_instant_sql(text: str) -> str:
    """A UTC TIMESTAMP read from an instant: ``2024-04-16T07:03:15.000Z`` (no zone = UTC) or epoch seconds."""
    trimmed = f"trim({text})"
    return (
        f"CASE WHEN regexp_full_match({text}, '{_API_SHAPE}Z') THEN timezone('UTC', try_cast({text} AS TIMESTAMPTZ)) "
        f"WHEN regexp_full_match({trimmed}, '[0-9]{{9,11}}') "
        f"THEN timezone('UTC', to_timestamp(try_cast({trimmed} AS BIGINT))) "
        f"ELSE timezone('UTC', try_cast({trimmed} AS TIMESTAMPTZ)) END"
    )


def is_sentinel_sql(ts: str) -> str:
    """True for placeholder dates: 1900-01-01 (and its 5 h-shifted twin 1899-12-31T19:00), years > 2100."""
    return f"({ts} IS NOT NULL AND (year({ts}) <= 1900 OR year({ts}) > 2100))"


def iso_text_sql(ts: str) -> str:
    """The wall-clock ISO text the API uses: ``2024-04-16T03:03:15.000``."""
    return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S.%g')"


def iso_utc_text_sql(ts: str) -> str:
    """UTC ISO text as Socrata writes system fields: ``2024-04-16T07:03:15.000Z``."""
    return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S.%gZ')"
