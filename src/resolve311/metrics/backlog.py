"""Open backlog as of past moments, reconstructed from stored versions (Ibis, portable).

As of moment ``M`` a request's state is the latest version known at ``M``
(``known_ms <= M``, ties broken by the newest landing batch); when no version
was known yet, the earliest version stands in. The request is in the backlog at
``M`` when it was created by ``M`` and that version was not closed by ``M``:
closed means a valid close time ``<= M``, or a closed status without a usable time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import ibis
import ibis.expr.types as ir
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS, at_levels
from resolve311.metrics.windows import MS_PER_HOUR

_NEVER: Final[int] = 2**62


def _open_after(v: ir.Table) -> ir.IntegerValue:
    """Per version: the instant after which it no longer describes an open request."""
    return ibis.cases(
        (v.closed_ms.notnull(), v.closed_ms),
        (v.is_closed, ibis.literal(-1, "int64")),
        else_=ibis.literal(_NEVER, "int64"),
    )


def backlog_rows(versions: ir.Table, moments: Sequence[int]) -> ir.Table:
    """Requests open at each moment (group columns, ``moment_ms``, ``age_h``), at every level."""
    wanted = sorted(set(moments))
    first, last = wanted[0], wanted[-1]
    v = versions.filter(versions.created_ms <= last)
    # keys that could be open at some moment: between their creation and their last open version
    spans = (
        v.group_by("unique_key")
        .aggregate(open_until=_open_after(v).max(), first_created=v.created_ms.min())
        .filter(lambda k: k.open_until > first)
    )
    vk = v.inner_join(spans, "unique_key")
    m_table = ibis.memtable(pd.DataFrame({"moment_ms": pd.Series(wanted, dtype="int64")}))
    vm = vk.cross_join(m_table)
    m = vm.moment_ms
    vm = vm.filter((vm.first_created <= m) & (m < vm.open_until) & (vm.created_ms <= m))
    known = vm.known_ms <= vm.moment_ms
    win = ibis.window(
        group_by=["unique_key", "moment_ms"],
        order_by=[
            ibis.desc(known.cast("int64")),
            ibis.desc(ibis.ifelse(known, vm.known_ms, -vm.known_ms)),
            ibis.desc(vm.batch_seq),
        ],
    )
    chosen = vm.mutate(rn=ibis.row_number().over(win), version_open_until=_open_after(vm))
    chosen = chosen.filter((chosen.rn == 0) & (chosen.version_open_until > chosen.moment_ms))
    rows = chosen.select(
        *GROUP_COLS, "moment_ms", age_h=(chosen.moment_ms - chosen.created_ms) / float(MS_PER_HOUR)
    )
    return at_levels(rows)


def backlog_stats(rows: ir.Table) -> ir.Table:
    """Backlog size and exact median/p90 age per group × moment."""
    return rows.group_by([*GROUP_COLS, "moment_ms"]).aggregate(
        backlog_end=rows.count(),
        backlog_age_median_h=rows.age_h.quantile(0.5),
        backlog_age_p90_h=rows.age_h.quantile(0.9),
    )


def pooled_backlog_stats(rows: ir.Table, moment_buckets: ir.Table) -> ir.Table:
    """Exact median/p90 age pooled over the moments of each window × bucket.

    ``moment_buckets`` maps ``moment_ms`` to (``window``, ``bucket``); a moment may
    belong to several windows.
    """
    joined = rows.inner_join(moment_buckets, "moment_ms")
    return joined.group_by([*GROUP_COLS, "window", "bucket"]).aggregate(
        backlog_age_median_h=joined.age_h.quantile(0.5),
        backlog_age_p90_h=joined.age_h.quantile(0.9),
    )
