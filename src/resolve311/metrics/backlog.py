"""Open backlog as of past moments, reconstructed from stored versions (Ibis, portable).

Final data for every moment: a request's state is its latest stored version
(the newest landing batch). The request is in the backlog at ``M`` when it was
created by ``M`` and that version was not closed by ``M``: closed means a valid
close time ``<= M``, or a closed status without a usable time.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Final

import ibis
import ibis.expr.types as ir
import pandas as pd

from resolve311.metrics.definitions import GROUP_COLS, at_levels, median_p90, split_median_p90
from resolve311.metrics.windows import MS_PER_HOUR

_NEVER: Final[int] = 2**62


def _open_after(v: ir.Table) -> ir.IntegerValue:
    """Per version: the instant after which it no longer describes an open request."""
    return ibis.cases(
        (v.closed_ms.notnull(), v.closed_ms),
        (v.is_closed, ibis.literal(-1, "int64")),
        else_=ibis.literal(_NEVER, "int64"),
    )


def latest_versions(versions: ir.Table) -> ir.Table:
    """Each request's latest version (newest ``batch_seq``, then newest ``known_ms``) with ``open_until``.

    Final data for every moment: each request's state is its latest stored version, whatever the
    moment, so the recent and the past moments are computed from the same information (see
    docs/metrics.md, "Backlog at a moment").
    """
    newest = ibis.window(
        group_by="unique_key", order_by=[ibis.desc(versions.batch_seq), ibis.desc(versions.known_ms)]
    )
    latest = versions.mutate(rn=ibis.row_number().over(newest), open_until=_open_after(versions))
    return latest.filter(latest.rn == 0).select("unique_key", *GROUP_COLS, "created_ms", "open_until")


def latest_open(versions: ir.Table, since_ms: int) -> ir.Table:
    """Each request whose latest version shows it open after ``since_ms`` (the backlog's store).

    Reads only the versions of requests some version shows open after ``since_ms`` (a semi-join),
    so its cost follows the requests open since then, not the length of the history.
    """
    latest = latest_versions(_candidates(versions, since_ms))
    return latest.filter(latest.open_until > since_ms)


def open_versions(open_requests: ir.Table, moments: Sequence[int]) -> ir.Table:
    """The requests of :func:`latest_open` in the backlog at one of ``moments`` (at least one).

    Group columns, ``created_ms``, ``open_until``; small: the requests open at a moment, not every
    request open at some time of the windows' span (most are created and closed between two moments).
    """
    r = open_requests
    at_one = [(r.created_ms <= m) & (r.open_until > m) for m in sorted(set(moments))]
    return r.filter(functools.reduce(operator.or_, at_one)).select(*GROUP_COLS, "created_ms", "open_until")


def backlog_rows(latest: ir.Table, moments: Sequence[int]) -> ir.Table:
    """Requests open at each moment (group columns, ``moment_ms``, ``age_h``) at the finest group.

    ``latest`` comes from :func:`open_versions` with the same moments. :func:`at_levels` of it
    gives every level; callers keep this smaller relation and expand it per query.
    """
    wanted = sorted(set(moments))
    m_table = ibis.memtable(pd.DataFrame({"moment_ms": pd.Series(wanted, dtype="int64")}))
    vm = latest.cross_join(m_table)
    vm = vm.filter((vm.created_ms <= vm.moment_ms) & (vm.moment_ms < vm.open_until))
    return vm.select(*GROUP_COLS, "moment_ms", age_h=(vm.moment_ms - vm.created_ms) / float(MS_PER_HOUR))


def _candidates(v: ir.Table, first: int) -> ir.Table:
    """The versions of requests that some version shows open after ``first`` (a semi-join).

    A request whose every version was closed by ``first`` is in no backlog at any moment; leaving
    its versions out before finding each request's latest version keeps that step's cost to the
    requests open in the windows' span, however long the stored history is. Exact: the latest
    version of a kept request is still among its versions.
    """
    keys = v.filter(_open_after(v) > first).select("unique_key").distinct()
    return v.semi_join(keys, "unique_key")


def backlog_stats(fine: ir.Table) -> ir.Table:
    """Backlog size and exact median/p90 age per group × moment, at every level."""
    rows = at_levels(fine)
    stats = rows.group_by([*GROUP_COLS, "moment_ms"]).aggregate(
        backlog_end=rows.count(), q=median_p90(rows.age_h)
    )
    return split_median_p90(stats, "q", "backlog_age_median_h", "backlog_age_p90_h")


def pooled_backlog_stats(fine: ir.Table, moment_buckets: ir.Table) -> ir.Table:
    """Exact median/p90 age pooled over the moments of each window × bucket, at every level.

    ``moment_buckets`` maps ``moment_ms`` to (``window``, ``bucket``); a moment may
    belong to several windows.
    """
    joined = at_levels(fine).inner_join(moment_buckets, "moment_ms")
    stats = joined.group_by([*GROUP_COLS, "window", "bucket"]).aggregate(q=median_p90(joined.age_h))
    return split_median_p90(stats, "q", "backlog_age_median_h", "backlog_age_p90_h")
