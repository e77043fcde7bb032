"""The windowed counts kept across days: created, cohort and heat-map counts per unit (DuckDB).

``cu`` (created and dirty per group × window × unit), ``co`` (the cohort and those closed within
X days, per unit × horizon), ``when`` and ``where`` (created per bucket × weekday × hour, and
× grid cell) count rows: the window rows (``metric_window_rows``, R) created on the days of the
units of the as-of day (A). So from the last refresh's counts (R0, A0) to today's (R1, A1)::

    counts(R1, A1) = counts(R0, A0)
                   + counts(R1 − R0, A0)                  the rows the window rows' update took
                                                          out (−1) and put in (+1), on A0's days
                   + counts(R1, A1) − counts(R1, A0)      today's rows on the days that entered a
                                                          unit (+1) or left it (−1)

The second term reads the changed rows (~40k after a day); the third only the days in which the
two as-of days' units differ (:func:`shift_days`: after one day 60 (day, window, unit) of the
360 — the 1-day window's ten units each a new day, every other unit one day in and one out),
~1/6 of the rows the four queries read in full. Each term goes through the same definitions
(:mod:`definitions`, each count a sum of signs ``w``); the sums are added to the stored counts
(``metric_unit_*``, migration 012) and a key whose counts all become 0 is dropped, so the tables
hold what a full count gives. The cross-city view's ``type_days`` (per complaint type × created
day, every window row) is kept the same way, by the changed rows alone: its key is the day.

The cohort's eligibility depends on the as-of instant, not its day: a request is eligible when
created 24·X hours before its unit's cut-off, which leaves out nobody unless a DST change puts
the cut-off before the end of the unit's last day (:func:`all_eligible`). The kept cohorts count
every row as eligible; on such a day the refresh queries the real ones for its output.

Every term counts the rows the window rows' table holds (R0 then, R1 now, whatever the reach), so
the sum is exact for any two as-of days; it is used when the stored counts stand where the window
rows stood before this refresh's update (the same batch), for the same definition, and the as-of
moved forward by at most :data:`MAX_SHIFT_DAYS` (the days to read grow with the gap); else (a
full or first refresh, rebuilt window rows, a failed refresh in between, a longer gap) the four are
queried in full and stored for the next refresh.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time
from typing import Final

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from resolve311.metrics import crosscity, definitions
from resolve311.metrics.day_delta import Changes, add_signed
from resolve311.metrics.definitions import COHORT_DAYS, GROUP_COLS, Params, small_table, to_frame
from resolve311.metrics.groups import Groups, groups_of
from resolve311.metrics.staging import drop_temp, fetch_first
from resolve311.metrics.window_rows import COLUMNS, INPUT
from resolve311.metrics.window_tables import Context
from resolve311.metrics.windows import MS_PER_DAY, dnum, from_dnum, local_ms
from resolve311.warehouse.columns import quote_idents
from resolve311.warehouse.normalize_sql import sql_text
from resolve311.warehouse.transaction import registered, transaction

G = list(GROUP_COLS)
#: The as-of may move this many days between two refreshes that keep the counts (the days in which
#: the units differ grow with it; a longer jump counts in full).
MAX_SHIFT_DAYS: Final[int] = 7
_DELTA: Final[str] = "metric_unit_delta_rows"
_CREATED: Final[str] = "metric_unit_created_rows"
#: What the created, "when" and "where" counts read of the signed created rows.
_CREATED_COLUMNS: Final[tuple[str, ...]] = (
    "gid", "window", "unit", "bucket", "w", "is_dirty", "weekday", "created_hour", "lat", "lon",
)  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """One kept result: its table, key columns and counts."""

    table: str
    keys: tuple[str, ...]
    counts: tuple[str, ...]


KINDS: Final[dict[str, Kind]] = {
    "cu": Kind("metric_unit_created", (*G, "window", "unit"), ("n_created", "n_dirty")),
    "co": Kind("metric_unit_cohorts", (*G, "window", "unit", "cohort_days"), ("n_elig", "n_within")),
    "when": Kind("metric_unit_when", (*G, "window", "bucket", "weekday", "created_hour"), ("n",)),
    "where": Kind("metric_unit_where", (*G, "window", "bucket", "cell_i", "cell_j"), ("n",)),
    "type_days": Kind("metric_unit_type_days", ("complaint_type", "created_dnum"), crosscity.COUNTS),
}
#: The results counted by the metric definitions (Ibis); ``type_days`` by :mod:`crosscity`'s SQL.
DEFINED: Final[tuple[str, ...]] = ("cu", "co", "when", "where")


@dataclass(frozen=True)
class KeptState:
    """What the stored counts stand for: the as-of day, the window rows' batch, the definition."""

    as_of_dnum: int
    batch_seq: int | None
    definition: str


