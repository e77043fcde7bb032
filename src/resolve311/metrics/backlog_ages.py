"""Backlog size and exact age quantiles at many moments, without a row per request × moment (numpy).

At moment ``m`` a group's backlog is its requests with ``created_ms <= m < open_until``, aged
``m - created_ms``. The requests of each group (at every breakdown level) are sorted once, newest
first: at any moment the backlog's ages then come in ascending order, so a running count of the
requests open at ``m`` finds the ``k``-th smallest age by a binary search, without sorting that
moment's ages. Pooled over several moments (a bucket's units) the ``k``-th smallest age is found by
a binary search on the age itself: how many pooled ages are at most ``a`` is, per moment, how many
open requests were created at ``m - a`` or later — a prefix of the group's sorted requests.

The requests open through every moment (never closed, or closed long after) are therefore sorted
once and counted by prefix sums, not expanded 16 times and sorted at 4 levels each time as a
``GROUP BY ... quantile`` over request × moment rows would: the cost follows the requests open in
the windows' span, however many of them piled up over the history. The quantiles are DuckDB's
``quantile_cont`` to the bit (:mod:`exact_quantile`); :mod:`backlog`'s Ibis queries stay the
reference (tests/integration/metrics/test_backlog_ages.py compares them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS
from resolve311.metrics.exact_quantile import interpolate, positions
from resolve311.metrics.levels import Levels
from resolve311.metrics.windows import MS_PER_HOUR

Ints = npt.NDArray[np.int64]
Counts = npt.NDArray[np.int32]
G = list(GROUP_COLS)
AGES: Final[tuple[str, str]] = ("backlog_age_median_h", "backlog_age_p90_h")
QUANTILES: Final[tuple[float, float]] = (0.5, 0.9)


@dataclass(frozen=True)
class Sorted:
    """The open requests at every level, sorted by group then newest first (arrays of one length)."""

    groups: pd.DataFrame  # group columns, one row per level group id (:class:`Levels`' groups)
    key: Ints  # group << shift | (newest - created): ascending
    created: Ints
    open_until: Ints
    start: Ints  # per group id: its first index
    end: Ints  # per group id: one past its last index
    newest: int  # the largest created_ms
    shift: int  # key = group << shift | (newest - created)
    #: :func:`_running` per moment, made once: the per-moment and the pooled ages share them
    #: (a 32-bit count per entry and moment: 16 moments of 4M entries hold 256 MB while kept)
    runs: dict[int, Counts] = field(default_factory=dict, compare=False, repr=False)


def prepare(gid: Ints, created: Ints, open_until: Ints, levels: Levels) -> Sorted:
    """Sort the open requests (their finest group ids ``gid`` among ``levels``' groups, creation and
    open-until instants) once per breakdown level: newest first, then stably by level group id
    (a radix sort of 16-bit ids when there are fewer than 2**15 level groups)."""
    newest = int(created.max()) if len(created) else 0
    newest_first = np.argsort(newest - created, kind="stable")
    fine_sorted = gid[newest_first]
    narrow = np.int16 if len(levels.groups) < 2**15 else np.int64
    order: list[Ints] = []
    gids: list[Ints] = []
    for of_fine in levels.of_fine:
        lg = of_fine[fine_sorted]  # a stable sort by group keeps each group's newest-first order
        by_group = np.argsort(lg.astype(narrow), kind="stable")
        order.append(newest_first[by_group])
        gids.append(lg[by_group])
    return _sorted(created, open_until, levels.groups, _joined(order), _joined(gids), newest)


def _joined(parts: list[Ints]) -> Ints:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _sorted(
    created_ms: Ints, open_until: Ints, groups: pd.DataFrame, order: Ints, gid: Ints, newest: int
) -> Sorted:
    created = created_ms[order]
    n_groups = len(groups)
    shift = max(1, newest - int(created.min(initial=newest))).bit_length()
    if n_groups.bit_length() + shift > 62:
        raise ValueError("backlog: creation times span too long to sort in 64-bit keys")
    key = (gid << shift) | (newest - created)
    bounds = np.searchsorted(key, np.arange(n_groups + 1, dtype=np.int64) << shift)
    return Sorted(
        groups=groups,
        key=key,
        created=created,
        open_until=open_until[order],
        start=bounds[:-1],
        end=bounds[1:],
        newest=newest,
        shift=shift,
    )


def _running(s: Sorted, moment: int) -> Counts:
    """Running count of the requests open at ``moment`` (length + 1, starting at 0; made once per
    moment and kept in ``s.runs``)."""
    if moment not in s.runs:
        open_now = (s.created <= moment) & (moment < s.open_until)
        out = np.empty(len(open_now) + 1, dtype=np.int32)
        out[0] = 0
        np.cumsum(open_now, out=out[1:], dtype=np.int32)
        s.runs[moment] = out
    return s.runs[moment]


def per_moment(s: Sorted, moments: list[int]) -> pd.DataFrame:
    """``backlog_end`` and the exact median/p90 age per group × moment (groups with a backlog only)."""
    parts = []
    for moment in moments:
        run = _running(s, moment)
        n = (run[s.end] - run[s.start]).astype(np.int64)
        has = np.flatnonzero(n > 0)
        frame = s.groups.iloc[has].reset_index(drop=True)
        frame["moment_ms"] = np.int64(moment)
        frame["backlog_end"] = n[has]
        for name, q in zip(AGES, QUANTILES, strict=True):
            low, high, d = positions(n[has], q)
            lo = _age_h(moment - s.created[_kth(run, s.start[has], low)])
            hi = _age_h(moment - s.created[_kth(run, s.start[has], high)])
            frame[name] = interpolate(lo, hi, d, low == high)
        parts.append(frame)
    return _stack(parts, [*G, "moment_ms", "backlog_end", *AGES])


def _kth(run: Counts, start: Ints, k: Ints) -> Ints:
    """Index of each group's ``k``-th (0-based) open request."""
    wanted = (run[start] + k + 1).astype(run.dtype)  # the run's own type: searchsorted copies none
    found: Ints = np.searchsorted(run, wanted, side="left") - 1
    return found


