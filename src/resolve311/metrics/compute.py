"""Run the metric definitions for every window on one engine and shape the serving tables."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from resolve311.metrics import backlog, backlog_ages, closed_stats, definitions, km_windows, unit_counts
from resolve311.metrics.definitions import GROUP_COLS, Params, to_frame
from resolve311.metrics.groups import Groups, numbered_groups
from resolve311.metrics.km_windows import KmTables
from resolve311.metrics.levels import Levels
from resolve311.metrics.window_tables import (
    Context,
    all_windows,
    backlog_units,
    covered_units,
    heat_tables,
    slice_window,
)
from resolve311.metrics.windows import (
    BUCKET_OF_UNIT,
    WINDOW_DAYS,
    WINDOWS,
    YEAR_UNIT,
    Moment,
    bucket_of_unit,
    dnum,
    unit_moments,
)

G = list(GROUP_COLS)
TABLES = ("scorecard", "heatmap_when", "heatmap_where", "km_curve")


@dataclass(frozen=True)
class Inputs:
    """The engine-side relations the definitions read."""

    requests: ir.Table  # rows created or closed within the windows' reach
    open_requests: ir.Table  # requests open after the first unit-end moment (open_requests.py)
    sla: ir.Table | None
    day_requests: ir.Table  # rows created or closed on a day being recomputed
    kept: unit_counts.Kept | None = None  # where the created, cohort and heat-map counts are kept (DuckDB)


def compute_all(
    inputs: Inputs, ctx: Context, queried: Callable[[], object] | None = None
) -> dict[str, pd.DataFrame]:
    """Every window's scorecard, heat maps and KM curves, stacked (and ``type_days`` when the
    windowed counts are kept: :func:`unit_frames`).

    The grouped queries run once for all windows (a ``window`` column), and so does the pandas
    that shapes their small results (:func:`~window_tables.all_windows`). The backlog's ages, the
    Kaplan–Meier steps and, on DuckDB, the hours-to-close ranks (numpy) run in a worker thread
    while the engine runs the other grouped queries (it releases the GIL), which the wall time of
    an incremental refresh follows. ``queried`` is called once the big queries are done, before the
    created, cohort and heat-map counts (on DuckDB mostly the kept counts' small statements): the
    caller's other reads share the cores with those and with the numpy and pandas steps left.
    """
    moments = unit_moments(ctx.as_of_date, ctx.tz)
    ms = [m.ms for m in moments]
    groups = numbered_groups(inputs.requests, inputs.open_requests)
    opened = definitions.with_gid(backlog.open_versions(inputs.open_requests, ms), groups.table)
    opened_ids = definitions.numeric_frame(opened.select("gid", "created_ms", "open_until"))
    # the backlog's numpy work overlaps the grouped queries (the engine runs without the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        backlog_done = pool.submit(_backlog_ages, opened_ids, groups.levels, ctx, moments, sorted(set(ms)))
        counts = _km_counts(inputs, ctx, groups)
        km_done = pool.submit(_km_per_window, counts, groups.levels, ctx)
        closed = _closed_rows(inputs, ctx, groups)
        ranked = None if closed is None else pool.submit(closed_stats.stats, closed, groups.levels)
        if queried is not None:
            queried()
        grouped = run_grouped(inputs, ctx, groups, closed_in_engine=ranked is None)
        type_days = grouped.pop("type_days", None)
        # the heat maps need only the engine's counts: shaped while the worker finishes its numpy
        heat = heat_tables(grouped, ctx)
        if ranked is not None:
            grouped |= _closed_frames(*ranked.result())
        per_moment, pooled = backlog_done.result()
        km_tables = km_done.result()
    backlog_frames = (_backlog_per_unit(per_moment, moments, ctx), pooled)
    tables = all_windows(grouped, ctx, (backlog_frames, km_tables, heat), inputs.sla is not None)
    stacked = {name: getattr(tables, name) for name in TABLES}
    return stacked if type_days is None else stacked | {"type_days": type_days}


def _backlog_ages(
    opened: pd.DataFrame, levels: Levels, ctx: Context, moments: list[Moment], distinct_ms: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backlog per moment and pooled per window × bucket, from the open versions (``gid``,
    ``created_ms``, ``open_until``; numpy)."""
    gid, created, open_until = (
        opened[c].to_numpy(dtype=np.int64) for c in ("gid", "created_ms", "open_until")
    )
    ages = backlog_ages.prepare(gid, created, open_until, levels)
    per_moment = backlog_ages.per_moment(ages, distinct_ms)
    return per_moment, _pooled_backlog(ages, ctx, moments, per_moment)


def run_grouped(
    inputs: Inputs, ctx: Context, groups: Groups, *, closed_in_engine: bool = True
) -> dict[str, pd.DataFrame]:
    """The grouped metric queries over all windows, executed on the inputs' engine.

    Counted per finest group id and summed up per level group id (:func:`definitions.rolled_up`);
    the results get their group columns back here. With ``closed_in_engine`` the hours-to-close
    statistics too (two grouped queries: Spark); else the caller has them ranked in numpy.
    """
    p = Params(dnum(ctx.as_of_date), ctx.as_of_ms)
    out = unit_frames(inputs, ctx, groups)
    if not closed_in_engine:
        return out
    closed = definitions.closed_in_units(inputs.requests, p, inputs.sla)
    ku = to_frame(definitions.closed_unit_stats(closed))
    pooled = to_frame(definitions.closed_unit_stats(closed.filter(closed.bucket == "8w"), by="bucket"))
    return out | _closed_frames(ku, pooled)


def unit_frames(inputs: Inputs, ctx: Context, groups: Groups) -> dict[str, pd.DataFrame]:
    """The created, cohort and heat-map counts (``cu``, ``co``, ``when``, ``where``): on DuckDB the
    stored ones brought to this as-of day when they can be (:mod:`unit_counts`), else queried in
    full and stored for the next refresh, with the snapshot's ``type_days`` table; on Spark queried
    (``type_days`` is the stored reads' then)."""
    p = Params(dnum(ctx.as_of_date), ctx.as_of_ms)
    kept = inputs.kept
    if kept is None:
        return unit_queries(inputs.requests, p, ctx.grid_deg, groups)
    if kept.shiftable(p.as_of_dnum):
        out = unit_counts.shifted(kept, inputs.requests, p, ctx.grid_deg, groups)
    else:
        out = unit_queries(inputs.requests, p, ctx.grid_deg, groups, all_eligible=True)
        out["type_days"] = unit_counts.store(kept, out, p.as_of_dnum)
    if unit_counts.all_eligible(ctx):
        return out
    real = unit_queries(inputs.requests, p, ctx.grid_deg, groups, only=("co",))
    return out | real


def unit_queries(
    requests: ir.Table,
    p: Params,
    grid_deg: float,
    groups: Groups,
    *,
    all_eligible: bool = False,
    only: tuple[str, ...] = ("cu", "co", "when", "where"),
) -> dict[str, pd.DataFrame]:
    """The created, cohort and heat-map counts of ``requests`` (``only`` those), each a query per
    finest group id summed up per level id (:func:`definitions.rolled_up`), with their group
    columns back; ``all_eligible`` counts every cohort row as eligible (the counts kept)."""
    # Not materialised: each query joining the rows to their units again measured ~2 CPU-s less in
    # all at 4M than writing the two joined relations to temporary tables and reading those.
    created = definitions.with_gid(definitions.created_in_units(requests, p), groups.table)
    cohorts = definitions.cohort_rows(definitions.with_gid(requests, groups.table), p)
    exprs = {
        "cu": lambda: definitions.created_unit_counts(created, groups.level_map),
        "co": lambda: definitions.cohort_unit_counts(cohorts, p, groups.level_map, all_eligible=all_eligible),
        "when": lambda: definitions.heat_when_counts(created, groups.level_map),
        "where": lambda: definitions.heat_where_counts(created, grid_deg, groups.level_map),
    }
    return {name: groups.levels.decoded(to_frame(exprs[name]())) for name in only}


def _closed_frames(ku: pd.DataFrame, pooled: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The hours-to-close statistics per unit (``ku``) and per bucket (``kb``)."""
    return {"ku": ku, "kb": _closed_bucket_stats(pooled, ku)}


def _closed_rows(inputs: Inputs, ctx: Context, groups: Groups) -> pd.DataFrame | None:
    """The closed rows :func:`closed_stats.stats` ranks, on DuckDB (None on Spark: its queries)."""
    if ibis.get_backend(inputs.requests).name != "duckdb":
        return None
    p = Params(dnum(ctx.as_of_date), ctx.as_of_ms)
    return definitions.numeric_frame(definitions.closed_rows(inputs.requests, p, inputs.sla, groups.table))


def _km_counts(inputs: Inputs, ctx: Context, groups: Groups) -> pd.DataFrame:
    """Kaplan–Meier's counts per finest group id (queried before the others: their steps overlap
    those)."""
    p = Params(dnum(ctx.as_of_date), ctx.as_of_ms)
    created = definitions.with_gid(definitions.created_in_units(inputs.requests, p), groups.table)
    return to_frame(definitions.km_counts(created, p))


def _km_per_window(counts: pd.DataFrame, levels: Levels, ctx: Context) -> KmTables:
    """Every window's Kaplan–Meier medians per unit and bucket and its curves (numpy, :mod:`km`),
    stacked with a ``window`` column."""
    per_window = [
        km_windows.of_window(slice_window(counts, w), levels, covered_units(ctx, WINDOW_DAYS[w]))
        for w in WINDOWS
    ]
    stacked = (
        pd.concat([tables[part].assign(window=w) for w, tables in zip(WINDOWS, per_window, strict=True)])
        for part in range(3)
    )
    kmu, kmb, curves = (frame.reset_index(drop=True) for frame in stacked)
    return kmu, kmb, curves


def _closed_bucket_stats(pooled: pd.DataFrame, ku: pd.DataFrame) -> pd.DataFrame:
    """Median/p90 hours to close per bucket: the one-unit buckets (recent, year-ago) are their
    unit's (``ku``, the same rows); only the 8-week bucket pools its units (``pooled``)."""
    cols = [*G, "window", "bucket", "ttc_median_h", "ttc_p90_h"]
    single = ku[ku["unit"].isin([0, YEAR_UNIT])]
    single = single.assign(bucket=single["unit"].map(BUCKET_OF_UNIT))
    out: pd.DataFrame = pd.concat([pooled[cols], single[cols]], ignore_index=True)
    return out


def _pooled_backlog(
    opened: backlog_ages.Sorted, ctx: Context, moments: list[Moment], per_moment: pd.DataFrame
) -> pd.DataFrame:
    """Pooled backlog ages per window × bucket, each distinct set of moments computed once.

    A bucket of one moment (the recent unit, the year-ago unit) pools exactly that moment's rows:
    its ages are that moment's (``per_moment``), not queried again. Windows whose buckets pool the
    same moments (the 1- and 7-day windows: both step back whole weeks) get the same numbers:
    they are computed for the first and copied to the others.
    """
    buckets = _moment_buckets(ctx, moments)
    single = buckets.groupby(["window", "bucket"])["moment_ms"].transform("size") == 1
    ages = list(backlog_ages.AGES)
    from_moment = buckets[single].merge(per_moment[[*G, "moment_ms", *ages]], on="moment_ms")
    pooled = _pooled_once(opened, buckets[~single])
    columns = [*G, "window", "bucket", *ages]
    out: pd.DataFrame = pd.concat([pooled[columns], from_moment[columns]], ignore_index=True)
    return out


def _pooled_once(ages: backlog_ages.Sorted, buckets: pd.DataFrame) -> pd.DataFrame:
    """Backlog ages pooled over each window × bucket's moments, once per distinct set of moments."""
    columns = [*G, "window", "bucket", *backlog_ages.AGES]
    done: dict[tuple[int, ...], pd.DataFrame] = {}
    parts = []
    for (window, bucket), part in buckets.groupby(["window", "bucket"], sort=False):
        key = tuple(sorted(int(m) for m in part["moment_ms"]))
        if key not in done:
            done[key] = backlog_ages.pooled(ages, list(key))
        parts.append(done[key].assign(window=str(window), bucket=str(bucket)))
    if not parts:
        return pd.DataFrame(columns=columns)
    out: pd.DataFrame = pd.concat(parts, ignore_index=True)[columns]
    return out


def _moment_buckets(ctx: Context, moments: list[Moment]) -> pd.DataFrame:
    rows = [
        (m.ms, m.window, bucket_of_unit(m.unit))
        for m in moments
        if m.unit in backlog_units(ctx, WINDOW_DAYS[m.window])
    ]
    return pd.DataFrame(rows, columns=["moment_ms", "window", "bucket"]).astype({"moment_ms": "int64"})


def _backlog_per_unit(per_moment: pd.DataFrame, moments: list[Moment], ctx: Context) -> pd.DataFrame:
    """The backlog (size and ages) per group × window × unit whose backlog is known."""
    rows = [(m.ms, m.window, m.unit) for m in moments if m.unit in backlog_units(ctx, WINDOW_DAYS[m.window])]
    unit_by_ms = pd.DataFrame(rows, columns=["moment_ms", "window", "unit"]).astype({"moment_ms": "int64"})
    return per_moment.merge(unit_by_ms, on="moment_ms").drop(columns="moment_ms")
