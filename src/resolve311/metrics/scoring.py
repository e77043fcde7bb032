"""Turn grouped counts into scorecard rows: rates, shares, baselines, robust scores (pure pandas)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from resolve311.metrics import registry
from resolve311.metrics.definitions import COHORT_DAYS, GROUP_COLS
from resolve311.metrics.windows import BUCKET_OF_UNIT, WINDOW_DAYS

G: Final[list[str]] = list(GROUP_COLS)
#: A scorecard row's group and window (every window is scored at once).
K: Final[list[str]] = [*G, "window"]
MAD_SCALE: Final[float] = 1.4826
MIN_SCORE_UNITS: Final[int] = 3
#: With at least this many units the score is centred on their mean without the lowest and highest.
TRIM_MIN_UNITS: Final[int] = 5

COUNT_COLS: Final[tuple[str, ...]] = (
    "n_created", "n_dirty", "n_closed", "n_admin", "n_with_target", "n_on_time", "backlog_end", "n_open",
    *(f"elig_{d}d" for d in COHORT_DAYS), *(f"within_{d}d" for d in COHORT_DAYS),
)  # fmt: skip
QUANTILE_COLS: Final[tuple[str, ...]] = (
    "ttc_median_h", "ttc_p90_h", "backlog_age_median_h", "backlog_age_p90_h", "km_median_h",
)  # fmt: skip
METRICS: Final[tuple[str, ...]] = registry.NAMES
SCORECARD_COLUMNS: Final[list[str]] = [
    *G, "window", "baseline", "metric", "recent", "historical", "diff_abs", "diff_rel",
    "score", "anomaly", "small_sample", "n_recent", "n_historical", "threshold", "p_value",
]  # fmt: skip


@dataclass(frozen=True)
class ScoreParams:
    sla_loaded: bool
    anomaly_threshold: float
    min_group_size: int


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    out = num.astype(float) / den.astype(float).where(den > 0)
    return out.astype(float)


def metric_values(df: pd.DataFrame, sla_loaded: bool) -> pd.DataFrame:
    """Metric columns from summed counts; ``n_units`` says how many of the window's units were
    summed."""
    span = df["window"].map(WINDOW_DAYS).astype(float) * df["n_units"].astype(float)
    out = df[[c for c in df.columns if c in (*K, "unit", "bucket")]].copy()
    out["created_per_day"] = df["n_created"] / span
    out["closed_per_day"] = df["n_closed"] / span
    out["net_backlog_change_per_day"] = (df["n_created"] - df["n_closed"]) / span
    out["backlog_end"] = df["backlog_end"].astype(float)  # a unit's count, or the mean over units
    for col in QUANTILE_COLS:
        out[col] = df[col].astype(float)
    for d in COHORT_DAYS:
        out[f"closed_within_{d}d"] = _ratio(df[f"within_{d}d"], df[f"elig_{d}d"])
    out["on_time_share"] = _ratio(df["n_on_time"], df["n_with_target"]) if sla_loaded else np.nan
    out["admin_close_share"] = _ratio(df["n_admin"], df["n_closed"])
    out["dirty_share"] = _ratio(df["n_dirty"], df["n_created"])
    return out


def population_sizes(df: pd.DataFrame) -> pd.DataFrame:
    """Each metric's own n (what its ``population`` in the registry counts), per row of counts."""
    by_population = {
        "created": df["n_created"],
        "closed": df["n_closed"],
        "created_closed": df["n_created"] + df["n_closed"],
        "open": df["n_open"],
        "with_target": df["n_with_target"],
        **{f"cohort_{d}d": df[f"elig_{d}d"] for d in COHORT_DAYS},
    }
    out = df[[c for c in df.columns if c in (*K, "unit", "bucket")]].copy()
    for m in registry.REGISTRY:
        out[m.name] = by_population[m.population].astype("int64")
    return out


def unit_table(frames: Sequence[pd.DataFrame], units: pd.DataFrame) -> pd.DataFrame:
    """One row per group × window × covered unit, counts zero-filled, quantile columns merged in.

    ``units`` are each window's covered units (``window``, ``unit``, ``backlog_known``):
    ``backlog_end`` is NULL for units whose end is too close to the history start
    for the backlog to be known (see window_tables.backlog_units).
    """
    groups = pd.concat([f[K] for f in frames if len(f)], ignore_index=True).drop_duplicates()
    table = groups.merge(units, on="window")
    for frame in frames:
        if len(frame):
            table = table.merge(frame, on=[*K, "unit"], how="left")
    for col in COUNT_COLS:
        table[col] = table[col].fillna(0).astype("int64") if col in table else 0
    for col in QUANTILE_COLS:
        if col not in table:
            table[col] = np.nan
    table["backlog_end"] = table["backlog_end"].astype(float).where(table.pop("backlog_known"))
    table["n_open"] = table["backlog_end"].fillna(0).astype("int64")
    table["bucket"] = table["unit"].map(BUCKET_OF_UNIT)
    table["n_units"] = 1
    return table


