"""Kaplan–Meier per window from the counts per level group id (pure pandas/numpy, :mod:`km`).

The counts (:func:`~resolve311.metrics.definitions.km_counts`) carry an integer level group id
(``lg``, :mod:`~resolve311.metrics.levels`) instead of the group strings: the steps are computed on
integer keys and only the medians and curves get their group columns back.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from resolve311.metrics import km
from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.levels import Levels
from resolve311.metrics.windows import BUCKET_OF_UNIT

G = list(GROUP_COLS)
#: Kaplan–Meier medians per group × unit, per group × bucket, and the recent and 8-week curves.
KmTables = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
#: Bucket codes of the units (a sorted integer key) and their names.
_BUCKET_CODE = {u: ("recent", "8w", "1y").index(b) for u, b in BUCKET_OF_UNIT.items()}
_BUCKET_NAME = {0: "recent", 1: "8w", 2: "1y"}


def of_window(counts: pd.DataFrame, levels: Levels, covered: tuple[int, ...]) -> KmTables:
    """Medians per group × unit and × bucket, and the recent and 8-week curves, of one window.

    ``counts`` are per level group id (``lg``): the same integers the counts per group strings
    had, so the same bits follow.
    """
    frame = counts[counts["unit"].isin(covered)].copy()
    frame["bucket"] = frame["unit"].map(_BUCKET_CODE)
    steps_unit = km.survival_steps(frame, ["lg", "unit"])
    steps_bucket = km.survival_steps(frame, ["lg", "bucket"])
    kmu = _named(levels, km.km_median(steps_unit, ["lg", "unit"]), "unit")
    kmb = _named(levels, km.km_median(steps_bucket, ["lg", "bucket"]), "bucket")
    curves = km.km_curves(steps_bucket[steps_bucket["bucket"] <= 1], ["lg", "bucket"])
    return kmu, kmb, _named(levels, curves, "bucket", ["t_hours"])


def _named(levels: Levels, frame: pd.DataFrame, key: str, then: Sequence[str] = ()) -> pd.DataFrame:
    """``frame`` keyed by level group id and ``key`` with the group columns instead, in the group
    strings' order (as grouping by them had given); bucket codes named."""
    out = levels.decoded(frame)
    if key == "bucket":
        out["bucket"] = out["bucket"].map(_BUCKET_NAME)
    return out.sort_values([*G, key, *then], kind="mergesort").reset_index(drop=True)