def _age_h(age_ms: Ints) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = age_ms.astype(np.float64) / float(MS_PER_HOUR)
    return out


def pooled(s: Sorted, moments: list[int]) -> pd.DataFrame:
    """Exact median/p90 of the ages pooled over ``moments`` (distinct), per group with any."""
    runs = [_running(s, m) for m in moments]
    n = sum((run[s.end] - run[s.start] for run in runs), np.zeros(len(s.start), dtype=np.int64))
    has = np.flatnonzero(n > 0)
    frame = s.groups.iloc[has].reset_index(drop=True)
    found = [positions(n[has], q) for q in QUANTILES]
    # every quantile's two order statistics found by one search (its steps cost per call, not per group)
    ranks = np.concatenate([k for low, high, _ in found for k in (low, high)])
    searches = 2 * len(found)
    ages = np.split(_age_h(_pooled_kth(s, runs, moments, np.tile(has, searches), ranks)), searches)
    for name, (low, high, d), lo, hi in zip(AGES, found, ages[0::2], ages[1::2], strict=True):
        frame[name] = interpolate(lo, hi, d, low == high)
    return frame


def _pooled_kth(s: Sorted, runs: list[Counts], moments: list[int], groups: Ints, k: Ints) -> Ints:
    """Per group: the ``k``-th smallest pooled age (ms), by a binary search on the age."""
    low = np.zeros(len(groups), dtype=np.int64)
    high = np.full(len(groups), max(moments, default=0) - int(s.created.min(initial=0)), dtype=np.int64)
    base = groups.astype(np.int64) << s.shift
    while bool((low < high).any()):
        mid = (low + high) // 2
        at_most = np.zeros(len(groups), dtype=np.int64)
        for run, moment in zip(runs, moments, strict=True):
            # created >= moment - mid  <=>  newest - created <= newest - moment + mid
            bound = np.clip(s.newest - moment + mid, -1, (1 << s.shift) - 1)
            prefix = np.searchsorted(s.key, base + bound, side="right")
            at_most += run[prefix] - run[s.start[groups]]
        enough = at_most >= k + 1
        high = np.where(enough, mid, high)
        low = np.where(enough, low, mid + 1)
    return low


def _stack(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(columns=columns)
    out: pd.DataFrame = pd.concat(parts, ignore_index=True)[columns]
    return out
