"""Compare cities: each shared service category in every city, per 100k residents, with caveats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from dash import html
from flask import current_app

from resolve311.sources.categories import Category
from resolve311.web import components, ids
from resolve311.web.compare_data import comparison
from resolve311.web.context import current, page

CATEGORIES_KEY: Final = "resolve311.categories"
#: Columns: measure, header, how to show a value.
COLUMNS: Final = (
    ("volume_recent_per_100k", "Requests /100k, last 28 days"),
    ("volume_historical_per_100k", "Historical /100k per 28 days"),
    ("median_days_recent", "Median days to close, recent cohort"),
    ("median_days_historical", "… historical cohort"),
    ("closed_within_7d_recent", "Closed within 7 days, recent cohort"),
    ("closed_within_7d_historical", "… historical cohort"),
    ("backlog_per_100k", "Open backlog /100k"),
)
INTRO: Final = (
    "Each city's complaint types mapped to shared categories (categories.toml, editable: see the "
    "docs), measured the same way in every city from its own snapshot. Volumes and backlogs are per "
    "100,000 residents (2023 Census estimates). Time to close is measured on creation cohorts at least "
    "7 days old: recent = created 8–35 days before the city's as-of day, historical = 36–364 days "
    "before. Values on fewer requests than the city's small-sample floor are marked and greyed."
)


def layout(**query: Any) -> html.Div:
    """The page (no parameters)."""
    ctx = current()
    categories, floor = current_app.extensions[CATEGORIES_KEY]
    data = comparison(list(ctx.cities.values()), categories, floor)
    body = [
        html.H1("Compare cities"),
        html.P(INTRO, className="subtitle"),
        _caveats(data["cities"]),
        html.H2("At a glance: requests per 100k residents in the last 28 days, median days to close"),
        html.Div(className="table-wrap", children=_glance(categories, data["cities"])),
        *[_category_block(c, data["cities"]) for c in categories],
    ]
    return page(components.COMPARE, body, ctx)


def _caveats(cities: list[dict[str, Any]]) -> html.Div:
    items = []
    for c in cities:
        if not c["available"]:
            items.append(html.Li([html.Strong(c["title"]), ": no snapshot yet."]))
            continue
        pop = f"{c['population']:,} residents" if c.get("population") else "population unknown"
        items.append(
            html.Li(
                [
                    html.Strong(c["title"]),
                    f" ({pop}; data as of {c.get('as_of_date') or '–'}; small sample below n = "
                    f"{c['min_group_size']}): {c['closed_means']}",
                ]
            )
        )
    return html.Div(className="caveats", children=[html.H2("What “closed” means"), html.Ul(items)])


def show(measure: str, cell: dict[str, Any]) -> str:
    """A measure's value as text ("–" when none)."""
    value = cell.get("value")
    if measure.startswith("median_days"):
        if cell.get("not_reached"):
            return "not reached"
        low, high = cell.get("low"), cell.get("high")
        if low is None:
            return "–"
        return f"> {low} d" if high is None else f"{low}–{high} d"
    if value is None:
        return "–"
    if measure.startswith("closed_within"):
        return f"{value * 100:.0f}%"
    return f"{value:,.1f}"


def _row_of(city: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((r for r in city["rows"] if r["category"] == key), None)


def _glance_cell(row: dict[str, Any] | None) -> html.Td:
    if row is None or not row["types"]:
        return html.Td("not mapped" if row is None or not row["mapped"] else "none seen", className="muted")
    volume = row["measures"]["volume_recent_per_100k"]
    median = row["measures"]["median_days_recent"]
    share = row["measures"]["closed_within_7d_recent"]
    small = bool(volume["small_sample"] or median["small_sample"])
    hover = f"n = {volume['n']:,} requests; cohort n = {median['n']:,}" + (" · small sample" if small else "")
    return html.Td(
        className="cell-small" if small else None,
        title=hover,
        children=[
            html.Div(show("volume_recent_per_100k", volume), className="cell-recent"),
            html.Div(
                f"median {show('median_days_recent', median)} · "
                f"{show('closed_within_7d_recent', share)} within 7 d",
                className="muted",
            ),
            html.Div(hover, className="hover-n"),
        ],
    )


def _glance(categories: Sequence[Category], cities: list[dict[str, Any]]) -> html.Table:
    head = html.Tr([html.Th("Category"), *[html.Th(c["title"]) for c in cities]])
    body = [
        html.Tr(
            [
                html.Td(html.A(c.label, href=f"#category-{c.key}")),
                *[_glance_cell(_row_of(city, c.key)) for city in cities],
            ]
        )
        for c in categories
    ]
    return html.Table(
        id=ids.COMPARE_GLANCE, className="scorecard compare", children=[html.Thead(head), html.Tbody(body)]
    )


def _cell(measure: str, cell: dict[str, Any]) -> html.Td:
    small = bool(cell.get("small_sample"))
    hover = f"n = {cell.get('n', 0):,}" + (" · small sample" if small else "")
    return html.Td(
        className="cell-small" if small else None,
        title=hover,
        children=[html.Div(show(measure, cell)), html.Div(hover, className="hover-n")],
    )


def _category_block(category: Category, cities: list[dict[str, Any]]) -> html.Div:
    head = html.Tr([html.Th("City"), html.Th("Complaint types"), *[html.Th(h) for _, h in COLUMNS]])
    body = []
    for c in cities:
        row = _row_of(c, category.key)
        if row is None:
            body.append(html.Tr([html.Td(c["title"]), html.Td("no data", colSpan=len(COLUMNS) + 1)]))
            continue
        types = ", ".join(row["types"]) or ("none seen yet" if row["mapped"] else "not mapped")
        cells = [_cell(m, row["measures"][m]) for m, _ in COLUMNS]
        body.append(html.Tr([html.Td(html.Strong(c["title"])), html.Td(types, className="types"), *cells]))
    return html.Div(
        className="compare-category",
        id=f"category-{category.key}",
        children=[
            html.H2(category.label),
            html.P(category.note, className="muted") if category.note else None,
            html.Div(
                className="table-wrap",
                children=html.Table(
                    className="scorecard compare", children=[html.Thead(head), html.Tbody(body)]
                ),
            ),
        ],
    )
