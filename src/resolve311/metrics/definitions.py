"""Every metric, defined once as an Ibis expression (runs on DuckDB and on Spark).

Inputs are the narrow relations described in ``staging.py``. Each function
returns a small grouped result; the pure post-processing (scores, Kaplan–Meier,
shares) lives in ``scoring.py`` and ``km.py``. Formulas: docs/metrics.md.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from resolve311.metrics.windows import (
    MS_PER_DAY,
    MS_PER_HOUR,
    WINDOW_DAYS,
    WINDOWS,
    YEAR_SHIFT_DAYS,
    YEAR_UNIT,
    unit_of_offset,
    unit_offset_spans,
    unit_shift,
)
from resolve311.warehouse.transaction import registered

GROUP_COLS: Final[tuple[str, str, str]] = ("agency", "complaint_type", "borough")
ALL: Final[str] = "*"
#: Breakdown levels: which group columns keep their value (the others become '*').
LEVELS: Final[tuple[tuple[str, ...], ...]] = (
    (),
    ("agency",),
    ("agency", "complaint_type"),
    ("agency", "borough"),
)
WHERE_LEVELS: Final[tuple[tuple[str, ...], ...]] = ((), ("agency",))
COHORT_DAYS: Final[tuple[int, ...]] = (1, 3, 7, 30)
ADMIN_CLOSE_HOURS: Final[float] = 10 / 60


@dataclass(frozen=True)
class Params:
    """The last complete day (day number) and the data's as-of instant (UTC epoch ms)."""

    as_of_dnum: int
    as_of_ms: int


def to_frame(t: ir.Table) -> pd.DataFrame:
    """``t``'s rows as a DataFrame, fetched as Arrow.

    Ibis's ``to_pandas`` on DuckDB turned each ``SUM``'s HUGEINT into Python ``Decimal`` objects
    before casting them to int64: 1.7 s for the 1.2M Kaplan–Meier counts, against 0.7 s through
    Arrow (Ibis casts to the expression's types there), the same values and dtypes
    (tests/integration/metrics/test_engine_io.py).
    """
    frame: pd.DataFrame = t.to_pyarrow().to_pandas()
    return frame


_NUMPY_TYPES: Final[frozenset[str]] = frozenset({"BIGINT", "DOUBLE", "BOOLEAN"})


def numeric_frame(t: ir.Table) -> pd.DataFrame:
    """:func:`to_frame` of a result of flags and numbers without NULLs (the open requests'
    instants, the closed rows: millions of rows): on DuckDB straight into numpy columns when the
    SQL's types are BIGINT, DOUBLE and BOOLEAN — an Arrow table and its conversion cost ~0.2 CPU-s
    more for the 3.7M open requests at 40M. The columns become the frame as they are, one block
    each: ``relation.df()`` copied them into one 2-D block per dtype, on fresh memory the kernel
    must zero first. Same values and dtypes (test_engine_io.py)."""
    backend = ibis.get_backend(t)
    if backend.name == "duckdb":
        con: duckdb.DuckDBPyConnection = getattr(backend, "con")  # noqa: B009 (untyped in Ibis)
        relation = con.sql(str(ibis.to_sql(t, dialect="duckdb")))
        if {str(kind) for kind in relation.types} <= _NUMPY_TYPES:
            columns = relation.fetchnumpy()
            if not any(isinstance(column, np.ma.MaskedArray) for column in columns.values()):
                return pd.DataFrame(columns, copy=False)  # (a NULL makes a masked column: Arrow, below)
    return to_frame(t)


def small_table(frame: pd.DataFrame, like: ir.Table | None = None) -> ir.Table:
    """``frame`` (a few thousand rows at most) as a table of ``like``'s engine, to join with it.

    On DuckDB a temporary table named by its content (made once per connection): an Ibis memtable
    is scanned from Python Arrow, which held the Kaplan–Meier query to fewer threads and cost it
    ~0.3 CPU-s more at 4M. Elsewhere (Spark, or without ``like``) a memtable.
    """
    backend = None if like is None else ibis.get_backend(like)
    if backend is None or backend.name != "duckdb":
        return ibis.memtable(frame)
    digest = hashlib.blake2b(repr(frame.dtypes.to_dict()).encode(), digest_size=8)
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    name = f"metric_small_{digest.hexdigest()}"
    con: duckdb.DuckDBPyConnection = getattr(backend, "con")  # noqa: B009 (untyped in Ibis)
    with registered(con, **{f"{name}_frame": frame}):
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} AS SELECT * FROM {name}_frame")
    return backend.table(name)


