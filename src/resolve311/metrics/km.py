"""Kaplan–Meier time to close from grouped counts (pure pandas/numpy).

Input rows: key columns, ``t_hours``, ``n_event`` (closed at t) and ``n_censored``
(still open at as-of, observed for t hours). At each time, closes happen before
censoring, so requests censored at t are still at risk at t.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pandas as pd

#: Times (hours) at which the published survival curves are sampled.
CURVE_HOURS: Final[tuple[float, ...]] = (
    0.0, 0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1080, 1440, 2160,
)  # fmt: skip


def survival_steps(counts: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Add ``at_risk`` and ``survival`` (after the events at t) to pooled counts, per key."""
    keys = list(keys)
    df = counts.groupby([*keys, "t_hours"], as_index=False)[["n_event", "n_censored"]].sum()
    df = df.sort_values([*keys, "t_hours"], kind="mergesort").reset_index(drop=True)
    group = df.groupby(keys, sort=False).ngroup()  # the keys' groups, found once
    leaving = df["n_event"] + df["n_censored"]
    total = leaving.groupby(group).transform("sum")
    left_before = leaving.groupby(group).cumsum() - leaving
    df["at_risk"] = (total - left_before).astype("int64")
    factor = 1.0 - df["n_event"] / df["at_risk"]
    df["survival"] = factor.groupby(group).cumprod()
    return df


def km_median(steps: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Smallest t with survival <= 0.5 per key (keys never reaching it are absent: NULL)."""
    keys = list(keys)
    hit = steps[steps["survival"] <= 0.5]
    medians: pd.DataFrame = hit.groupby(keys, as_index=False).agg(km_median_h=("t_hours", "min"))
    return medians


def km_curves(steps: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Survival (after the closes at t) and at-risk count (observed time >= t) at :data:`CURVE_HOURS`.

    The curve stops where nobody is left at risk: past the cohort's longest
    follow-up the estimate is undefined, and drawing it flat would claim that
    young, censored cohorts never close.
    """
    keys = list(keys)
    columns = [*keys, "t_hours", "survival", "at_risk"]
    if steps.empty:
        return pd.DataFrame(columns=columns)
    grid = (
        steps[keys]
        .drop_duplicates()
        .merge(pd.DataFrame({"t_hours": [float(t) for t in CURVE_HOURS]}), how="cross")
    )
    grid = grid.sort_values("t_hours", kind="mergesort")
    ordered = steps.assign(t_hours=steps["t_hours"].astype(float)).sort_values("t_hours", kind="mergesort")
    back = pd.merge_asof(
        grid, ordered[[*keys, "t_hours", "survival"]], on="t_hours", by=keys, direction="backward"
    )
    ahead = pd.merge_asof(
        grid, ordered[[*keys, "t_hours", "at_risk"]], on="t_hours", by=keys, direction="forward"
    )
    out = back.merge(ahead, on=[*keys, "t_hours"])
    out["survival"] = out["survival"].fillna(1.0)
    out["at_risk"] = out["at_risk"].fillna(0).astype("int64")
    out = out[(out["at_risk"] > 0) | (out["t_hours"] == 0.0)]
    return out.sort_values([*keys, "t_hours"], kind="mergesort").reset_index(drop=True)[columns]
