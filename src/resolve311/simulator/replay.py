"""Serve real files instead of generated data (``--replay FILE...``).

Reads SODA CSV/JSON pages and portal exports (display-name headers,
``MM/DD/YYYY hh:mm:ss AM`` dates, 41 or 53 columns). Columns are mapped by
name; unknown ones (school, garage, ferry fields, ``:@computed_region_*``) are
dropped; ``location`` is served from ``latitude``/``longitude``. Text is kept
as delivered. A key seen in several files keeps its row from the last file.
System fields are assigned: ``:id`` from the key, ``:created_at`` the first
daily load after ``created_date``, ``:updated_at`` the load after its newest
plausible change.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from resolve311.errors import ParseError
from resolve311.schema import SODA_COLUMNS, TIMESTAMP_FIELDS, field_from_display_name
from resolve311.simulator.store import SPREAD_MS

_FIELDS = [name for name, _ in SODA_COLUMNS if name != "location"]
_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")


def read_file(path: Path) -> pd.DataFrame:
    """One real file as text columns named by API field (missing columns absent)."""
    try:
        if path.suffix.lower() == ".json":
            records = json.loads(path.read_text(encoding="utf-8"))
            frame = pd.DataFrame.from_records(records if isinstance(records, list) else [])
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise ParseError(f"cannot read replay file {path}: {exc}") from None
    frame.columns = [field_from_display_name(str(c)) for c in frame.columns]
    keep = [c for c in frame.columns if c in _FIELDS]
    if "unique_key" not in keep or "created_date" not in keep:
        raise ParseError(f"replay file {path} has no unique_key/created_date column")
    frame = frame[keep].astype("string")
    return frame.reindex(columns=_FIELDS)


def combined_frame(paths: list[Path]) -> pd.DataFrame:
    """All files stacked with their file and row order (for last-file-wins dedup)."""
    frames = []
    for number, path in enumerate(paths):
        frame = read_file(path)
        frame["_file"] = number
        frame["_row"] = range(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _timestamp(name: str) -> str:
    tries = ", ".join(f"try_strptime({name}, '{fmt}')" for fmt in _FORMATS)
    return f"coalesce({tries}) AS {name}"


def replay_table(paths: list[Path], con: duckdb.DuckDBPyConnection, cutoff: datetime) -> None:
    """Create table ``rows`` in ``con`` from the files, as shown at ``cutoff`` (NYC wall clock)."""
    raw = combined_frame(paths)
    con.register("replay_raw", raw)
    typed = []
    for name in _FIELDS:
        if name in TIMESTAMP_FIELDS:
            typed.append(_timestamp(name))
        elif name in {"latitude", "longitude"}:
            typed.append(f"TRY_CAST({name} AS DOUBLE) AS {name}")
        else:
            typed.append(f"CAST({name} AS VARCHAR) AS {name}")
    s = f"TIMESTAMP '{cutoff.isoformat(sep=' ')}'"
    sane = "CASE WHEN {c} >= created_date AND {c} <= " + s + " THEN {c} END"
    last_change = f"greatest(created_date, {sane.format(c='closed_date')}, {sane.format(c='resolution_action_updated_date')})"
    load_day = "CAST({t} + INTERVAL 18 HOUR - INTERVAL 1 MICROSECOND AS DATE)"
    spread = f"to_milliseconds(CAST(hash(unique_key) % {SPREAD_MS} AS BIGINT))"
    ident = "md5(unique_key)"
    con.execute(f"""
        CREATE OR REPLACE TABLE rows AS
        WITH typed AS (
          SELECT {", ".join(typed)}, _file, _row FROM replay_raw WHERE unique_key IS NOT NULL
        ), latest AS (
          SELECT * FROM typed WHERE created_date IS NOT NULL AND created_date <= {s}
          QUALIFY row_number() OVER (PARTITION BY unique_key ORDER BY _file DESC, _row DESC) = 1
        )
        SELECT 'row-' || substr({ident}, 1, 4) || '~' || substr({ident}, 5, 4) || '_' || substr({ident}, 9, 4) AS ":id",
               lc.load_utc + {spread} AS ":created_at",
               lu.load_utc + {spread} AS ":updated_at",
               {", ".join(_FIELDS)}
        FROM latest
        JOIN loads lc ON lc.day = {load_day.format(t="created_date")}
        JOIN loads lu ON lu.day = {load_day.format(t=last_change)}
        ORDER BY ":updated_at", ":id"
    """)
    con.unregister("replay_raw")


def default_replay_today(paths: list[Path]) -> date:
    """The day after the newest created_date in the files."""
    newest: datetime | None = None
    for path in paths:
        created = read_file(path)["created_date"].dropna()
        for fmt in ("ISO8601", "%m/%d/%Y %I:%M:%S %p"):
            parsed = pd.to_datetime(created, format=fmt, errors="coerce").dropna()
            if len(parsed):
                value = parsed.max().to_pydatetime()
                newest = value if newest is None or value > newest else newest
    if newest is None:
        raise ParseError("no created_date could be read from the replay files")
    return newest.date() + timedelta(days=1)
