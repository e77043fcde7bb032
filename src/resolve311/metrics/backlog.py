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


def open_at(versions: ir.Table, moment_ms: int) -> ir.Table:
    """Requests open at ``moment_ms``: group columns, ``moment_ms`` and ``age_h``."""
    m = ibis.literal(moment_ms, "int64")
    v = versions.filter(versions.created_ms <= m)
    could_be_open = (
        v.group_by("unique_key")
        .aggregate(open_until=_open_after(v).max())
        .filter(lambda k: k.open_until > m)
        .select("unique_key")
    )
    cand = v.semi_join(could_be_open, "unique_key")
    known = (cand.known_ms <= m).cast("int64")
    order = ibis.ifelse(cand.known_ms <= m, cand.known_ms, -cand.known_ms)
    win = ibis.window(
        group_by="unique_key", order_by=[ibis.desc(known), ibis.desc(order), ibis.desc(cand.batch_seq)]
    )
    chosen = cand.mutate(rn=ibis.row_number().over(win), open_until=_open_after(cand))
    chosen = chosen.filter((chosen.rn == 0) & (chosen.created_ms <= m) & (chosen.open_until > m))
    return chosen.select(*GROUP_COLS, moment_ms=m, age_h=(m - chosen.created_ms) / float(MS_PER_HOUR))


def backlog_rows(versions: ir.Table, moments: Sequence[int]) -> ir.Table:
    """Open requests at every moment, stacked over all breakdown levels."""
    parts = [open_at(versions, ms) for ms in sorted(set(moments))]
    return at_levels(ibis.union(*parts, distinct=False))


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