def at_levels(t: ir.Table, levels: Sequence[tuple[str, ...]] = LEVELS) -> ir.Table:
    """Repeat each row once per breakdown level, replacing dropped group columns by '*'."""
    flags = pd.DataFrame({f"keep_{c}": [c in keep for keep in levels] for c in GROUP_COLS})
    crossed = t.cross_join(ibis.memtable(flags))
    repl = {c: ibis.ifelse(crossed[f"keep_{c}"], crossed[c], ibis.literal(ALL)) for c in GROUP_COLS}
    return crossed.mutate(**repl).drop(*flags.columns)


def rolled_up(
    t: ir.Table,
    keys: Sequence[str],
    counts: dict[str, ir.IntegerValue],
    levels: Sequence[tuple[str, ...]] = LEVELS,
    level_map: ir.Table | None = None,
) -> ir.Table:
    """Integer counts per group × ``keys`` at every breakdown level.

    Counted once at the finest group (agency × type × borough), then summed up to the coarser
    levels: the same numbers as counting :func:`at_levels` rows, from a result many times smaller.
    With ``level_map`` (``gid``, ``lg``, ``level``: :meth:`~resolve311.metrics.levels.Levels.table`)
    ``t`` carries its finest group's integer ``gid`` (:func:`with_gid`): counted per ``gid`` and
    summed up per level group id ``lg`` (the result has ``lg`` instead of the group columns;
    :meth:`~resolve311.metrics.levels.Levels.decoded` gives them back) — grouping 3.3M rows by one
    integer instead of three strings halved these queries' CPU at 4M.
    """
    if level_map is None:
        fine = t.group_by([*GROUP_COLS, *keys]).aggregate(**{n: v.cast("int64") for n, v in counts.items()})
        wide = at_levels(fine, levels)
        return wide.group_by([*GROUP_COLS, *keys]).aggregate(
            **{n: wide[n].sum().cast("int64") for n in counts}
        )
    fine = per_gid(t, keys, counts)
    kept = level_map.filter(level_map.level.isin([LEVELS.index(tuple(level)) for level in levels]))
    wide = fine.inner_join(kept, "gid")
    return wide.group_by(["lg", *keys]).aggregate(**{n: wide[n].sum().cast("int64") for n in counts})


def per_gid(t: ir.Table, keys: Sequence[str], counts: dict[str, ir.IntegerValue]) -> ir.Table:
    """Integer counts per finest group id (``t``: :func:`with_gid`) × ``keys``."""
    return t.group_by(["gid", *keys]).aggregate(**{n: v.cast("int64") for n, v in counts.items()})


def with_gid(t: ir.Table, groups: ir.Table) -> ir.Table:
    """``t`` with its finest group's integer ``gid`` (``groups``: the group columns and ``gid``)."""
    return t.inner_join(groups, list(GROUP_COLS))


def bucket_of(unit: ir.IntegerValue) -> ir.StringValue:
    """'recent' (unit 0), '1y' (unit 9) or '8w' (units 1..8)."""
    return ibis.cases((unit == 0, "recent"), (unit == YEAR_UNIT, "1y"), else_="8w")


def unit_day_rows(as_of_dnum: int, lags: Sequence[int] = (0,)) -> list[tuple[int, int, str, int, int]]:
    """(day, lag, window, unit, ushift) of every day in one of a window's units once moved back ``lag``
    (pure: :func:`unit_days`' rows)."""
    rows = []
    for lag in lags:
        for offset in range(YEAR_SHIFT_DAYS + max(WINDOW_DAYS.values())):
            for window in WINDOWS:
                unit = unit_of_offset(offset, WINDOW_DAYS[window])
                if unit is not None:
                    shift = YEAR_SHIFT_DAYS if unit == YEAR_UNIT else unit * unit_shift(WINDOW_DAYS[window])
                    rows.append((as_of_dnum - lag - offset, lag, window, unit, shift))
    return rows


