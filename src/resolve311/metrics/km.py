"""Kaplan–Meier time to close from grouped counts (pure pandas/numpy).

Input rows: key columns, ``t_hours``, ``n_event`` (closed at t) and ``n_censored``
(still open at as-of, observed for t hours). At each time, closes happen before
censoring, so requests censored at t are still at risk at t.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
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
    leaving = df["n_event"] + df["n_censored"]
    total = leaving.groupby([df[k] for k in keys]).transform("sum")
    left_before = leaving.groupby([df[k] for k in keys]).cumsum() - leaving
    df["at_risk"] = (total - left_before).astype("int64")
    factor = 1.0 - df["n_event"] / df["at_risk"]
    df["survival"] = factor.groupby([df[k] for k in keys]).cumprod()
    return df


def km_median(steps: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Smallest t with survival <= 0.5 per key (keys never reaching it are absent: NULL)."""
    keys = list(keys)
    hit = steps[steps["survival"] <= 0.5]
    medians: pd.DataFrame = hit.groupby(keys, as_index=False).agg(km_median_h=("t_hours", "min"))
    return medians


def _sample(times: np.ndarray, surv: np.ndarray, at_risk: np.ndarray) -> list[tuple[float, float, int]]:
    """Step-function value and at-risk count (observed time >= t) at each grid time."""
    out = []
    for grid_t in CURVE_HOURS:
        upto = int(np.searchsorted(times, grid_t, side="right"))
        first_later = int(np.searchsorted(times, grid_t, side="left"))
        survival = 1.0 if upto == 0 else float(surv[upto - 1])
        risk = int(at_risk[first_later]) if first_later < len(times) else 0
        out.append((float(grid_t), survival, risk))
    return out


def km_curves(steps: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Survival and at-risk counts at the fixed :data:`CURVE_HOURS` per key."""
    keys = list(keys)
    rows: list[tuple[object, ...]] = []
    for key, part in steps.groupby(keys, sort=True):
        key_t = key if isinstance(key, tuple) else (key,)
        times = part["t_hours"].to_numpy(dtype=float)
        sampled = _sample(times, part["survival"].to_numpy(), part["at_risk"].to_numpy())
        rows.extend((*key_t, t, s, r) for t, s, r in sampled)
    return pd.DataFrame(rows, columns=[*keys, "t_hours", "survival", "at_risk"])