@dataclass(frozen=True)
class Kept:
    """Where a refresh keeps the counts (``con``, ``source``) and what it can shift them by.

    ``since`` is this refresh's reach, ``batch_seq`` the window rows' batch after its update,
    ``changes`` that update's rows (None when the rows were rebuilt), ``state`` the stored counts'.
    """

    con: duckdb.DuckDBPyConnection
    source: str
    since: int
    batch_seq: int | None
    changes: Changes | None
    state: KeptState | None
    definition: str

    def shiftable(self, as_of_dnum: int) -> bool:
        """Whether the stored counts can be brought to ``as_of_dnum`` by the changes and the days."""
        state, changes = self.state, self.changes
        if state is None or changes is None:
            return False
        if state.batch_seq != changes.applied or state.definition != self.definition:
            return False
        return 0 <= as_of_dnum - state.as_of_dnum <= MAX_SHIFT_DAYS


def definition(grid_deg: float) -> str:
    """What else the kept counts depend on than the rows and the as-of day."""
    return f"unit counts 1; grid {grid_deg!r}"


def read_state(con: duckdb.DuckDBPyConnection, source: str) -> KeptState | None:
    row = fetch_first(
        con, "SELECT as_of_dnum, batch_seq, definition FROM metric_unit_state WHERE source = ?", [source]
    )
    if row is None:
        return None
    return KeptState(int(row[0]), None if row[1] is None else int(row[1]), str(row[2]))


def shift_days(before: int, after: int, lags: tuple[int, ...]) -> pd.DataFrame:
    """The unit days (:func:`definitions.unit_day_rows`) of as-of day ``after`` with ``w`` = 1 and
    of ``before`` with ``w`` = −1, those of both left out."""
    signed = Counter(definitions.unit_day_rows(after, lags))
    signed.subtract(definitions.unit_day_rows(before, lags))
    rows = [(*key, w) for key, w in signed.items() if w]
    return definitions.unit_days_frame(rows, (*definitions.UNIT_DAY_COLUMNS, "w"))


def all_eligible(ctx: Context) -> bool:
    """Whether every request of every cohort unit is eligible (:func:`definitions.cohort_unit_counts`):
    each unit's cut-off (the as-of instant moved back its shift and horizon in 24-hour days) is at or
    after the local midnight that ends the unit's last cohort day. False only across a DST change,
    with an as-of in the first hour of a day."""
    day = dnum(ctx.as_of_date)
    pairs = {(lag, ushift) for _, lag, _, _, ushift in definitions.unit_day_rows(day, COHORT_DAYS)}
    for lag, ushift in pairs:
        midnight = datetime.combine(from_dnum(day - lag - ushift + 1), time())
        if ctx.as_of_ms - (ushift + lag) * MS_PER_DAY < local_ms(midnight, ctx.tz):
            return False
    return True


def shifted(
    kept: Kept, rows: ir.Table, p: Params, grid_deg: float, groups: Groups
) -> dict[str, pd.DataFrame]:
    """The four results and ``type_days`` at ``p``'s as-of day from the stored ones (:class:`Kept`
    must be :meth:`~Kept.shiftable`); stored in their place."""
    assert kept.state is not None and kept.changes is not None
    before = kept.state.as_of_dnum
    _delta_rows(kept.con, kept.changes, kept.since)
    delta = ibis.get_backend(rows).table(_DELTA)
    extra = kept.con.sql(f"SELECT DISTINCT {', '.join(G)} FROM {_DELTA}").to_arrow_table().to_pandas()
    both = groups_of(pd.concat([groups.fine[G], extra], ignore_index=True), rows)
    created = definitions.with_gid(_signed(rows, delta, before, p.as_of_dnum, (0,)), both.table)
    created = created.mutate(bucket=definitions.bucket_of(created.unit)).select(*_CREATED_COLUMNS)
    # read by three queries: made once (~600k signed rows after a day at 40M; −0.1 CPU-s)
    kept.con.execute(f"CREATE OR REPLACE TEMP TABLE {_CREATED} AS {ibis.to_sql(created, dialect='duckdb')}")
    created = ibis.get_backend(rows).table(_CREATED)
    cohorts = _signed(rows, delta, before, p.as_of_dnum, COHORT_DAYS).rename(cohort_days="lag")
    cohorts = definitions.with_gid(cohorts, both.table)
    exprs = {
        "cu": definitions.created_unit_counts(created, both.level_map),
        "co": definitions.cohort_unit_counts(cohorts, p, both.level_map, all_eligible=True),
        "when": definitions.heat_when_counts(created, both.level_map),
        "where": definitions.heat_where_counts(created, grid_deg, both.level_map),
    }
    changes = {kind: both.levels.decoded(to_frame(expr)) for kind, expr in exprs.items()}
    con = kept.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE metric_unit_change_type_days AS "
        + crosscity.counts_sql(_DELTA, signed=True)
    )
    changed = {f"metric_unit_change_{kind}": frame for kind, frame in changes.items()}
    with registered(con, **changed), transaction(con):
        for kind, spec in KINDS.items():
            add_signed(con, spec.table, kept.source, spec.keys, spec.counts, f"metric_unit_change_{kind}")
        _write_state(kept, p.as_of_dnum)
    drop_temp(con, "metric_unit_change_type_days")
    drop_temp(con, _CREATED)
    drop_temp(con, _DELTA)
    out = {kind: _stored(kept, kind) for kind in DEFINED}
    return out | {
        "type_days": crosscity.type_days_of(con, p.as_of_dnum, f"({_stored_sql(kept, 'type_days')})")
    }


