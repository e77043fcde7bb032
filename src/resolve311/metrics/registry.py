"""Every scorecard metric declared once: name, unit, label, population, direction, doc anchor.

Scoring (which metrics exist, what ``n`` counts), the web (labels and formatting),
the API (``/api/metrics``), the report and docs/metrics.md (a test compares the
table there with this one) all read this registry. Adding a metric means adding
it here and to its definition; nothing else formats or names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Unit = Literal["count", "hours", "share"]
Direction = Literal["up_bad", "up_good", "neutral"]
#: What a metric's ``n`` counts (the column of the grouped counts that holds it).
Population = Literal[
    "created",  # requests created in the window
    "closed",  # requests validly closed in the window
    "created_closed",  # requests created plus requests closed in the window
    "open",  # requests open at the window's end moment(s)
    "cohort_1d",
    "cohort_3d",
    "cohort_7d",
    "cohort_30d",  # the cohort fully observable at that age
    "with_target",  # closures with an SLA target
]

POPULATION_TEXT: Final[dict[str, str]] = {
    "created": "requests created in the window",
    "closed": "requests validly closed in the window",
    "created_closed": "requests created plus requests closed in the window",
    "open": "requests open at the window's end moment(s)",
    "cohort_1d": "requests of the 1-day cohort (created at least 1 day before the cut-off)",
    "cohort_3d": "requests of the 3-day cohort",
    "cohort_7d": "requests of the 7-day cohort",
    "cohort_30d": "requests of the 30-day cohort",
    "with_target": "closures that have an SLA target",
}


@dataclass(frozen=True)
class MetricSpec:
    """One scorecard metric."""

    name: str
    label: str
    unit: Unit
    population: Population
    direction: Direction
    anchor: str  # heading anchor in docs/metrics.md

    @property
    def doc_link(self) -> str:
        return f"docs/metrics.md#{self.anchor}"


def _spec(
    name: str,
    label: str,
    unit: Unit,
    population: Population,
    direction: Direction,
    anchor: str = "scorecard-metrics",
) -> MetricSpec:
    return MetricSpec(name, label, unit, population, direction, anchor)


REGISTRY: Final[tuple[MetricSpec, ...]] = (
    _spec("created_per_day", "Created per day", "count", "created", "neutral"),
    _spec("closed_per_day", "Closed per day", "count", "closed", "up_good"),
    _spec("net_backlog_change_per_day", "Net backlog change per day", "count", "created_closed", "up_bad"),
    _spec("backlog_end", "Open backlog", "count", "open", "up_bad"),
    _spec("backlog_age_median_h", "Backlog age, median", "hours", "open", "up_bad"),
    _spec("backlog_age_p90_h", "Backlog age, p90", "hours", "open", "up_bad"),
    _spec("ttc_median_h", "Time to close, median", "hours", "closed", "up_bad"),
    _spec("ttc_p90_h", "Time to close, p90", "hours", "closed", "up_bad"),
    _spec("closed_within_1d", "Closed within 1 day", "share", "cohort_1d", "up_good"),
    _spec("closed_within_3d", "Closed within 3 days", "share", "cohort_3d", "up_good"),
    _spec("closed_within_7d", "Closed within 7 days", "share", "cohort_7d", "up_good"),
    _spec("closed_within_30d", "Closed within 30 days", "share", "cohort_30d", "up_good"),
    _spec("km_median_h", "Kaplan–Meier median time open", "hours", "created", "up_bad", "kaplanmeier"),
    _spec("on_time_share", "Closed on time (SLA)", "share", "with_target", "up_good"),
    _spec("admin_close_share", "Administrative closures", "share", "closed", "neutral"),
    _spec("dirty_share", "Dirty records", "share", "created", "up_bad"),
)

BY_NAME: Final[dict[str, MetricSpec]] = {m.name: m for m in REGISTRY}
NAMES: Final[tuple[str, ...]] = tuple(m.name for m in REGISTRY)


def spec(name: str) -> MetricSpec | None:
    """The registry entry of ``name`` (None for an unknown metric)."""
    return BY_NAME.get(name)


def as_json() -> list[dict[str, str]]:
    """The registry as plain records (for the API and the docs test)."""
    return [
        {
            "metric": m.name,
            "label": m.label,
            "unit": m.unit,
            "population": m.population,
            "population_text": POPULATION_TEXT[m.population],
            "direction": m.direction,
            "doc": m.doc_link,
        }
        for m in REGISTRY
    ]
