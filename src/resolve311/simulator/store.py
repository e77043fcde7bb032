"""The simulator's data on disk: generated Parquet plus a DuckDB table of what the API shows now.

The portal is loaded once a day at LOAD_HOUR (NYC time). The simulated "now"
for ``today`` is that day's load: rows created up to then are visible, each
in the version its latest event (created, assigned, closed, edited late) at
or before then gives it. ``:created_at``/``:updated_at`` are the UTC instant
of the load that first showed the row/version, plus a per-row spread of up
to half an hour.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from resolve311.schema import SODA_COLUMNS
from resolve311.simulator.batches import write_parquet
from resolve311.simulator.cities import NYC_DATASETS, SimSchema, sim_schema
from resolve311.simulator.incidents import Incident

LOAD_HOUR = 6
NYC = ZoneInfo("America/New_York")
SPREAD_MS = 1_800_000
DATASETS = {dataset: predicate for dataset, (_, predicate) in NYC_DATASETS.items()}
_LOADS_RANGE = (date(2000, 1, 1), date(2046, 1, 1))

_STATIC = [name for name, _ in SODA_COLUMNS if name not in {"location", "closed_date", "status"}]
_STATIC = [c for c in _STATIC if c not in {"resolution_description", "resolution_action_updated_date"}]


def load_instant(day: date) -> datetime:
    """The UTC instant (naive) of the daily load on ``day``."""
    local = datetime.combine(day, time(LOAD_HOUR), tzinfo=NYC)
    return local.astimezone(UTC).replace(tzinfo=None)


def snapshot_local(today: date) -> datetime:
    """The NYC wall-clock cutoff of the data shown on ``today``."""
    return datetime.combine(today, time(LOAD_HOUR))


def _loads_table() -> pa.Table:
    first, last = _LOADS_RANGE
    days = [first + timedelta(days=i) for i in range((last - first).days)]
    return pa.table({"day": days, "load_utc": [load_instant(d) for d in days]})


def _event_cases(cutoff: str) -> dict[str, str]:
    s = cutoff
    return {
        "status": f"CASE WHEN close_at <= {s} THEN final_status WHEN assign_at <= {s} THEN work_status ELSE open_status END",
        "closed_date": f"CASE WHEN close_at <= {s} THEN closed_value END",
        "resolution_description": (
            f"CASE WHEN edit_at <= {s} THEN edit_text WHEN close_at <= {s} THEN close_text "
            f"WHEN assign_at <= {s} THEN work_text ELSE open_text END"
        ),
        "resolution_action_updated_date": (
            "CASE WHEN res_shift_s > 0 THEN created_date - to_seconds(res_shift_s) ELSE last_event END"
        ),
    }


def current_rows_sql(base: str, cutoff: datetime, changed_after: datetime | None = None) -> str:
    """SELECT of the rows as shown at ``cutoff`` (optionally only those that changed after a cutoff)."""
    s = f"TIMESTAMP '{cutoff.isoformat(sep=' ')}'"
    extra = ""
    if changed_after is not None:
        a = f"TIMESTAMP '{changed_after.isoformat(sep=' ')}'"
        events = " OR ".join(
            f"({c} > {a} AND {c} <= {s})" for c in ("created_date", "assign_at", "close_at", "edit_at")
        )
        extra = f" AND ({events})"
    cases = _event_cases(s)
    columns = []
    for name, _ in SODA_COLUMNS:
        if name == "location":
            continue
        columns.append(f"{cases[name]} AS {name}" if name in cases else name)
    spread = f"to_milliseconds(CAST(hash(unique_key) % {SPREAD_MS} AS BIGINT))"
    load_day = "CAST({t} + INTERVAL 18 HOUR - INTERVAL 1 MICROSECOND AS DATE)"
    return f"""
    WITH b AS (
      SELECT *, CASE WHEN edit_at <= {s} THEN edit_at WHEN close_at <= {s} THEN close_at
                     WHEN assign_at <= {s} THEN assign_at ELSE created_date END AS last_event
      FROM {base} WHERE created_date <= {s}{extra}
    )
    SELECT sys_id AS ":id", lc.load_utc + {spread} AS ":created_at", lu.load_utc + {spread} AS ":updated_at",
           {", ".join(columns)}
    FROM b
    JOIN loads lc ON lc.day = {load_day.format(t="b.created_date")}
    JOIN loads lu ON lu.day = {load_day.format(t="b.last_event")}
    """


class Store:
    """Generated data under ``data_dir`` and the ``rows`` table the server queries."""

    def __init__(self, data_dir: Path, memory_limit: str = "1GB", schema: SimSchema | None = None):
        self.schema = schema or sim_schema()
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.base_dir = data_dir / "base"
        # In-memory database (3x faster to build than a file) that spills to
        # temp_directory beyond memory_limit; the source of truth is the Parquet.
        self.con = duckdb.connect(":memory:")
        self.con.execute(f"SET memory_limit='{memory_limit}'")
        self.con.execute("SET threads=2")
        self.con.execute(f"SET temp_directory='{data_dir / 'tmp'}'")
        self.con.execute("SET preserve_insertion_order=false")
        self.con.register("loads_arrow", _loads_table())
        self.con.execute("CREATE TABLE loads AS SELECT * FROM loads_arrow")
        self.con.unregister("loads_arrow")
        self.schema.prepare(self.con)
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"read_parquet('{self.base_dir}/*.parquet')"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for one thread (DuckDB cursors are per-thread)."""
        return self.con.cursor()

    def generate(
        self, seed: int, scale: float, first: date, last: date, incidents: tuple[Incident, ...] = ()
    ) -> None:
        """Generate requests created first..last into the base Parquet files (incidents applied)."""
        write_parquet(seed, scale, first, last, self.base_dir, incidents=incidents)

    def build(self, today: date) -> None:
        """(Re)create ``rows`` as shown on ``today``."""
        sql = self.schema.project_sql(current_rows_sql(self.base, snapshot_local(today)))
        with self.lock:
            self.con.execute(f"CREATE OR REPLACE TABLE rows AS {sql}")

    def refresh(self, before: date, today: date) -> None:
        """Move ``rows`` from ``before`` to ``today``: replace only the rows that changed in between."""
        changed = current_rows_sql(self.base, snapshot_local(today), snapshot_local(before))
        changed = self.schema.project_sql(changed)
        key = self.schema.row_key
        with self.lock:
            cur = self.con.cursor()
            cur.execute("BEGIN TRANSACTION")
            cur.execute(f"CREATE TEMP TABLE changed AS {changed}")
            cur.execute(f"DELETE FROM rows WHERE {key} IN (SELECT {key} FROM changed)")
            cur.execute("INSERT INTO rows SELECT * FROM changed")
            cur.execute("DROP TABLE changed")
            cur.execute("COMMIT")

    def bump_all(self, today: date) -> None:
        """A full dataset replace: every row's ``:updated_at`` becomes today's load (plus spread)."""
        stamp = load_instant(today).isoformat(sep=" ")
        spread = f"to_milliseconds(CAST(hash({self.schema.row_key}) % {SPREAD_MS} AS BIGINT))"
        with self.lock:
            self.con.execute(f"""UPDATE rows SET ":updated_at" = TIMESTAMP '{stamp}' + {spread}""")

    def counts(self) -> dict[str, int]:
        """Rows per dataset id."""
        out = {}
        with self.cursor() as cur:
            for dataset, (_, predicate) in self.schema.datasets.items():
                row = cur.execute(f"SELECT count(*) FROM rows WHERE {predicate}").fetchone()
                out[dataset] = int(row[0]) if row else 0
        return out

    def rows_updated_at(self) -> datetime | None:
        """Newest ``:updated_at`` (UTC), for metadata and Last-Modified."""
        with self.cursor() as cur:
            row = cur.execute('SELECT max(":updated_at") FROM rows').fetchone()
        value = row[0] if row else None
        return value if isinstance(value, datetime) else None

    def close(self) -> None:
        self.con.close()