def store(kept: Kept, frames: dict[str, pd.DataFrame], as_of_dnum: int) -> pd.DataFrame:
    """The four results (every cohort row counted eligible) stored for ``as_of_dnum``, with the type
    days counted from the window rows; returns the ``type_days`` table."""
    named = {f"metric_unit_frame_{kind}": frames[kind] for kind in DEFINED}
    counted = "metric_unit_frame_type_days"
    kept.con.execute(f"CREATE OR REPLACE TEMP TABLE {counted} AS {crosscity.counts_sql(INPUT)}")
    with registered(kept.con, **named), transaction(kept.con):
        for kind, spec in KINDS.items():
            _replace(kept, spec, f"metric_unit_frame_{kind}")
        _write_state(kept, as_of_dnum)
    return _type_days(kept, as_of_dnum, counted)


def _type_days(kept: Kept, as_of_dnum: int, counts: str) -> pd.DataFrame:
    frame = crosscity.type_days_of(kept.con, as_of_dnum, counts)
    drop_temp(kept.con, counts)
    return frame


def _replace(kept: Kept, spec: Kind, relation: str) -> None:
    columns = quote_idents((*spec.keys, *spec.counts))
    kept.con.execute(f"DELETE FROM {spec.table} WHERE source = ?", [kept.source])
    kept.con.execute(
        f"INSERT INTO {spec.table} (source, {columns}) SELECT ?, {columns} FROM {relation}", [kept.source]
    )


def _write_state(kept: Kept, as_of_dnum: int) -> None:
    kept.con.execute(
        "INSERT OR REPLACE INTO metric_unit_state VALUES (?, ?, ?, ?)",
        [kept.source, as_of_dnum, kept.batch_seq, kept.definition],
    )


def _stored_sql(kept: Kept, kind: str) -> str:
    spec = KINDS[kind]
    columns = quote_idents((*spec.keys, *spec.counts))
    return f"SELECT {columns} FROM {spec.table} WHERE source = {sql_text(kept.source)}"


def _stored(kept: Kept, kind: str) -> pd.DataFrame:
    """The stored counts of ``kind``, as the definitions' query gives them."""
    frame: pd.DataFrame = kept.con.sql(_stored_sql(kept, kind)).to_arrow_table().to_pandas()
    return frame


def _delta_rows(con: duckdb.DuckDBPyConnection, changes: Changes, since: int) -> None:
    """:data:`_DELTA`: the rows the window rows' update took out (``w`` = −1) and those it put in
    (``w`` = 1: the changed requests' current rows inside the reach)."""
    columns = ", ".join(COLUMNS)
    with registered(con, metric_unit_old=changes.old, metric_unit_new=changes.new):
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {_DELTA} AS
            SELECT {columns}, -1::BIGINT AS w FROM metric_unit_old
            UNION ALL
            SELECT {columns}, 1::BIGINT FROM metric_unit_new
            WHERE created_dnum >= $since OR closed_dnum >= $since""",
            {"since": since},
        )


def _signed(rows: ir.Table, delta: ir.Table, before: int, after: int, lags: tuple[int, ...]) -> ir.Table:
    """Today's rows on the days that entered a unit (``w`` = 1) or left it (−1), and the changed rows
    (their own ``w``) on the units' days of ``before``: with ``lag``, ``window``, ``unit``, ``ushift``."""
    columns = [*COLUMNS, "lag", "window", "unit", "ushift", "w"]
    before_days = definitions.unit_days_frame(definitions.unit_day_rows(before, lags))
    parts = [definitions.in_units(delta, "created_dnum", small_table(before_days, rows)).select(columns)]
    days = shift_days(before, after, lags)
    if not days.empty:
        parts.append(definitions.in_units(rows, "created_dnum", small_table(days, rows)).select(columns))
    return functools.reduce(lambda a, b: a.union(b), parts)
