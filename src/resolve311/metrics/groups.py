"""The finest groups of the windowed inputs, numbered, as engine tables (``gid`` and the level map)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS, small_table, to_frame
from resolve311.metrics.levels import Levels, fine_groups, levels_of

G = list(GROUP_COLS)


@dataclass(frozen=True)
class Groups:
    """The inputs' breakdown levels, and as engine tables their finest groups numbered (``table``:
    the group columns and ``gid``) and the level map (``level_map``: :meth:`Levels.table`)."""

    levels: Levels
    table: ir.Table
    level_map: ir.Table
    fine: pd.DataFrame  # the group columns and ``gid`` (``table``'s rows)


def numbered_groups(requests: ir.Table, *more: ir.Table) -> Groups:
    """The finest groups of ``requests`` (and of ``more`` relations of the same engine) numbered,
    and their levels."""
    distinct = requests.select(*G).distinct()
    for other in more:
        distinct = distinct.union(other.select(*G).distinct())
    return groups_of(to_frame(distinct), requests)


def groups_of(frame: pd.DataFrame, like: ir.Table) -> Groups:
    """The groups of ``frame``'s group columns (any rows), as tables of ``like``'s engine."""
    fine = fine_groups(frame)
    levels = levels_of(fine)
    table, level_map = (small_table(f, like) for f in (fine, levels.table()))
    return Groups(levels, table, level_map, fine)
