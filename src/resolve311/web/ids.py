"""Every Dash component id, in one place."""

from __future__ import annotations

from typing import Final

# shell
BANNER: Final = "freshness-banner"
CITY_SWITCHER: Final = "city-switcher"
#: The city a page shows (a dcc.Store its callbacks read as State).
CITY: Final = "page-city"

# overview
OVERVIEW_URL: Final = "overview-url"
OVERVIEW_WINDOW: Final = "overview-window"
OVERVIEW_BASELINE: Final = "overview-baseline"
OVERVIEW_TABLE: Final = "overview-scorecard"
OVERVIEW_SUMMARY: Final = "overview-summary"

# agency view
AGENCY_URL: Final = "agency-url"
AGENCY: Final = "agency-select"
COMPLAINT_TYPE: Final = "complaint-type-select"
AREA: Final = "borough-select"  # the city's main area dimension (the id kept from NYC's "borough")
AREA_LABEL: Final = "area-label"
WINDOW: Final = "window-select"
BASELINE: Final = "baseline-select"
PERIOD: Final = "period-select"
AGENCY_TITLE: Final = "agency-title"
AGENCY_NOTE: Final = "agency-note"
KPIS: Final = "agency-kpis"
WHEN_RECENT: Final = "when-recent"
WHEN_HISTORICAL: Final = "when-historical"
WHEN_DIFFERENCE: Final = "when-difference"
WHERE_RECENT: Final = "where-recent"
WHERE_HISTORICAL: Final = "where-historical"
WHERE_DIFFERENCE: Final = "where-difference"
SERIES: Final = "series"
TIMELINESS: Final = "timeliness"
KM: Final = "km-curve"
DRIVERS: Final = "drivers"

GRAPHS: Final = (
    WHEN_RECENT,
    WHEN_HISTORICAL,
    WHEN_DIFFERENCE,
    WHERE_RECENT,
    WHERE_HISTORICAL,
    WHERE_DIFFERENCE,
    SERIES,
    TIMELINESS,
    KM,
)

# health
RUNS: Final = "health-runs"
QUARANTINE: Final = "health-quarantine"

# cross-city view (no callbacks: a static page)
COMPARE_GLANCE: Final = "compare-glance"
