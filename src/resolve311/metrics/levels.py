"""The breakdown levels of the finest groups, as integer ids (pure pandas/numpy).

A grouped query that counts per finest group id (agency × type × borough numbered by
:func:`fine_groups`) and sums those up to the breakdown levels by joining them to
:meth:`Levels.table` returns an integer level group id instead
of the group strings at every level: cheaper to fetch and to sort; only the small results are
given their group columns back (:meth:`Levels.decoded`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from resolve311.metrics.definitions import ALL, GROUP_COLS, LEVELS

Ints = npt.NDArray[np.int64]
G = list(GROUP_COLS)


@dataclass(frozen=True)
class Levels:
    """Every level's groups (stacked, one row per level group id) and each fine group's id at each level."""

    groups: pd.DataFrame  # the group columns, one row per level group id
    of_fine: Ints  # shape (len(LEVELS), fine groups): the level group id of each fine group
    sizes: tuple[int, ...]  # each level's number of groups (level i's ids follow level i - 1's)

    def span(self, level: int) -> tuple[int, int]:
        """The first level group id of ``level`` (an index into LEVELS) and how many it has."""
        return sum(self.sizes[:level]), self.sizes[level]

    def table(self) -> pd.DataFrame:
        """``gid`` (finest group id), ``lg`` and ``level`` (an index into LEVELS): one row per finest
        group and level (a join's map)."""
        count = self.of_fine.shape[1]
        fine = np.arange(count, dtype=np.int64)
        level = np.repeat(np.arange(len(self.of_fine), dtype=np.int64), count)
        return pd.DataFrame(
            {"gid": np.tile(fine, len(self.of_fine)), "lg": self.of_fine.ravel(), "level": level}
        )

    def decoded(self, frame: pd.DataFrame, column: str = "lg") -> pd.DataFrame:
        """``frame`` with the group columns of its level group ids (``column``) in their place, first."""
        ids = frame[column].to_numpy(dtype=np.int64)
        named = self.groups.iloc[ids].reset_index(drop=True)
        rest = frame.drop(columns=column).reset_index(drop=True)
        return pd.concat([named, rest], axis=1)


def fine_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The distinct finest groups of ``frame``'s group columns, sorted, with ``gid`` = their row number."""
    out = frame[G].drop_duplicates().sort_values(G, kind="mergesort").reset_index(drop=True)
    out["gid"] = np.arange(len(out), dtype=np.int64)
    return out


def levels_of(fine: pd.DataFrame) -> Levels:
    """The level groups of the finest groups ``fine`` (distinct rows), every level of LEVELS."""
    parts: list[pd.DataFrame] = []
    maps: list[Ints] = []
    offset = 0
    for level in LEVELS:
        keys = fine[G].copy()
        for column in G:
            if column not in level:
                keys[column] = ALL
        codes = np.asarray(keys.groupby(G, sort=True, dropna=False).ngroup(), dtype=np.int64)
        first = np.unique(codes, return_index=True)[1]
        parts.append(keys.iloc[first].reset_index(drop=True))
        maps.append(codes + offset)
        offset += len(first)
    groups = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=G)
    of_fine = np.vstack(maps) if len(fine) else np.zeros((len(LEVELS), 0), dtype=np.int64)
    return Levels(groups=groups, of_fine=of_fine, sizes=tuple(len(p) for p in parts))
