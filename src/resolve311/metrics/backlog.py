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

from resolve311.metrics.definitions import GROUP_COLS

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


def _candidates(v: ir.Table, first: int) -> ir.Table:
    """The versions of requests that some version shows open after ``first`` (a semi-join).

    A request whose every version was closed by ``first`` is in no backlog at any moment; leaving
    its versions out before finding each request's latest version keeps that step's cost to the
    requests open in the windows' span, however long the stored history is. Exact: the latest
    version of a kept request is still among its versions.
    """
    keys = v.filter(_open_after(v) > first).select("unique_key").distinct()
    return v.semi_join(keys, "unique_key")