UNIT_DAY_COLUMNS: Final[tuple[str, ...]] = ("day", "lag", "window", "unit", "ushift")


def unit_days_frame(
    rows: Sequence[tuple[object, ...]], columns: Sequence[str] = UNIT_DAY_COLUMNS
) -> pd.DataFrame:
    """:func:`unit_day_rows` (and any further integer columns) as a frame of the engines' types."""
    frame = pd.DataFrame(list(rows), columns=list(columns))
    return frame.astype({c: "int64" for c in columns if c != "window"})


def unit_days(p: Params, lags: Sequence[int] = (0,), like: ir.Table | None = None) -> ir.Table:
    """One row per (day, lag, window) whose day falls in one of the window's units once moved back ``lag``.

    Columns ``day`` (day number), ``lag``, ``window``, ``unit`` and ``ushift`` (how many days the
    unit's end lies before the recent unit's end: 0, ``k·S`` or 364); built in Python from
    :func:`~resolve311.metrics.windows.unit_of_offset` (at most 3 × 392 rows per lag).
    """
    return small_table(unit_days_frame(unit_day_rows(p.as_of_dnum, lags)), like)


def in_units(t: ir.Table, dnum_col: str, days: ir.Table) -> ir.Table:
    """Rows of ``t`` whose day (``dnum_col``) is a day of ``days`` (:func:`unit_days`), once per row
    of it, with its other columns (``window``, ``unit``, ``ushift``, …).

    An equality join on the day (a per-row unit expression on every row crossed with the windows
    computed three times the rows and discarded most of them).
    """
    joined = t.inner_join(days, t[dnum_col].cast("int64") == days.day)
    return joined.drop("day")


def created_in_units(inp: ir.Table, p: Params) -> ir.Table:
    """Requests created in one of a window's units, with ``window``, ``unit`` and ``bucket``."""
    t = in_units(inp, "created_dnum", unit_days(p, like=inp).drop("lag"))
    return t.mutate(bucket=bucket_of(t.unit))


def closed_in_units(inp: ir.Table, p: Params, sla: ir.Table | None) -> ir.Table:
    """Requests validly closed in one of a window's units, with their SLA target if any."""
    t = in_units(inp.filter(inp.closed_dnum.notnull()), "closed_dnum", unit_days(p, like=inp).drop("lag"))
    return with_targets(t.mutate(bucket=bucket_of(t.unit)), sla)


def with_targets(t: ir.Table, sla: ir.Table | None) -> ir.Table:
    """Closed rows with their SLA target (``target_hours``; NULL when none matches or none is loaded)."""
    if sla is None:  # nothing to match on: lower-casing every row's type cost 0.8 of 1.75 CPU-s at 4M
        return t.mutate(target_hours=ibis.null("float64"))
    t = t.mutate(type_key=t.complaint_type.lower())
    exact = sla.filter(sla.sla_agency != ALL).rename(exact_target="target_hours")
    anyag = sla.filter(sla.sla_agency == ALL).select(any_type="sla_type", any_target="target_hours")
    t = t.left_join(exact, [t.agency == exact.sla_agency, t.type_key == exact.sla_type]).drop(
        "sla_agency", "sla_type"
    )
    t = t.left_join(anyag, t.type_key == anyag.any_type).drop("any_type")
    return t.mutate(target_hours=t.exact_target.coalesce(t.any_target)).drop(
        "exact_target", "any_target", "type_key"
    )


def tally(t: ir.Table, flag: ir.BooleanValue | None = None) -> ir.IntegerValue:
    """The rows of ``t`` (those where ``flag`` is true): a count, or the sum of their signs when
    ``t`` carries them (``w``: :mod:`~resolve311.metrics.unit_counts`' signed rows)."""
    if "w" in t.columns:
        return (t.w if flag is None else ibis.ifelse(flag, t.w, 0)).sum()
    return t.count() if flag is None else flag.sum()


def created_unit_counts(created: ir.Table, level_map: ir.Table | None = None) -> ir.Table:
    """Per group × window × unit: requests created and dirty (per level id with ``level_map``:
    :func:`rolled_up`)."""
    counts = {"n_created": tally(created), "n_dirty": tally(created, created.is_dirty)}
    return rolled_up(created, ["window", "unit"], counts, level_map=level_map)


