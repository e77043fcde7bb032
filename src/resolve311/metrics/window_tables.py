"""One window's serving tables from the grouped results of all windows (pure pandas).

:mod:`compute` runs the engine's grouped queries and the numpy steps once for every window; here
each window's slice becomes its scorecard, heat maps and Kaplan–Meier curves. Formulas:
docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from resolve311.metrics import definitions
from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.km_windows import KmTables
from resolve311.metrics.scoring import SCORECARD_COLUMNS, ScoreParams, bucket_table, scorecard, unit_table
from resolve311.metrics.windows import WINDOW_DAYS, unit_end, units_of_bucket

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


def compute_window(
    grouped: dict[str, pd.DataFrame],
    ctx: Context,
    window: str,
    computed: tuple[tuple[pd.DataFrame, pd.DataFrame], KmTables, tuple[pd.DataFrame, pd.DataFrame]],
    sla_loaded: bool,
) -> WindowTables:
    """Scorecard, heat maps and KM curves of one window from its slice of the grouped results and
    its ``computed`` (backlog per unit and bucket; Kaplan–Meier medians per unit and bucket, curves;
    the heat maps: :func:`_heat_tables`)."""
    days = WINDOW_DAYS[window]
    covered = covered_units(ctx, days)
    cu, ku, kb = grouped["cu"], grouped["ku"], grouped["kb"]
    (bu, bb), (kmu, kmb, curves), (heat_when, heat_where) = computed
    if cu.empty and ku.empty and bu.empty:
        return empty_window_tables()
    co = cohort_columns(grouped["co"], ctx, days)
    units = unit_table([cu, co, ku, bu, kmu], covered, backlog_units(ctx, days))
    buckets = bucket_table(units, [kb, bb, kmb])
    sp = ScoreParams(window, days, covered, sla_loaded, ctx.anomaly_threshold, ctx.min_group_size)
    return WindowTables(
        scorecard=scorecard(units, buckets, sp),
        heatmap_when=heat_when,
        heatmap_where=heat_where,
        km_curve=_km_curve(curves, window),
    )


def heat_tables(
    grouped: dict[str, pd.DataFrame], ctx: Context, window: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The "when" and "where" heat maps of one window, from the grouped counts of all windows."""
    days = WINDOW_DAYS[window]
    covered = covered_units(ctx, days)
    return (
        _heat_when(slice_window(grouped["when"], window), window, days, covered),
        _heat_where(slice_window(grouped["where"], window), window, days, covered, ctx),
    )


def cohort_columns(counts: pd.DataFrame, ctx: Context, days: int) -> pd.DataFrame:
    """``elig_Xd``/``within_Xd`` per group × unit, only for cohort units inside the stored history.

    The X-day cohort of a unit starts X days before the unit does; a cohort unit
    that begins before the history start is left out (its counts stay 0, so its
    share is NULL), never counted partially.
    """
    cols = [f"{k}_{d}d" for d in definitions.COHORT_DAYS for k in ("elig", "within")]
    if counts.empty:
        return pd.DataFrame(columns=[*G, "unit", *cols])
    start = ctx.history_start.toordinal()
    end = {u: unit_end(ctx.as_of_date, days, int(u)).toordinal() for u in counts["unit"].unique()}
    first = counts["unit"].map(end) - counts["cohort_days"] - days + 1
    kept = counts[(first >= start) | (counts["unit"] == 0)]
    wide = kept.pivot_table(
        index=[*G, "unit"], columns="cohort_days", values=["n_elig", "n_within"], aggfunc="sum", fill_value=0
    )
    wide.columns = [f"{str(c[0])[2:]}_{int(c[1])}d" for c in wide.columns.to_list()]
    out = wide.reset_index()
    for col in cols:
        if col not in out:
            out[col] = 0
    return out[[*G, "unit", *cols]]


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


def _km_curve(curves: pd.DataFrame, window: str) -> pd.DataFrame:
    curves = curves.copy()
    curves["cohort"] = curves.pop("bucket").map({"recent": "recent", "8w": "historical"})
    curves["window"] = window
    return curves[KM_COLUMNS]


def _per_bucket_scale(covered: tuple[int, ...], days: float) -> dict[str, float]:
    """Divisor turning a bucket's count into a per-(days)-rate."""
    return {b: len([u for u in units_of_bucket(b) if u in covered]) * days for b in ("recent", "8w", "1y")}


def _heat(counts: pd.DataFrame, cells: list[str], window: str, scale: dict[str, float]) -> pd.DataFrame:
    wide = counts.pivot_table(index=[*G, *cells], columns="bucket", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reset_index()
    parts = []
    for baseline in ("8w", "1y"):
        recent = wide.get("recent", 0)
        hist = wide.get(baseline, 0)
        frame = wide[[*G, *cells]].copy()
        frame["recent"] = recent / scale["recent"]
        frame["historical"] = hist / scale[baseline] if scale[baseline] else float("nan")
        frame["difference"] = frame["recent"] - frame["historical"]
        keep = (frame["recent"] != 0) | (frame["historical"].fillna(0) != 0)
        parts.append(frame[keep].assign(window=window, baseline=baseline))
    return pd.concat(parts, ignore_index=True)


def _heat_when(counts: pd.DataFrame, window: str, days: int, covered: tuple[int, ...]) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=WHEN_COLUMNS)
    counts = counts.rename(columns={"created_hour": "hour"})
    frame = _heat(counts, ["weekday", "hour"], window, _per_bucket_scale(covered, days / 7))
    return frame[WHEN_COLUMNS]


def _heat_where(
    counts: pd.DataFrame, window: str, days: int, covered: tuple[int, ...], ctx: Context
) -> pd.DataFrame:
    if counts.empty:
        return pd.DataFrame(columns=WHERE_COLUMNS)
    frame = _heat(counts, ["cell_i", "cell_j"], window, _per_bucket_scale(covered, days))
    frame["cell_lat"] = (frame["cell_i"].astype(float) + 0.5) * ctx.grid_deg
    frame["cell_lon"] = (frame["cell_j"].astype(float) + 0.5) * ctx.grid_deg
    return frame[WHERE_COLUMNS]
