"""Kaplan–Meier time to close from grouped counts (pure pandas/numpy).

Input rows: key columns, ``t_hours``, ``n_event`` (closed at t) and ``n_censored``
(still open at as-of, observed for t hours). At each time, closes happen before
censoring, so requests censored at t are still at risk at t.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

Ints = npt.NDArray[np.int64]

#: Times (hours) at which the published survival curves are sampled.
CURVE_HOURS: Final[tuple[float, ...]] = (
    0.0, 0.25, 0.5, 1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1080, 1440, 2160,
)  # fmt: skip


def survival_steps(counts: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Add ``at_risk`` and ``survival`` (after the events at t) to pooled counts, per key.

    Vectorised (numpy): the keys and ``t_hours`` are coded as one integer (each column factorised
    in sorted order, so one sort orders the rows by the keys' values, then t), the counts of equal
    (key, t) summed by ``reduceat`` and the running sums taken over the whole array less each group's
    start; the survival is the product of the factors per group, in order (bit-identical to a
    grouped pandas ``cumprod``, which it uses on the integer group ids).
    """
    keys = list(keys)
    code, uniques = _coded(counts, keys)
    code, t, event, censored = _pooled(counts, code)
    firsts = _firsts(code)
    group = np.cumsum(firsts) - 1
    leaving = event + censored
    done = np.cumsum(leaving) - leaving  # left before each row, over the whole array
    first = np.flatnonzero(firsts)
    total = np.add.reduceat(leaving, first) if len(first) else leaving
    at_risk = total[group] - (done - done[first][group])
    survival = pd.Series(1.0 - event / at_risk).groupby(group).cumprod().to_numpy()
    out = _decoded(code, keys, uniques)
    out["t_hours"] = t
    out["n_event"], out["n_censored"] = event, censored
    out["at_risk"] = at_risk.astype("int64")
    out["survival"] = survival
    return pd.DataFrame(out)


def _pooled(counts: pd.DataFrame, code: Ints) -> tuple[Ints, npt.NDArray[np.float64], Ints, Ints]:
    """Key code, t, events and censored per distinct (key, t), ordered by key code then t."""
    times, t_unique = pd.factorize(counts["t_hours"].to_numpy(dtype=np.float64), sort=True)
    steps = max(len(t_unique), 1)
    key = code * steps + times
    order = np.argsort(key)
    key = key[order]
    starts = np.flatnonzero(_firsts(key))
    event = _summed(counts["n_event"], order, starts)
    censored = _summed(counts["n_censored"], order, starts)
    key = key[starts]
    return key // steps, np.asarray(t_unique, dtype=np.float64)[key % steps], event, censored


def _coded(frame: pd.DataFrame, keys: list[str]) -> tuple[Ints, list[pd.Index]]:
    code = np.zeros(len(frame), dtype=np.int64)
    uniques = []
    for key in keys:
        codes, unique = pd.factorize(frame[key], sort=True)
        code = code * max(len(unique), 1) + codes
        uniques.append(unique)
    return code, uniques


def _decoded(code: Ints, keys: list[str], uniques: list[pd.Index]) -> dict[str, object]:
    columns: dict[str, object] = {}
    rest = code
    for key, unique in zip(reversed(keys), reversed(uniques), strict=True):
        size = max(len(unique), 1)
        columns[key] = unique.take(rest % size)
        rest = rest // size
    return {key: columns[key] for key in keys}


def _firsts(code: Ints) -> npt.NDArray[np.bool_]:
    """True where a new group starts (``code`` sorted)."""
    out = np.ones(len(code), dtype=bool)
    out[1:] = code[1:] != code[:-1]
    return out


def _summed(column: pd.Series, order: Ints, starts: Ints) -> Ints:
    values = column.to_numpy(dtype=np.int64)[order]
    return np.add.reduceat(values, starts) if len(starts) else values


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