def bucket_table(units: pd.DataFrame, pooled: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Sum unit counts per group × bucket (backlog: mean over units) and attach the pooled quantiles."""
    by = [*K, "bucket"]
    sums = units.groupby(by, as_index=False)[list(COUNT_COLS)].sum()
    sums["backlog_end"] = units.groupby(by)["backlog_end"].mean().to_numpy()
    n_units = units.groupby(by, as_index=False).agg(n_units=("unit", "nunique"))
    table = sums.merge(n_units, on=by)
    for frame in pooled:
        if len(frame):
            table = table.merge(frame, on=by, how="left")
    for col in QUANTILE_COLS:
        if col not in table:
            table[col] = np.nan
    return table


def _long(values: pd.DataFrame, by: str) -> pd.DataFrame:
    return values.melt(id_vars=[*K, by], value_vars=list(METRICS), var_name="metric", value_name="value")


def robust_scores(unit_values: pd.DataFrame, recent: pd.DataFrame) -> pd.DataFrame:
    """(recent − centre) / (1.4826·MAD) over the 8-week units of each group × window × metric;
    NULL with < 3 values or MAD 0.

    The centre is the mean of the units without the lowest and the highest (with
    at least TRIM_MIN_UNITS units; the median with fewer): robust to one odd week,
    and unlike the median not biased for skewed metrics (quantiles, small counts).
    """
    base = _long(unit_values[unit_values["bucket"] == "8w"], "unit").dropna(subset=["value"])
    by = [*K, "metric"]
    grouped = base.groupby(by)["value"]
    med = grouped.median().rename("med")
    base = base.join(med, on=by)
    base["dev"] = (base["value"] - base["med"]).abs()
    trimmed = (grouped.sum() - grouped.min() - grouped.max()) / (grouped.size() - 2).clip(lower=1)
    stats = pd.concat(
        [
            med,
            base.groupby(by)["dev"].median().rename("mad"),
            grouped.size().rename("k"),
            trimmed.rename("trimmed"),
        ],
        axis=1,
    ).reset_index()
    stats["centre"] = stats["trimmed"].where(stats["k"] >= TRIM_MIN_UNITS, stats["med"])
    out = recent.merge(stats, on=by, how="left")
    ok = (out["k"] >= MIN_SCORE_UNITS) & (out["mad"] > 0)
    out["score"] = ((out["recent"] - out["centre"]) / (MAD_SCALE * out["mad"])).where(ok)
    return out[[*by, "score"]]


def scorecard(units: pd.DataFrame, buckets: pd.DataFrame, p: ScoreParams) -> pd.DataFrame:
    """Scorecard rows of every window, both baselines; ``n_recent``/``n_historical`` per metric."""
    unit_values = metric_values(units, p.sla_loaded)
    bucket_values = _long(metric_values(buckets, p.sla_loaded), "bucket")
    sizes = _long(population_sizes(buckets), "bucket").rename(columns={"value": "n"})
    bucket_values = bucket_values.merge(sizes, on=[*K, "bucket", "metric"], how="left")
    recent = bucket_values[bucket_values["bucket"] == "recent"]
    recent = recent.rename(columns={"value": "recent", "n": "n_recent"}).drop(columns="bucket")
    scores = robust_scores(unit_values, recent[[*K, "metric", "recent"]])
    parts = []
    for baseline in ("8w", "1y"):
        hist = bucket_values[bucket_values["bucket"] == baseline].drop(columns="bucket")
        hist = hist.rename(columns={"value": "historical", "n": "n_historical"})
        rows = recent.merge(hist, on=[*K, "metric"], how="left")
        rows["baseline"] = baseline
        rows["n_recent"] = rows["n_recent"].fillna(0).astype("int64")
        rows["n_historical"] = rows["n_historical"].astype("Int64")
        if baseline == "8w":
            rows = rows.merge(scores, on=[*K, "metric"], how="left")
        else:
            rows["score"] = np.nan
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)
    return _finish(out, p)


def _finish(out: pd.DataFrame, p: ScoreParams) -> pd.DataFrame:
    if not p.sla_loaded:
        out = out[out["metric"] != "on_time_share"]
    out = out.copy()
    out["diff_abs"] = out["recent"] - out["historical"]
    hist = out["historical"].where(out["historical"] != 0)
    out["diff_rel"] = out["diff_abs"] / hist
    n_hist = out["n_historical"].fillna(0)
    out["small_sample"] = (out["n_recent"] < p.min_group_size) | (n_hist < p.min_group_size)
    # the calibrated thresholds are applied after the windows are stacked (calibration.apply);
    # until then the fixed floor stands in, so a scorecard computed alone is still consistent
    out["threshold"] = p.anomaly_threshold
    out["p_value"] = np.nan
    flagged = out["score"].abs() > out["threshold"]
    out["anomaly"] = flagged.fillna(False).astype(bool) & ~out["small_sample"].astype(bool)
    return out[SCORECARD_COLUMNS].reset_index(drop=True)
