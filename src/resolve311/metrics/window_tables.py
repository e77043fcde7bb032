"""The windows' serving tables from the grouped results of all windows (pure pandas).

:mod:`compute` runs the engine's grouped queries and the numpy steps once for every window; here
their results become the scorecard, heat maps and Kaplan–Meier curves of every window at once, the
window one more key column (:func:`all_windows`). Formulas: docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
import pandas as pd

from resolve311.metrics import definitions
from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.km_windows import KmTables
from resolve311.metrics.scoring import SCORECARD_COLUMNS, ScoreParams, bucket_table, scorecard, unit_table
from resolve311.metrics.windows import WINDOW_DAYS, WINDOWS, unit_end, units_of_bucket

G = list(GROUP_COLS)

#: Days of stored history needed before a past backlog counts as known.
BACKLOG_WARMUP_DAYS = 90


@dataclass(frozen=True)
class Context:
    """What every window needs to know about the data and the settings."""

    as_of_date: date
    as_of_ms: int
    history_start: date
    tz: str
    grid_deg: float
    anomaly_threshold: float
    min_group_size: int


@dataclass
class WindowTables:
    """The serving tables of one window."""

    scorecard: pd.DataFrame
    heatmap_when: pd.DataFrame
    heatmap_where: pd.DataFrame
    km_curve: pd.DataFrame


def covered_units(ctx: Context, days: int) -> tuple[int, ...]:
    """Units whose first day is on or after the start of the stored history."""
    out = []
    for unit in (0, *range(1, 10)):
        first = unit_end(ctx.as_of_date, days, unit).toordinal() - days + 1
        if unit == 0 or first >= ctx.history_start.toordinal():
            out.append(unit)
    return tuple(out)


def backlog_units(ctx: Context, days: int) -> tuple[int, ...]:
    """Covered units whose end moment is at least BACKLOG_WARMUP_DAYS after the history start.

    The backlog at a moment includes requests created long before it; too soon
    after the history start those are missing and the backlog looks too small.
    The recent unit is always kept.
    """
    warm = ctx.history_start.toordinal() + BACKLOG_WARMUP_DAYS
    return tuple(
        u
        for u in covered_units(ctx, days)
        if u == 0 or unit_end(ctx.as_of_date, days, u).toordinal() + 1 >= warm
    )


def slice_window(frame: pd.DataFrame, window: str) -> pd.DataFrame:
    return frame[frame["window"] == window].drop(columns="window").reset_index(drop=True)


#: Every window's backlog per unit and per bucket; its Kaplan–Meier medians per unit and per bucket
#: and its curves; its "when" and "where" heat maps. Each frame has a ``window`` column.
Computed = tuple[tuple[pd.DataFrame, pd.DataFrame], KmTables, tuple[pd.DataFrame, pd.DataFrame]]


def all_windows(
    grouped: dict[str, pd.DataFrame], ctx: Context, computed: Computed, sla_loaded: bool
) -> WindowTables:
    """Every window's scorecard, heat maps and KM curves, stacked, from the grouped results and the
    ``computed`` frames, each with a ``window`` column: shaped once for all windows (the pandas
    steps cost per call far more than per row).

    A window in which nothing was created, closed or open in any unit has no rows in any table: the
    heat maps, Kaplan–Meier and the pooled stats count the same rows as its created, closed and
    backlog counts, so only its cohorts (created before the window) can have rows, and the units
    of the active windows alone leave those out.
    """
    (bu, bb), (kmu, kmb, curves), (heat_when, heat_where) = computed
    cu, ku, kb, co = grouped["cu"], grouped["ku"], grouped["kb"], grouped["co"]
    active = [w for w in WINDOWS if any((f["window"] == w).any() for f in (cu, ku, bu))]
    if not active:
        return empty_window_tables()
    units = unit_table([cu, cohort_columns(co, ctx), ku, bu, kmu], _unit_rows(ctx, active))
    buckets = bucket_table(units, [kb, bb, kmb])
    sp = ScoreParams(sla_loaded, ctx.anomaly_threshold, ctx.min_group_size)
    return WindowTables(
        scorecard=scorecard(units, buckets, sp),
        heatmap_when=heat_when,
        heatmap_where=heat_where,
        km_curve=_km_curve(curves),
    )


def _unit_rows(ctx: Context, windows: list[str]) -> pd.DataFrame:
    """Each window's covered units (``window``, ``unit``) and whether its backlog is known there."""
    rows = []
    for window in windows:
        days = WINDOW_DAYS[window]
        known = backlog_units(ctx, days)
        rows += [(window, unit, unit in known) for unit in covered_units(ctx, days)]
    return pd.DataFrame(rows, columns=["window", "unit", "backlog_known"])


