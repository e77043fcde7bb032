"""The cross-city view: each city × shared category, with the same honest measures (pure core).

Read per city from its own serving snapshot (``type_days``: docs/snapshot.md) by
:func:`read_type_sums`; :func:`compare_city` maps complaint types to categories and computes:

- volume per 100k residents: recent (the last 28 days) and historical (the 28-day average of the
  336 days before), with the requests counted as n;
- time to close by creation cohort, each cohort at least 7 days old at the as-of day (recent: created
  35–8 days before it; historical: 364–36 days before): the median in days (a bucket of the
  histogram; "not reached" while fewer than half have closed) and the share closed within 7 days,
  with the cohort size as n;
- backlog: requests still open (created in the last 400 days) per 100k residents.

A value whose n is below the city's own ``min_group_size`` (its snapshot's meta) is marked
``small_sample``, as everywhere else. Formulas: docs/metrics.md "Cross-city comparison".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Final

from resolve311.metrics.crosscity import BUCKETS
from resolve311.sources.categories import Category, category_of

RECENT_DAYS: Final = 28
HISTORY_DAYS: Final = 364
COHORT_AGE: Final = 7
PER: Final = 100_000
#: (name, first and last day before the as-of day) of each window read from type_days.
WINDOWS: Final = {
    "recent": (0, RECENT_DAYS - 1),
    "historical": (RECENT_DAYS, HISTORY_DAYS - 1),
    "cohort_recent": (COHORT_AGE + 1, COHORT_AGE + RECENT_DAYS),
    "cohort_historical": (COHORT_AGE + RECENT_DAYS + 1, HISTORY_DAYS - 1),
}
BUCKET_NAMES: Final = tuple(name for name, _, _ in BUCKETS)
COUNTS: Final = ("created", *BUCKET_NAMES, "closed_untimed")


@dataclass(frozen=True)
class CityFacts:
    """What the comparison needs to know about one city (catalog and snapshot meta)."""

    name: str
    title: str
    population: int | None
    as_of_date: date | None
    min_group_size: int
    closed_statuses: tuple[str, ...] = ()
    cancelled_statuses: tuple[str, ...] = ()
    duplicate_statuses: tuple[str, ...] = ()
    duplicate_field: str | None = None
    history_days: int = HISTORY_DAYS - RECENT_DAYS  # days the historical window really covers


@dataclass
class Sums:
    """Counts of one complaint type (or category) per window."""

    windows: dict[str, dict[str, int]] = field(default_factory=dict)
    open_now: int = 0

    def add(self, other: Sums) -> None:
        for window, counts in other.windows.items():
            mine = self.windows.setdefault(window, dict.fromkeys(COUNTS, 0))
            for key, value in counts.items():
                mine[key] = mine.get(key, 0) + value
        self.open_now += other.open_now

    def get(self, window: str, key: str) -> int:
        return self.windows.get(window, {}).get(key, 0)


def closed_means(facts: CityFacts) -> str:
    """The caveat of definitions: what ends a request in this city (from its catalog)."""
    closed = " / ".join(f"“{s}”" for s in facts.closed_statuses) or "a close date"
    text = f"Closed: a status starting with {closed}"
    if facts.cancelled_statuses:
        cancelled = " / ".join(f"“{s}”" for s in facts.cancelled_statuses)
        text += f"; {cancelled} also end a request and count as closed"
    marks = (
        [" / ".join(f"status “{s}”" for s in facts.duplicate_statuses)] if facts.duplicate_statuses else []
    )
    if facts.duplicate_field:
        marks.append(f"“{facts.duplicate_field}” = true")
    if marks:
        text += f". Duplicate reports ({' or '.join(marks)}) are not counted"
    return text + "."


def _value(value: float | None, n: int, floor: int, **extra: Any) -> dict[str, Any]:
    return {"value": value, "n": n, "small_sample": n < floor, **extra}


def _rate(count: int, population: int | None, scale: float = 1.0) -> float | None:
    return None if not population else round(count * scale * PER / population, 2)


def median_days(sums: Sums, cohort: str, floor: int) -> dict[str, Any]:
    """Median time to close of a cohort, as the histogram bucket [low, high) days holding it."""
    n = sums.get(cohort, "created") - sums.get(cohort, "closed_untimed")
    cumulative = 0
    for name, low, high in BUCKETS:
        cumulative += sums.get(cohort, name)
        if n > 0 and cumulative * 2 >= n:
            return _value(float(high) if high is not None else None, n, floor, low=low, high=high)
    return _value(None, n, floor, low=None, high=None, not_reached=n > 0)


def within_7d(sums: Sums, cohort: str, floor: int) -> dict[str, Any]:
    """Share of a cohort (all at least 7 days old) closed within 7 days of creation."""
    n = sums.get(cohort, "created") - sums.get(cohort, "closed_untimed")
    closed = sum(sums.get(cohort, f"closed_d{k}") for k in range(1, 8))
    return _value(round(closed / n, 4) if n else None, n, floor)


def measures(sums: Sums, facts: CityFacts) -> dict[str, dict[str, Any]]:
    """Every measure of one city × category."""
    floor, pop = facts.min_group_size, facts.population
    recent, historical = sums.get("recent", "created"), sums.get("historical", "created")
    hist_scale = RECENT_DAYS / facts.history_days if facts.history_days > 0 else 0.0
    return {
        "volume_recent_per_100k": _value(_rate(recent, pop), recent, floor),
        "volume_historical_per_100k": _value(
            _rate(historical, pop, hist_scale) if facts.history_days > 0 else None, historical, floor
        ),
        "median_days_recent": median_days(sums, "cohort_recent", floor),
        "median_days_historical": median_days(sums, "cohort_historical", floor),
        "closed_within_7d_recent": within_7d(sums, "cohort_recent", floor),
        "closed_within_7d_historical": within_7d(sums, "cohort_historical", floor),
        "backlog_per_100k": _value(_rate(sums.open_now, pop), sums.open_now, floor),
    }


def compare_city(
    facts: CityFacts, by_type: Mapping[str, Sums], categories: Sequence[Category]
) -> list[dict[str, Any]]:
    """One row per category: the complaint types found in this city and every measure."""
    pooled: dict[str, Sums] = {c.key: Sums() for c in categories}
    found: dict[str, list[str]] = {c.key: [] for c in categories}
    for complaint_type, sums in sorted(by_type.items()):
        category = category_of(tuple(categories), facts.name, complaint_type)
        if category is not None:
            pooled[category.key].add(sums)
            found[category.key].append(complaint_type)
    return [
        {
            "city": facts.name,
            "category": c.key,
            "label": c.label,
            "mapped": bool(c.types.get(facts.name)),
            "types": found[c.key],
            "measures": measures(pooled[c.key], facts),
        }
        for c in categories
    ]


def window_bounds(as_of: date) -> dict[str, tuple[date, date]]:
    """The first and last created day of each window, for an as-of day."""
    return {
        w: (as_of - timedelta(days=last), as_of - timedelta(days=first))
        for w, (first, last) in WINDOWS.items()
    }
