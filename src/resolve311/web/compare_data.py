"""The edge of the cross-city view: read each city's snapshot into the pure comparison's inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from resolve311.errors import SnapshotMissing
from resolve311.sources.categories import Category
from resolve311.web import queries
from resolve311.web.cities import CityWeb
from resolve311.web.crosscity import (
    COUNTS,
    HISTORY_DAYS,
    RECENT_DAYS,
    WINDOWS,
    CityFacts,
    Sums,
    closed_means,
    compare_city,
    window_bounds,
)


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def city_facts(city: CityWeb, meta: dict[str, str], min_group_size: int) -> CityFacts:
    """Catalog facts and the snapshot's own as-of day and small-sample floor."""
    try:
        as_of: date | None = date.fromisoformat(meta.get("as_of_date") or "")
    except ValueError:
        as_of = None
    src = city.source
    return CityFacts(
        name=city.name,
        title=city.title,
        population=src.population if src else None,
        as_of_date=as_of,
        min_group_size=_int(meta.get("min_group_size"), min_group_size),
        closed_statuses=src.closed_statuses if src else (),
        cancelled_statuses=src.cancelled_statuses if src else (),
        duplicate_statuses=src.duplicate_statuses if src else (),
        duplicate_field=src.duplicate_field if src else None,
    )


def _sums(row: dict[str, Any]) -> Sums:
    out = Sums(open_now=int(row.get("open_now") or 0))
    for window in WINDOWS:
        out.windows[window] = {c: int(row.get(f"{window}:{c}") or 0) for c in COUNTS}
    return out


def city_comparison(city: CityWeb, categories: Sequence[Category], min_group_size: int) -> dict[str, Any]:
    """One city's block of the comparison (``available`` False without a snapshot)."""
    head: dict[str, Any] = {"city": city.name, "title": city.title, "area_label": city.area_label}
    try:
        meta = queries.meta(city.reader)
    except SnapshotMissing:
        return head | {"available": False, "rows": []}
    facts = city_facts(city, meta, min_group_size)
    head |= {
        "available": True,
        "population": facts.population,
        "as_of_date": facts.as_of_date.isoformat() if facts.as_of_date else None,
        "min_group_size": facts.min_group_size,
        "closed_means": closed_means(facts),
    }
    as_of = facts.as_of_date
    if as_of is None:
        return head | {"rows": []}
    first = queries.history_start(city.reader)
    covered = (as_of - first).days + 1 - RECENT_DAYS if first else 0
    facts = replace(facts, history_days=max(0, min(covered, HISTORY_DAYS - RECENT_DAYS)))
    rows = queries.type_window_sums(city.reader, window_bounds(as_of))
    by_type = {str(r["complaint_type"]): _sums(r) for r in rows}
    return head | {"rows": compare_city(facts, by_type, categories)}


def comparison(
    cities: Sequence[CityWeb], categories: Sequence[Category], min_group_size: int
) -> dict[str, Any]:
    """The whole comparison: one block per city, in the configured order."""
    return {
        "categories": [{"key": c.key, "label": c.label, "note": c.note} for c in categories],
        "cities": [city_comparison(c, categories, min_group_size) for c in cities],
    }
