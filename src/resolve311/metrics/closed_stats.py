"""Hours to close per group × window × unit and pooled per 8-week bucket, ranked in numpy.

The DuckDB engine's replacement for two grouped exact-quantile queries (per unit, then the 8-week
buckets' units pooled), which each repeated every closed row at the four breakdown levels and
sorted every group's values again. Here the closed rows of the windows' reach arrive sorted by
their hours once (:func:`~resolve311.metrics.definitions.closed_rows`); per window and level a
*stable* counting order by the integer group × unit key (numpy's radix sort on 16-bit keys) keeps
each group's values in that order, so a group's ``k``-th smallest value is read at its start plus
``k``, and the pooled 8-week bucket is the same with the unit left out of the key. The quantiles are
DuckDB's ``quantile_cont`` to the bit (:mod:`exact_quantile`); the counts are the same integers.
``definitions.closed_unit_stats`` stays the Spark engine's path and the reference
(tests/integration/metrics/test_closed_stats.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.exact_quantile import interpolate, positions
from resolve311.metrics.levels import Levels
from resolve311.metrics.windows import WINDOW_DAYS, WINDOWS, YEAR_SHIFT_DAYS, YEAR_UNIT, unit_of_offset

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
G = list(GROUP_COLS)
UNITS = YEAR_UNIT + 1
QUANTILES = (("ttc_median_h", 0.5), ("ttc_p90_h", 0.9))
FLAGS = (("n_admin", "admin"), ("n_with_target", "has_target"), ("n_on_time", "on_time"))
UNIT_COLUMNS = [
    *G,
    "window",
    "unit",
    "n_closed",
    "ttc_median_h",
    "ttc_p90_h",
    "n_admin",
    "n_with_target",
    "n_on_time",
]
BUCKET_COLUMNS = [*G, "window", "bucket", "ttc_median_h", "ttc_p90_h"]


@dataclass(frozen=True)
class Closed:
    """The closed rows of one window (arrays of one length, ordered by ``ttc``)."""

    fine: Ints  # finest group id
    unit: Ints
    ttc: Floats
    flags: dict[str, Bools]


def unit_lookup(window_days: int) -> Ints:
    """Unit of each day offset before the as-of day (-1: in none of the window's units)."""
    reach = YEAR_SHIFT_DAYS + max(WINDOW_DAYS.values())
    units = [unit_of_offset(offset, window_days) for offset in range(reach)]
    return np.array([-1 if u is None else u for u in units], dtype=np.int64)


def of_window(rows: pd.DataFrame, window_days: int) -> Closed:
    """The rows (:func:`~resolve311.metrics.definitions.closed_rows`) in the window's units, in order."""
    unit = unit_lookup(window_days)[rows["offset"].to_numpy(dtype=np.int64)]
    keep = np.flatnonzero(unit >= 0)
    return Closed(
        fine=rows["gid"].to_numpy(dtype=np.int64)[keep],
        unit=unit[keep],
        ttc=rows["ttc_h"].to_numpy(dtype=np.float64)[keep],
        flags={name: rows[column].to_numpy(dtype=bool)[keep] for name, column in FLAGS},
    )


def stats(rows: pd.DataFrame, levels: Levels) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per level group × window × unit: closes, median/p90 hours, admin, with-target and on-time
    counts; and the median/p90 hours of each 8-week bucket's units pooled."""
    per_unit: list[pd.DataFrame] = []
    pooled: list[pd.DataFrame] = []
    for window in WINDOWS:
        closed = of_window(rows, WINDOW_DAYS[window])
        eight = np.flatnonzero((closed.unit >= 1) & (closed.unit < YEAR_UNIT))  # the 8-week bucket's units
        for level in range(len(levels.of_fine)):
            first, size = levels.span(level)
            local = levels.of_fine[level][closed.fine] - first
            per_unit.append(_per_unit(closed, local * UNITS + closed.unit, size, first).assign(window=window))
            part = _quantiles(local[eight], size, closed.ttc[eight])
            part["lg"] = part.pop("key") + first
            pooled.append(part.assign(window=window, bucket="8w"))
    units = levels.decoded(pd.concat(per_unit, ignore_index=True))[UNIT_COLUMNS]
    eight_weeks = levels.decoded(pd.concat(pooled, ignore_index=True))[BUCKET_COLUMNS]
    return units, eight_weeks


def _per_unit(closed: Closed, key: Ints, size: int, first: int) -> pd.DataFrame:
    out = _quantiles(key, size * UNITS, closed.ttc)
    has = out.pop("key").to_numpy(dtype=np.int64)
    for name, flag in closed.flags.items():
        out[name] = np.bincount(key[flag], minlength=size * UNITS)[has].astype(np.int64)
    out["lg"] = has // UNITS + first
    out["unit"] = has % UNITS
    return out


def _quantiles(key: Ints, size: int, values: Floats) -> pd.DataFrame:
    """``key`` (present ones), ``n_closed`` and the exact median/p90 of ``values`` (ascending) per key."""
    ordered = values[stable_order(key, size)]
    n = np.bincount(key, minlength=size).astype(np.int64)
    start = np.cumsum(n) - n
    has = np.flatnonzero(n)
    out = pd.DataFrame({"key": has.astype(np.int64), "n_closed": n[has]})
    for name, q in QUANTILES:
        low, high, d = positions(n[has], q)
        lo, hi = ordered[start[has] + low], ordered[start[has] + high]
        out[name] = interpolate(lo, hi, d, low == high)
    return out


def stable_order(key: Ints, size: int) -> Ints:
    """The stable order of ``key`` (each in ``[0, size)``): numpy's radix sort on 16-bit digits."""
    if size <= 1 << 16:
        order: Ints = np.argsort(key.astype(np.uint16), kind="stable")
        return order
    if size > 1 << 32:
        return np.argsort(key, kind="stable")
    low = np.argsort((key & 0xFFFF).astype(np.uint16), kind="stable")
    high = np.argsort((key[low] >> 16).astype(np.uint16), kind="stable")
    out: Ints = low[high]
    return out