def cohort_rows(inp: ir.Table, p: Params) -> ir.Table:
    """Requests created in one of a window's units moved back each cohort's X days (``cohort_days``)."""
    days = unit_days(p, COHORT_DAYS, like=inp).rename(cohort_days="lag")
    return in_units(inp, "created_dnum", days)


def cohort_unit_counts(
    t: ir.Table, p: Params, level_map: ir.Table | None = None, *, all_eligible: bool = False
) -> ir.Table:
    """Per group × window × unit × horizon X (``cohort_days``): the cohort (``n_elig``) and ``n_within``
    (per level id with ``level_map``: :func:`rolled_up`), from :func:`cohort_rows`.

    Like-for-like: the cohort of horizon X is created in the window's units moved
    back X days, so every request of the recent cohort and of its baseline
    cohorts has been observable for X full days. A request is eligible when it was
    created at least X·24 h before its unit's cut-off (``as_of`` moved back by the
    unit's shift), which excludes nobody but DST-hour edge cases
    (:func:`~resolve311.metrics.unit_counts.all_eligible`); ``all_eligible`` counts every row as
    eligible (the counts kept across days).
    """
    within = t.ttc_h.notnull() & (t.ttc_h <= t.cohort_days * 24)
    if all_eligible:
        counts = {"n_elig": tally(t), "n_within": tally(t, within)}
    else:
        eligible = t.created_ms <= ibis.literal(p.as_of_ms) - (t.ushift + t.cohort_days) * MS_PER_DAY
        counts = {"n_elig": tally(t, eligible), "n_within": tally(t, eligible & within)}
    return rolled_up(t, ["window", "unit", "cohort_days"], counts, level_map=level_map)


def closed_unit_stats(closed: ir.Table, by: str = "unit") -> ir.Table:
    """Per group × window × unit (or bucket): closes, exact median/p90 hours to close, admin and on-time counts."""
    t = at_levels(closed)
    has_target = t.target_hours.notnull()
    stats = t.group_by([*GROUP_COLS, "window", by]).aggregate(
        n_closed=t.count(),
        ttc_q=median_p90(t.ttc_h),
        n_admin=(t.ttc_h <= ADMIN_CLOSE_HOURS).sum(),
        n_with_target=has_target.sum(),
        n_on_time=(has_target & (t.ttc_h <= t.target_hours)).sum(),
    )
    return split_median_p90(stats, "ttc_q", "ttc_median_h", "ttc_p90_h").relocate(
        "ttc_median_h", "ttc_p90_h", after="n_closed"
    )


def closed_rows(inp: ir.Table, p: Params, sla: ir.Table | None, groups: ir.Table) -> ir.Table:
    """Rows validly closed on a day of some window's unit (:func:`unit_offset_spans`: not the days
    between the 8-week and the year-ago units, ~29% of the last ``364 + 28``), ordered by hours to
    close: their finest group's ``gid`` (``groups``: the group columns and ``gid``), the closed
    day's ``offset`` before the as-of day and the flags :func:`closed_unit_stats` counts.

    The rows :mod:`~resolve311.metrics.closed_stats` ranks in numpy (DuckDB engine).
    """
    day = inp.closed_dnum
    spans = [day.between(p.as_of_dnum - last, p.as_of_dnum - first) for first, last in unit_offset_spans()]
    t = inp.filter(day.notnull(), functools.reduce(operator.or_, spans))
    t = with_targets(t, sla).inner_join(groups, list(GROUP_COLS))
    has_target = t.target_hours.notnull()
    return t.select(
        gid=t.gid.cast("int64"),
        offset=ibis.literal(p.as_of_dnum, type="int64") - t.closed_dnum.cast("int64"),  # BIGINT in SQL
        ttc_h=t.ttc_h.cast("float64"),
        admin=t.ttc_h <= ADMIN_CLOSE_HOURS,
        has_target=has_target,
        on_time=has_target & (t.ttc_h <= t.target_hours),
    ).order_by("ttc_h")