def heat_tables(grouped: dict[str, pd.DataFrame], ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The "when" and "where" heat maps of every window, from the grouped counts of all windows."""
    return _heat_when(grouped["when"], ctx), _heat_where(grouped["where"], ctx)


def cohort_columns(counts: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """``elig_Xd``/``within_Xd`` per group × window × unit, only for cohort units inside the stored
    history.

    The X-day cohort of a unit starts X days before the unit does; a cohort unit
    that begins before the history start is left out (its counts stay 0, so its
    share is NULL), never counted partially.
    """
    keys = [*G, "window", "unit"]
    cols = [f"{k}_{d}d" for d in definitions.COHORT_DAYS for k in ("elig", "within")]
    if counts.empty:
        return pd.DataFrame(columns=[*keys, *cols])
    pairs = counts[["window", "unit"]].drop_duplicates()
    pairs["first"] = [
        unit_end(ctx.as_of_date, WINDOW_DAYS[str(w)], int(u)).toordinal() - WINDOW_DAYS[str(w)] + 1
        for w, u in pairs.itertuples(index=False)
    ]
    # positional: the merge's rows follow ``counts``' (a left merge keeps their order)
    first = counts[["window", "unit"]].merge(pairs, how="left")["first"].to_numpy() - counts["cohort_days"]
    kept: pd.DataFrame = counts[(first.to_numpy() >= ctx.history_start.toordinal()) | (counts["unit"] == 0)]
    wide = kept.pivot_table(
        index=keys, columns="cohort_days", values=["n_elig", "n_within"], aggfunc="sum", fill_value=0
    )
    wide.columns = [f"{str(c[0])[2:]}_{int(c[1])}d" for c in wide.columns.to_list()]
    out = wide.reset_index()
    for col in cols:
        if col not in out:
            out[col] = 0
    return out[[*keys, *cols]]


WHEN_COLUMNS = [*G, "window", "baseline", "weekday", "hour", "recent", "historical", "difference"]


WHERE_COLUMNS = [*G, "window", "baseline", "cell_lat", "cell_lon", "recent", "historical", "difference"]


KM_COLUMNS = [*G, "window", "cohort", "t_hours", "survival", "at_risk"]


def empty_window_tables() -> WindowTables:
    """A window in which nothing happened in any unit."""
    return WindowTables(
        scorecard=pd.DataFrame(columns=SCORECARD_COLUMNS),
        heatmap_when=pd.DataFrame(columns=WHEN_COLUMNS),
        heatmap_where=pd.DataFrame(columns=WHERE_COLUMNS),
        km_curve=pd.DataFrame(columns=KM_COLUMNS),
    )


def _km_curve(curves: pd.DataFrame) -> pd.DataFrame:
    curves = curves.copy()
    curves["cohort"] = curves.pop("bucket").map({"recent": "recent", "8w": "historical"})
    return curves[KM_COLUMNS]


#: The buckets of a heat map's counts, in the order of :func:`_per_bucket_scale`'s columns.
BUCKETS: Final[tuple[str, str, str]] = ("recent", "8w", "1y")


def _per_bucket_scale(ctx: Context, week: bool) -> pd.DataFrame:
    """Per window: the divisors turning a bucket's count into a per-day rate (per-week with ``week``)."""
    rows = []
    for window, days in WINDOW_DAYS.items():
        covered = covered_units(ctx, days)
        span = days / 7 if week else days
        rows.append([window, *(len([u for u in units_of_bucket(b) if u in covered]) * span for b in BUCKETS)])
    return pd.DataFrame(rows, columns=["window", *BUCKETS]).set_index("window")


def _heat(counts: pd.DataFrame, cells: list[str], scale: pd.DataFrame) -> pd.DataFrame:
    wide = counts.pivot_table(
        index=[*G, "window", *cells], columns="bucket", values="n", aggfunc="sum", fill_value=0
    )
    wide = wide.reset_index()
    divisors = scale.reindex(wide["window"]).to_numpy()
    recent = wide.get("recent", 0) / divisors[:, 0]
    parts = []
    for b, baseline in enumerate(("8w", "1y"), start=1):
        divisor = divisors[:, b]
        frame = wide[[*G, "window", *cells]].copy()
        frame["recent"] = recent
        frame["historical"] = wide.get(baseline, 0) / np.where(divisor != 0, divisor, np.nan)
        frame["difference"] = frame["recent"] - frame["historical"]
        keep = (frame["recent"] != 0) | (frame["historical"].fillna(0) != 0)
        parts.append(frame[keep].assign(baseline=baseline))
    return pd.concat(parts, ignore_index=True)


def _heat_when(counts: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=WHEN_COLUMNS)
    counts = counts.rename(columns={"created_hour": "hour"})
    frame = _heat(counts, ["weekday", "hour"], _per_bucket_scale(ctx, week=True))
    return frame[WHEN_COLUMNS]


def _heat_where(counts: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=WHERE_COLUMNS)
    frame = _heat(counts, ["cell_i", "cell_j"], _per_bucket_scale(ctx, week=False))
    frame["cell_lat"] = (frame["cell_i"].astype(float) + 0.5) * ctx.grid_deg
    frame["cell_lon"] = (frame["cell_j"].astype(float) + 0.5) * ctx.grid_deg
    return frame[WHERE_COLUMNS]