def median_p90(values: ir.FloatingValue) -> ir.ArrayValue:
    """Exact median and 90th percentile as one two-element array: one aggregate sorting the values
    once (two separate quantiles kept and sorted every group's values twice); NULL when none."""
    return values.quantile([0.5, 0.9])


def split_median_p90(t: ir.Table, column: str, median: str, p90: str) -> ir.Table:
    """The two elements of a :func:`median_p90` column as columns ``median`` and ``p90``."""
    return t.mutate(**{median: t[column][0], p90: t[column][1]}).drop(column)


def km_time(hours: ir.FloatingValue) -> ir.FloatingValue:
    """Kaplan–Meier time grid: 15 min up to 2 days, 1 h up to 30 days, 1 day beyond (rounded up)."""
    return ibis.cases(
        (hours <= 48, (hours * 4).ceil() / 4.0),
        (hours <= 720, hours.ceil() * 1.0),
        else_=(hours / 24).ceil() * 24.0,
    )


def km_counts(created: ir.Table, p: Params) -> ir.Table:
    """Per finest group id × window × unit × time: events (closes) and censored counts.

    Like-for-like: each unit's cohort is censored at the same age as the recent
    one, i.e. at ``as_of`` moved back by the unit's shift, so baseline cohorts are
    not observed longer than the recent cohort. ``created`` carries its finest group's
    ``gid`` (:func:`with_gid`). The counts stay per ``gid``: nearly one row per (request, window)
    pair's distinct time, so summing them up to the breakdown levels here (a second grouping
    of four times as many rows, 0.85 of 1.7 CPU-s at 40M) cost more than
    :func:`~resolve311.metrics.km_windows.rolled_up` does in numpy.
    """
    cutoff = ibis.literal(p.as_of_ms) - created.ushift * MS_PER_DAY
    # a double divided, not a DECIMAL: Spark SQL reads the literal 3600000.0 as DECIMAL and rounded the
    # age to 1e-9 h, so a request closed exactly at the cutoff counted as still open there
    age_h = (cutoff - created.created_ms).cast("float64") / MS_PER_HOUR
    event = created.ttc_h.notnull() & (created.ttc_h <= age_h)
    t = created.mutate(event=event, t_hours=km_time(ibis.ifelse(event, created.ttc_h, age_h)))
    # counted, not summed: a SUM is a HUGEINT that Arrow casts back to int64 (0.06 s a refresh at 40M)
    counts = {"n_event": t.count(where=t.event), "n_censored": t.count(where=~t.event)}
    return per_gid(t, ["window", "unit", "t_hours"], counts)


def heat_when_counts(created: ir.Table, level_map: ir.Table | None = None) -> ir.Table:
    """Per group × window × bucket × weekday × hour: requests created (per level id with
    ``level_map``: :func:`rolled_up`)."""
    keys = ["window", "bucket", "weekday", "created_hour"]
    return rolled_up(created, keys, {"n": tally(created)}, level_map=level_map)


def heat_where_counts(created: ir.Table, grid_deg: float, level_map: ir.Table | None = None) -> ir.Table:
    """Per group (city, agency) × window × bucket × grid cell index: requests created with coordinates
    (per level id with ``level_map``: :func:`rolled_up`)."""
    t = created.filter(created.lat.notnull() & created.lon.notnull())
    t = t.mutate(cell_i=(t.lat / grid_deg).floor(), cell_j=(t.lon / grid_deg).floor())
    keys = ["window", "bucket", "cell_i", "cell_j"]
    return rolled_up(t, keys, {"n": tally(t)}, WHERE_LEVELS, level_map)


def day_counts(inp: ir.Table, dnums: Sequence[int] | None) -> tuple[ir.Table, ir.Table]:
    """Created per created day and closed per closed day, per group (optionally only ``dnums``)."""
    created = inp if dnums is None else inp.filter(inp.created_dnum.isin(list(dnums)))
    closed = inp.filter(inp.closed_dnum.notnull())
    if dnums is not None:
        closed = closed.filter(closed.closed_dnum.isin(list(dnums)))
    c = created.mutate(dnum=created.created_dnum)
    k = closed.mutate(dnum=closed.closed_dnum)
    return rolled_up(c, ["dnum"], {"created": c.count()}), rolled_up(k, ["dnum"], {"closed": k.count()})
